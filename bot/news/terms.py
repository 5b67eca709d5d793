"""What search matches: Hangul bigrams and whole words, the same for a post and for a question.

Korean glues particles to words (축제는, 축제를, 흥타령축제) and writes compounds with or without spaces
(흥타령 축제, 흥타령춤축제), so whole words rarely match. Overlapping pairs of syllables do (the way
CJK search engines index text): 흥타령춤축제 gives 흥타 타령 령춤 춤축 축제, and "흥타령 축제 언제예요?"
gives 흥타 타령 축제. A word's last particle is taken off first, so 축제는 also gives 축제; a word
of one syllable (빵, 배) is a term itself. Latin letters and digits are whole lower-case words (BTS, 2027).
"""

from __future__ import annotations

import re

__all__ = ["terms"]

_WORD = re.compile(r"[가-힣]+|[0-9a-z]+")
# Particles and endings taken off a word's end (the longest first), when at least one syllable is left.
_ENDINGS = tuple(
    sorted(
        "에서는 에서도 에서 으로는 으로 이에요 이예요 예요 에요 인가요 나요 까지 부터 처럼 이랑 랑 하고 "
        "은 는 이 가 을 를 에 의 도 와 과 로 요 만".split(),
        key=len,
        reverse=True,
    )
)


def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


def _pairs(word: str) -> list[str]:
    return [word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)]


def terms(text: str, *, skip: frozenset[str] = frozenset(), question: bool = False) -> list[str]:
    """Return TEXT's search terms in order, each once; words in SKIP (after their particle is taken off:
    천안, 소식, 언제) give none. A post's words give their pairs with and without the particle; a QUESTION's
    only without (주말에 asks for 주말, not for 말에)."""
    found: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if not "가" <= word[0] <= "힣":
            if len(word) > 1 and word not in skip:
                found[word] = None
            continue
        stem = _stem(word)
        if word in skip or stem in skip:
            continue
        for pair in _pairs(stem) + (_pairs(word) if word != stem and not question else []):
            found[pair] = None
    return list(found)
