"""Where a problem is, as the citizen said it: the whole place phrase, and whether it is too vague.

"불당동 갤러리아백화점 앞 사거리에 신호등이 꺼졌어요" names 불당동 (the NLU's location entity) and goes on
with the landmark, the side and the crossing: the phrase runs from the entity over the words that still
describe the place, up to the first word about the problem itself (a particle of place ends it: "사거리에").
"""

from __future__ import annotations

import functools
import re

from bot.messages import squash
from bot.settings import PROJECT_ROOT

__all__ = ["MAX_PLACE", "is_vague", "place_phrase"]

# A place is a phrase, not a paragraph: longer ones were the body of a long message (at most this many
# characters, and words).
MAX_PLACE, _MAX_WORDS = 60, 8
# Words that say where: landmarks, sides, crossings, exits, roads, numbers.
_PLACE_WORD = re.compile(
    "("
    + "|".join(
        """아파트 단지 정문 후문 쪽문 앞 뒤 옆 건너편 맞은편 사이 사거리 삼거리 오거리 교차로 로터리 역 출구
        정류장 공원 학교 병원 시장 백화점 마트 빌딩 빌라 타워 센터 교회 성당 길 대로 골목 입구 주차장 다리
        육교 지하도 터널 상가 마을 광장 번지 호 층 동 리 읍 면 구 번""".split()
    )
    + r"|\d)$"
)
# How a word ends when the place phrase ends with it: a particle of place or a copula
# ("사거리에", "앞이에요").
_LAST = tuple(
    """쪽으로 근처에 부근에 에서 에다 쪽에 으로 에 이에요 예요 에요 이요 입니다 인데요 인데 이고요 이고
    이라서 이라 이니까 이라고""".split()
)
# A particle that makes the word the subject or object: the problem, not the place ("신호등이", "차가").
_SUBJECT = re.compile(r"(이|가|은|는|을|를|도|의)$")
# A word that is already the predicate, or says when or how ("있어요", "패인거", "움푹", "매일").
_PREDICATE = re.compile(r"(요|다|죠|음|함|고|서|데|니다|네|어|아|까|거|건|게|며|면|니)$")
_NOT_PLACE = frozenset(
    """움푹 너무 계속 매일 자꾸 항상 지금 오늘 어제 며칠째 밤마다 아침마다 저녁마다 진짜 완전 좀 또 다 많이
    꽉 밤새 하루종일 언제 벌써 아직 엄청 정말 매번 가끔 요즘 방금 아까 한달째 일주일째 이틀째 사흘째
    아침 새벽 저녁 밤 낮 주말 평일 오전 오후 새벽마다 주말마다""".split()
)
# Times ("6시부터") and plurals ("트럭들"): about the problem.
_NOT_PLACE_FORM = re.compile(r"^\d+시|들$")
_VAGUE = frozenset(
    """골목 집앞 우리집 우리집앞 여기 저기 거기 이쪽 저쪽 동네 우리동네 길 도로 근처 앞 뒤 옆 집근처 길가
    골목길""".split()
)


@functools.cache
def _problem_words() -> frozenset[str]:
    """Words of the complaint categories (data/vocabulary) that are not place words: 신호등, 쓰레기, 차."""
    words = set()
    for path in (PROJECT_ROOT / "data" / "vocabulary").glob("complaint__*.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            word = squash(line)
            if word and " " not in line.strip() and not _PLACE_WORD.search(word):
                words.add(word)
    return frozenset(words | {"차", "차량", "오토바이", "사람", "누가", "누군가"})


def _strip_last(word: str) -> str:
    """Return WORD without the particle or copula that ends a place phrase ("사거리에" → 사거리), or WORD."""
    for ending in _LAST:
        if word.endswith(ending) and len(word) - len(ending) >= 1:
            stem = word[: -len(ending)]
            if len(stem) >= 2 or ending in ("에", "에서") or _PLACE_WORD.search(stem):
                return stem
    return word


def place_phrase(text: str, start: int, end: int) -> str:
    """Return the place phrase of TEXT from START, at least up to END (the NLU's location entity)."""
    entity = text[start:end].strip()
    words: list[str] = []
    for match in re.finditer(r"\S+", text[end:]):
        word = match.group().strip(".,!?~…·\"'()[]")
        if (
            not word
            or squash(word) in _NOT_PLACE
            or squash(word) in _problem_words()
            or _NOT_PLACE_FORM.search(word)
        ):
            break
        stem = _strip_last(word)
        if stem != word:  # "사거리에", "앞이에요": the last word of the place
            if squash(stem) not in _problem_words() and squash(stem) not in _NOT_PLACE:
                words.append(stem)
            break
        subject = _SUBJECT.sub("", word)
        if subject != word and len(subject) >= 1 and not _PLACE_WORD.search(subject):
            break  # "신호등이", "차가": what is wrong, no longer where
        if subject != word:
            words.append(subject)  # "출구가": the exit is the place, and the sentence goes on about it
            break
        if _PREDICATE.search(word) and not _PLACE_WORD.search(word):
            break
        words.append(word)
        if len(words) >= _MAX_WORDS:
            break
    glue = "" if text[end : end + 1] and not text[end : end + 1].isspace() else " "
    phrase = entity + (glue + " ".join(words) if words else "")
    if glue == "" and words:  # the entity ran on without a space ("불당동사거리에"): keep what the NLU found
        phrase = entity
    return phrase[:MAX_PLACE].rstrip()


def is_vague(place: str, district: str | None) -> bool:
    """Return whether PLACE names no more than a 읍·면·동 (DISTRICT) or a word like 골목, 집 앞, 여기."""
    squashed = squash(place)
    if squashed in _VAGUE:
        return True
    if district is None:
        return False
    rest = squashed.replace(squash(district), "", 1)
    rest = re.sub(r"^(천안시|천안)?[가-힣]{1,3}구", "", rest)  # "서북구 쌍용동" is still only a 동
    return rest in ("", "쪽", "근처", "에서", "에", "일대") or rest in _VAGUE
