"""Personal data in free text is found and starred out; ordinary numbers are left alone."""

from __future__ import annotations

import pytest

from bot.privacy import mask_personal_data, normalise_phone


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("연락처 010-1234-5678", "연락처 ***-****-****", ["phone"]),
        ("01012345678로 전화 주세요", "***********로 전화 주세요", ["phone"]),
        ("사무실 041 521 3132", "사무실 *** *** ****", ["phone"]),
        ("주민번호 900101-1234567 입니다", "주민번호 ******-******* 입니다", ["rrn"]),
        ("카드 1234-5678-9012-3456", "카드 ****-****-****-****", ["card"]),
        ("메일은 kim.cs@example.co.kr", "메일은 ***.**@*******.**.**", ["email"]),
    ],
)
def test_personal_data_is_starred_out(text: str, masked: str, kinds: list[str]) -> None:
    assert mask_personal_data(text) == (masked, kinds)


@pytest.mark.parametrize(
    "text", ["접수번호 2026-000123", "12가 3456 차량이 불법주차", "3시 30분쯤 2024년 5월", "도로 200m 구간"]
)
def test_ticket_numbers_plates_times_and_distances_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == (text, [])


def test_phone_numbers_are_normalised() -> None:
    assert normalise_phone("01012345678") == "010-1234-5678"
    assert normalise_phone("041-521-3132") == "041-521-3132"
    assert normalise_phone("(02) 123-4567") == "02-123-4567"
    assert normalise_phone("2026-000123") is None
