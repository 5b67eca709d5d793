"""The Korean tokenizer: exact offsets, every analyser, and no input that makes it raise."""

from __future__ import annotations

import pytest
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.korean_tokenizer import MAX_WORD, KoreanTokenizer, get_analyzer, split_morphemes
from bot.nlu.korean_tokenizer import _analysed as analysed
from bot.nlu.korean_tokenizer import _okt as okt

HARD_TEXTS = [
    "집 앞 가로등이 며칠째 꺼져 있어요",
    "서북구쌍용동사거리 가로등이꺼졌어요ㅠㅠ",
    "가로등 가로등 가로등이 가로등을",  # repeated morphemes must get distinct offsets
    "  앞뒤   공백과\t탭\n줄바꿈  ",
    "2026-000123 민원 어떻게 됐나요?!",
    "CCTV 설치 요청 ASAP 😡😡 👨‍👩‍👧 🇰🇷",
    "中文 日本語 English 한글 섞어서 ㅋㅋㅋ",
    "제어\x00문자\x07와 \u200b폭 없는 공백",
    "...!!! ??? ~~~",
    "했어요 갔다가 왔습니다",
]


def _tokenizer(**config: object) -> KoreanTokenizer:
    return KoreanTokenizer({**KoreanTokenizer.get_default_config(), **config})


@pytest.mark.parametrize("analyzer", ["okt", "komoran"])
@pytest.mark.parametrize("text", HARD_TEXTS)
def test_tokens_point_exactly_into_the_text_and_cover_it(analyzer: str, text: str) -> None:
    tokens = _tokenizer(analyzer=analyzer).tokenize(Message(data={"text": text}), "text")
    assert tokens
    covered = set()
    previous_end = 0
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end, "tokens are in order and do not overlap"
        previous_end = token.end
        covered.update(range(token.start, token.end))
    visible = {i for i, ch in enumerate(text) if ch.isprintable() and not ch.isspace() and ch != "\u200b"}
    assert visible <= covered, "every visible character belongs to a token"


def test_a_word_seen_before_is_not_analysed_again_and_keeps_its_offsets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def recording(word: str, stems: bool) -> list[tuple[str, str, str]]:
        seen.append(word)
        return okt(word, stems)

    monkeypatch.setattr("bot.nlu.korean_tokenizer._okt", recording)
    analysed.cache_clear()
    text = "가로등이 꺼졌어요 가로등이 또 꺼졌어요"
    morphemes = split_morphemes(text)
    split_morphemes("우리 집 앞 가로등이 꺼졌어요")
    assert seen == ["가로등이", "꺼졌어요", "또", "우리", "집", "앞"]
    assert [m.start for m in morphemes if m.lemma == "가로등"] == [0, 10]
    assert [(m.start, m.lemma) for m in morphemes if m.pos == "Verb"] == [(5, "꺼지다"), (17, "꺼지다")]
    assert all(text[m.start : m.end] for m in morphemes)


def test_repeated_morphemes_get_their_own_offsets() -> None:
    text = "가로등 가로등 가로등이"
    tokens = _tokenizer().tokenize(Message(data={"text": text}), "text")
    assert [(t.text, t.start) for t in tokens if t.text == "가로등"] == [
        ("가로등", 0),
        ("가로등", 4),
        ("가로등", 8),
    ]


def test_particles_split_from_nouns_with_stems_and_tags() -> None:
    tokens = _tokenizer().tokenize(Message(data={"text": "도로가 꺼져 있어요"}), "text")
    assert [t.text for t in tokens] == ["도로", "가", "꺼져", "있어요"]
    assert tokens[2].lemma == "꺼지다"
    assert tokens[0].get(POS_TAG_KEY) == "Noun" and tokens[1].get(POS_TAG_KEY) == "Josa"


def test_normalised_forms_of_komoran_keep_the_span_of_the_surface() -> None:
    text = "고장났어요"
    morphemes = split_morphemes(text, "komoran")
    assert "".join(text[m.start : m.end] for m in morphemes) == text
    assert any(m.lemma != text[m.start : m.end] for m in morphemes), "Komoran normalises 났 to 나+았"


@pytest.mark.parametrize("text", ["", " ", "   \n\t ", "\x00\x01"])
def test_empty_and_blank_input_gives_one_empty_token_not_an_error(text: str) -> None:
    tokens = _tokenizer().tokenize(Message(data={"text": text}), "text")
    assert len(tokens) == 1 and tokens[0].start == 0


def test_ten_thousand_characters() -> None:
    text = ("가로등이 며칠째 꺼져 있어요 😡 " * 400)[:10_000]
    tokens = _tokenizer().tokenize(Message(data={"text": text}), "text")
    assert len(tokens) > 2000
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_a_long_run_without_spaces_reaches_the_analyser_in_short_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Okt's time grows faster than a word's length: 4,096 characters in one word held Rasa for minutes."""
    seen: list[str] = []
    stemmed: list[str] = []

    def recording(word: str, stems: bool) -> list[tuple[str, str, str]]:
        (stemmed if stems else seen).append(word)
        return okt(word, stems)

    monkeypatch.setattr("bot.nlu.korean_tokenizer._okt", recording)
    analysed.cache_clear()
    text = "집앞가로등이며칠째꺼져있어요" * 300 + " 빨리 고쳐 주세요"
    morphemes = split_morphemes(text)
    run = text.split()[0]
    assert seen and max(len(word) for word in seen) == MAX_WORD
    # Each piece once: the run repeats itself, and a piece seen before is not analysed again.
    assert sorted(seen) == sorted({run[i : i + MAX_WORD] for i in range(0, len(run), MAX_WORD)})
    assert stemmed == ["빨리", "고쳐", "주세요"]  # the pieces of the run without stems
    assert "".join(text[m.start : m.end] for m in morphemes) == "".join(text.split())
    assert [m.lemma for m in morphemes[-3:-1]] == ["빨리", "고치다"]  # the words after it, as ever
    assert {m.start for m in morphemes[:40]} >= {0, MAX_WORD, 2 * MAX_WORD}  # pieces start where they were


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_one_analysis_gives_what_konlpys_two_calls_give(text: str) -> None:
    """Okt.pos(word) and Okt.pos(word, stem=True) analysed each word twice; one analysis gives both."""
    analyzer = get_analyzer("okt")
    for word in text.split():
        forms, stems = analyzer.pos(word), analyzer.pos(word, stem=True)
        both = zip(forms, stems, strict=True)
        assert okt(word, True) == [(form, stem, tag) for (form, tag), (stem, _) in both]
        assert okt(word, False) == [(form, form, tag) for form, tag in forms]


def test_the_analyser_and_its_jvm_start_once_per_process() -> None:
    import jpype

    assert get_analyzer("okt") is get_analyzer("okt")
    assert jpype.isJVMStarted()


def test_an_unknown_analyser_is_refused_when_the_pipeline_is_built() -> None:
    with pytest.raises(ValueError, match="unknown analyzer"):
        KoreanTokenizer.create(
            {**KoreanTokenizer.get_default_config(), "analyzer": "mecab-ko"},
            None,
            None,
            None,  # type: ignore[arg-type]
        )
