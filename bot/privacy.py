"""Personal data in free text, masked, and citizens' raw words sealed (encrypted) where they must be kept.

Masked: phone numbers (also +82 10-…), 주민등록번호, card numbers (16 and 15 digits), bank account numbers,
passport and driver's licence numbers, e-mail addresses, and digits typed one by one ("0 1 0 1 2 …").
Car plates are left alone by default: an illegal-parking report needs the plate, and the citizen gave it for
that. What is stored of a conversation, what agents see by default and what goes into training data masks
plates too (plates=True).

Sealed: the raw text of a citizen's message (to replay it to Rasa after an outage, and for an agent's
deliberate "개인정보 보기") and the phone number of a complaint form in progress, with a key from the settings
(PERSONAL_DATA_KEY, else a key file made on first use, readable by its owner only).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re

from cryptography.fernet import Fernet, InvalidToken

from bot.settings import load_settings

__all__ = [
    "PHONE",
    "PLATE",
    "is_sealed",
    "mask_personal_data",
    "normalise_phone",
    "seal",
    "sign",
    "short_id",
    "signed",
    "unseal",
]

# Mobile (010…), Seoul (02), regional (031-064) and internet (070, 080) numbers, with or without separators,
# and with the country code (+82 10-…, 0082-2-…) instead of the first 0.
PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\s?82[-.\s)]*(?:\(0\))?0?|0)(1[016789]|[2-6]\d?|[78]0)[-.\s)]*(\d{3,4})[-.\s]*(\d{4})"
    r"(?!\d)"
)
_ACCOUNT = re.compile(r"(?<![\d-])\d{2,6}(?:-\d{2,7}){2,3}(?![\d-])")
_PATTERNS = {
    # Six digits of birth date, then the gender digit (1-8) and six more.
    "rrn": re.compile(r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s*-?\s*[1-8]\d{6}(?!\d)"),
    "card": re.compile(r"(?<!\d)(?:\d{4}(?:[-\s]?\d{4}){3}|\d{4}[-\s]?\d{6}[-\s]?\d{5})(?!\d)"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "phone": PHONE,
    # 면허번호: 11-23-456789-01, or the old form with the region (서울 23-456789-01).
    "licence": re.compile(
        r"(?<!\d)(?:\d{2}-?\d{2}|(?:서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산)\s?\d{2})"
        r"-?\d{6}-?\d{2}(?!\d)"
    ),
    # Passports: M12345678, and the 2021 form M123A4567.
    "passport": re.compile(r"(?<![A-Za-z0-9])[A-Z](?:\d{8}|\d{3}[A-Z]\d{4})(?![A-Za-z0-9])"),
    # Bank accounts: three or four groups of digits, 10-14 digits in all (110-123-456789), or a plain run.
    "account": re.compile(rf"{_ACCOUNT.pattern}|(?<!\d)\d{{10,14}}(?!\d)"),
    # Digits typed one at a time with spaces: 0 1 0 1 2 3 4 …
    "digits": re.compile(r"(?<!\d)\d(?:\s\d){7,}(?!\d)"),
}
# 12가3456, 123가4567, 서울12가3456: two or three digits, one Hangul syllable, four digits.
PLATE = re.compile(r"(?<![\d가-힣])(?:[가-힣]{2}\s?)?\d{2,3}\s?[가-힣]\s?\d{4}(?!\d)")


def _stars(match: re.Match[str]) -> str:
    # Keep the shape (separators, @ and dots), hide every letter and digit.
    return re.sub(r"\w", "*", match.group(0))


def normalise_phone(text: str) -> str | None:
    """Return the first phone number in TEXT as 010-1234-5678, or None."""
    match = PHONE.search(text or "")
    return "-".join(("0" + match.group(1), match.group(2), match.group(3))) if match else None


def mask_personal_data(text: str, *, plates: bool = False) -> tuple[str, list[str]]:
    """Return TEXT with personal data starred out (010-****-5678 → ***-****-****), and the kinds found.

    With PLATES, car plates are starred out too.
    """
    found = []
    for kind, pattern in (_PATTERNS | {"plate": PLATE} if plates else _PATTERNS).items():
        masked = pattern.sub(_stars if kind != "account" else _account_stars, text)
        if masked != text:
            found.append(kind)
        text = masked
    return text, found


def _account_stars(match: re.Match[str]) -> str:
    # Groups of digits are an account only with 10-14 digits in all (a date 2026-12-06 is not).
    digits = sum(c.isdigit() for c in match.group(0))
    return _stars(match) if 10 <= digits <= 14 else match.group(0)


_SEALED = "sealed:v1:"


@functools.lru_cache(maxsize=1)
def _key() -> bytes:
    """The key: PERSONAL_DATA_KEY (any string), else the key file, made now if missing (mode 600)."""
    settings = load_settings()
    if settings.personal_data_key:
        digest = hashlib.sha256(settings.personal_data_key.encode("utf-8")).digest()
        return base64.urlsafe_b64encode(digest)
    path = settings.personal_data_key_file
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key())
    return path.read_bytes().strip()


def _fernet() -> Fernet:
    return Fernet(_key())


def short_id(sender: str) -> str:
    """Return what staff see of a conversation id: a short hash (the id itself admits no page, but it names
    the conversation in Rasa and the database; it is not shown)."""
    return "#" + hashlib.sha256(sender.encode("utf-8")).hexdigest()[:10]


def sign(value: str) -> str:
    """Return a keyed signature of VALUE (a web-chat conversation's key: only this server can make it)."""
    mac = hmac.new(hashlib.sha256(b"minwon signing " + _key()).digest(), value.encode("utf-8"), "sha256")
    return mac.hexdigest()[:32]


def signed(value: str, signature: object) -> bool:
    """Return whether SIGNATURE is sign(VALUE)."""
    return isinstance(signature, str) and hmac.compare_digest(signature.encode(), sign(value).encode())


def seal(text: str) -> str:
    """Return TEXT encrypted with the personal-data key (to keep at rest)."""
    return _SEALED + _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_SEALED)


def unseal(sealed: str | None) -> str | None:
    """Return the text SEALED holds; None if there is none or another key sealed it."""
    if not is_sealed(sealed):
        return None
    try:
        return _fernet().decrypt(str(sealed)[len(_SEALED) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
