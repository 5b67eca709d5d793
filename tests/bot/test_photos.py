"""Citizens' photos: an upload is kept upright and without its metadata; its place only with consent."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bot.photos import MAX_PIXELS, PhotoError, Photos

SENDER = "3f2a9c1e-77aa-4c1b-9a51-0c8e2d1f4b6a"


def camera_photo(fmt: str = "JPEG") -> bytes:
    """A picture as a phone camera saves it: turned by an orientation tag, with the camera and the place."""
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (36.0, 48.0, 54.36), 3: "E", 4: (127.0, 6.0, 50.04)})
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def test_an_upload_is_kept_upright_without_metadata_and_its_place_read_with_consent(tmp_path: Path) -> None:
    photos = Photos(tmp_path, max_bytes=10_000_000)
    agreed = asyncio.run(photos.save(SENDER, camera_photo(), read_location=True))
    assert agreed.location == {"latitude": 36.8151, "longitude": 127.1139}
    declined = asyncio.run(photos.save(SENDER, camera_photo(), read_location=False))
    assert declined.location is None
    for saved in (agreed, declined):
        data, kind = asyncio.run(photos.open(saved.ref)) or (b"", "")
        kept = Image.open(io.BytesIO(data))
        assert kind == "image/jpeg" and kept.size == (20, 40)  # upright
        assert dict(kept.getexif()) == {}  # no camera, no place, no orientation
    assert photos.owned(agreed.ref, SENDER) and not photos.owned(agreed.ref, "another-page-0001")


def test_a_png_stays_a_png_and_webp_becomes_jpeg(tmp_path: Path) -> None:
    photos = Photos(tmp_path, max_bytes=10_000_000)
    assert asyncio.run(photos.save(SENDER, camera_photo("PNG"), read_location=False)).ref.endswith(".png")
    assert asyncio.run(photos.save(SENDER, camera_photo("WEBP"), read_location=False)).ref.endswith(".jpg")


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"GIF89a not really", "not_image"), (b"%PDF-1.7\n", "not_image"),
     (b"\xff\xd8\xff\xe0 cut short", "not_image"), (b"x" * 2001, "too_big")],
)  # fmt: skip
def test_what_is_not_a_photo_is_refused_and_nothing_is_kept(tmp_path: Path, data: bytes, kind: str) -> None:
    photos = Photos(tmp_path, max_bytes=2000)
    with pytest.raises(PhotoError) as refused:
        asyncio.run(photos.save(SENDER, data, read_location=True))
    assert refused.value.kind == kind
    assert list(tmp_path.rglob("*.*")) == []


def test_a_small_file_that_unpacks_to_a_huge_picture_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("1", (MAX_PIXELS // 5000 + 1, 5000)).save(out, "PNG")  # a few kilobytes, 40 megapixels
    with pytest.raises(PhotoError):
        asyncio.run(Photos(tmp_path, max_bytes=10_000_000).save(SENDER, out.getvalue(), read_location=False))


def test_only_a_messengers_image_hosts_are_fetched(tmp_path: Path) -> None:
    fetched: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, content=b"\xff\xd8jpeg", headers={"content-type": "image/jpeg"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    photos = Photos(tmp_path, max_bytes=10_000, http=http, image_hosts=("kakaocdn.net",))
    kakao = "http://talk.kakaocdn.net/dn/a/1.jpg"
    assert asyncio.run(photos.open(kakao)) == (b"\xff\xd8jpeg", "image/jpeg")
    elsewhere_all = (
        "http://169.254.169.254/latest", "https://kakaocdn.net.evil.example/a.jpg",
        "https://user@talk.kakaocdn.net/a.jpg", "file:///etc/passwd", "upload:../../etc/passwd",
    )  # fmt: skip
    for elsewhere in elsewhere_all:
        assert asyncio.run(photos.open(elsewhere)) is None
    assert fetched == [kakao]


def test_old_uploads_no_ticket_keeps_are_deleted(tmp_path: Path) -> None:
    photos = Photos(tmp_path, max_bytes=10_000_000)
    kept, old, new = (asyncio.run(photos.save(SENDER, camera_photo(), read_location=False)) for _ in range(3))
    long_ago = time.time() - 100 * 86400
    for saved in (kept, old):
        path = next(tmp_path.glob("*/" + saved.ref.rsplit("/", 1)[1]))
        os.utime(path, (long_ago, long_ago))
    assert photos.forget(older_than_days=90, keep={kept.ref}) == 1
    assert (
        photos.owned(kept.ref, SENDER) and photos.owned(new.ref, SENDER) and not photos.owned(old.ref, SENDER)
    )
