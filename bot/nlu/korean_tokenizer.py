"""A Rasa tokenizer that splits Korean text into KoNLPy morphemes with exact character offsets.

Usage (config.yml):

    pipeline:
    - name: bot.nlu.korean_tokenizer.KoreanTokenizer
      analyzer: okt      # okt | komoran | kkma | hannanum
      use_stems: true    # Okt only: lemma = dictionary form (꺼져 -> 꺼지다)

Each whitespace-separated word (어절) is analysed on its own (a very long one in pieces), and every
morpheme is aligned to the characters it came from, so `text[token.start:token.end] == token.text`
always holds. Analysers that return normalised forms (Komoran: 했 -> 하 + 았) get the span of the
characters they replaced, with the forms kept as the lemma. Characters an analyser drops still become
tokens: nothing in the text is lost.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

__all__ = ["ANALYZERS", "MAX_WORD", "KoreanTokenizer", "Morpheme", "get_analyzer", "split_morphemes"]

logger = logging.getLogger(__name__)

# KoNLPy class names by the names config.yml uses.
ANALYZERS = {"okt": "Okt", "komoran": "Komoran", "kkma": "Kkma", "hannanum": "Hannanum"}

# A word (어절) longer than this is analysed in pieces of this length, once, without stems. Okt's time grows
# faster than the length of a word: a 4,096-character run without spaces held a Rasa server for minutes, in
# pieces it takes seconds, and half of that without the second (stem) analysis, which a run that is no word
# does not need. Korean words are much shorter (the training data's longest is 20 characters).
MAX_WORD = 32
_RUN = re.compile(r"\S+")

# The analysers' JVM: KoNLPy's default (a heap of up to 1 GB, the parallel collector) took about 470 MB
# beside each Rasa server; a smaller heap and the serial collector take about 120 MB, as fast
# (docs/benchmarks/gateway.md). JAVA_TOOL_OPTIONS, when set, is the operator's choice and wins.
JVM_HEAP_MB = 384
JVM_OPTIONS = "-XX:+UseSerialGC -Xms16m -XX:ReservedCodeCacheSize=64m"


@dataclass(frozen=True)
class Morpheme:
    """One token: a span of the original text, the analyser's form of it, and its tag."""

    start: int
    end: int
    lemma: str
    pos: str


@functools.cache
def get_analyzer(name: str) -> Any:
    """Return the KoNLPy analyser NAME, starting the JVM on first use (once per process)."""
    if name not in ANALYZERS:
        raise ValueError(f"unknown analyzer {name!r}; choose one of {sorted(ANALYZERS)}")
    import jpype
    import konlpy.jvm
    import konlpy.tag  # imported here: importing them is cheap, but nothing starts at import time

    if not jpype.isJVMStarted():
        os.environ.setdefault("JAVA_TOOL_OPTIONS", JVM_OPTIONS)
        konlpy.jvm.init_jvm(max_heap_size=JVM_HEAP_MB)
    return getattr(konlpy.tag, ANALYZERS[name])()


def _visible(text: str) -> str:
    """Replace control, format and surrogate characters by spaces, keeping every offset."""
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch for ch in text
    )


@functools.cache
def _okt_processor() -> Any:
    """Return open-korean-text's Java entry point, the analyser under KoNLPy's Okt (JVM started by Okt)."""
    get_analyzer("okt")
    import jpype

    return jpype.JClass("org.openkoreantext.processor.OpenKoreanTextProcessorJava")


def _okt(word: str, stems: bool) -> list[tuple[str, str, str]]:
    """Return Okt's (surface form, lemma, tag) triples for WORD from one analysis.

    KoNLPy's Okt.pos(word) and Okt.pos(word, stem=True) each analyse the word and differ only in which of
    a morpheme's text and stem they print: asking for both analysed every word twice, and the analysis is
    most of the tokenizer's time. The morphemes, forms, stems and tags are the same as those two calls'.
    """
    processor = _okt_processor()
    triples = []
    for token in processor.tokensToJavaKoreanTokenList(processor.tokenize(word)):
        tag = str(token.getPos())
        if tag != "Space":  # as KoNLPy's Okt leaves them out
            form, stem = str(token.getText()), token.getStem()
            triples.append((form, str(stem) if stems and stem else form, tag))
    return triples


# Words analysed lately, with their analysis: a word's analysis depends on the word alone, and people use the
# same words again and again (가로등이, 어떻게, 해요). 20,000 words of two morphemes take about 16 MB.
WORDS_REMEMBERED = 20_000


@functools.lru_cache(maxsize=WORDS_REMEMBERED)
def _analysed(analyzer_name: str, word: str, stems: bool) -> tuple[tuple[str, str, str], ...]:
    if analyzer_name == "okt":
        return tuple(_okt(word, stems))
    return tuple((form, form, tag) for form, tag in get_analyzer(analyzer_name).pos(word))


def _analyse(analyzer_name: str, word: str, stems: bool) -> tuple[tuple[str, str, str], ...]:
    """Return (surface form, lemma, tag) triples for one word; () if the analyser fails on it (not kept)."""
    try:
        return _analysed(analyzer_name, word, stems)
    except Exception:  # a JVM-side failure on odd input must not cost the message
        logger.debug("analyser failed on a word of %d characters", len(word), exc_info=True)
        return ()


def _align(word: str, offset: int, analysed: tuple[tuple[str, str, str], ...]) -> list[Morpheme]:
    """Map morphemes of WORD (which starts at OFFSET in the text) to exact character spans."""
    out: list[Morpheme] = []
    cursor = 0
    pending: list[tuple[str, str]] = []  # (lemma, tag) of forms not found in the word yet

    def flush(until: int) -> None:
        nonlocal cursor
        if until > cursor:
            lemma = "".join(lemma for lemma, _ in pending) or word[cursor:until]
            tag = pending[0][1] if pending else "Unknown"
            out.append(Morpheme(offset + cursor, offset + until, lemma, tag))
            cursor = until
        pending.clear()

    for form, lemma, tag in analysed:
        form = form.strip()
        if not form:
            continue
        idx = word.find(form, cursor)
        if idx < 0:
            pending.append((lemma, tag))
            continue
        flush(idx)
        out.append(Morpheme(offset + idx, offset + idx + len(form), lemma, tag))
        cursor = idx + len(form)
    flush(len(word))
    return out


def split_morphemes(text: str, analyzer_name: str = "okt", use_stems: bool = True) -> list[Morpheme]:
    """Split TEXT into morphemes whose spans cover every non-space character exactly once."""
    get_analyzer(analyzer_name)  # an unknown name fails here, whatever the text
    stems = use_stems and analyzer_name == "okt"
    out: list[Morpheme] = []
    for match in _RUN.finditer(_visible(text)):
        run = match.group()
        whole = len(run) <= MAX_WORD
        for start in range(0, len(run), MAX_WORD):
            word = run[start : start + MAX_WORD]
            out.extend(_align(word, match.start() + start, _analyse(analyzer_name, word, stems and whole)))
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class KoreanTokenizer(Tokenizer):
    """Tokenizes Korean text into KoNLPy morphemes (surface text, lemma and part-of-speech tag)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the component's default config."""
        return {
            "analyzer": "okt",
            "use_stems": True,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Return the packages this component needs."""
        return ["konlpy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KoreanTokenizer:
        """Create the component; the analyser (and the JVM) start on the first message."""
        if config["analyzer"] not in ANALYZERS:
            raise ValueError(
                f"KoreanTokenizer: unknown analyzer {config['analyzer']!r}; choose one of {sorted(ANALYZERS)}"
            )
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Return the morpheme tokens of the message attribute."""
        text = message.get(attribute) or ""
        morphemes = split_morphemes(text, self._config["analyzer"], self._config["use_stems"])
        if not morphemes:
            # Featurizers expect at least one token, as with Rasa's WhitespaceTokenizer.
            return [Token(text, 0, len(text))]
        tokens = []
        for m in morphemes:
            token = Token(text[m.start : m.end], m.start, m.end, lemma=m.lemma)
            token.set(POS_TAG_KEY, m.pos)
            tokens.append(token)
        return self._apply_token_pattern(tokens)
