"""Crisis messages (danger to life, a person in crisis): emergency numbers and an urgent handoff.

It runs in the gateway before Rasa, so that it works whatever the model thinks and when Rasa is down. Two
parts, either enough: a classifier (syllable n-grams, trained at start-up on data/crisis/train.jsonl and,
as ordinary messages, the NLU examples but welfare/emergency), and explicit cries (죽고 싶어요…) that no
model may overrule and that alone judge short answers. The threshold favours recall; `make bench-crisis`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bot.messages import squash
from bot.nlu.linear import LinearTfidfModel
from bot.settings import PROJECT_ROOT

__all__ = [
    "FORM_THRESHOLD",
    "KINDS",
    "THRESHOLD",
    "TRAINING_DIR",
    "FALSE_ALARMS",
    "evaluate",
    "keep_current",
    "kind_of",
    "ordinary_examples",
    "reload_if_changed",
    "scorer_of",
    "train",
    "training_rows",
    "warm",
]

logger = logging.getLogger(__name__)
# Every JSON Lines file here trains the classifier: train.jsonl (crises and look-alikes), ordinary*.jsonl
# (answers to the form's questions and everyday talk with 죽, 그만, 못, 굶…) and false_alarms.jsonl (what
# agents marked as false alarms in the console, masked; written by python -m bot.retrain).
TRAINING_DIR = PROJECT_ROOT / "data" / "crisis"
FALSE_ALARMS = TRAINING_DIR / "false_alarms.jsonl"
KINDS = ("suicide", "self_harm", "abuse", "violence", "hunger", "emergency")
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
# Crisis when the classifier gives the "negative" class less than 1 - THRESHOLD. Chosen with make
# bench-crisis: recall on tests/data/crisis.jsonl and crisis_holdout.jsonl, false alarms on the ordinary
# messages of those, of crisis_context.jsonl and of the NLU held-out and development sets.
THRESHOLD = 0.3
# The same for an answer to the form's question: strong evidence only. With C=30 and the context data
# (data/crisis/context_more.jsonl), 0.6 keeps 96 % of the crises said inside the form for 0.4 % false alarms
# on crisis_context.jsonl; 0.5 alarms on 0.6 %; C=10 alarmed on 0.8-1.3 % at any threshold keeping 96 %.
# A false alarm no longer costs the complaint (the form waits, an agent ends it in one click).
FORM_THRESHOLD = 0.6
_NOT_ORDINARY = "welfare/emergency"
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
# Explicit cries for help, matched with the spaces taken out.
_CRIES = {
    "suicide": r"죽고싶|살기싫|살고싶지않|자살할|자살하고싶|자살하려|목숨을?끊|뛰어내릴|뛰어내리려"
    r"|그만살(래|고싶|려고|까)|유서를?(써놨|써놓|썼|남기|남겼)",
    "self_harm": r"손목.{0,3}(그|긋)|자해(했|하고|를했)",
    "abuse": r"(아빠|엄마|남편|아내|새아빠|새엄마|오빠|형|아들|삼촌)(가|이|한테)?.{0,6}"
    r"(때려요|때렸어요|때린다|패요)",
    "violence": r"살려(주세요|줘)|죽여버린다|죽이겠다|죽인다고|칼(을)?들고",
    "hunger": r"며칠(째|동안)?굶",
    "emergency": r"불이났|쓰러졌어요|숨을?안쉬|의식이없",
}
_CRY = {kind: re.compile(pattern) for kind, pattern in _CRIES.items()}
# A fallen tree or sign is a complaint, not an emergency: "쓰러졌어요" after a thing, and no person in the
# message, is not a cry (the classifier still judges the message).
_THING_FELL = re.compile(
    r"(나무|가로수|간판|전봇대|전신주|담장|담벼락|벽|기둥|표지판|안내판|신호등|가로등|현수막|화분|펜스|울타리|비계"
    r"|천막|자전거|오토바이|컨테이너|방음벽|정류장|차단기|철망|구조물).{0,10}쓰러"
)
_PERSON = re.compile(
    r"사람|할머니|할아버지|아이|애가|엄마|아빠|남편|아내|어르신|노인|친구|학생|아저씨|아주머니|환자|분이|분께서"
)
# Laughter turns a threat or a cry for help into a joke ("살려줘 월요일이 또 와 ㅋㅋ",
# "팀원이 죽여버린다고…ㅋㅋ"); it does not excuse words about one's own life, which people in crisis do
# soften with ㅋㅋ.
_LAUGHTER = re.compile(r"ㅋㅋ|ㅎㅎ|크크|키키|하하하")
_NOT_CRIES = {
    "emergency": lambda said: bool(_THING_FELL.search(said)) and not _PERSON.search(said),
    "violence": lambda said: bool(_LAUGHTER.search(said)),
}
# The classifier judges statements, not the short answers people give to the bot's questions ("사진 없어요",
# "아니요"), nor a key held down: below this much text, only the explicit cries count.
MIN_CHARACTERS, MIN_DISTINCT = 8, 5


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ordinary_examples() -> list[str]:
    """Return the NLU training examples that are ordinary messages, without entity markup."""
    examples = []
    for path in sorted(NLU_DATA.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in item or item["intent"] == _NOT_ORDINARY:
                continue
            for line in str(item.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    examples.append(_ENTITY.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:]))
    return examples


def training_rows(leave_out: str | None = None) -> list[dict[str, Any]]:
    """Return the labelled lines of every file in TRAINING_DIR (but the one named LEAVE_OUT)."""
    paths = [path for path in sorted(TRAINING_DIR.glob("*.jsonl")) if path.name != leave_out]
    return [row for path in paths for row in read_jsonl(path)]


def train(rows: list[dict[str, Any]]) -> Pipeline:
    """Fit the classifier on labelled ROWS ({text, kind}) and the ordinary NLU examples."""
    ordinary = ordinary_examples()
    model = make_pipeline(
        make_union(
            # Syllable n-grams with the spaces taken out (people leave them out or put them anywhere)…
            TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True, preprocessor=squash),
            # …and within words as written.
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        ),
        LogisticRegression(C=30, max_iter=3000, class_weight="balanced"),
    )
    model.fit([r["text"] for r in rows] + ordinary, [r["kind"] for r in rows] + ["negative"] * len(ordinary))
    return model


def scorer_of(model: Pipeline) -> LinearTfidfModel:
    """Return MODEL computed directly (bot/nlu/linear.py, 30 times faster): every message passes here."""
    union, regression = model.steps[0][1], model.steps[-1][1]
    vectorizers = [vectorizer for _, vectorizer in union.transformer_list]
    return LinearTfidfModel(vectorizers, regression.coef_, regression.intercept_, regression.classes_)


# The classifier serving now: "model", "scorer" and the "signature" of the files it learnt from.
_serving: dict[str, Any] = {}


def _signature() -> tuple[tuple[str, float, int], ...]:
    stats = [(p.name, p.stat()) for p in sorted(TRAINING_DIR.glob("*.jsonl"))]
    return tuple((name, stat.st_mtime, stat.st_size) for name, stat in stats)


def _load() -> dict[str, Any]:
    if not _serving:
        reload_if_changed()
    return _serving


def _classifier() -> Pipeline:
    return _load()["model"]  # type: ignore[no-any-return]


def _scorer() -> LinearTfidfModel:
    return _load()["scorer"]  # type: ignore[no-any-return]


def warm() -> None:
    """Train the classifier now (the gateway calls this at start-up, not while a citizen waits)."""
    _load()


def reload_if_changed() -> bool:
    """Train the classifier again if a file of TRAINING_DIR changed; return whether it did.

    python -m bot.retrain adds agents' false alarms there. The new classifier replaces the old only once
    trained: call it in a thread, it takes seconds.
    """
    signature = _signature()
    if _serving.get("signature") == signature:
        return False
    model = train(training_rows())
    _serving.update(model=model, scorer=scorer_of(model), signature=signature)
    return True


async def keep_current(every: float = 60.0) -> None:
    """Retrain whenever the training files change (a task of the gateway's lifespan)."""
    while True:
        await asyncio.sleep(every)
        try:
            if await asyncio.to_thread(reload_if_changed):
                logger.info("the crisis classifier learnt from changed training files")
        except Exception:  # noqa: BLE001 - a bad file must not stop detection: the old classifier serves on
            logger.exception("retraining the crisis classifier failed; the previous one serves on")


def kind_of(text: str, *, expects: str | None = None, scorer: LinearTfidfModel | None = None) -> str | None:
    """Return the kind of crisis TEXT signals (one of KINDS), or None.

    EXPECTS is the form question TEXT answers (a slot name), if any: there a crisis needs strong evidence,
    an explicit cry or the classifier's near certainty ("사진 못 찍었어요" answers the photo question).
    SCORER is another classifier to judge with (python -m bot.retrain compares two).
    """
    if not text or not text.strip():
        return None
    squashed = squash(text)
    for kind, cry in _CRY.items():
        if cry.search(squashed) and not (kind in _NOT_CRIES and _NOT_CRIES[kind](squashed)):
            return kind
    if len(squashed) < MIN_CHARACTERS or len(set(squashed)) < MIN_DISTINCT:
        return None
    scorer = scorer or _scorer()
    probabilities = dict(zip(scorer.classes, scorer.probabilities([text[:2000]] * 2), strict=True))
    if probabilities["negative"] > 1 - (FORM_THRESHOLD if expects else THRESHOLD):
        return None
    kind = max(KINDS, key=lambda k: probabilities.get(k, 0.0))
    # What excuses a cry excuses the classifier's reading of the same kind: a fallen tree is a complaint.
    return None if kind in _NOT_CRIES and _NOT_CRIES[kind](squashed) else kind


def evaluate(path: Path, scorer: LinearTfidfModel | None = None, *, context: bool = True) -> dict[str, Any]:
    """Return recall (overall and per kind) and the false-alarm rate on a labelled JSON Lines file.

    A line's optional "expects" is the form question it answers (kind_of's context; ignored unless CONTEXT).
    """
    rows = [
        r if "crisis" in r else {"text": r["text"], "crisis": False, "kind": "ordinary"}
        for r in read_jsonl(path)
        if f"{r.get('intent')}/{r.get('category')}" != _NOT_ORDINARY
    ]
    positives = [r for r in rows if r["crisis"]]
    negatives = [r for r in rows if not r["crisis"]]

    def alarm(row: dict[str, Any]) -> bool:
        expects = row.get("expects") if context else None
        return kind_of(row["text"], expects=expects, scorer=scorer) is not None

    missed = [r for r in positives if not alarm(r)]
    alarms = [r for r in negatives if alarm(r)]
    kinds = sorted({r["kind"] for r in positives})
    return {
        "file": str(path),
        "positives": len(positives),
        "negatives": len(negatives),
        "recall": round(1 - len(missed) / max(1, len(positives)), 3),
        "false_alarm_rate": round(len(alarms) / max(1, len(negatives)), 3),
        "recall_by_kind": {
            k: round(
                1 - sum(r["kind"] == k for r in missed) / max(1, sum(r["kind"] == k for r in positives)), 3
            )
            for k in kinds
        },
        "missed": [r["text"] for r in missed],
        "false_alarms": [r["text"] for r in alarms],
    }
