"""The gateway's own message shapes: every channel turns its payload into an Inbound and renders Outbounds.

A button is channel-neutral: {"title", "payload"} (a quick reply that sends PAYLOAD as the citizen's
message), {"title", "url"} (a link), {"title", "phone"} (a call) or {"title", "operator"} (Kakao's own
상담직원 연결; other channels show nothing for it). So is a card (the city's posts and card news: bot/news;
소통라이브's questions: bot/live): {"title", "text", "url"?, "payload"?, "button", "image"?} (an address, a
press, a picture, or some of them; its button opens the address, else sends the payload as a press), which
every channel draws within its limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_TEXT",
    "STANDING",
    "is_standing",
    "Inbound",
    "clean_text",
    "Outbound",
    "fill",
    "from_rasa",
    "is_foreign",
    "split_text",
    "squash",
]

# Longer messages are cut here before they reach Rasa (a Kakao utterance is at most 1,000 characters; a
# Telegram message 4,096; the web chat the same).
MAX_TEXT = 4096


# Lone surrogates (U+D800-U+DFFF) become U+FFFD; NUL and other control characters but tab and newlines go.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Return TEXT as it can be stored anywhere: no lone surrogates (not UTF-8), no NUL (refused by
    PostgreSQL) or other control characters."""
    return _CONTROLS.sub("", _SURROGATES.sub("\ufffd", text))


@dataclass(frozen=True)
class Inbound:
    """A citizen's message, whatever the channel."""

    channel: str
    user_id: str
    text: str
    payload: str | None = None
    image_url: str | None = None
    location: dict[str, Any] | None = None
    # The client address the web chat saw (limits only: never stored or sent on).
    origin: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Whatever the channel sent, the text can be stored and sent on (bot/bodies.py).
        object.__setattr__(self, "text", clean_text(self.text))
        if self.payload is not None:
            object.__setattr__(self, "payload", clean_text(self.payload))

    @property
    def conversation_id(self) -> str:
        """Return the Rasa conversation id: "<channel>:<user id>" (actions read the owner from it)."""
        return f"{self.channel}:{self.user_id}"

    def message_text(self) -> str:
        """Return what goes to Rasa as the message: a pressed button's payload, else the text (cut).

        Rasa reads a message that starts with "/" as an intent with entities ("/affirm",
        '/complaint{"location": …}'), skipping the NLU. No button of this bot carries an intent, and a
        payload can be forged (the web chat's comes from the page), so neither may: the slashes go.
        """
        return _LEADING_SLASHES.sub("", (self.payload or self.text)[:MAX_TEXT])

    def metadata(self) -> dict[str, Any]:
        """Return the Rasa metadata the actions read (actions/common.py)."""
        data: dict[str, Any] = {"channel": self.channel}
        if self.image_url:
            data["image_url"] = self.image_url
        if self.location:
            data["location"] = self.location
        return data


@dataclass(frozen=True)
class Outbound:
    """One message of the bot: text, buttons, an image, or cards."""

    text: str = ""
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)
    image: str | None = None
    cards: tuple[dict[str, str], ...] = field(default_factory=tuple)
    # Who wrote it when not the bot: the name channels show (the profile's word for an agent).
    author: str | None = None
    # Only on the last answer of one of Rasa's turns: the form question it leaves open (the slot), or ""
    # when it leaves none. Channels never show it; the transcript keeps it (bot/store/conversations.py).
    expects: str | None = None
    # The answer that queued the chat for a person in working hours: a channel that cannot push (Kakao)
    # may hold this request's callback for the agent's first word. Never shown, never stored.
    holds: bool = field(default=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the web chat's and the outbox's format)."""
        data: dict[str, Any] = {"text": self.text, "buttons": list(self.buttons)}
        if self.image:
            data["image"] = self.image
        if self.cards:
            data["cards"] = list(self.cards)
        if self.author:
            data["author"] = self.author
        return data

    def signed(self) -> str:
        """Return the text, headed with the author's name for channels that show only the bot's name."""
        return f"[{self.author}] {self.text}" if self.author and self.text else self.text

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outbound:
        """Return the message that as_json (or Rasa's REST channel: cards come as {"custom": {"cards"}})
        described."""
        buttons = tuple(
            {k: str(v) for k, v in b.items() if k in ("title", "payload", "url", "phone", "operator")}
            for b in data.get("buttons") or []
            if isinstance(b, dict) and b.get("title")
        )
        custom = data["custom"] if isinstance(data.get("custom"), dict) else {}
        return cls(
            text=str(data.get("text") or ""),
            buttons=buttons,
            image=data.get("image") or None,
            cards=_cards(data.get("cards") or custom.get("cards")),
            author=str(data["author"]) if data.get("author") else None,
        )


_CARD_FIELDS = ("title", "text", "url", "payload", "button", "image")


def _cards(raw: Any) -> tuple[dict[str, str], ...]:
    """Return the cards of RAW that have a title, with their known fields only; an address that is not
    http(s) is dropped (so is a card left with no address, press or picture)."""
    if not isinstance(raw, list):
        return ()
    cards = []
    for card in raw:
        if not isinstance(card, dict) or not card.get("title"):
            continue
        kept = {k: str(card[k]) for k in _CARD_FIELDS if card.get(k)}
        for key in ("url", "image"):
            if not kept.get(key, "https://").startswith(("https://", "http://")):
                del kept[key]
        if "url" in kept or "image" in kept or "payload" in kept:
            cards.append(kept)
    return tuple(cards)


def from_rasa(answers: list[dict[str, Any]]) -> list[Outbound]:
    """Return Rasa's REST answers as Outbounds, joining the paragraphs Rasa split into separate messages."""
    merged: list[Outbound] = []
    for answer in answers:
        message = Outbound.from_json(answer)
        if not (message.text or message.buttons or message.image or message.cards):
            continue
        previous = merged[-1] if merged else None
        # Rasa's REST channel sends each paragraph of a text without buttons as its own message.
        if (
            previous
            and not (previous.buttons or previous.image or previous.cards or message.image or message.cards)
            and message.text
        ):
            merged[-1] = Outbound(text=f"{previous.text}\n\n{message.text}", buttons=message.buttons)
        else:
            merged.append(message)
    return merged


def split_text(text: str, size: int) -> list[str]:
    """Split TEXT into pieces of at most SIZE characters at paragraph, line, sentence or word ends."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > size:
        window = rest[:size]
        # The strongest break in the second half of the window: paragraph, line, sentence, then word.
        cut = size  # one very long word: a hard cut, but nothing is dropped
        for separator in ("\n\n", "\n", ". ", "? ", "! ", " "):
            at = window.rfind(separator)
            if at >= size // 2:
                cut = at + len(separator.rstrip())
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def squash(text: str) -> str:
    """Return TEXT without any whitespace (how buttons, names and short answers are compared)."""
    return re.sub(r"\s+", "", text or "")


# A particle written "(으)로" after a {variable} in a text is chosen by how the value ends: "'처리 중'으로",
# "'처리 완료'로", "민원 2026-000123으로" (digits read as Korean numbers: 삼 ends in a consonant).
_PARTICLE = re.compile(r"\{(\w+)\}(['\"’」)]*)\((으|이|을|은|과)\)(로|가|를|는|와)")
_DIGIT_ENDINGS = {"0": "ㅇ", "1": "ㄹ", "3": "ㅁ", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ"}


def _final(value: str) -> str | None:
    """Return how VALUE ends when read aloud: "" (a vowel), "ㄹ", another consonant ("ㅇ"), or None."""
    for char in reversed(value.strip()):
        if "가" <= char <= "힣":
            jong = (ord(char) - 0xAC00) % 28
            return "" if jong == 0 else "ㄹ" if jong == 8 else "ㅇ"
        if char.isdigit():
            return _DIGIT_ENDINGS.get(char, "")
        if char.isascii() and char.isalpha():
            return "ㄹ" if char.lower() in "lr" else "ㅇ" if char.lower() in "mn" else ""
        if char.isalnum():
            return None  # ㅠㅠ, another script: no reading to go by
    return None


# Payloads the gateway answers itself, whatever the state of the conversation ("survey:<id>:<score>",
# "merge:<ticket>:<ticket or keep>", "subscribe:<topic>", "unsubscribe:<topic>"):
# a button with one still works when pressed later, so it is not dropped as stale.
_LEADING_SLASHES = re.compile(r"^[\s/]+")
STANDING = ("survey:", "merge:", "subscribe:", "unsubscribe:", "live:")


def is_standing(button: dict[str, str]) -> bool:
    """Return whether BUTTON's payload stays valid whenever it is pressed."""
    return str(button.get("payload", "")).startswith(STANDING)


def fill(template: str, **values: Any) -> str:
    """Return TEMPLATE formatted with VALUES, with the right particle after each {variable}.

    "(으)로", "(이)가", "(을)를", "(은)는" and "(과)와" right after a variable are chosen for its value.
    """

    def choose(match: re.Match[str]) -> str:
        name, closing, with_consonant, after_vowel = match.groups()
        final = _final(str(values.get(name, "")))
        if final is None:
            particle = f"({with_consonant}){after_vowel}"
        elif with_consonant == "으":
            particle = "로" if final in ("", "ㄹ") else "으로"
        else:
            particle = with_consonant if final else after_vowel
        return "{" + name + "}" + closing + particle

    return _PARTICLE.sub(choose, template).format(**values)


def is_foreign(text: str) -> bool:
    """Return whether TEXT is written in another language: no Hangul, and words enough to be a sentence.

    "Where is the city hall?" and "Tôi cần giúp đỡ" are; "ok", "thx" and "010-1234-5678" are not.
    """
    if any("가" <= c <= "힣" or "ㄱ" <= c <= "ㆎ" for c in text):
        return False
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    letters = sum(c.isalpha() for c in text)
    ideographs = sum(
        "\u4e00" <= c <= "\u9fff" or "\u3040" <= c <= "\u30ff" for c in text
    )  # Chinese, Japanese
    return len(words) >= 3 or letters >= 12 or ideographs >= 4
