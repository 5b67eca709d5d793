"""The intent classifier: logistic regression over TF-IDF syllable n-grams and KoNLPy morphemes.

Syllable n-grams inside each word survive typos and missing spaces; lemmas and their bigrams survive
particles and endings. Other feature blocks (letter n-grams, syllables across spaces, vocabulary lists) can
be added with `features`; docs/benchmarks/nlu.md measures each. The category selector
(response_selector.py) and the scope detector (scope.py) share the base class. A model is saved as arrays
and JSON, not a pickle, so loading a model file runs no code from it.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    TOKENS_NAMES,
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.messages import squash
from bot.nlu.linear import LinearTfidfModel

__all__ = ["BLOCKS", "Lexicon", "TfidfClassifier", "TfidfIntentClassifier", "jamo", "morpheme_ngrams"]

logger = logging.getLogger(__name__)


def morpheme_ngrams(lemmas: list[str]) -> list[str]:
    """Return the lemmas and their bigrams (the analyser of the morpheme vectorizer)."""
    return lemmas + [f"{a} {b}" for a, b in zip(lemmas, lemmas[1:])]


def jamo(text: str) -> str:
    """Return TEXT with every Hangul syllable taken apart into its letters (가로등 → ᄀ ᅡ ᄅ ᅩ ᄃ ᅳ ᆼ).

    Misspellings change a letter, not a syllable (됬어요/됐어요, 엘레베이터/엘리베이터, 뻐스/버스): their
    letter n-grams still overlap with the right spelling's.
    """
    return unicodedata.normalize("NFD", text)


class Lexicon:
    """The analyser of the lexicon vectorizer: the labels whose terms a text contains (spaces ignored)."""

    def __init__(self, terms: dict[str, list[str]]) -> None:
        self.terms = {
            label: sorted({squash(t.lower()) for t in ts if len(squash(t)) >= 2})
            for label, ts in terms.items()
        }
        self._pairs = [(term, label) for label, ts in self.terms.items() for term in ts]

    def __call__(self, text: str) -> list[str]:
        squashed = squash(text)
        return sorted({label for term, label in self._pairs if term in squashed})

    @classmethod
    def read(cls, folder: Path) -> Lexicon:
        """Read FOLDER's files, one a label (complaint__streetlight.txt), one term a line."""
        return cls(
            {
                path.stem: [t for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
                for path in sorted(folder.glob("*.txt"))
            }
        )


@dataclass(frozen=True)
class Block:
    """One block of features: what it reads of a message and the vectorizer that cuts it into features."""

    read: Callable[[str, list[str]], Any]  # (lower-cased text, lemmas) → the vectorizer's document
    vectorizer: Callable[[dict[str, Any], Lexicon | None], TfidfVectorizer]  # (config, lexicon) → unfitted


# The feature blocks a classifier can use (its `features` setting), side by side in this order.
BLOCKS: dict[str, Block] = {
    # Syllable n-grams inside each word: survive particles, endings and most typos.
    "chars": Block(
        lambda text, _: text,
        lambda config, _: TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, config["max_ngram"]), sublinear_tf=True
        ),
    ),
    # KoNLPy lemmas and their bigrams: 꺼졌어요/꺼져서/꺼짐 are one feature.
    "morphemes": Block(
        lambda _, lemmas: lemmas,
        lambda config, _: TfidfVectorizer(analyzer=morpheme_ngrams, sublinear_tf=True),
    ),
    # Letter n-grams of the syllables' letters: misspellings that change one letter.
    "jamo": Block(
        lambda text, _: jamo(text),
        lambda config, _: TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    ),
    # Syllable n-grams across word boundaries, spaces removed: 띄어쓰기 either way (가로등고장, 가로 등).
    "nospace": Block(
        lambda text, _: squash(text),
        lambda config, _: TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True),
    ),
    # Which labels' vocabulary lists (data/vocabulary) the text names.
    "lexicon": Block(
        lambda text, _: text,
        lambda config, lexicon: TfidfVectorizer(analyzer=lexicon, sublinear_tf=True),
    ),
}


def _lowered(message: Message) -> tuple[str, list[str]]:
    """Return MESSAGE's text and lemmas, lower-cased."""
    lemmas = [token.lemma.lower() for token in message.get(TOKENS_NAMES[TEXT]) or []]
    return (message.get(TEXT) or "").lower(), lemmas


class TfidfClassifier(GraphComponent):
    """What the TF-IDF components share: feature blocks, training, saving and loading (not registered)."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Return the components this one needs before it in the pipeline."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the component's default config."""
        return {
            "C": 10.0, "max_ngram": 4, "max_iter": 3000, "ranking_length": LABEL_RANKING_LENGTH,
            "features": ["chars", "morphemes"],  # names in BLOCKS
            "vocabulary": None,  # the lexicon block's folder of term lists per label (data/vocabulary)
        }  # fmt: skip

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Create an untrained classifier."""
        self._config = {**self.get_default_config(), **config}
        unknown = [name for name in self._config["features"] if name not in BLOCKS]
        if unknown:
            raise ValueError(f"unknown feature blocks {unknown}; known: {sorted(BLOCKS)}")
        if "lexicon" in self._config["features"] and not self._config["vocabulary"]:
            raise ValueError("the lexicon block needs `vocabulary`, a folder of term lists")
        self._model_storage = model_storage
        self._resource = resource
        self._blocks: dict[str, TfidfVectorizer] = {}  # fitted, in the order of `features`
        self._lexicon: Lexicon | None = None
        self._clf: LogisticRegression | None = None  # while training
        self._model: LinearTfidfModel | None = None  # what classifies messages (bot/nlu/linear.py)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfClassifier:
        """Create an untrained classifier (see GraphComponent)."""
        return cls(config, model_storage, resource)

    def _new_blocks(self) -> dict[str, TfidfVectorizer]:
        config, lexicon = self._config, self._lexicon
        return {name: BLOCKS[name].vectorizer(config, lexicon) for name in config["features"]}

    def _documents(self, message: Message) -> list[Any]:
        """Return what each feature block reads of MESSAGE."""
        text, lemmas = _lowered(message)
        return [BLOCKS[name].read(text, lemmas) for name in self._blocks]

    def _features(self, messages: list[Message]) -> csr_matrix:
        columns = list(zip(*map(self._documents, messages)))
        return hstack([v.transform(c) for v, c in zip(self._blocks.values(), columns)]).tocsr()

    @staticmethod
    @abstractmethod
    def _label(example: Message) -> str | None:
        """Return what the component learns of a training EXAMPLE (None: not one to learn from)."""

    @abstractmethod
    def _set(self, message: Message, ranking: list[tuple[str, float]]) -> None:
        """Set what the component found in MESSAGE: RANKING is (label, probability), best first."""

    def _remember(self, training_data: TrainingData) -> None:
        """Keep what else the component needs of the training data (saved as JSON with the vocabularies)."""

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the feature blocks and the classifier on the examples that have a label."""
        self._remember(training_data)
        examples = [e for e in training_data.intent_examples if self._label(e) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: %s is not trained", self.__class__.__name__)
            return self._resource
        if "lexicon" in self._config["features"]:
            self._lexicon = Lexicon.read(Path(self._config["vocabulary"]))
        self._blocks = self._new_blocks()
        for vectorizer, column in zip(self._blocks.values(), zip(*map(self._documents, examples))):
            vectorizer.fit(column)
        self._clf = LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"])
        self._clf.fit(self._features(examples), [self._label(e) for e in examples])
        self._model = LinearTfidfModel(
            list(self._blocks.values()), self._clf.coef_, self._clf.intercept_, self._clf.classes_
        )
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Classify each message."""
        if self._model is None:
            return messages
        for message in messages:
            row = self._model.probabilities(self._documents(message))
            order = np.argsort(-row)[: self._config["ranking_length"] or None]
            self._set(message, [(self._model.classes[i], float(row[i])) for i in order])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Classify the training examples too, as later components may read the intent."""
        self.process(training_data.training_examples)
        return training_data

    def persist(self) -> None:
        """Save vocabularies, IDF weights and coefficients as JSON and NumPy arrays."""
        assert self._clf is not None
        with self._model_storage.write_to(self._resource) as directory:
            saved = {
                "blocks": {name: v.vocabulary_ for name, v in self._blocks.items()},
                "classes": [str(c) for c in self._clf.classes_],
                "extra": self._extra(),
                "lexicon": self._lexicon.terms if self._lexicon is not None else None,
            }
            text = json.dumps(saved, ensure_ascii=False)
            (directory / "vocabulary.json").write_text(text, encoding="utf-8")
            np.savez(
                directory / "weights.npz",
                coef=self._clf.coef_,
                intercept=self._clf.intercept_,
                **{f"{name}_idf": v.idf_ for name, v in self._blocks.items()},
            )

    def _extra(self) -> dict[str, Any]:
        """Return what _remember kept, to be saved."""
        return {}

    def _restore(self, extra: dict[str, Any]) -> None:
        """Take back what _extra saved."""

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfClassifier:
        """Load a trained classifier; an untrained one if nothing was saved."""
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
                with np.load(directory / "weights.npz") as weights:
                    arrays = {name: weights[name] for name in weights.files}
        except (ValueError, FileNotFoundError):
            logger.debug("nothing saved for %s; it stays untrained", resource.name)
            return component
        if "blocks" not in saved:  # saved before feature blocks (2026-12-05): chars, morphemes, lexicon
            saved, arrays = _blocks_of_old_format(saved, arrays)
        if saved.get("lexicon") is not None:
            component._lexicon = Lexicon(saved["lexicon"])
        for name, vocabulary in saved["blocks"].items():
            vectorizer = BLOCKS[name].vectorizer(component._config, component._lexicon)
            vectorizer.vocabulary = vocabulary
            vectorizer.vocabulary_ = vocabulary
            vectorizer.idf_ = arrays[f"{name}_idf"]
            component._blocks[name] = vectorizer
        component._model = LinearTfidfModel(
            list(component._blocks.values()), arrays["coef"], arrays["intercept"], saved["classes"]
        )
        component._restore(saved.get("extra") or {})
        return component


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(TfidfClassifier, IntentClassifier):
    """Classifies intents with logistic regression over TF-IDF syllable n-grams and morphemes."""

    @staticmethod
    def _label(example: Message) -> str | None:
        return example.get(INTENT)

    def _set(self, message: Message, ranking: list[tuple[str, float]]) -> None:
        """Set the message's intent and intent ranking."""
        ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
        message.set(INTENT, ranked[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)


def _blocks_of_old_format(
    saved: dict[str, Any], arrays: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return a model saved before feature blocks in the blocks' format, so that a rollback can load it."""
    blocks = {"chars": saved["chars"], "morphemes": saved["morphemes"]}
    renamed = {"chars_idf": arrays["char_idf"], "morphemes_idf": arrays["morpheme_idf"]}
    if "lexicon" in saved:
        blocks["lexicon"] = saved["lexicon_vocabulary"]
        renamed["lexicon_idf"] = arrays["lexicon_idf"]
    return {**saved, "blocks": blocks, "lexicon": saved.get("lexicon")}, {**arrays, **renamed}
