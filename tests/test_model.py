"""The trained model (models/minwon.tar.gz, built by make train): the quality gate and odd inputs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.evaluate import (
    EntityReport,
    Report,
    evaluate,
    evaluate_entities,
    load_agent,
    load_entity_examples,
    load_examples,
    rasa_predictor,
)
from bot.nlu.taxonomy import CATEGORIES, interpret
from bot.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "minwon.tar.gz"
HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.jsonl"
DEV = ROOT / "tests" / "data" / "nlu_dev_real.jsonl"
ENTITY_HOLDOUT = ROOT / "tests" / "data" / "entity_holdout.yml"

# The targets of the foundation issue; CI fails below them.
TARGETS = {"intent": 0.95, "category": 0.90, "out_of_scope_recall": 0.90}
# The development set in citizens' registers (#20), gated at the level reached, a little under it: the issue's
# targets are intent 0.90, category 0.80, out-of-scope recall 0.85, fallback at most 10 %, top-3 0.93.
DEV_TARGETS = {"intent": 0.95, "category": 0.93, "out_of_scope_recall": 0.93, "top3": 0.98}
DEV_MAX_FALLBACK = 0.05
# Entities on their own held-out set (2026-12-02: place 0.911 found by overlap, ticket numbers 0.96 exact,
# docs/benchmarks/nlu.md): below these the complaint form would ask "어디인가요?" far more often.
ENTITY_TARGETS = {"location": ("overlap_f1", 0.85), "ticket_number": ("exact_f1", 0.90)}

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def agent(loop: asyncio.AbstractEventLoop) -> Any:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    return load_agent(MODEL)


def _parse(agent: Any, loop: asyncio.AbstractEventLoop, text: str) -> dict[str, Any]:
    return loop.run_until_complete(agent.parse_message(text))


@pytest.fixture(scope="module")
def holdout_report(loop: asyncio.AbstractEventLoop) -> Report:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    return loop.run_until_complete(evaluate(load_examples(HOLDOUT), rasa_predictor(MODEL)))


@pytest.fixture(scope="module")
def dev_report(loop: asyncio.AbstractEventLoop) -> Report:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    return loop.run_until_complete(evaluate(load_examples(DEV), rasa_predictor(MODEL)))


@pytest.mark.parametrize("score", sorted(DEV_TARGETS))
def test_development_set_in_citizens_registers(dev_report: Report, score: str) -> None:
    got = {
        "intent": dev_report.intent_accuracy, "category": dev_report.category_accuracy,
        "out_of_scope_recall": dev_report.out_of_scope_recall, "top3": dev_report.top3,
    }[score]  # fmt: skip
    assert got is not None and got >= DEV_TARGETS[score], dev_report.as_text()


def test_development_set_seldom_asks_back(dev_report: Report) -> None:
    assert dev_report.fallback_rate <= DEV_MAX_FALLBACK, dev_report.as_text()


@pytest.fixture(scope="module")
def entity_report(loop: asyncio.AbstractEventLoop) -> EntityReport:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    examples = load_entity_examples(ENTITY_HOLDOUT)
    return loop.run_until_complete(evaluate_entities(examples, rasa_predictor(MODEL)))


@pytest.mark.parametrize("entity", sorted(ENTITY_TARGETS))
def test_held_out_entities(entity_report: EntityReport, entity: str) -> None:
    score, target = ENTITY_TARGETS[entity]
    assert entity_report.scores(entity)[score] >= target, entity_report.as_text()


def test_held_out_intent_accuracy(holdout_report: Report) -> None:
    assert holdout_report.intent_accuracy >= TARGETS["intent"], holdout_report.as_text()


def test_held_out_category_accuracy(holdout_report: Report) -> None:
    assert holdout_report.category_accuracy >= TARGETS["category"], holdout_report.as_text()


def test_held_out_out_of_scope_recall(holdout_report: Report) -> None:
    assert holdout_report.out_of_scope_recall is not None
    assert holdout_report.out_of_scope_recall >= TARGETS["out_of_scope_recall"], holdout_report.as_text()


@pytest.mark.parametrize(("intent", "category"), [(i, c) for i in CATEGORIES for c in CATEGORIES[i]])
def test_a_guess_button_sends_back_a_title_the_bot_reads_as_that_guess(
    agent: Any, loop: asyncio.AbstractEventLoop, intent: str, category: str
) -> None:
    title = load_profile("cheonan").label(intent, category)
    assert interpret(_parse(agent, loop, title))[:2] == (intent, category), title


@pytest.mark.parametrize("intent", ["complaint", "check_ticket_status", "welfare", "info", "request_human"])
def test_a_main_menu_button_sends_back_a_title_the_bot_reads_as_its_intent(
    agent: Any, loop: asyncio.AbstractEventLoop, intent: str
) -> None:
    title = load_profile("cheonan").label(intent)
    assert interpret(_parse(agent, loop, title))[0] == intent, title


@pytest.mark.parametrize(
    ("title", "intent"),
    [("사진 없어요", "deny"), ("번호 안 남길게요", "deny"), ("동의하고 번호 남기기", "affirm"),
     ("접수해 주세요", "affirm"), ("고칠게요", "deny"), ("다시 시도", "retry")],
)  # fmt: skip
def test_the_complaint_form_buttons_are_read_as_yes_no_or_retry(
    agent: Any, loop: asyncio.AbstractEventLoop, title: str, intent: str
) -> None:
    assert interpret(_parse(agent, loop, title))[0] == intent, title


@pytest.mark.parametrize("text", ["둘 다 아니에요", "전부 아니에요", "셋 다 아니요"])
def test_none_of_the_guesses_typed_is_a_no(agent: Any, loop: asyncio.AbstractEventLoop, text: str) -> None:
    assert interpret(_parse(agent, loop, text))[0] == "deny"


def test_places_and_ticket_numbers_are_entities(agent: Any, loop: asyncio.AbstractEventLoop) -> None:
    parsed = _parse(agent, loop, "서북구 쌍용동 사거리 가로등이 꺼졌어요")
    assert interpret(parsed)[:2] == ("complaint", "streetlight")
    assert any(e["entity"] == "location" and "쌍용동" in e["value"] for e in parsed["entities"])
    parsed = _parse(agent, loop, "2026-000123 민원 어떻게 됐어요?")
    assert interpret(parsed)[0] == "check_ticket_status"
    assert {"entity": "ticket_number", "value": "2026-000123"}.items() <= parsed["entities"][0].items()


def test_diet_loaded_for_prediction_finds_what_rasas_loading_finds(
    agent: Any, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bot/nlu/entities.py loads DIET without its training graph; Rasa's loading is the reference.
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bot.nlu.entities import GatedDIETClassifier

    monkeypatch.setattr(
        GatedDIETClassifier, "_load_model_class", classmethod(DIETClassifier._load_model_class.__func__)
    )
    rasas = load_agent(MODEL)
    texts = [text for text, _ in load_entity_examples(ENTITY_HOLDOUT)]

    def entities(which: Any, text: str) -> list[tuple[str, int, int, str, float]]:
        found = _parse(which, loop, text)["entities"]
        return [
            (e["entity"], e["start"], e["end"], e["value"], round(e.get("confidence_entity") or 0.0, 4))
            for e in found
        ]

    ours = [entities(agent, text) for text in texts]
    assert sum(map(len, ours)) > len(texts) / 2  # the held-out set is mostly places and ticket numbers
    assert ours == [entities(rasas, text) for text in texts]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\x00\x07\x1b", "😡😡😡", "ㅋㅋㅋㅋㅋㅋ", "a" * 10_000, ("가로등 고장 " * 1700)[:10_000],
     "DROP TABLE tickets; --", "<script>alert(1)</script>"],
)  # fmt: skip
def test_odd_input_is_parsed_not_raised(agent: Any, loop: asyncio.AbstractEventLoop, text: str) -> None:
    parsed = _parse(agent, loop, text)
    assert parsed["intent"]["name"]
