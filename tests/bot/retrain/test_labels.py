"""Labelled examples: imported files, the console's labels and decisions, and the export to feedback.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.evaluate import DataError
from bot.retrain import labels as retrain_labels
from bot.retrain.__main__ import main
from bot.retrain.labels import Labelled, collect, decide, export_feedback, import_file
from bot.store.agents import add_agent
from bot.store.conversations import record_message
from bot.store.models import ImportedLabel, Label, utcnow

FIXTURE = Path(__file__).resolve().parent.parent.parent / "data" / "retrain"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the small retraining project's data."""
    return Path(shutil.copytree(FIXTURE / "data", tmp_path / "data"))


def feedback_examples(path: Path) -> dict[str, list[str]]:
    """Return the examples of a written feedback.yml by label, as the YAML says them."""
    return {
        block["intent"]: [line[2:] for line in block["examples"].splitlines()]
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    }


def label(session: Session, agent: int, text: str, intent: str, category: str | None, **data: str) -> int:
    """Store a citizen's message and an agent's label of it; return the message id."""
    message = record_message(session, channel="web", sender="c1", direction="in", text=text, data=data)
    session.add(
        Label(message_id=message, intent=intent, category=category, agent_id=agent, created_at=utcnow())
    )
    return message


# --- import ---


def test_import_takes_json_lines_and_csv_and_masks_them(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        '{"text": "보안등이 나갔어요 010-1234-5678", "intent": "complaint", "category": "streetlight"}\n\n'
        '{"text": "고마워요", "intent": "thanks", "category": null}\n',
        encoding="utf-8",
    )
    table = tmp_path / "more.csv"
    table.write_text(
        "text,intent,category\n아동수당 얼마예요,welfare,child_family\n안녕,greet,\n", encoding="utf-8"
    )
    with sessions.begin() as session:
        assert import_file(session, path=jsonl) == 2
        assert import_file(session, path=table) == 2
    with sessions() as session:
        rows = session.scalars(select(ImportedLabel).order_by(ImportedLabel.id)).all()
        assert [(r.text, r.intent, r.category, r.source) for r in rows] == [
            ("보안등이 나갔어요 ***-****-****", "complaint", "streetlight", "more.jsonl"),
            ("고마워요", "thanks", None, "more.jsonl"),
            ("아동수당 얼마예요", "welfare", "child_family", "more.csv"),
            ("안녕", "greet", None, "more.csv"),
        ]


@pytest.mark.parametrize(
    ("name", "content", "problems"),
    [
        (
            "bad.jsonl",
            '{"text": "가로등", "intent": "complaint", "category": "streetlight"}\n'
            "{not json\n"
            '{"text": "가로등", "intent": "complaint", "category": "lamp"}\n'
            '{"text": "안녕", "intent": "greet", "category": null}\n',
            [":2: not JSON", ":3: category 'lamp' does not fit intent 'complaint'"],
        ),
        (
            "bad.csv",
            "text,intent,category\n가로등,complaint,streetlight\n,greet,\n안녕,hello,\n고마워요,thanks,senior\n",
            [":3: text must be a non-empty string", ":4: unknown intent 'hello'", ":5: category 'senior'"],
        ),
        ("header.csv", "sentence,label\n가로등,complaint\n", [":1: the header needs the columns"]),
        ("empty.jsonl", "\n\n", ["no examples"]),
    ],
)
def test_a_broken_file_names_every_bad_line_and_imports_nothing(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    name: str,
    content: str,
    problems: list[str],
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    for problem in problems:
        assert problem in err
    assert "nothing was imported" in err
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ImportedLabel)) == 0


# --- collecting and exporting ---


def test_export_masks_every_kind_of_personal_data(data_dir: Path, sessions: sessionmaker[Session]) -> None:
    said = {
        "연락은 010-1234-5678로 주세요 가로등이 나갔어요": "연락은 ***-****-****로 주세요 가로등이 나갔어요",
        "제 주민번호 900101-1234567인데 기초연금 되나요": "제 주민번호 ******-*******인데 기초연금 되나요",
        "카드 1234-5678-9012-3456으로 자동차세 내려고요": "카드 ****-****-****-****으로 자동차세 내려고요",
        "답장은 kim.minsu@example.com 으로 주세요 버스 노선이요": (
            "답장은 ***.*****@*******.*** 으로 주세요 버스 노선이요"
        ),
        "12가3456 차가 밤마다 시끄럽게 굴어요": "******* 차가 밤마다 시끄럽게 굴어요",
    }
    intents = [
        ("complaint", "streetlight"), ("welfare", "senior"), ("info", "local_tax"), ("info", "transport"),
        ("complaint", "noise"),
    ]  # fmt: skip
    with sessions.begin() as session:
        agent = add_agent(session, "김상담", "a-long-password")
        for text, (intent, category) in zip(said, intents):
            label(session, agent, text, intent, category)
    with sessions() as session:
        labelled, decisions = collect(session)
    feedback = data_dir / "nlu" / "feedback.yml"
    export = export_feedback(labelled, decisions, data_dir=data_dir, feedback=feedback)
    written = feedback.read_text(encoding="utf-8")
    for masked in said.values():
        assert masked in written
    for secret in ("010-1234-5678", "900101", "1234-5678-9012", "kim.minsu", "example.com", "12가3456"):
        assert secret not in written
    assert sorted(export.new.items()) == [
        ("complaint/noise", 1), ("complaint/streetlight", 1), ("info/local_tax", 1), ("info/transport", 1),
        ("welfare/senior", 1),
    ]  # fmt: skip


def test_duplicates_conflicts_decisions_and_what_is_already_trained(
    data_dir: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        kim = add_agent(session, "김상담", "a-long-password")
        park = add_agent(session, "박상담", "another-password")
        # The same words twice (spacing aside), both as streetlight: one example.
        label(session, kim, "보안등이 안 켜져요", "complaint", "streetlight")
        label(session, park, "보안등이  안 켜져요 ", "complaint", "streetlight")
        # Two agents disagree: left out until someone decides.
        label(session, kim, "밤마다 골목이 깜깜해요", "complaint", "streetlight")
        label(session, park, "밤마다 골목이 깜깜해요", "complaint", "noise")
        # One agent changed their mind: their latest label counts.
        changed = label(session, kim, "아이 수당 얼마예요", "info", "local_tax")
        session.add(
            Label(
                message_id=changed,
                intent="welfare",
                category="child_family",
                agent_id=kim,
                created_at=utcnow(),
            )
        )
        # Already in the training data with the same label, and with another one.
        label(session, kim, "가로등이 꺼졌어요", "complaint", "streetlight")
        label(session, kim, "감사합니다", "greet", None)
        # Decided: wins over both agents' labels.
        label(session, kim, "방범등 고장이요", "complaint", "noise")
        label(session, park, "방범등 고장이요", "complaint", "garbage")
        decide(session, text="방범등 고장이요", intent="complaint", category="streetlight")
        # A button's intent payload is not a citizen's words.
        label(session, kim, "예", "greet", None, payload="/greet")
    with sessions() as session:
        labelled, decisions = collect(session)
    feedback = data_dir / "nlu" / "feedback.yml"
    export = export_feedback(labelled, decisions, data_dir=data_dir, feedback=feedback)

    assert feedback_examples(feedback) == {
        "complaint/streetlight": ["방범등 고장이요", "보안등이 안 켜져요"],
        "welfare/child_family": ["아이 수당 얼마예요"],
    }
    assert export.duplicates == 2  # the second 보안등, the second label of the decided 방범등
    assert export.already_trained == 1
    assert export.conflicts == [
        ("감사합니다", ["greet (labelled)", "thanks (training data)"]),
        ("밤마다 골목이 깜깜해요", ["complaint/noise ×1", "complaint/streetlight ×1"]),
    ]
    # Exported again with nothing new: the same file, and nothing counts as new.
    again = export_feedback(labelled, decisions, data_dir=data_dir, feedback=feedback)
    assert not again.new and len(again.examples) == 3


def test_places_and_ticket_numbers_are_annotated_and_bracket_texts_left_out(
    data_dir: Path, tmp_path: Path
) -> None:
    labelled = [
        Labelled("쌍용동에 보안등이 나갔어요", "complaint", "streetlight", "test"),
        Labelled("2026-000123 민원 고마워요", "thanks", None, "test"),
        Labelled("[두정동](location) 가로등이요", "complaint", "streetlight", "test"),
    ]
    feedback = data_dir / "nlu" / "feedback.yml"
    export = export_feedback(labelled, {}, data_dir=data_dir, feedback=feedback)
    assert feedback_examples(feedback) == {
        "complaint/streetlight": ["[쌍용동](location)에 보안등이 나갔어요"],
        "thanks": ["[2026-000123](ticket_number) 민원 고마워요"],
    }
    assert export.unusable == ["[두정동](location) 가로등이요"]
    assert feedback.read_text(encoding="utf-8").startswith(retrain_labels.HEADER)


def test_no_labels_leave_no_feedback_file(data_dir: Path) -> None:
    feedback = data_dir / "nlu" / "feedback.yml"
    feedback.write_text("old", encoding="utf-8")
    export = export_feedback([], {}, data_dir=data_dir, feedback=feedback)
    assert not feedback.exists() and export.examples == []


def test_decide_refuses_a_label_outside_the_contract(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(DataError, match="unknown intent"):
        decide(session, text="가로등", intent="complaint", category="lamp")
