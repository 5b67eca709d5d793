"""bot.evaluate: refusing bad files whole, and the scores it computes (intents, categories, entities)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluate import (
    DataError,
    Example,
    Prediction,
    Span,
    load_entity_examples,
    load_examples,
    main,
    score,
    score_entities,
)


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps(
    {"text": "가로등이 꺼졌어요", "intent": "complaint", "category": "streetlight"}, ensure_ascii=False
)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "not JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"text": "안녕", "intent": "greet"}', "missing field category"),
        ('{"text": "", "intent": "greet", "category": null}', "non-empty string"),
        ('{"text": "안녕", "intent": "hello", "category": null}', "unknown intent 'hello'"),
        ('{"text": "가로등", "intent": "complaint", "category": "lamp"}', "does not fit intent 'complaint'"),
        ('{"text": "가로등", "intent": "complaint", "category": null}', "does not fit intent 'complaint'"),
        ('{"text": "안녕", "intent": "greet", "category": "senior"}', "does not fit intent 'greet'"),
    ],
)
def test_a_bad_line_is_refused_with_its_line_number(tmp_path: Path, bad_line: str, message: str) -> None:
    path = _write(tmp_path, [GOOD, GOOD, bad_line, GOOD])
    with pytest.raises(DataError, match=message) as info:
        load_examples(path)
    assert f"{path}:3:" in str(info.value)


def test_the_cli_refuses_a_bad_file_with_status_2_and_prints_no_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, [GOOD, '{"text": "x", "intent": "nope", "category": null}'])
    assert main(["--data", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}:2: unknown intent 'nope'" in err


def test_the_cli_refuses_an_empty_file_and_a_missing_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(_write(tmp_path, [""]))]) == 2
    assert "no examples" in capsys.readouterr().err
    good = _write(tmp_path, [GOOD])
    assert main(["--data", str(good), "--model", str(tmp_path / "missing.tar.gz")]) == 2
    assert "no trained model" in capsys.readouterr().err


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    assert len(load_examples(_write(tmp_path, [GOOD, "", "   ", GOOD]))) == 2


def test_scores() -> None:
    examples = [
        Example("a", "complaint", "streetlight"),
        Example("b", "complaint", "garbage"),
        Example("c", "welfare", "senior"),
        Example("d", "out_of_scope", None),
        Example("e", "out_of_scope", None),
        Example("f", "greet", None),
    ]
    predictions = [
        Prediction("complaint", "streetlight"),
        Prediction("complaint", "noise"),  # right intent, wrong category
        Prediction("info", "other", fallback=True),  # wrong intent
        Prediction("out_of_scope", None),
        Prediction("greet", None),
        Prediction("greet", None),
    ]
    report = score(examples, predictions)
    assert report.n == 6
    assert report.intent_accuracy == pytest.approx(4 / 6)
    assert report.category_n == 3
    assert report.category_accuracy == pytest.approx(1 / 3)
    assert report.out_of_scope_recall == pytest.approx(1 / 2)
    assert report.fallback_rate == pytest.approx(1 / 6)
    # Intent F1: complaint 1.0, welfare 0.0, out_of_scope 2/3, greet 2/3 -> mean 7/12.
    assert report.intent_macro_f1 == pytest.approx((1 + 0 + 2 / 3 + 2 / 3) / 4)
    assert ("complaint/garbage", "complaint/noise", 1) in report.confusions
    as_json = report.as_json()
    assert set(as_json) >= {"n", "intent", "category", "out_of_scope_recall"}
    assert set(as_json["intent"]) == {"accuracy", "macro_f1"}


def test_the_top3_rate_counts_the_right_button_among_messages_a_button_can_answer() -> None:
    examples = [
        Example("a", "complaint", "streetlight"),
        Example("b", "welfare", "senior"),
        Example("c", "info", "local_tax"),
        Example("d", "out_of_scope", None),  # never a button: not counted
    ]
    guesses = (("complaint", "noise"), ("complaint", "streetlight"), ("welfare", "senior"))
    predictions = [Prediction("complaint", "noise", guesses=guesses) for _ in examples]
    report = score(examples, predictions)
    assert report.top3 == pytest.approx(2 / 3)
    assert report.as_json()["top3"] == pytest.approx(2 / 3)


def test_entity_scores_exactly_by_overlap_and_as_the_form_reads_them() -> None:
    text = "서북구 쌍용동 사거리 가로등이 꺼졌어요"
    place = Span("location", 0, 11)  # 서북구 쌍용동 사거리
    examples = [
        (text, (place,)),
        (text, (place,)),
        (text, (place,)),
        ("2026-000123 어떻게 됐어요", (Span("ticket_number", 0, 11),)),
        ("가로등이 꺼졌어요", ()),
    ]
    found = [
        (place,),  # exact
        (Span("location", 0, 3), Span("location", 4, 11)),  # two pieces: the form joins them to the place
        (Span("location", 4, 7),),  # 쌍용동 only: overlaps, but the form would keep less
        (Span("ticket_number", 0, 11),),
        (Span("location", 0, 3),),  # a place where none is
    ]
    report = score_entities(examples, found)
    location = report.scores("location")
    assert report.counts["location"] == {
        "gold": 3, "found": 5, "exact": 1, "exact_gold": 1, "overlap": 4, "overlap_gold": 3,
        "messages_gold": 3, "messages_found": 4, "joined": 2,
    }  # fmt: skip
    assert location["exact_precision"] == pytest.approx(1 / 5)
    assert location["exact_recall"] == pytest.approx(1 / 3)
    assert location["overlap_precision"] == pytest.approx(4 / 5)
    assert location["overlap_recall"] == pytest.approx(1.0)
    assert location["joined_precision"] == pytest.approx(2 / 4)
    assert location["joined_recall"] == pytest.approx(2 / 3)
    assert report.scores("ticket_number")["exact_f1"] == pytest.approx(1.0)
    assert report.misses[0] == (text, "서북구 쌍용동 사거리", "서북구, 쌍용동 사거리")
    assert set(report.as_json()["entities"]) == {"location", "ticket_number"}
    assert "as one phrase per message" in report.as_text()


def test_an_annotated_file_gives_each_entity_with_its_offsets(tmp_path: Path) -> None:
    path = tmp_path / "entities.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: complaint/streetlight\n  examples: |\n'
        "    - [두정동 먹자골목](location)에 가로등이 나갔어요\n    - 가로등이 꺼졌어요\n",
        encoding="utf-8",
    )
    assert load_entity_examples(path) == [
        ("두정동 먹자골목에 가로등이 나갔어요", (Span("location", 0, 8),)),
        ("가로등이 꺼졌어요", ()),
    ]


def test_an_unreadable_or_empty_annotated_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_entity_examples(tmp_path / "missing.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    with pytest.raises(DataError, match="no examples"):
        load_entity_examples(empty)
