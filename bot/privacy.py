"""Personal data in free text: phone numbers, 주민등록번호, card numbers and e-mail addresses, masked.

Car plates are left alone by default: an illegal-parking report needs the plate, and the citizen gave it for
that. What agents see by default and what goes into training data masks plates too (plates=True).
"""

from __future__ import annotations

import re

__all__ = ["PHONE", "PLATE", "mask_personal_data", "normalise_phone"]

# Mobile (010…), Seoul (02), regional (031-064) and internet (070, 080) numbers, with or without separators.
PHONE = re.compile(r"(?<!\d)(01[016789]|0[2-6]\d?|0[78]0)[-.\s)]*(\d{3,4})[-.\s]*(\d{4})(?!\d)")
_PATTERNS = {
    # Six digits of birth date, then the gender digit (1-8) and six more.
    "rrn": re.compile(r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s*-?\s*[1-8]\d{6}(?!\d)"),
    "card": re.compile(r"(?<!\d)\d{4}(?:[-\s]?\d{4}){3}(?!\d)"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "phone": PHONE,
}
# 12가3456, 123가4567, 서울12가3456: two or three digits, one Hangul syllable, four digits.
PLATE = re.compile(r"(?<![\d가-힣])(?:[가-힣]{2}\s?)?\d{2,3}\s?[가-힣]\s?\d{4}(?!\d)")


def _stars(match: re.Match[str]) -> str:
    # Keep the shape (separators, @ and dots), hide every letter and digit.
    return re.sub(r"\w", "*", match.group(0))


def normalise_phone(text: str) -> str | None:
    """Return the first phone number in TEXT as 010-1234-5678, or None."""
    match = PHONE.search(text or "")
    return "-".join(match.groups()) if match else None


def mask_personal_data(text: str, *, plates: bool = False) -> tuple[str, list[str]]:
    """Return TEXT with personal data starred out (010-****-5678 → ***-****-****), and the kinds found.

    With PLATES, car plates are starred out too.
    """
    found = []
    for kind, pattern in (_PATTERNS | {"plate": PLATE} if plates else _PATTERNS).items():
        text, count = pattern.subn(_stars, text)
        if count:
            found.append(kind)
    return text, found
