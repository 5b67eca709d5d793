"""Telegram with python-telegram-bot's own objects and a fake Bot API (no network)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram import MAX_CALLBACK
from bot.gateway import create_app
from bot.insights import satisfaction as satisfaction_module
from bot.profile import load_profile
from bot.settings import Settings, SettingsError, load_settings
from bot.store.agents import add_agent
from bot.store.broadcasts import add_card_set, broadcast_report, subscribe, subscribed
from bot.store.models import Survey
from bot.store.surveys import plan_survey
from tests.bot.channels.helpers import FakeRasa

PROFILE = load_profile("cheonan")
TOKEN = "123456:TEST-token-not-real"
PHOTO_BYTES = b"\xff\xd8\xff\xe0 a telegram photo"
SECRET = "telegram-webhook-secret-42"
CHAT = {"id": 777, "type": "private", "first_name": "민수"}
USER = {"id": 777, "is_bot": False, "first_name": "민수"}
BLOCKED_CHAT = "999"  # a citizen who blocked the bot: the Bot API answers 403


class FakeBotApi(BaseRequest):
    """Answers the Bot API methods the gateway calls, and records them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file's download (getFile's file_path)
            self.calls.append(("download", {"url": url}))
            return 200, PHOTO_BYTES
        name = url.rsplit("/", 1)[-1]
        params = json.loads(request_data.json_payload) if request_data else {}
        self.calls.append((name, params))
        if str(params.get("chat_id")) == BLOCKED_CHAT:
            refused = {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
            return 403, json.dumps(refused).encode()
        result: Any = True
        if name == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "천안시 민원 챗봇", "username": "minwon_bot"}
        elif name == "getFile":
            result = {"file_id": params["file_id"], "file_unique_id": "u", "file_path": "photos/file_1.jpg"}
        elif name in ("sendMessage", "sendPhoto"):
            result = {"message_id": len(self.calls), "date": 0, "chat": CHAT, "text": params.get("text", "")}
        elif name == "sendMediaGroup":
            media = json.loads(params["media"]) if isinstance(params["media"], str) else params["media"]
            result = [
                {"message_id": len(self.calls) * 100 + i, "date": 0, "chat": CHAT} for i in range(len(media))
            ]
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def sent(self) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == "sendMessage"]


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(database_url: str, api: FakeBotApi, rasa: FakeRasa) -> Iterator[TestClient]:
    import httpx

    application = (
        Application.builder().token(TOKEN).request(api).get_updates_request(api).updater(None).build()
    )
    settings = Settings(
        database_url=database_url,
        rasa_url="http://rasa.test",
        telegram_token=TOKEN,
        telegram_webhook_secret=SECRET,
        agent_cookie_secure=False,
    )
    app = create_app(settings, httpx.AsyncClient(transport=httpx.MockTransport(rasa)), application)
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, update: dict[str, Any], secret: str = SECRET) -> int:
    """POST UPDATE to the webhook and wait until the application has handled it."""
    response = client.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    application = client.app.state.telegram.application  # type: ignore[attr-defined]
    client.portal.call(application.update_queue.join)  # type: ignore[union-attr]
    return response.status_code


def text_update(update_id: int, text: str, **extra: Any) -> dict[str, Any]:
    message = {"message_id": update_id, "date": 1764050000, "chat": CHAT, "from": USER, "text": text, **extra}
    return {"update_id": update_id, "message": message}


def test_a_message_is_answered_in_the_same_chat_and_a_redelivered_update_once(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    assert post(client, text_update(1, "가로등이 꺼졌어요")) == 200
    assert post(client, text_update(1, "가로등이 꺼졌어요")) == 200  # Telegram delivered it again
    assert [r["message"] for r in rasa.received] == ["가로등이 꺼졌어요"]
    assert rasa.received[0]["sender"] == "telegram:777"
    assert api.sent() == [{"chat_id": "777", "text": "받았어요: 가로등이 꺼졌어요"}]


def test_buttons_become_an_inline_keyboard_and_a_long_payload_a_short_key(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    long_payload = "아주 긴 버튼 값 " * 10  # more than 64 bytes
    rasa.answers = lambda body: [
        {
            "text": "골라 주세요",
            "buttons": [
                {"title": "민원 신고", "payload": "민원 신고"},
                {"title": "긴 것", "payload": long_payload},
                {"title": "복지로", "url": "https://www.bokjiro.go.kr"},
                {"title": "보건복지상담 129", "phone": "129"},
            ],
        }
    ]
    post(client, text_update(2, "안녕하세요"))
    [sent] = api.sent()
    assert sent["text"] == "골라 주세요\n보건복지상담 129: 129"
    rows = json.loads(sent["reply_markup"])["inline_keyboard"]
    assert rows[0] == [{"text": "민원 신고", "callback_data": "민원 신고"}]
    key = rows[1][0]["callback_data"]
    assert len(key.encode()) <= MAX_CALLBACK and key != long_payload
    assert rows[2] == [{"text": "복지로", "url": "https://www.bokjiro.go.kr"}]

    # Pressing the long one sends its whole payload to Rasa.
    press = {
        "update_id": 3,
        "callback_query": {
            "id": "cb1", "from": USER, "chat_instance": "ci", "data": key,
            "message": {"message_id": 9, "date": 1764050000, "chat": CHAT, "text": "골라 주세요"},
        },
    }  # fmt: skip
    post(client, press)
    assert rasa.received[-1]["message"] == long_payload
    assert ("answerCallbackQuery", {"callback_query_id": "cb1"}) in api.calls


def test_a_place_and_a_photo_reach_rasa_as_metadata(client: TestClient, rasa: FakeRasa) -> None:
    place = {
        "update_id": 4,
        "message": {"message_id": 4, "date": 1764050000, "chat": CHAT, "from": USER,
                    "location": {"latitude": 36.8151, "longitude": 127.1139}},
    }  # fmt: skip
    post(client, place)
    assert rasa.received[-1]["metadata"]["location"] == {"latitude": 36.8151, "longitude": 127.1139}
    photo = {
        "update_id": 5,
        "message": {"message_id": 5, "date": 1764050000, "chat": CHAT, "from": USER, "caption": "여기예요",
                    "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                              {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960}]},
    }  # fmt: skip
    post(client, photo)
    assert rasa.received[-1]["message"] == "여기예요"
    assert rasa.received[-1]["metadata"]["image_url"] == "telegram:big"


def test_a_long_answer_is_split_within_telegrams_limit(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    rasa.answers = lambda body: [{"text": "민원 안내 문장이에요. " * 600}]  # about 7,800 characters
    post(client, text_update(6, "길게"))
    pieces = [m["text"] for m in api.sent()]
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)


def test_the_webhook_refuses_a_wrong_secret_and_what_is_not_an_update(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    assert post(client, text_update(7, "안녕"), secret="wrong") == 403
    response = client.post(
        "/telegram/webhook", content=b"{broken", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400
    huge = client.post(
        "/telegram/webhook",
        content=b" " * (1024 * 1024 + 1),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert huge.status_code == 413
    for not_an_update in ({"foo": 1}, [], "text"):
        assert post(client, not_an_update) == 400  # type: ignore[arg-type]
    # An update without a message (a member status change, say) is accepted and answered by nobody: a 4xx
    # would make Telegram deliver it again and again.
    assert post(client, {"update_id": 8, "my_chat_member": None}) == 200
    assert rasa.received == [] and api.sent() == []


def test_polling_mode_answers_what_get_updates_returns(database_url: str, rasa: FakeRasa) -> None:
    import time

    import httpx

    class PollingApi(FakeBotApi):
        """getUpdates returns one message once, then nothing."""

        def __init__(self) -> None:
            super().__init__()
            self.pending = [text_update(41, "기초연금 문의요")]

        async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **kw: Any):
            if url.endswith("/getUpdates"):
                self.calls.append(
                    ("getUpdates", json.loads(request_data.json_payload) if request_data else {})
                )
                updates, self.pending = self.pending, []
                return 200, json.dumps({"ok": True, "result": updates}).encode()
            return await super().do_request(url, method, request_data, **kw)

    api = PollingApi()
    application = Application.builder().token(TOKEN).request(api).get_updates_request(api).build()
    settings = Settings(database_url=database_url, rasa_url="http://rasa.test", telegram_token=TOKEN)
    app = create_app(settings, httpx.AsyncClient(transport=httpx.MockTransport(rasa)), application)
    with TestClient(app) as client:
        assert client.post("/telegram/webhook", json={}).status_code == 404  # no webhook in polling mode
        deadline = time.monotonic() + 10
        while not api.sent() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert api.sent() == [{"chat_id": "777", "text": "받았어요: 기초연금 문의요"}]
    assert any(name == "deleteWebhook" for name, _ in api.calls)  # polling first clears any webhook
    polls = [params for name, params in api.calls if name == "getUpdates"]
    assert polls and all(json.loads(p["allowed_updates"]) == ["message", "callback_query"] for p in polls)


def test_when_rasa_is_down_the_citizen_hears_so_with_the_phone_number(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    rasa.down = True
    post(client, text_update(9, "쓰레기 신고요"))
    [sent] = api.sent()
    assert "1422-36" in sent["text"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"update_id": 3009, "message": {"message_id": 1, "date": -Infinity, "chat": {}}}',
        b'{"update_id": 3010, "message": {"message_id": 1, "date": 1e400, '
        b'"chat": {"id": 1, "type": "private"}}}',
    ],
)
def test_an_update_with_an_impossible_date_is_a_400_not_a_500(client: TestClient, body: bytes) -> None:
    """Found by make fuzz (3 of 10,000): a date of -Infinity overflowed the update's parser."""
    response = client.post(
        "/telegram/webhook", content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400


def _message(update_id: int, chat: dict[str, Any] = CHAT, **fields: Any) -> dict[str, Any]:
    return {"message_id": update_id, "date": 1764050000, "chat": chat, "from": USER, **fields}


def test_edits_channel_posts_and_business_messages_are_not_turns(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    """A corrected text or a moving live location must not answer a form's question again."""
    post(
        client,
        {
            "update_id": 50,
            "message": _message(50, location={"latitude": 36.81, "longitude": 127.11, "live_period": 900}),
        },
    )
    assert rasa.received[-1]["metadata"]["location"] == {"latitude": 36.81, "longitude": 127.11}
    moved = _message(
        50, location={"latitude": 36.82, "longitude": 127.12, "live_period": 900}, edit_date=1764050060
    )
    channel = {"id": -100123, "type": "channel", "title": "천안시 소식"}
    for update in (
        {"update_id": 51, "edited_message": moved},
        {
            "update_id": 52,
            "edited_message": _message(49, text="쌍용동 아니고 불당동이요", edit_date=1764050070),
        },
        {
            "update_id": 53,
            "channel_post": {"message_id": 1, "date": 1764050000, "chat": channel, "text": "공지"},
        },
        {"update_id": 54, "business_message": _message(54, text="가로등이요", business_connection_id="bc1")},
    ):
        assert post(client, update) == 200
    assert len(rasa.received) == 1 and len(api.sent()) == 1


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("/start", "안녕하세요"), ("/start complaint", "민원 신고"),
     ("/start@minwon_bot status", "내 민원 조회"), ("/start no-such-link", "안녕하세요"),
     ("/status", "내 민원 조회"), ("/complaint", "민원 신고"), ("/cancel", "취소")],
)  # fmt: skip
def test_a_command_or_a_deep_link_is_a_press(
    client: TestClient, rasa: FakeRasa, typed: str, sent: str
) -> None:
    post(client, text_update(60, typed))
    assert [r["message"] for r in rasa.received] == [sent]


@pytest.mark.parametrize("typed", ["/help", "/settings", "/affirm"])
def test_help_and_unknown_commands_get_the_help_text_and_reach_no_one(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa, typed: str
) -> None:
    post(client, text_update(61, typed))
    assert rasa.received == []
    assert [m["text"] for m in api.sent()] == [PROFILE.messages["telegram_help"]]


def test_the_menu_is_set_at_start(client: TestClient, api: FakeBotApi) -> None:
    [params] = [params for name, params in api.calls if name == "setMyCommands"]
    commands = json.loads(params["commands"])  # (PTB sends nested values as JSON)
    assert [c["command"] for c in commands] == ["complaint", "status", "cancel", "news", "help"]
    assert all(1 <= len(c["description"]) <= 256 for c in commands)


def test_in_a_group_only_a_command_is_answered_with_a_pointer_to_a_private_chat(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    group = {"id": -4001, "type": "group", "title": "우리 동네 모임"}
    post(client, {"update_id": 70, "message": _message(70, group, text="가로등이 꺼졌어요 010-1234-5678")})
    post(client, {"update_id": 71, "message": _message(71, group, text="/start@minwon_bot")})
    assert rasa.received == []
    assert api.sent() == [{"chat_id": "-4001", "text": PROFILE.messages["telegram_private_only"]}]


def test_a_webhook_address_is_set_with_the_updates_that_are_turns(database_url: str, api: FakeBotApi) -> None:
    import httpx

    application = Application.builder().token(TOKEN).request(api).updater(None).build()
    settings = Settings(
        database_url=database_url, rasa_url="http://rasa.test", telegram_token=TOKEN,
        telegram_webhook_secret=SECRET, telegram_webhook_url="https://minwon.example.kr/telegram/webhook",
    )  # fmt: skip
    app = create_app(settings, httpx.AsyncClient(transport=httpx.MockTransport(FakeRasa())), application)
    with TestClient(app):
        pass
    [webhook] = [params for name, params in api.calls if name == "setWebhook"]
    assert webhook == {
        "url": "https://minwon.example.kr/telegram/webhook", "secret_token": SECRET,
        "allowed_updates": json.dumps(["message", "callback_query"]),
    }  # fmt: skip


@pytest.mark.parametrize(
    "secret", ["a-long-secret-with a space", "a-long-secret/with+slash", "ㅅ" * 30, "x" * 257]
)
def test_a_webhook_secret_telegram_would_refuse_stops_the_start(secret: str) -> None:
    with pytest.raises(SettingsError, match="A-Z, a-z, 0-9"):
        load_settings({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": secret}).check_channels()


def test_an_agent_sees_a_telegram_photo_through_the_gateway_without_the_token(
    client: TestClient, api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")
    client.post("/agent/api/login", json={"name": "김상담", "password": "a-long-password"})
    photo = client.get("/agent/api/photo", params={"ref": "telegram:big"})
    assert photo.status_code == 200 and photo.content == PHOTO_BYTES
    assert TOKEN not in photo.text and TOKEN not in str(photo.headers)
    assert ("getFile", {"file_id": "big"}) in api.calls


def test_a_satisfaction_question_is_pushed_and_its_press_kept_without_rasa(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa, sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """만족도 조사 on Telegram: the question comes at once (Telegram can push), a press is a score."""
    with sessions.begin() as session:
        plan_survey(session, kind="ticket", ref="2026-000005", channel="telegram", sender="777")
    noon = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=1), dt.time(3), tzinfo=dt.timezone.utc
    )  # KST 12
    monkeypatch.setattr(satisfaction_module, "utcnow", lambda: noon)
    assert client.portal.call(client.app.state.satisfaction.ask_due) == 1  # type: ignore[attr-defined]
    [question] = api.sent()
    assert question["text"].startswith("민원 2026-000005 처리는 만족스러우셨나요?")
    keyboard = json.loads(question["reply_markup"])["inline_keyboard"]
    three = [b for row in keyboard for b in row if b["text"] == "3점"]
    press = {
        "update_id": 40,
        "callback_query": {
            "id": "cb9", "from": USER, "chat_instance": "ci", "data": three[0]["callback_data"],
            "message": {"message_id": 9, "date": 1764050000, "chat": CHAT, "text": question["text"]},
        },
    }  # fmt: skip
    post(client, press)
    assert api.sent()[-1]["text"].startswith("3점, 고마워요.")
    assert rasa.received == []
    with sessions() as session:
        assert [s.score for s in session.scalars(select(Survey))] == [3]


NEWS_CARDS = [
    {"title": "천안주말사용설명서 12월 첫째 주", "text": "12월 3일(목) · 12월 첫 주말, 어디 갈지 고민이라면",
     "url": "https://blog.cheonan.example/posts/2323", "button": "자세히 보기",
     "image": "https://blog.cheonan.example/img/2323.jpg"},
    {"title": "2027 천안흥타령춤축제, 9월 22일 개막 확정",
     "text": "12월 2일(수) · " + "축제 소식이에요. " * 200,
     "url": "https://www.cheonan.example/press/5131", "button": "자세히 보기"},
]  # fmt: skip


def test_the_citys_posts_come_as_a_photo_with_its_caption_or_a_text_each_with_its_link(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    # Rasa's REST channel: the line, then the cards as a custom message of their own.
    rasa.answers = lambda body: [{"text": "천안시의 최근 소식이에요."}, {"custom": {"cards": NEWS_CARDS}}]
    assert post(client, text_update(40, "요즘 천안 소식")) == 200
    names = [name for name, _ in api.calls if name in ("sendMessage", "sendPhoto")]
    assert names == ["sendMessage", "sendPhoto", "sendMessage"]
    photo = next(params for name, params in api.calls if name == "sendPhoto")
    assert photo["photo"] == NEWS_CARDS[0]["image"]
    assert photo["caption"].startswith("천안주말사용설명서 12월 첫째 주\n12월 3일(목)")
    assert json.loads(photo["reply_markup"]) == {
        "inline_keyboard": [[{"text": "자세히 보기", "url": "https://blog.cheonan.example/posts/2323"}]]
    }
    text = api.sent()[-1]
    assert text["text"].startswith("2027 천안흥타령춤축제") and len(text["text"]) <= 4096
    assert (
        json.loads(text["reply_markup"])["inline_keyboard"][0][0]["url"]
        == "https://www.cheonan.example/press/5131"
    )


def test_a_broadcast_is_one_album_per_chat_and_who_blocked_the_bot_is_unsubscribed(
    client: TestClient, api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    guide = [
        {"image": f"https://blog.cheonan.example/img/{n}.jpg", "caption": f"주말 나들이 {n}\n가 볼 만한 곳",
         "link": f"https://blog.cheonan.example/posts/{n}"}
        for n in range(3)
    ]  # fmt: skip
    with sessions.begin() as session:
        add_card_set(
            session, topic="weekend_guide", title="천안주말사용설명서 12월 둘째 주", cards=guide, by="홍보팀"
        )
        for chat in ("777", BLOCKED_CHAT):
            subscribe(session, channel="telegram", sender=chat, topic="weekend_guide")
    broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
    assert client.portal.call(broadcaster.send, "weekend_guide")
    albums = [params for name, params in api.calls if name == "sendMediaGroup"]
    assert [a["chat_id"] for a in albums] == ["777", BLOCKED_CHAT]
    media = json.loads(albums[0]["media"]) if isinstance(albums[0]["media"], str) else albums[0]["media"]
    assert [m["media"] for m in media] == [g["image"] for g in guide]
    assert media[0]["caption"].startswith(
        "천안주말사용설명서 12월 둘째 주\n주말 나들이 0\n가 볼 만한 곳\nhttps://blog.cheonan.example/posts/0"
    )
    assert media[2]["caption"].endswith("https://blog.cheonan.example/posts/2")
    with sessions() as session:
        assert subscribed(session, channel="telegram", sender=BLOCKED_CHAT) == []
        assert subscribed(session, channel="telegram", sender="777") == ["weekend_guide"]
        [report] = broadcast_report(session)
    assert (report["sent"], report["blocked"]) == (1, 1)


def test_the_news_command_opens_the_subscription_menu_without_rasa(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    assert (
        post(client, text_update(60, "/news", entities=[{"type": "bot_command", "offset": 0, "length": 5}]))
        == 200
    )
    [menu] = api.sent()
    assert menu["text"].startswith("받아 보실 소식을 골라 주세요.")
    keyboard = json.loads(menu["reply_markup"])["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [
        "천안주말사용설명서 받기",
        "천안시 소식 받기",
        "우리 동네 소식 받기",
    ]
    assert rasa.received == []


def test_a_card_with_a_press_has_a_button_that_comes_back_as_that_press(
    client: TestClient, api: FakeBotApi, rasa: FakeRasa
) -> None:
    card = {
        "title": "공감 3명 · 교통·주차",
        "text": "버스 막차를 늦춰 주세요",
        "button": "공감",
        "payload": "live:vote:7",
    }
    rasa.answers = lambda body: [{"text": "다른 분들이 남긴 질문이에요."}, {"custom": {"cards": [card]}}]
    assert post(client, text_update(41, "질문 보여 주세요")) == 200
    [button] = json.loads(api.sent()[-1]["reply_markup"])["inline_keyboard"][0]
    assert button["text"] == "공감" and "url" not in button
    press = {
        "update_id": 9041,
        "callback_query": {
            "id": "cb-live", "chat_instance": "1", "data": button["callback_data"],
            "from": {"id": 41, "is_bot": False, "first_name": "시민"},
            "message": {
                "message_id": 2, "date": 1764900000, "chat": {"id": 41, "type": "private"}, "text": "x"
            },
        },
    }  # fmt: skip
    post(client, press)
    # No session takes questions: the press reaches the 소통라이브 answer, not Rasa.
    assert api.sent()[-1]["text"] == PROFILE.messages["live_none"]
    assert [r["message"] for r in rasa.received] == ["질문 보여 주세요"]
