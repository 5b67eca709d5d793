"""The intent classifier: logistic regression over TF-IDF syllable n-grams and KoNLPy morphemes.

Syllable n-grams inside each word survive typos and missing spaces; lemmas and their bigrams survive
particles and endings. The category selector (response_selector.py) shares the base class. A model is
saved as arrays and JSON, not a pickle, so loading a model file runs no code from it.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
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

__all__ = ["Lexicon", "TfidfClassifier", "TfidfIntentClassifier", "morpheme_ngrams"]

logger = logging.getLogger(__name__)


def morpheme_ngrams(lemmas: list[str]) -> list[str]:
    """Return the lemmas and their bigrams (the analyser of the morpheme vectorizer)."""
    return lemmas + [f"{a} {b}" for a, b in zip(lemmas, lemmas[1:])]


def _inputs(message: Message) -> tuple[str, list[str], str]:
    """Return what each vectorizer reads of MESSAGE: its text (syllables, lexicon) and its lemmas."""
    lemmas = [token.lemma.lower() for token in message.get(TOKENS_NAMES[TEXT]) or []]
    text = (message.get(TEXT) or "").lower()
    return text, lemmas, text


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


class TfidfClassifier(GraphComponent):
    """What both components share: the vectorizers, training, saving and loading (not registered)."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Return the components this one needs before it in the pipeline."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the component's default config."""
        return {
            "C": 10.0, "max_ngram": 4, "max_iter": 3000, "ranking_length": LABEL_RANKING_LENGTH,
            "vocabulary": None,  # a folder of term lists per label (data/vocabulary): lexicon features
        }  # fmt: skip

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Create an untrained classifier."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._chars: TfidfVectorizer | None = None
        self._morphemes: TfidfVectorizer | None = None
        self._lexicon: TfidfVectorizer | None = None
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

    def _new_vectorizers(
        self, char_vocabulary: dict[str, int] | None = None, morpheme_vocabulary: dict[str, int] | None = None
    ) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, self._config["max_ngram"]), sublinear_tf=True,
            vocabulary=char_vocabulary,
        )  # fmt: skip
        morphemes = TfidfVectorizer(
            analyzer=morpheme_ngrams, sublinear_tf=True, vocabulary=morpheme_vocabulary
        )
        return chars, morphemes

    def _vectorizers(self) -> list[TfidfVectorizer]:
        assert self._chars is not None and self._morphemes is not None
        return [self._chars, self._morphemes] + ([self._lexicon] if self._lexicon is not None else [])

    def _columns(self, messages: list[Message]) -> list[tuple[Any, ...]]:
        """Return, per vectorizer, what it reads of each message."""
        return list(zip(*map(_inputs, messages)))[: len(self._vectorizers())]

    def _features(self, messages: list[Message]) -> csr_matrix:
        columns = self._columns(messages)
        return hstack([v.transform(c) for v, c in zip(self._vectorizers(), columns)]).tocsr()

    @staticmethod
    def _new_lexicon(
        terms: dict[str, list[str]], vocabulary: dict[str, int] | None = None
    ) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=Lexicon(terms), sublinear_tf=True, vocabulary=vocabulary)

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
        """Fit the vectorizers and the classifier on the examples that have a label."""
        self._remember(training_data)
        examples = [e for e in training_data.intent_examples if self._label(e) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: %s is not trained", self.__class__.__name__)
            return self._resource
        self._chars, self._morphemes = self._new_vectorizers()
        if self._config["vocabulary"]:
            self._lexicon = self._new_lexicon(Lexicon.read(Path(self._config["vocabulary"])).terms)
        for vectorizer, column in zip(self._vectorizers(), self._columns(examples)):
            vectorizer.fit(column)
        self._clf = LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"])
        self._clf.fit(self._features(examples), [self._label(e) for e in examples])
        self._model = LinearTfidfModel(
            self._vectorizers(), self._clf.coef_, self._clf.intercept_, self._clf.classes_
        )
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Classify each message."""
        if self._model is None:
            return messages
        for message in messages:
            row = self._model.probabilities(_inputs(message)[: len(self._vectorizers())])
            order = np.argsort(-row)[: self._config["ranking_length"] or None]
            self._set(message, [(self._model.classes[i], float(row[i])) for i in order])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Classify the training examples too, as later components may read the intent."""
        self.process(training_data.training_examples)
        return training_data

    def persist(self) -> None:
        """Save vocabularies, IDF weights and coefficients as JSON and NumPy arrays."""
        assert self._chars is not None and self._morphemes is not None and self._clf is not None
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "vocabulary.json").write_text(
                json.dumps(
                    {
                        "chars": self._chars.vocabulary_,
                        "morphemes": self._morphemes.vocabulary_,
                        "classes": [str(c) for c in self._clf.classes_],
                        "extra": self._extra(),
                        **(
                            {
                                "lexicon": self._lexicon.analyzer.terms,
                                "lexicon_vocabulary": self._lexicon.vocabulary_,
                            }
                            if self._lexicon is not None
                            else {}
                        ),
                    },
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
            np.savez(
                directory / "weights.npz",
                char_idf=self._chars.idf_, morpheme_idf=self._morphemes.idf_,
                coef=self._clf.coef_, intercept=self._clf.intercept_,
                **({"lexicon_idf": self._lexicon.idf_} if self._lexicon is not None else {}),
            )  # fmt: skip

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
        component._chars, component._morphemes = component._new_vectorizers(
            saved["chars"], saved["morphemes"]
        )
        component._chars.idf_ = arrays["char_idf"]
        component._morphemes.idf_ = arrays["morpheme_idf"]
        if "lexicon" in saved:
            component._lexicon = cls._new_lexicon(saved["lexicon"], saved["lexicon_vocabulary"])
            component._lexicon.idf_ = arrays["lexicon_idf"]
        component._model = LinearTfidfModel(
            component._vectorizers(), arrays["coef"], arrays["intercept"], saved["classes"]
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
