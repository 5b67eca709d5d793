"""The duplicate detector: on the pairs written for it, and the cases it is built for."""

from __future__ import annotations

from bench.duplicates import evaluate
from bot.tickets.duplicates import THRESHOLD, similarity


def test_the_labelled_pairs_are_told_apart_well_enough() -> None:
    """A gate, not a measure: the threshold was chosen on these pairs (docs/benchmarks/duplicates.md)."""
    found = evaluate()
    assert found["pairs"] >= 30 and found["precision"] >= 0.9 and found["recall"] >= 0.8


def test_one_landmark_seen_from_two_sides_is_two_places() -> None:
    front = similarity("가로등이 꺼졌어요", "현대아파트 정문", "가로등이 꺼졌어요", "현대아파트 정문 앞")
    back = similarity("가로등이 꺼졌어요", "현대아파트 정문", "가로등이 꺼졌어요", "현대아파트 후문")
    assert front >= THRESHOLD > back


def test_the_districts_own_name_makes_no_two_reports_alike() -> None:
    named = similarity("쓰레기 무단투기", "쌍용동 공원", "음식물 쓰레기", "쌍용동 시장", district="쌍용동")
    assert named == similarity("쓰레기 무단투기", "공원", "음식물 쓰레기", "시장") < THRESHOLD
