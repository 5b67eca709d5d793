"""Personal data in free text is found and starred out; ordinary numbers are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import privacy
from bot.privacy import mask_personal_data, normalise_phone, seal, unseal


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("연락처 010-1234-5678", "연락처 ***-****-****", ["phone"]),
        ("01012345678로 전화 주세요", "***********로 전화 주세요", ["phone"]),
        ("사무실 041 521 3132", "사무실 *** *** ****", ["phone"]),
        ("주민번호 900101-1234567 입니다", "주민번호 ******-******* 입니다", ["rrn"]),
        ("카드 1234-5678-9012-3456", "카드 ****-****-****-****", ["card"]),
        ("메일은 kim.cs@example.co.kr", "메일은 ***.**@*******.**.**", ["email"]),
        ("+82 10-1234-5678로 주세요", "+** **-****-****로 주세요", ["phone"]),
        ("0082-2-123-4567", "****-*-***-****", ["phone"]),
        ("공 일 공 아니고 0 1 0 9 8 7 6 5 4 3 2", "공 일 공 아니고 * * * * * * * * * * *", ["digits"]),
        ("환불은 110-123-456789 신한이요", "환불은 ***-***-****** 신한이요", ["account"]),
        ("계좌 35212345678 농협", "계좌 *********** 농협", ["account"]),
        ("아멕스 3782-822463-10005", "아멕스 ****-******-*****", ["card"]),
        ("여권번호 M12345678", "여권번호 *********", ["passport"]),
        ("새 여권 M123A4567", "새 여권 *********", ["passport"]),
        ("면허번호 11-23-456789-01", "면허번호 **-**-******-**", ["licence"]),
        ("면허 경기 12-345678-90", "면허 ** **-******-**", ["licence"]),
    ],
)
def test_personal_data_is_starred_out(text: str, masked: str, kinds: list[str]) -> None:
    assert mask_personal_data(text) == (masked, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "접수번호 2026-000123",
        "12가 3456 차량이 불법주차",
        "3시 30분쯤 2024년 5월",
        "도로 200m 구간",
        "2026-12-06 14시쯤",
        "지원금 1,000,000원",
        "버스 1 2 3번 중에",
        "36.8151 127.1139 근처",
    ],
)
def test_ticket_numbers_plates_times_and_distances_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == (text, [])


def test_phone_numbers_are_normalised() -> None:
    assert normalise_phone("01012345678") == "010-1234-5678"
    assert normalise_phone("041-521-3132") == "041-521-3132"
    assert normalise_phone("(02) 123-4567") == "02-123-4567"
    assert normalise_phone("2026-000123") is None

    assert normalise_phone("+82 10 1234 5678") == "010-1234-5678"


def test_sealed_text_opens_only_with_its_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSONAL_DATA_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.delenv("PERSONAL_DATA_KEY", raising=False)
    privacy._key.cache_clear()
    try:
        sealed = seal("제 번호는 010-1234-5678이에요")
        assert "010" not in sealed and unseal(sealed) == "제 번호는 010-1234-5678이에요"
        assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
        assert unseal("010-1234-5678") is None and unseal(None) is None
        monkeypatch.setenv("PERSONAL_DATA_KEY", "another key altogether")
        privacy._key.cache_clear()
        assert unseal(sealed) is None  # another key cannot open it
    finally:
        privacy._key.cache_clear()
