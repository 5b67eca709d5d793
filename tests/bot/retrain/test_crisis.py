"""The crisis detector learns agents' "위기 아님" only behind its recall gate (real training, ~20 s each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.handoff.crisis import read_jsonl
from bot.retrain.crisis import retrain_crisis
from bot.store import handoffs
from bot.store.agents import add_agent
from bot.store.models import CrisisLabel, utcnow

DATA = Path(__file__).resolve().parents[2] / "data"
GATE = DATA / "crisis.jsonl"


def judged(sessions: sessionmaker[Session], texts: list[str], *, crisis: bool = False) -> None:
    """Store agents' judgements of alarms raised by TEXTS."""
    with sessions.begin() as session:
        agent = add_agent(session, f"상담원{utcnow().timestamp()}", "a-long-password")
        for n, text in enumerate(texts):
            handoff, _ = handoffs.open_handoff(
                session, channel="web", sender=f"s{n}-{utcnow().timestamp()}", reason="crisis:hunger",
                priority="urgent",
            )  # fmt: skip
            session.add(
                CrisisLabel(
                    handoff_id=handoff.id, text=text, kind="hunger", crisis=crisis, agent_id=agent,
                    created_at=utcnow(),
                )
            )  # fmt: skip


# Training is the slow part, not the database (the console's tests store these labels on both).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_false_alarms_are_learnt_when_recall_holds_and_refused_when_it_would_drop(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    target = tmp_path / "false_alarms.jsonl"
    assert (
        retrain_crisis(sessions, target=target, sets=[GATE])
        .describe()
        .startswith("crisis detector: no new judgements")
    )

    ordinary = ["점심 굶었더니 배고파 죽겠네", "다이어트 한다고 저녁 건너뛰었어요"]
    judged(sessions, ordinary)
    outcome = retrain_crisis(sessions, target=target, sets=[GATE])
    assert outcome.promoted, outcome.describe()
    assert [row["text"] for row in read_jsonl(target)] == ordinary
    assert all(
        row == {"text": row["text"], "crisis": False, "kind": "negative"} for row in read_jsonl(target)
    )
    assert "learnt 2 judgements" in outcome.describe()

    # Agents calling real cries ordinary would make the detector deaf to them: refused, the file kept.
    real = [row["text"] for row in read_jsonl(GATE) if row["crisis"]]
    judged(sessions, real[:40])
    refused = retrain_crisis(sessions, target=target, sets=[GATE])
    assert not refused.promoted
    assert refused.reasons and refused.reasons[0].startswith("crisis.jsonl recall")
    assert "refused" in refused.describe()
    assert [row["text"] for row in read_jsonl(target)] == ordinary
