"""Compare the KoNLPy pipeline with baselines and alternatives on the held-out sets, in one run.

Usage:
    python -m bench.nlu --data tests/data/nlu_holdout.jsonl --entities tests/data/entity_holdout.yml
                            --out docs/benchmarks/nlu.md

Trains, on the same data/nlu:
(1) config.yml as it is: KoNLPy morphemes; intents by TfidfIntentClassifier; the category is a
    retrieval intent (TfidfResponseSelector); entities by DIET;
(2) the same with Rasa's ResponseSelector (TensorFlow) choosing the category, as before 2026-12-02;
(3) the same with DIET finding entities in every message, not only in likely complaints and ticket
    questions (bot/nlu/entities.py);
(4) the same with a CRFEntityExtractor in place of DIET (no TensorFlow at all);
(5) the same pipeline with Rasa's WhitespaceTokenizer;
(6) the same with DIET classifying intents, as Rasa's default pipeline does;
(7) the other way to model the category: flat labels (complaint__streetlight), no response selector;
(8) a TF-IDF character n-gram + logistic regression classifier over the full labels (scikit-learn).
Each is scored with bot.evaluate on the held-out sets; parse latency is timed per message, in process,
after one warm-up parse.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bot.evaluate import (
    EntityReport,
    Example,
    Prediction,
    Predictor,
    Report,
    Span,
    evaluate,
    evaluate_entities,
    load_entity_examples,
    load_examples,
    rasa_predictor,
)  # fmt: skip
from bot.nlu.taxonomy import CATEGORIES
from bot.settings import PROJECT_ROOT

__all__ = ["main"]


def _diet_intents_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG with DIET (at its default size) classifying intents instead of TF-IDF."""
    pipeline = []
    for component in config["pipeline"]:
        if component["name"].endswith("TfidfIntentClassifier"):
            continue
        if component["name"].endswith("DIETClassifier"):
            component = {
                "name": "DIETClassifier", "epochs": 40, "constrain_similarities": True,
                "random_seed": component.get("random_seed"),
            }  # fmt: skip
        pipeline.append(component)
    return {**config, "pipeline": pipeline}


def _rasa_selector_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG with Rasa's ResponseSelector (TensorFlow) choosing the category."""
    selector = {"name": "ResponseSelector", "epochs": 40, "constrain_similarities": True,
                "random_seed": 20261125}  # fmt: skip
    pipeline = [selector if c["name"].endswith("TfidfResponseSelector") else c for c in config["pipeline"]]
    return {**config, "pipeline": pipeline}


def _ungated_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG with DIET finding entities in every message, whatever its intent."""
    pipeline = [
        {**{k: v for k, v in c.items() if k not in ("intents", "min_confidence")}, "name": "DIETClassifier"}
        if c["name"].endswith("GatedDIETClassifier") else c
        for c in config["pipeline"]
    ]  # fmt: skip
    return {**config, "pipeline": pipeline}


def _crf_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG with a CRF finding the entities instead of DIET, and no featurizer only DIET used."""
    crf = {
        "name": "CRFEntityExtractor", "BILOU_flag": False, "max_iterations": 200,
        "features": [["low", "pos", "suffix1", "pattern"],
                     ["bias", "low", "pos", "prefix2", "suffix1", "suffix2", "digit", "pattern"],
                     ["low", "pos", "suffix1", "pattern"]],
    }  # fmt: skip
    pipeline = []
    for component in config["pipeline"]:
        if component["name"] in ("LexicalSyntacticFeaturizer", "CountVectorsFeaturizer"):
            continue
        if component["name"] == "RegexFeaturizer":
            component = {**component, "use_word_boundaries": False}  # 두정동에: a particle follows
        pipeline.append(crf if component["name"].endswith("DIETClassifier") else component)
    return {**config, "pipeline": pipeline}


def _whitespace_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG with the Korean tokenizer swapped for Rasa's WhitespaceTokenizer."""
    pipeline = []
    for component in config["pipeline"]:
        component = dict(component)
        if component["name"].endswith("KoreanTokenizer"):
            component = {"name": "WhitespaceTokenizer"}
        elif component["name"] == "LexicalSyntacticFeaturizer":
            # Whitespace tokens carry no part-of-speech tags: keep every other feature.
            component["features"] = [[f for f in window if f != "pos"] for window in component["features"]]
        pipeline.append(component)
    return {**config, "pipeline": pipeline}


FLAT = "__"  # complaint/streetlight becomes the plain intent complaint__streetlight


def _flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return CONFIG without the response selector: the intent classifier predicts the full label.

    DIET still looks only at likely complaints and ticket questions, whose labels are flat now too.
    """
    pipeline = []
    for component in config["pipeline"]:
        if component["name"].endswith("ResponseSelector"):
            continue
        if component.get("intents"):
            flat = [f"{i}{FLAT}{c}" for i in component["intents"] for c in CATEGORIES.get(i, ())]
            component = {
                **component,
                "intents": flat + [i for i in component["intents"] if i not in CATEGORIES],
            }
        pipeline.append(component)
    return {**config, "pipeline": pipeline}


def _flat_nlu(workdir: Path) -> Path:
    """Write data/nlu with every retrieval intent turned into a plain intent; return its folder."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    for example in data.training_examples:
        if example.get(INTENT_RESPONSE_KEY):
            example.set(INTENT, example.get(INTENT_RESPONSE_KEY).replace("/", FLAT))
            example.data.pop(INTENT_RESPONSE_KEY)
    folder = workdir / "flat-nlu"
    folder.mkdir()
    data.persist_nlu(str(folder / "nlu.yml"))
    return folder


def _flat_predictor(model_path: Path) -> Predictor:
    """Return rasa_predictor, reading the category from the flat intent label."""
    parse = rasa_predictor(model_path)

    async def predict(text: str) -> Prediction:
        flat = await parse(text)
        intent, _, category = flat.intent.partition(FLAT)
        return dataclasses.replace(flat, intent=intent, category=category or None)

    return predict


def _train_rasa(
    config: dict[str, Any], workdir: Path, name: str, nlu: Path = PROJECT_ROOT / "data" / "nlu"
) -> tuple[Path, float]:
    """Train an NLU model with CONFIG on NLU; return its path and the wall-clock training time."""
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    domain = ["--domain", "domain.yml"] if nlu == PROJECT_ROOT / "data" / "nlu" else []
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", str(config_path),
         *domain, "--nlu", str(nlu), "--out", str(workdir), "--fixed-model-name", name],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return workdir / f"{name}.tar.gz", time.perf_counter() - started


def _tfidf_predictor() -> tuple[Predictor, float]:
    """Train the TF-IDF + logistic regression baseline on data/nlu; return it and its training time."""
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    texts = [ex.get("text") for ex in data.intent_examples]
    labels = [ex.get_full_intent() for ex in data.intent_examples]
    started = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=3000),
    )
    model.fit(texts, labels)
    seconds = time.perf_counter() - started

    async def predict(text: str) -> Prediction:
        intent, _, category = str(model.predict([text])[0]).partition("/")
        return Prediction(intent, category or None)

    return predict, seconds


Scores = tuple[Report, EntityReport | None, float]  # intents and categories, entities, training seconds
Annotated = list[tuple[str, tuple[Span, ...]]]


async def _run(
    predict: Predictor, examples: list[Example], annotated: Annotated
) -> tuple[Report, EntityReport | None]:
    await predict("안녕하세요")  # warm-up: the first parse builds graphs and starts the JVM
    report = await evaluate(examples, predict)
    return report, (await evaluate_entities(annotated, predict) if annotated else None)


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _entity_cells(report: EntityReport | None) -> str:
    """Return the table cells of the entity scores: place found (overlap F1), place as the form reads it
    (recall of the phrase), ticket number (exact F1)."""
    if report is None:
        return "n/a | n/a | n/a"
    cells = []
    for entity, score in (
        ("location", "overlap_f1"),
        ("location", "joined_recall"),
        ("ticket_number", "exact_f1"),
    ):
        cells.append(f"{report.scores(entity)[score]:.3f}" if entity in report.counts else "n/a")
    return " | ".join(cells)


def _table(rows: list[tuple[str, Scores]]) -> str:
    lines = [
        "| pipeline | intent acc | intent F1 | category acc | category F1 | out-of-scope recall "
        "| place F1 | place phrase | ticket no. F1 | training s | parse p50 ms | parse p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (r, entities, train_s) in rows:
        oos = "n/a" if r.out_of_scope_recall is None else f"{r.out_of_scope_recall:.3f}"
        lines.append(
            f"| {name} | {r.intent_accuracy:.3f} | {r.intent_macro_f1:.3f} | {r.category_accuracy:.3f} "
            f"| {r.category_macro_f1:.3f} | {oos} | {_entity_cells(entities)} | {train_s:.0f} "
            f"| {_percentile(r.latencies_ms, 50):.1f} | {_percentile(r.latencies_ms, 95):.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled JSON Lines (the held-out set)")
    parser.add_argument("--entities", type=Path, help="annotated Rasa NLU YAML (the entity held-out set)")
    parser.add_argument("--out", type=Path, required=True, help="Markdown file to write")
    args = parser.parse_args(argv)

    examples = load_examples(args.data)
    annotated = load_entity_examples(args.entities) if args.entities else []
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    rows: list[tuple[str, Scores]] = []
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        workdir = Path(tmp)
        variants = [
            ("konlpy", "KoNLPy (config.yml)", config),
            ("selector", "same, Rasa's ResponseSelector chooses the category", _rasa_selector_config(config)),
            ("ungated", "same, DIET on every message", _ungated_config(config)),
            ("crf", "same, CRFEntityExtractor instead of DIET (no TensorFlow)", _crf_config(config)),
            ("whitespace", "same pipeline, WhitespaceTokenizer", _whitespace_config(config)),
            ("diet", "KoNLPy, DIET classifies intents (default size)", _diet_intents_config(config)),
        ]
        for name, title, variant in variants:
            print(f"training {name}…", flush=True)
            model_path, train_s = _train_rasa(variant, workdir, name)
            rows.append(
                (title, (*asyncio.run(_run(rasa_predictor(model_path), examples, annotated)), train_s))
            )
        print("training flat labels…", flush=True)
        model_path, train_s = _train_rasa(_flat_config(config), workdir, "flat", _flat_nlu(workdir))
        title = "KoNLPy, category as a flat intent label, no response selector"
        rows.append((title, (*asyncio.run(_run(_flat_predictor(model_path), examples, annotated)), train_s)))
    print("training tf-idf…", flush=True)
    predict, train_s = _tfidf_predictor()
    title = "tf-idf char 1-4 + logistic regression"
    rows.append((title, (*asyncio.run(_run(predict, examples, [])), train_s)))

    table = _table(rows)
    report = (
        "# NLU benchmark\n\n"
        f"`make bench-nlu` on {datetime.date.today().isoformat()}: {_machine()}.\n\n"
        f"Held-out set: `{args.data}` ({len(examples)} messages, written apart from the training data). "
        "Accuracy counts the best guess even where the bot would ask back (nlu_fallback); category "
        "scores are over the messages that have a category and need the intent right too. "
        f"Entities: `{args.entities}` ({len(annotated)} messages, also written apart from the training "
        "data): "
        "place F1 counts a found place that overlaps an annotated one; place phrase is how often the "
        "complaint form gets exactly the annotated place (from the first place found to the last); ticket "
        "numbers must match exactly. Training is "
        "wall-clock time of `rasa train nlu` (or scikit-learn's fit); parse latency is per message, in "
        "process, NLU only.\n\n"
        f"{table}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
