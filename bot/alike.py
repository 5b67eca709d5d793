"""How alike two short Korean texts are: the same problem reported twice (bot/tickets/duplicates.py), the
same question asked twice for 소통라이브 (bot/store/live.py).

What tells one spot and one thing from another: the place words (a landmark, a gate, a crossing) weigh most,
then the description. Both are compared as sets of two-character pieces (the particles and endings of Korean
change a word's last letters, not its first two), with the 읍·면·동's own name and spaces left out, since
every candidate shares them; two sides of one landmark (정문, 후문) are two places.
"""

from __future__ import annotations

import re

__all__ = ["similarity"]

PLACE_WEIGHT = 0.6
_NOISE = re.compile(r"[\s\W_]+")
# Sides of one landmark: "정문" and "후문" of one apartment complex are two places, and two problems.
_SIDES = ("정문", "후문", "앞", "뒤", "입구", "출구", "동쪽", "서쪽", "남쪽", "북쪽", "건너편", "맞은편")
_SAME_SIDE = {"건너편": "맞은편", "맞은편": "건너편"}
SIDE_PENALTY = 0.25


def _pieces(text: str, district: str | None) -> set[str]:
    text = _NOISE.sub("", text or "")
    if district:
        text = text.replace(district, "").replace(district.rstrip("동읍면"), "")
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similarity(
    text_a: str, place_a: str | None, text_b: str, place_b: str | None, district: str | None = None
) -> float:
    """Return how alike two reports of one 읍·면·동 (DISTRICT) and category are, from 0 to 1."""
    place = _overlap(_pieces(place_a or "", district), _pieces(place_b or "", district))
    words = _overlap(_pieces(text_a, district), _pieces(text_b, district))
    score = words if not place_a or not place_b else PLACE_WEIGHT * place + (1 - PLACE_WEIGHT) * words
    return score * SIDE_PENALTY if _other_sides(f"{place_a} {text_a}", f"{place_b} {text_b}") else score


def _sides(text: str) -> set[str]:
    found = {side for side in _SIDES if side in text}
    return found | {_SAME_SIDE[s] for s in found if s in _SAME_SIDE}


def _other_sides(a: str, b: str) -> bool:
    """Whether both name a side of a place, and no side in common (정문 and 후문; 앞 and 뒤)."""
    sides_a, sides_b = _sides(a), _sides(b)
    return bool(sides_a and sides_b and not sides_a & sides_b)
