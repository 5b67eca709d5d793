"""The complaint form: take what the first message said, ask for the rest, confirm, and file the ticket.

```mermaid
stateDiagram-v2
    [*] --> category: complaint (the first message may fill category, location, description)
    category --> location --> description --> photo --> consent
    consent --> phone: 동의
    consent --> confirm: 안 남길게요
    phone --> confirm
    confirm --> field: 고칠게요 / 아니요
    field --> category: 종류
    field --> location: 위치
    field --> description: 내용
    field --> photo: 사진
    field --> consent: 연락처
    confirm --> filed: 접수해 주세요 (action_submit_complaint)
    filed --> retry: database down
    retry --> filed: 다시 시도
    category --> cancelled: 취소 / 그만할래요 (at any step)
```

Only missing answers are asked. A phone number is taken only after the citizen agreed to its collection,
and never logged. Cancelling or filing clears every answer; a database outage keeps them for "다시 시도".
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import conversation_of, message_metadata, phrase, profile, sessions
from actions.places import MAX_PLACE, is_vague, place_phrase
from bot.messages import fill, squash
from bot.nlu.taxonomy import CATEGORIES, ranked_categories
from bot.privacy import mask_personal_data, normalise_phone
from bot.store.models import utcnow
from bot.store.tickets import DESCRIPTION_LIMIT, due_date, file_ticket, filed_just_now
from bot.tickets.duplicates import likely_duplicates

__all__ = [
    "FORM_SLOTS", "ActionAskComplaintCategory", "ActionAskComplaintConfirm", "ActionSubmitComplaint",
    "ValidateComplaintForm", "mask_phone", "wants_to_cancel", "wants_to_change",
]  # fmt: skip

logger = logging.getLogger(__name__)

FORM = "complaint_form"
FORM_SLOTS = (
    "complaint_category", "complaint_location", "complaint_location_detail", "complaint_district",
    "complaint_coordinates",
    "complaint_description", "complaint_photo", "complaint_contact_consent", "complaint_contact_phone",
    "complaint_field", "complaint_confirm",
)  # fmt: skip
YES, FIX, CANCEL = "yes", "fix", "cancel"
NO_PHOTO = "none"

# The answers the citizen can change at the summary, the words that name them, and what changing one clears.
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "complaint_category": (("종류", "분류", "유형"), ("complaint_category",)),
    "complaint_location": (
        ("위치", "장소", "주소", "어디"),
        ("complaint_location", "complaint_location_detail", "complaint_district", "complaint_coordinates"),
    ),
    "complaint_description": (("내용", "설명", "상황"), ("complaint_description",)),
    "complaint_photo": (("사진",), ("complaint_photo",)),
    "complaint_contact_consent": (
        ("연락처", "전화", "번호", "핸드폰", "휴대폰"),
        ("complaint_contact_consent", "complaint_contact_phone"),
    ),
}

# A short message that only says "stop" (the profile's stems); a longer one, or one read as a complaint, is an
# answer that may mention 그만 ("윗집에 그만 좀 하라고…").
_CANCEL_MAX_LENGTH = 18
_CHANGE_MAX_LENGTH = 20
_URL = re.compile(r"https?://\S+")
# How an answer to "어디인가요?" ends, not part of the place: "두정역 3번 출구 앞이요" is 두정역 3번 출구 앞.
_PLACE_ENDING = re.compile(r"\s*(?:이?에요|이?예요|이요|입니다|이고요|요)?[\s.!~…?]*$")
_NO_PHOTO = re.compile(r"없|안찍|못찍|생략|건너|패스|넘어|다음")
# No more detail about the place: "더 자세히는 몰라요", "그냥 거기예요", "이대로 해 주세요".
_NO_DETAIL = re.compile(r"몰라|모르|없어|없음|이대로|그대로|그냥|됐어|패스|넘어|다음")
# "위치 좀 고칠게요 불당동 … 사거리요": the change and the new answer in one message.
_CORRECTION = re.compile(
    r"^.*?(위치|장소|주소|내용|설명)\S*\s*(좀\s*)?(고칠게요|고칠께요|고쳐\S*|수정\S*|바꿀게요|바꿔\S*|변경\S*|틀렸\S*|잘못\S*)"
    r"[\s,.:~]*(?P<value>.+)$"
)
# Below this many letters a message at another question is a short answer, not a detail worth keeping.
_DETAIL_LETTERS = 8
_YES = re.compile(r"^(네|넵|예|응|ㅇㅇ|그래|좋아|맞아|접수|부탁|확인|오케이|ok)", re.IGNORECASE)
_FIX = re.compile(r"고칠|고쳐|수정|바꿀|바꿔|변경|틀렸|잘못|다시쓸|다시적")
_AGREE = re.compile(r"동의|번호남길|남길게요|남길래요|^(네|예|응|좋아요|그럴게요|그래요)[.!~]*$")
_AGREE_IN_WORDS = re.compile(r"동의")
_REFUSE = re.compile(r"안남|안할|싫|아니|비동의|동의안|동의하지|동의못|괜찮|없어|필요없|됐어")
# Below this confidence a category guessed from the first message is asked again with buttons.
_CATEGORY_CONFIDENCE = 0.5
_ANSWER_CONFIDENCE = 0.3
# Requests that step out of the form at any question (data/rules/complaint.yml answers them, then the form
# asks again); questions (any confidence above the fallback) step out only where the answer is not free
# text (a place or a description) and the message does not answer the question asked.
_INTERRUPTION_CONFIDENCE = 0.8
_INTERRUPTIONS = ("request_human", "check_ticket_status")
_QUESTIONS = ("welfare", "info")
_FREE_TEXT = ("complaint_location", "complaint_description")
# How much of a description the summary shows.
_PREVIEW = 80


def _short_command(text: str, intent: str, confidence: float, pattern: re.Pattern[str], longest: int) -> bool:
    # A complaint sentence that happens to contain the word is an answer, not a command.
    if _is_complaint(intent, confidence):
        return False
    squashed = squash(text)
    return len(squashed) <= longest and bool(pattern.search(squashed))


def _is_complaint(intent: str, confidence: float) -> bool:
    return intent == "complaint" and confidence >= _CATEGORY_CONFIDENCE


def wants_to_cancel(text: str, intent: str = "", confidence: float = 0.0) -> bool:
    """Return whether TEXT is a short "stop" (취소, 그만할래요, 신고 안 할래요) and not a complaint."""
    return not _is_complaint(intent, confidence) and profile().says_stop(text, longest=_CANCEL_MAX_LENGTH)


def wants_to_change(text: str, intent: str = "", confidence: float = 0.0) -> bool:
    """Return whether TEXT asks to change an earlier answer ("고칠게요", "위치가 틀렸어요")."""
    return _short_command(text, intent, confidence, _FIX, _CHANGE_MAX_LENGTH)


def mask_phone(phone: str) -> str:
    """Return PHONE with its middle part hidden: 010-****-5678."""
    head, _, rest = phone.partition("-")
    middle, _, tail = rest.partition("-")
    return f"{head}-{'*' * len(middle)}-{tail}" if tail else "*" * len(phone)


def _answered_elsewhere(tracker: Tracker) -> bool:
    """Return whether the form stepped aside for the latest message (it then came back to the form)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action_execution_rejected":
            return True
    return False


def _intent(tracker: Tracker) -> tuple[str, float]:
    intent = tracker.latest_message.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _complaint_category(tracker: Tracker, minimum: float) -> str | None:
    """Return the complaint category the response selector chose for the latest message, if sure enough."""
    ranked = ranked_categories(tracker.latest_message)
    if not ranked:
        return None
    intent, category, confidence = ranked[0]
    return category if intent == "complaint" and confidence >= minimum else None


_ASKED = "requested_slot"


class ValidateComplaintForm(FormValidationAction):
    """Fill the complaint form's slots from what the citizen said, and check them."""

    def name(self) -> str:
        """Return the action's name."""
        return "validate_complaint_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Fill and check the slots; tell the gateway which question the citizen's next message answers.

        The signal ({"expects": slot}) lets the gateway judge that answer in its context (crisis detection:
        "사진 못 찍었어요" answers the photo question) and ask the question again after an interruption.
        """
        events = await self._validate(dispatcher, tracker, domain)
        if any(e.get("event") == "action_execution_rejected" for e in events):
            return events  # a rule answers this message; the question comes again after it
        asked = next(
            (e["value"] for e in reversed(events) if e.get("event") == "slot" and e.get("name") == _ASKED),
            tracker.get_slot(_ASKED),
        )
        if asked:
            dispatcher.utter_message(json_message={"expects": asked})
        return events

    async def _validate(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Cancel, step aside for another request, change an earlier answer, or extract and validate."""
        text = tracker.latest_message.get("text") or ""
        if self._activating(tracker):
            # A new complaint starts from nothing, whatever an earlier unfinished one left.
            tracker.slots.update({slot: None for slot in FORM_SLOTS})
            return [SlotSet(slot, None) for slot in FORM_SLOTS] + await super().run(
                dispatcher, tracker, domain
            )
        if _answered_elsewhere(tracker):
            # Back after a rule answered this message: ask the same question again, read nothing.
            return [await self.next_requested_slot(dispatcher, tracker, domain)]
        intent, confidence = _intent(tracker)
        asked = tracker.get_slot("requested_slot")
        if wants_to_cancel(text, intent, confidence):
            return [SlotSet("complaint_confirm", CANCEL), SlotSet("requested_slot", None)]
        if (confidence >= _INTERRUPTION_CONFIDENCE and intent in _INTERRUPTIONS) or (
            intent in _QUESTIONS
            and asked not in _FREE_TEXT
            and not await self._answers(asked, dispatcher, tracker, domain)
        ):
            # Rules answer it (data/rules/complaint.yml), then the form asks its question again.
            return [ActionExecutionRejected(FORM)]
        corrected = await self._corrected(text, dispatcher, tracker, domain)
        if corrected:
            tracker.slots.update(corrected)
            events: list[EventType] = [SlotSet(k, v) for k, v in corrected.items()]
            return events + [await self.next_requested_slot(dispatcher, tracker, domain)]
        if asked not in _FREE_TEXT and wants_to_change(text, intent, confidence):
            field = _named_field(text)
            cleared = {slot: None for slot in _FIELDS[field][1]} if field else {}
            changes = {**cleared, "complaint_confirm": None if field else FIX, "complaint_field": None}
            tracker.slots.update(changes)
            events = [SlotSet(k, v) for k, v in changes.items()]
            return events + [await self.next_requested_slot(dispatcher, tracker, domain)]
        return await super().run(dispatcher, tracker, domain)

    async def _corrected(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Return the slots that a change with its new answer sets, or {}.

        "위치 좀 고칠게요 불당동 갤러리아 앞 사거리요" changes the place at once.
        """
        match = _CORRECTION.search(text.strip())
        field = _named_field(match.group(1)) if match else None
        if not match or field not in ("complaint_location", "complaint_description"):
            return {}
        value = _PLACE_ENDING.sub("", match.group("value")).strip() if field == "complaint_location" else ""
        value = value or match.group("value").strip()
        if _letters(value) < 2:
            return {}  # "위치 고칠게요": which field, but not yet the new answer (asked next)
        if field == "complaint_location":
            changed = await self.validate_complaint_location(value, dispatcher, tracker, domain)
            changed["complaint_location_detail"] = "-"  # the citizen has just said where
        else:
            changed = await self.validate_complaint_description(value, dispatcher, tracker, domain)
        if changed.get(field) is None:
            return {}
        return {**changed, "complaint_confirm": None, "complaint_field": None}

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Ask for the phone only after consent; after "고칠게요", first which answer to change."""
        skip = {"complaint_field"}
        if tracker.get_slot("complaint_contact_consent") is not True:
            skip.add("complaint_contact_phone")
        location = tracker.get_slot("complaint_location")
        vague = location and not tracker.get_slot("complaint_coordinates")
        if not (vague and is_vague(str(location), tracker.get_slot("complaint_district"))):
            skip.add("complaint_location_detail")  # asked only when the place is only a 동, or 골목
        slots = [slot for slot in domain_slots if slot not in skip]
        return ["complaint_field", *slots] if tracker.get_slot("complaint_confirm") == FIX else slots

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        """Always name the next question (rasa_sdk leaves it to Rasa when no slot is skipped)."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet("requested_slot", next((s for s in required if tracker.slots.get(s) is None), None))

    async def _answers(
        self, asked: str | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> bool:
        """Return whether the latest message answers the question ASKED ("사진 없어요" at the photo)."""
        extract = getattr(self, f"extract_{asked}", None) if asked else None
        if extract is None:
            return False
        return (await extract(dispatcher, tracker, domain)).get(asked) is not None

    @staticmethod
    def _activating(tracker: Tracker) -> bool:
        # Rasa marks the form active before validating at activation, so the sign is that nothing was asked.
        return tracker.get_slot("requested_slot") is None

    @staticmethod
    def _asked(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _telling(self, tracker: Tracker, slot: str) -> bool:
        """Return whether the message is a sentence about the problem that may fill SLOT too.

        That is the first message, or a sentence (not a button title) answering the category question.
        """
        if tracker.get_slot(slot) is not None:
            return False
        if self._activating(tracker):
            return True
        button = profile().category_of_label("complaint", self._text(tracker))
        return self._asked(tracker, "complaint_category") and not button

    @staticmethod
    def _text(tracker: Tracker) -> str:
        return str(tracker.latest_message.get("text") or "").strip()

    # Extraction: at activation only what the first message clearly says; later the answer to the question.

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the category from a pressed button, or from the response selector when it is sure."""
        text = self._text(tracker)
        city = profile()
        if self._activating(tracker):
            if city.names_intent("complaint", text):
                return {}
            category = _complaint_category(tracker, _CATEGORY_CONFIDENCE)
            return {"complaint_category": category} if category else {}
        if not self._asked(tracker, "complaint_category"):
            return {}
        category = city.category_of_label("complaint", text) or _complaint_category(
            tracker, _ANSWER_CONFIDENCE
        )
        return {"complaint_category": category}

    async def extract_complaint_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a shared location, the place phrase of the first message, or the answer to the question."""
        shared = message_metadata(tracker).get("location")
        if isinstance(shared, dict) and "latitude" in shared and "longitude" in shared:
            typed = tracker.get_slot("complaint_location")
            if typed and not shared.get("address") and not self._asked(tracker, "complaint_location"):
                # A place shared later (a photo's, say) adds its coordinates; the words typed stay.
                return {"complaint_location": typed}
            return {
                "complaint_location": str(shared.get("address") or phrase(domain, "utter_location_shared"))
            }
        text = str(tracker.latest_message.get("text") or "")
        if self._telling(tracker, "complaint_location"):
            place = _place_in(text, tracker)
            if place:
                return {"complaint_location": place}
        if not self._asked(tracker, "complaint_location"):
            return {}
        intent, confidence = _intent(tracker)
        if len(squash(text)) < 10 and intent in ("affirm", "deny") and confidence >= _CATEGORY_CONFIDENCE:
            # "네", "아니요", "몰라요": an answer, but not a place.
            return {"complaint_location": None}
        if len(text.strip()) > MAX_PLACE:
            # A paragraph answered "어디인가요?": its place phrase is the place, the whole of it the story.
            return {
                "complaint_location": _place_in(text, tracker) or text.strip()[:MAX_PLACE],
                **self._with_detail(tracker, text),
            }
        return {"complaint_location": text.strip()}

    async def extract_complaint_location_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the landmark asked for once (a vague place), or "-" when the citizen has none."""
        if not self._asked(tracker, "complaint_location_detail"):
            return {}
        text = self._text(tracker)
        if (_NO_DETAIL.search(squash(text)) and len(squash(text)) < 15) or _intent(tracker)[0] == "deny":
            return {"complaint_location_detail": "-"}
        return {"complaint_location_detail": text}

    def _with_detail(self, tracker: Tracker, text: str) -> dict[str, Any]:
        """Return the description with TEXT added (said at another question, it is kept, not lost)."""
        description = str(tracker.get_slot("complaint_description") or "")
        if squash(text) in squash(description):
            return {}
        return {"complaint_description": f"{description}\n{text.strip()}" if description else text.strip()}

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a sentence about the problem (the first message, a category answer) or the answer."""
        text = self._text(tracker)
        if self._telling(tracker, "complaint_description"):
            # "민원 신고" or "신고할게요" say nothing about the problem; a sentence about it does.
            if tracker.get_slot("complaint_category") and len(squash(text)) >= 10:
                return {"complaint_description": text}
        if not self._asked(tracker, "complaint_description"):
            return {}
        intent, confidence = _intent(tracker)
        if len(squash(text)) < 10 and intent in ("affirm", "deny") and confidence >= _CATEGORY_CONFIDENCE:
            # "네", "사진 없어요": an answer to another question, not what happened.
            return {"complaint_description": None}
        return {"complaint_description": text}

    async def extract_complaint_photo(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a photo sent at any point, or "none" when the citizen says there is none.

        Anything else said here ("봉투 열댓개쯤 쌓여있어요") joins the description; the question comes again.
        """
        image = message_metadata(tracker).get("image_url")
        if isinstance(image, str) and image:
            return {"complaint_photo": image}
        if not self._asked(tracker, "complaint_photo"):
            return {}
        text = self._text(tracker)
        url = _URL.search(text)
        if url:
            return {"complaint_photo": url.group(0)}
        said_no = _intent(tracker)[0] == "deny" and not _FIX.search(squash(text))
        if _NO_PHOTO.search(squash(text)) or said_no:
            return {"complaint_photo": NO_PHOTO}
        if _letters(text) >= _DETAIL_LETTERS:
            return {"complaint_photo": None, **self._with_detail(tracker, text)}
        return {"complaint_photo": None}

    async def extract_complaint_contact_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read yes or no to the consent question; a phone number alone is not consent."""
        if not self._asked(tracker, "complaint_contact_consent"):
            return {}
        text = squash(self._text(tracker))
        intent, _ = _intent(tracker)
        phone = normalise_phone(text)
        if phone and _AGREE_IN_WORDS.search(text) and not _REFUSE.search(text):
            # "010-1234-5678로 연락주세요 동의함": consent said in words, with the number.
            return {"complaint_contact_consent": True, "complaint_contact_phone": phone}
        if phone:
            return {"complaint_contact_consent": None}
        if _REFUSE.search(text) or intent == "deny":
            return {"complaint_contact_consent": False}
        # Consent is explicit: the word 동의, or a plain short yes to this question, not any affirmation.
        if _AGREE.search(text):
            return {"complaint_contact_consent": True}
        return {"complaint_contact_consent": None}

    async def extract_complaint_contact_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the phone number; a refusal withdraws the consent instead."""
        if not self._asked(tracker, "complaint_contact_phone"):
            return {}
        text = self._text(tracker)
        phone = normalise_phone(text)
        if phone:
            return {"complaint_contact_phone": phone}
        if _REFUSE.search(squash(text)) or _intent(tracker)[0] == "deny":
            return {"complaint_contact_consent": False, "complaint_contact_phone": None}
        return {"complaint_contact_phone": None}

    async def extract_complaint_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take which answer the citizen wants to change."""
        if not self._asked(tracker, "complaint_field"):
            return {}
        return {"complaint_field": _named_field(self._text(tracker))}

    async def extract_complaint_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read the answer to the summary: file it, or change something (naming it or not)."""
        if not self._asked(tracker, "complaint_confirm"):
            return {}
        text = squash(self._text(tracker))
        intent, _ = _intent(tracker)
        if _named_field(text) or _FIX.search(text) or intent == "deny":
            return {"complaint_confirm": FIX}
        if _YES.search(text) or intent == "affirm":
            return {"complaint_confirm": YES}
        return {"complaint_confirm": None}

    # Validation: normalise, and say what was wrong when the answer could not be used.

    async def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a known category; the ask action shows the buttons again otherwise."""
        if value not in CATEGORIES["complaint"]:
            return {"complaint_category": None}
        if self._activating(tracker):
            dispatcher.utter_message(response=f"utter_complaint/{value}")
        return {"complaint_category": value}

    async def validate_complaint_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep the place with its 읍·면·동 and any shared coordinates."""
        place = _PLACE_ENDING.sub("", str(value or "").strip()) or str(value or "").strip()
        if _letters(place) < 2:
            dispatcher.utter_message(response="utter_location_too_short")
            return {"complaint_location": None}
        shared = message_metadata(tracker).get("location")
        coordinates = None
        if isinstance(shared, dict):
            try:
                coordinates = [float(shared["latitude"]), float(shared["longitude"])]
            except (KeyError, TypeError, ValueError):
                coordinates = None
        return {
            "complaint_location": place[:MAX_PLACE],
            # A place that names no 읍·면·동 keeps the one known ("위치 고칠게요 갤러리아 앞 사거리요").
            "complaint_district": profile().district_of(place) or tracker.get_slot("complaint_district"),
            "complaint_coordinates": coordinates,
        }

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep the description up to the stored limit, personal data masked; say what was changed."""
        description = str(value or "").strip()
        if len(squash(description)) < 4:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"complaint_description": None}
        description, found = mask_personal_data(description)
        if found:
            dispatcher.utter_message(response="utter_description_masked")
        if len(description) > DESCRIPTION_LIMIT:
            dispatcher.utter_message(response="utter_description_cut", limit=f"{DESCRIPTION_LIMIT:,}")
            description = description[:DESCRIPTION_LIMIT]
        return {"complaint_description": description}

    async def validate_complaint_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a photo address or "none"."""
        if value is None:
            added = _letters(self._text(tracker)) >= _DETAIL_LETTERS
            dispatcher.utter_message(
                response="utter_added_to_description" if added else "utter_photo_not_understood"
            )
        return {"complaint_photo": value}

    async def validate_complaint_location_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Add the landmark to the place (asked once: "-" keeps the place as it was)."""
        detail = _PLACE_ENDING.sub("", str(value or "").strip())[:MAX_PLACE]
        if value is None or detail in ("", "-"):
            return {"complaint_location_detail": "-" if value is not None else None}
        location = str(tracker.get_slot("complaint_location") or "")
        place = detail if squash(location) in squash(detail) else f"{location} {detail}".strip()
        return {
            "complaint_location_detail": detail,
            "complaint_location": place,
            "complaint_district": profile().district_of(place) or tracker.get_slot("complaint_district"),
        }

    async def validate_complaint_contact_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep yes or no; ask for consent first when a number came before it."""
        if value is None:
            text = self._text(tracker)
            has_number = normalise_phone(text) is not None
            dispatcher.utter_message(
                response="utter_consent_needed_first" if has_number else "utter_consent_not_understood"
            )
        return {"complaint_contact_consent": value}

    async def validate_complaint_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a well-formed number."""
        if value is None and tracker.get_slot("complaint_contact_consent") is True:
            dispatcher.utter_message(response="utter_phone_invalid")
        return {"complaint_contact_phone": value}

    async def validate_complaint_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Clear the chosen answer so that the form asks for it again, then shows the summary again."""
        if value not in _FIELDS:
            return {"complaint_field": None}
        cleared = {slot: None for slot in _FIELDS[value][1]}
        return {**cleared, "complaint_field": None, "complaint_confirm": None}

    async def validate_complaint_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep yes; for a change that names its field ("위치가 틀렸어요"), clear that field at once."""
        field = _named_field(self._text(tracker))
        if value == FIX and field:
            return await self.validate_complaint_field(field, dispatcher, tracker, domain)
        return {"complaint_confirm": value if value in (YES, FIX) else None}


def _place_in(text: str, tracker: Tracker) -> str | None:
    """Return the place phrase TEXT names: from the NLU's first location, else from a 읍·면·동 name."""
    spans = [
        e for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "location" and "start" in e and "end" in e
    ]  # fmt: skip
    if spans:
        first = min(spans, key=lambda e: e["start"])
        return place_phrase(text, first["start"], first["end"]) or None
    district = profile().district_of(text)
    if district and district in text:
        at = text.index(district)
        return place_phrase(text, at, at + len(district))
    return district


def _letters(text: str) -> int:
    """Count the characters of TEXT that can name a place: syllables, letters, digits; not ㅠㅠ, emoji, ?!."""
    return sum(c.isalnum() and not ("\u1100" <= c <= "\u11ff" or "\u3130" <= c <= "\u318f") for c in text)


def _named_field(text: str) -> str | None:
    squashed = squash(text)
    return next((slot for slot, (words, _) in _FIELDS.items() if any(w in squashed for w in words)), None)


class ActionAskComplaintCategory(Action):
    """Ask which kind of problem it is, with the likeliest categories as buttons (at most ten)."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_ask_complaint_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send utter_which_category with buttons, best guess first and "other" last."""
        city = profile()
        ranked = [c for intent, c, _ in ranked_categories(tracker.latest_message) if intent == "complaint"]
        order = [c for c in ranked if c in CATEGORIES["complaint"]] + list(CATEGORIES["complaint"])
        chosen = [c for c in dict.fromkeys(order) if c != "other"][:9] + ["other"]
        buttons = [
            {"title": city.label("complaint", c), "payload": city.label("complaint", c)} for c in chosen
        ]
        dispatcher.utter_message(response="utter_which_category", buttons=buttons)
        return []


class ActionAskComplaintConfirm(Action):
    """Show every answer once, and ask whether to file it."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_ask_complaint_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send utter_complaint_summary filled with the form's answers."""
        description = str(tracker.get_slot("complaint_description") or "")
        if len(description) > _PREVIEW:
            description = description[:_PREVIEW] + "…"
        photo = tracker.get_slot("complaint_photo")
        phone = tracker.get_slot("complaint_contact_phone")
        consent = tracker.get_slot("complaint_contact_consent") is True
        dispatcher.utter_message(
            response="utter_complaint_summary",
            category=profile().label("complaint", tracker.get_slot("complaint_category")),
            location=tracker.get_slot("complaint_location") or "",
            description=description,
            photo=phrase(
                domain,
                "utter_summary_photo_none" if photo in (None, NO_PHOTO) else "utter_summary_photo_attached",
            ),
            contact=mask_phone(phone) if consent and phone else phrase(domain, "utter_summary_contact_none"),
        )
        return []


class ActionSubmitComplaint(Action):
    """File the confirmed complaint as a ticket, or say that it was cancelled."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """File it in one transaction; answer with the number only after the commit."""
        clear: list[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        confirm = tracker.get_slot("complaint_confirm")
        if confirm == CANCEL:
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return clear
        category = tracker.get_slot("complaint_category")
        if confirm != YES or category not in CATEGORIES["complaint"]:
            dispatcher.utter_message(response="utter_nothing_to_retry")
            return []
        city = profile()
        department = city.department("complaint", category)
        channel, sender = conversation_of(tracker)
        coordinates = tracker.get_slot("complaint_coordinates") or [None, None]
        photo = tracker.get_slot("complaint_photo")
        consent = tracker.get_slot("complaint_contact_consent") is True
        description = tracker.get_slot("complaint_description") or ""
        location = tracker.get_slot("complaint_location")
        try:
            with sessions().begin() as session:
                # Filed already, by a turn that was cut before Rasa kept it: the same ticket, not a second.
                ticket = filed_just_now(
                    session, channel=channel, sender=sender, category=category, description=description,
                    location_text=location,
                ) or file_ticket(
                    session, category=category, department=department.name, description=description,
                    channel=channel, sender=sender, note=phrase(domain, "utter_event_received"),
                    district=tracker.get_slot("complaint_district"),
                    location_text=location,
                    latitude=coordinates[0], longitude=coordinates[1],
                    photo_url=None if photo in (None, NO_PHOTO) else photo,
                    contact_phone=tracker.get_slot("complaint_contact_phone") if consent else None,
                    contact_consent=consent,
                    due_at=due_date(utcnow(), city.deadline_days(category), city.timezone),
                )  # fmt: skip
                # The same problem reported already (open, same 읍·면·동 and category, alike): offered below.
                similar = [other for other, _ in likely_duplicates(session, ticket, limit=1)]
        except SQLAlchemyError as exc:
            # The answers stay in the slots; "다시 시도" runs this action again.
            logger.error("filing a %s complaint failed: %s", category, type(exc).__name__)
            dispatcher.utter_message(response="utter_ticket_not_filed_database_down")
            return []
        logger.info("filed ticket %s (%s) for %s", ticket.number, category, channel)
        dispatcher.utter_message(
            response="utter_ticket_filed",
            number=ticket.number,
            department=department.name,
            phone=department.phone,
            due=city.local_date(ticket.due_at) if ticket.due_at else "-",
        )
        for first in similar:
            texts = city.messages
            dispatcher.utter_message(
                text=fill(
                    texts["duplicate_found"], number=first.number, status=city.status_labels[first.status]
                ),
                buttons=[
                    {"title": texts["duplicate_follow"], "payload": f"merge:{ticket.number}:{first.number}"},
                    {"title": texts["duplicate_keep"], "payload": f"merge:{ticket.number}:keep"},
                ],
            )
        return clear
