"""The TF-IDF intent classifier and response selector: they learn, rank, and load back what they saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_classifier import TfidfIntentClassifier, jamo
from bot.nlu.korean_tokenizer import KoreanTokenizer
from bot.nlu.response_selector import TfidfResponseSelector
from bot.nlu.taxonomy import best_category, interpret, ranked_categories

DATA = Path(__file__).resolve().parents[2] / "data"
VOCABULARY = Path(__file__).resolve().parents[3] / "data" / "vocabulary"
EXAMPLES = {
    "complaint": [
        "가로등이 꺼졌어요",
        "도로에 구멍이 났어요",
        "쓰레기를 몰래 버렸어요",
        "불법주차 신고할게요",
    ],
    "welfare": [
        "기초연금 신청하고 싶어요",
        "아동수당 받을 수 있나요",
        "장애인 등록 어떻게 해요",
        "긴급복지 지원",
    ],
    "greet": ["안녕하세요", "하이", "안녕", "반가워요"],
}


def _tokenized(texts_by_intent: dict[str, list[str]]) -> TrainingData:
    """Training data of the texts; an intent named like complaint/streetlight is a retrieval intent."""
    tokenizer = KoreanTokenizer(KoreanTokenizer.get_default_config())
    messages = []
    for label, texts in texts_by_intent.items():
        intent, _, category = label.partition("/")
        keys = {"intent_response_key": label} if category else {}
        messages += [Message(data={"text": t, "intent": intent, **keys}) for t in texts]
    return tokenizer.process_training_data(TrainingData(messages))


def _message(text: str) -> Message:
    message = Message(data={"text": text})
    KoreanTokenizer(KoreanTokenizer.get_default_config()).process([message])
    return message


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_it_learns_and_ranks_every_intent(storage: LocalModelStorage) -> None:
    resource = Resource("tfidf")
    classifier = TfidfIntentClassifier.create({}, storage, resource, _context())
    classifier.train(_tokenized(EXAMPLES))
    [message] = classifier.process([_message("집 앞 가로등 고장났어요")])
    assert message.get("intent")["name"] == "complaint"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "complaint" and len(ranking) == 3
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


ALL_BLOCKS = {"features": ["chars", "morphemes", "jamo", "nospace", "lexicon"], "vocabulary": str(VOCABULARY)}


@pytest.mark.parametrize("config", [{}, ALL_BLOCKS], ids=["default", "every block"])
def test_a_loaded_model_gives_the_same_probabilities(
    storage: LocalModelStorage, config: dict[str, Any]
) -> None:
    resource = Resource("tfidf")
    trained = TfidfIntentClassifier.create(config, storage, resource, _context())
    trained.train(_tokenized(EXAMPLES))
    loaded = TfidfIntentClassifier.load(config, storage, resource, _context())
    for text in ["기초연금 문의", "안녕하세요~", "ㅋㅋㅋ", ""]:
        a = trained.process([_message(text)])[0].get("intent_ranking")
        b = loaded.process([_message(text)])[0].get("intent_ranking")
        assert [r["name"] for r in a] == [r["name"] for r in b]
        assert [r["confidence"] for r in a] == pytest.approx([r["confidence"] for r in b])


def test_untrained_it_leaves_messages_alone(storage: LocalModelStorage) -> None:
    classifier = TfidfIntentClassifier.load({}, storage, Resource("never-trained"), _context())
    [message] = classifier.process([_message("가로등")])
    assert message.get("intent") is None


@pytest.mark.parametrize("config", [{}, ALL_BLOCKS], ids=["default", "every block"])
@pytest.mark.parametrize("intents", [["complaint", "welfare", "greet"], ["complaint", "welfare"]])
def test_its_probabilities_are_sklearns(
    storage: LocalModelStorage, intents: list[str], config: dict[str, Any]
) -> None:
    """Messages are scored directly (bot/nlu/linear.py), not by predict_proba: the figures must agree.

    With two intents sklearn's model is a logistic, not a softmax: both are compared.
    """
    classifier = TfidfIntentClassifier.create(config, storage, Resource("tfidf"), _context())
    classifier.train(_tokenized({intent: EXAMPLES[intent] for intent in intents}))
    lines = (DATA / "nlu_holdout.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[::5] if line.strip()] + ["", "ㅋ", "Ａ가로등"]
    messages = [_message(text) for text in texts]
    assert classifier._clf is not None
    expected = classifier._clf.predict_proba(classifier._features(messages))
    for message, row in zip(classifier.process(messages), expected, strict=True):
        got = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
        assert got == pytest.approx(dict(zip(classifier._clf.classes_, row)), abs=1e-9)


CATEGORY_EXAMPLES = {
    "complaint/streetlight": ["가로등이 꺼졌어요", "보안등이 안 켜져요", "가로등 불이 깜빡거려요"],
    "complaint/road_damage": [
        "도로에 구멍이 났어요",
        "포트홀 때문에 타이어가 터졌어요",
        "보도블록이 깨졌어요",
    ],
    "welfare/senior": ["기초연금 신청하고 싶어요", "노인 일자리 있나요", "어르신 돌봄 서비스"],
    "greet": ["안녕하세요", "하이", "반가워요"],  # not a retrieval intent: the selector leaves it out
}


def test_the_selector_answers_in_the_shape_of_rasas_response_selector(storage: LocalModelStorage) -> None:
    """What the actions read (bot/nlu/taxonomy.py) and what Rasa's retrieval actions read (utter_action)."""
    data = _tokenized(CATEGORY_EXAMPLES)
    intents = TfidfIntentClassifier.create({}, storage, Resource("intents"), _context())
    intents.train(data)
    selector = TfidfResponseSelector.create({}, storage, Resource("selector"), _context())
    selector.train(data)
    [message] = selector.process(intents.process([_message("골목 가로등이 며칠째 꺼져 있어요")]))
    parsed = message.as_dict_nlu()
    assert parsed["response_selector"]["all_retrieval_intents"] == ["complaint", "welfare"]
    response = parsed["response_selector"]["default"]["response"]
    assert response["intent_response_key"] == "complaint/streetlight"
    assert response["utter_action"] == "utter_complaint/streetlight"
    ranking = parsed["response_selector"]["default"]["ranking"]
    assert [r["intent_response_key"] for r in ranking][0] == "complaint/streetlight"
    assert {r["intent_response_key"] for r in ranking} == {k for k in CATEGORY_EXAMPLES if "/" in k}
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert interpret(parsed)[:2] == ("complaint", "streetlight")
    assert best_category(parsed, "welfare") == "senior"
    assert [(i, c) for i, c, _ in ranked_categories(parsed)][0] == ("complaint", "streetlight")


def test_a_loaded_selector_ranks_the_same(storage: LocalModelStorage) -> None:
    resource = Resource("selector")
    trained = TfidfResponseSelector.create({}, storage, resource, _context())
    trained.train(_tokenized(CATEGORY_EXAMPLES))
    loaded = TfidfResponseSelector.load({}, storage, resource, _context())
    for text in ["기초연금 문의", "도로 파손", "ㅋㅋㅋ", ""]:
        a = trained.process([_message(text)])[0].get("response_selector")
        b = loaded.process([_message(text)])[0].get("response_selector")
        assert a["all_retrieval_intents"] == b["all_retrieval_intents"] == ["complaint", "welfare"]
        ranked_a, ranked_b = a["default"]["ranking"], b["default"]["ranking"]
        assert [r["intent_response_key"] for r in ranked_a] == [r["intent_response_key"] for r in ranked_b]
        assert [r["confidence"] for r in ranked_a] == pytest.approx([r["confidence"] for r in ranked_b])


def test_without_retrieval_intents_the_selector_stays_untrained(storage: LocalModelStorage) -> None:
    selector = TfidfResponseSelector.create({}, storage, Resource("selector"), _context())
    selector.train(_tokenized(EXAMPLES))  # no complaint/… labels
    [message] = selector.process([_message("가로등")])
    assert message.get("response_selector") is None


def test_letters_of_a_misspelling_overlap_with_the_right_spelling() -> None:
    assert jamo("됐") == "\u1103\u116b\u11bb" and jamo("abc 1") == "abc 1"

    def letters(text: str) -> set[str]:
        return {text[i : i + 3] for i in range(len(text) - 2)}

    # 됬 and 됐 share no syllable, but their final ㅆ and what follows is a letter 3-gram both have.
    assert "\u11bb\u110b\u1165" in letters(jamo("됬어요")) & letters(jamo("됐어요"))


def test_a_feature_block_that_does_not_exist_or_lacks_its_vocabulary_is_refused(
    storage: LocalModelStorage,
) -> None:
    with pytest.raises(ValueError, match="unknown feature blocks"):
        TfidfIntentClassifier.create({"features": ["chars", "letters"]}, storage, Resource("x"), _context())
    with pytest.raises(ValueError, match="vocabulary"):
        TfidfIntentClassifier.create({"features": ["lexicon"]}, storage, Resource("x"), _context())


def test_a_model_saved_before_feature_blocks_still_loads(storage: LocalModelStorage) -> None:
    """A rollback may serve a model trained before 2026-12-05: its arrays had other names."""
    resource = Resource("tfidf")
    trained = TfidfIntentClassifier.create({}, storage, resource, _context())
    trained.train(_tokenized(EXAMPLES))
    with storage.write_to(resource) as directory:
        saved = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        blocks = saved.pop("blocks")
        saved.pop("lexicon")
        (directory / "vocabulary.json").write_text(
            json.dumps({**saved, "chars": blocks["chars"], "morphemes": blocks["morphemes"]}),
            encoding="utf-8",
        )
        with np.load(directory / "weights.npz") as weights:
            arrays = {name: weights[name] for name in weights.files}
        np.savez(
            directory / "weights.npz", coef=arrays["coef"], intercept=arrays["intercept"],
            char_idf=arrays["chars_idf"], morpheme_idf=arrays["morphemes_idf"],
        )  # fmt: skip
    loaded = TfidfIntentClassifier.load({}, storage, resource, _context())
    a = trained.process([_message("가로등 고장")])[0].get("intent_ranking")
    b = loaded.process([_message("가로등 고장")])[0].get("intent_ranking")
    assert [r["confidence"] for r in a] == pytest.approx([r["confidence"] for r in b])


def test_the_scope_detector_sets_out_of_scope_and_keeps_the_services_in_proportion(
    storage: LocalModelStorage,
) -> None:
    from bot.nlu.scope import ScopeDetector, rescaled

    ranking = [
        {"name": "complaint", "confidence": 0.5},
        {"name": "out_of_scope", "confidence": 0.3},
        {"name": "info", "confidence": 0.2},
    ]
    ranked = rescaled(ranking, 0.86)
    assert [r["name"] for r in ranked] == ["out_of_scope", "complaint", "info"]
    assert [r["confidence"] for r in ranked] == pytest.approx([0.86, 0.1, 0.04])

    data = _tokenized(
        {**EXAMPLES, "out_of_scope": ["주식 추천해줘", "오늘 로또 번호", "비트코인 시세 어때", "연애 상담"]}
    )
    intents = TfidfIntentClassifier.create({}, storage, Resource("tfidf"), _context())
    intents.train(data)
    detector = ScopeDetector.create({}, storage, Resource("scope"), _context())
    detector.train(data)
    loaded = ScopeDetector.load({}, storage, Resource("scope"), _context())
    for text, expected in [("로또 번호 추천해줘", "out_of_scope"), ("가로등이 꺼졌어요", "complaint")]:
        [message] = loaded.process(intents.process([_message(text)]))
        assert message.get("intent")["name"] == expected, message.get("intent_ranking")
        assert sum(r["confidence"] for r in message.get("intent_ranking")) == pytest.approx(1.0)
    [untouched] = loaded.process([_message("가로등")])  # no intent ranking before it: nothing to rescale
    assert untouched.get("intent") is None
