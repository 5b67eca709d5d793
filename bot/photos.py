"""Citizens' photos: web-chat uploads kept on disk, and every channel's photo shown to agents.

A photo is named by a reference that the complaint form and the ticket keep:
    upload:<conversation's short id>/<random>.jpg   a web-chat upload under PHOTOS_DIR (no web root)
    telegram:<file_id>                             a Telegram photo (getFile, through the gateway)
    https://….kakaocdn.net/…                       a Kakao 이미지 보안전송 address (it expires)
Agents see them through the console (GET /agent/api/photo?ref=…), so no bot token or file path reaches a
browser. An upload is decoded, turned upright, shrunk to at most MAX_SIDE pixels and saved again without its
metadata: the place it was taken is read only when the citizen agreed, and is never stored in the file.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["PhotoError", "Photos", "Saved", "is_photo_ref"]

MAX_SIDE = 2560
# A picture of more pixels than this is refused before it is decoded (a small file can unpack to gigabytes).
MAX_PIXELS = 40_000_000
KINDS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("jpg", "image/jpeg")}
_UPLOAD = re.compile(r"^upload:([0-9a-f]{12})/([0-9a-f]{32})\.(jpg|png)$")
_TELEGRAM = re.compile(r"^telegram:[A-Za-z0-9_-]{16,}$")
_GPS = 0x8825  # the EXIF block with the place a photo was taken


class PhotoError(ValueError):
    """An upload that is not kept: KIND is "too_big" or "not_image"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Saved:
    """A kept upload: its reference, and the place it was taken (only when asked for and present)."""

    ref: str
    location: dict[str, float] | None


class Photos:
    """Keep uploads in FOLDER; fetch any channel's photo for the console."""

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int,
        http: httpx.AsyncClient | None = None,
        image_hosts: tuple[str, ...] = (),
        telegram_file: Callable[[str], Awaitable[bytes]] | None = None,
    ) -> None:
        self.folder, self.max_bytes, self.http = folder, max_bytes, http
        self.image_hosts, self.telegram_file = image_hosts, telegram_file

    async def save(self, sender: str, data: bytes, *, read_location: bool) -> Saved:
        """Keep DATA, a photo of conversation SENDER's; read its place if READ_LOCATION (consented)."""
        if len(data) > self.max_bytes:
            raise PhotoError("too_big")
        name = f"{_folder(sender)}/{secrets.token_hex(16)}"
        return await anyio.to_thread.run_sync(self._save, name, data, read_location)

    def _save(self, name: str, data: bytes, read_location: bool) -> Saved:
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in KINDS or image.width * image.height > MAX_PIXELS:
                    raise PhotoError("not_image")
                location = _place(image) if read_location else None
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                extension, _ = KINDS[image.format]
                if extension == "jpg" and upright.mode != "RGB":
                    upright = upright.convert("RGB")
                path = self.folder / f"{name}.{extension}"
                path.parent.mkdir(parents=True, exist_ok=True)
                # Saved afresh, without exif=: none of the camera's metadata (place, device, time) is kept.
                upright.save(path, format="JPEG" if extension == "jpg" else "PNG", quality=85)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
            raise PhotoError("not_image") from exc
        return Saved(ref=f"upload:{name}.{extension}", location=location)

    def owned(self, ref: str, sender: str) -> bool:
        """Whether REF is an upload of conversation SENDER's that is kept."""
        match = _UPLOAD.match(ref)
        return match is not None and match.group(1) == _folder(sender) and self._path(ref) is not None

    def _path(self, ref: str) -> Path | None:
        match = _UPLOAD.match(ref)
        if not match:
            return None
        path = self.folder / match.group(1) / f"{match.group(2)}.{match.group(3)}"
        return path if path.is_file() else None

    async def open(self, ref: str) -> tuple[bytes, str] | None:
        """Return the photo REF names and its media type, or None if there is no such photo (any more)."""
        if ref.startswith("upload:"):
            path = self._path(ref)
            if path is None:
                return None
            data = await anyio.to_thread.run_sync(path.read_bytes)  # (not on the event loop)
            return data, "image/png" if path.suffix == ".png" else "image/jpeg"
        if ref.startswith("telegram:") and self.telegram_file is not None:
            try:
                return await self.telegram_file(ref.removeprefix("telegram:")), "image/jpeg"
            except Exception:  # noqa: BLE001 - Telegram's errors or the network's: the photo is not shown
                return None
        if self.http is not None and self._on_image_host(ref):
            try:
                response = await self.http.get(ref, timeout=10)
                response.raise_for_status()
            except httpx.HTTPError:
                return None
            kind = response.headers.get("content-type", "")
            if not kind.startswith("image/") or len(response.content) > self.max_bytes:
                return None
            return response.content, kind
        return None

    def _on_image_host(self, ref: str) -> bool:
        """Whether REF is an http(s) address on a messenger's image host (nothing else is fetched: SSRF)."""
        parts = urlsplit(ref)
        host = (parts.hostname or "").lower()
        return (
            parts.scheme in ("http", "https")
            and not parts.username
            and any(host == h or host.endswith("." + h) for h in self.image_hosts)
        )

    def forget(self, *, older_than_days: int, keep: set[str], dry_run: bool = False) -> int:
        """Delete uploads older than the days given that no ticket keeps (KEEP); return how many."""
        cutoff = time.time() - older_than_days * 86400
        gone = 0
        for path in self.folder.glob("*/*.*"):
            ref = f"upload:{path.parent.name}/{path.name}"
            if ref not in keep and path.stat().st_mtime < cutoff:
                if not dry_run:
                    path.unlink(missing_ok=True)
                gone += 1
        return gone


def is_photo_ref(value: str) -> bool:
    """Whether VALUE names a photo (an upload, a Telegram file, an address): its digits are ids."""
    return bool(_UPLOAD.match(value) or _TELEGRAM.match(value)) or value.startswith(("https://", "http://"))


def _folder(sender: str) -> str:
    """Each conversation's uploads in a folder named by a hash of its id (a page may send only its own)."""
    return hashlib.sha256(sender.encode("utf-8")).hexdigest()[:12]


def _place(image: Image.Image) -> dict[str, float] | None:
    """Return the latitude and longitude in IMAGE's EXIF, if it holds a usable place."""
    try:
        gps = image.getexif().get_ifd(_GPS)
        latitude = _degrees(gps[2], gps[1], "S")
        longitude = _degrees(gps[4], gps[3], "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude, longitude) == (0, 0):
        return None
    return {"latitude": round(latitude, 6), "longitude": round(longitude, 6)}


def _degrees(value: tuple[float, float, float], ref: str, negative: str) -> float:
    degrees, minutes, seconds = (float(v) for v in value)
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        raise ValueError("not a place")
    return -result if str(ref).upper().startswith(negative) else result
