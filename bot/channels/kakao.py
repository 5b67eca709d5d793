"""KakaoTalk: the i 오픈빌더 skill protocol (../shared/CHANNELS.md).

Usage (the gateway mounts it at POST /kakao/skill when KAKAO_SKILL_SECRET is set):
    the bot builder sends the secret as the X-Kakao-Skill-Secret header or ?secret=…

A skill must answer within 5 seconds and cannot push. The bot's answer is awaited for KAKAO_BUDGET seconds;
if it is late, the skill answers with useCallback where the request has a callbackUrl and POSTs the answer
there, and otherwise says that it is on its way and keeps it in the outbox for the citizen's next message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.bodies import TooLarge, parse_json, read_body
from bot.delivery import Delivery
from bot.messages import Inbound, Outbound, is_standing, split_text
from bot.router import Router
from bot.shared import LocalShared, Shared

__all__ = ["KakaoError", "Kakao", "parse", "problems", "render"]

logger = logging.getLogger(__name__)

CHANNEL = "kakao"
MAX_OUTPUTS = 3
MAX_TEXT = 1000
MAX_QUICK_REPLIES = 10
MAX_LABEL = 14
MAX_CARD_BUTTONS = 3
MAX_CAROUSEL = 10
MAX_CARD_TITLE = 50
# A card's description: textCard 400 (128 in a carousel), basicCard 230 (76 in a carousel).
MAX_DESCRIPTION = {
    ("textCard", False): 400,
    ("textCard", True): 128,
    ("basicCard", False): 230,
    ("basicCard", True): 76,
}
MAX_USER_ID = 70
MAX_BODY = 64 * 1024
# A callbackUrl works once, within a minute of the request: an agent's answer may use it for this long.
AGENT_WAIT = 50.0
# Where a request's callbackUrl may point (a host or its subdomains; KAKAO_CALLBACK_HOSTS): Kakao's, so that a
# forged request cannot make the gateway post citizens' answers to any address (SSRF).
CALLBACK_HOSTS = ("kakao.com",)
# The form's photo question (actions/complaint_form.py): on Kakao it leads to the photo block.
PHOTO_SLOT = "complaint_photo"


class KakaoError(ValueError):
    """A request that is not a skill request."""


def parse(body: Any) -> Inbound:
    """Return the citizen's message in a skill request, or raise KakaoError."""
    if not isinstance(body, dict):
        raise KakaoError("not a JSON object")
    request = body.get("userRequest")
    if not isinstance(request, dict):
        raise KakaoError("userRequest is missing")
    user = request.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        raise KakaoError("userRequest.user.id is missing or too long")
    utterance = request.get("utterance")
    if not isinstance(utterance, str):
        raise KakaoError("userRequest.utterance is missing")
    action: dict[str, Any] = body["action"] if isinstance(body.get("action"), dict) else {}
    extra: dict[str, Any] = action["clientExtra"] if isinstance(action.get("clientExtra"), dict) else {}
    payload = extra.get("payload") if isinstance(extra.get("payload"), str) else None
    return Inbound(
        channel=CHANNEL,
        user_id=user_id,
        text=utterance,
        payload=payload,
        image_url=_image(action),
    )


def _image(action: dict[str, Any]) -> str | None:
    """Return the first photo address that the 이미지 보안전송 plugin put in the action's parameters.

    A block parameter of entity sys.plugin.secureimage holds a JSON string whose secureUrls is a string
    "List(url1, url2)" (http or https addresses that expire; ../shared/CHANNELS.md).
    """
    params = action.get("params")
    for value in (params if isinstance(params, dict) else {}).values():
        if isinstance(value, str) and "secureUrls" in value:
            try:
                urls = parse_json(value).get("secureUrls", "")
            except (ValueError, AttributeError):
                continue
            match = re.search(r"https?://[^\s,)\]]+", str(urls))
            if match:
                return match.group(0)
    return None


def _open(user_id: str) -> str:
    """The shared key of a citizen's open callback."""
    return f"kakao:callback:{user_id}"


def _first(user_id: str) -> str:
    """The shared key of what the open callback sends first (the queue's answer it was held back from)."""
    return f"kakao:callback-first:{user_id}"


def _label(title: str, limit: int = MAX_LABEL) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _card_button(button: dict[str, str]) -> dict[str, str]:
    if "url" in button:
        return {"label": _label(button["title"]), "action": "webLink", "webLinkUrl": button["url"]}
    if "operator" in button:  # Kakao's own 상담직원 연결 (상담톡 or 1:1 채팅)
        return {"label": _label(button["title"]), "action": "operator"}
    return {"label": _label(button["title"]), "action": "phone", "phoneNumber": button["phone"]}


def _quick_reply(button: dict[str, str]) -> dict[str, Any]:
    """A quick reply: the citizen's side of the chat shows its title; its payload comes back as
    action.clientExtra (a press, not typed text)."""
    title = button["title"]
    extra = {"payload": button["payload"]}
    return {"label": _label(title), "action": "message", "messageText": title, "extra": extra}


def _posts(cards: list[dict[str, str]]) -> dict[str, Any] | None:
    """The city's posts (bot/news) as one output: a basicCard each where every one has a picture (Kakao
    requires one), else a textCard each; more than one in a carousel the citizen swipes."""
    cards = cards[:MAX_CAROUSEL]
    if not cards:
        return None
    kind = "basicCard" if all(c.get("image") for c in cards) else "textCard"
    limit = MAX_DESCRIPTION[(kind, len(cards) > 1)]
    items = []
    for card in cards:
        item: dict[str, Any] = {
            "title": _label(card["title"], MAX_CARD_TITLE),
            "description": _label(card.get("text", ""), limit),
            "buttons": (
                [_card_button({"title": card.get("button") or card["title"], "url": card["url"]})]
                if card.get("url")
                else [
                    _quick_reply({"title": card.get("button") or card["title"], "payload": card["payload"]})
                ]
                if card.get("payload")
                else []
            ),
        }
        if kind == "basicCard":
            item["thumbnail"] = {"imageUrl": card["image"]}
        items.append(item)
    return {kind: items[0]} if len(items) == 1 else {"carousel": {"type": kind, "items": items}}


def render(
    messages: list[Outbound], *, links_title: str, more: str, photo: str = "photo", photo_block: str = "",
    photo_button: str = "사진 보내기",
) -> tuple[dict[str, Any], list[Outbound]]:  # fmt: skip
    """Return a skill response within Kakao's limits, and what did not fit (for the outbox).

    Texts become simpleText outputs split at 1,000 characters; the city's posts a card each (one output,
    under the texts); link, phone and operator buttons become text cards (three buttons each: one under the
    other when they fit, else a carousel); quick replies go last, at most ten. At most three outputs: text
    that does not fit is kept for the next message and the
    citizen is told. When the form asks for a photo and PHOTO_BLOCK (the builder's block with the 이미지
    보안전송 plugin) is set, a first quick reply PHOTO_BUTTON leads there: Kakao takes photos only so.
    """
    text = "\n\n".join(m.signed() for m in messages if m.text)
    images = [m.image for m in messages if m.image]
    links = list(
        {
            json.dumps(b, sort_keys=True): b
            for m in messages
            for b in m.buttons
            if "url" in b or "phone" in b or "operator" in b
        }.values()
    )
    replies = [b for m in messages for b in m.buttons if "payload" in b]
    posts = _posts([c for m in messages for c in m.cards])

    outputs: list[dict[str, Any]] = [
        {"simpleImage": {"imageUrl": url, "altText": photo}} for url in images[:1]
    ]
    after = [posts] if posts else []  # under the texts that introduce them
    cards = [
        links[i : i + MAX_CARD_BUTTONS]
        for i in range(0, min(len(links), MAX_CAROUSEL * MAX_CARD_BUTTONS), MAX_CARD_BUTTONS)
    ]
    pieces = split_text(text, MAX_TEXT)
    # Cards one under the other where they fit (every number in sight: a crisis block's four), else one
    # carousel that the citizen swipes.
    stacked = len(outputs) + len(after) + len(pieces) + len(cards) <= MAX_OUTPUTS
    room = MAX_OUTPUTS - len(outputs) - len(after) - (len(cards) if stacked else 1 if cards else 0)
    overflow: list[Outbound] = []
    if len(pieces) > room:
        overflow = [Outbound(text="\n\n".join(pieces[room - 1 :]))]
        pieces = pieces[: room - 1] + [more]
    outputs += [{"simpleText": {"text": piece}} for piece in pieces] + after
    if cards:
        items = [
            {"title": _label(links_title, MAX_CARD_TITLE), "buttons": [_card_button(b) for b in c]}
            for c in cards
        ]
        if stacked:
            outputs += [{"textCard": item} for item in items]
        else:
            outputs.append({"carousel": {"type": "textCard", "items": items}})
    if not outputs:
        outputs = [{"simpleText": {"text": more}}]
    template: dict[str, Any] = {"outputs": outputs}
    seen: set[str] = set()
    quick: list[dict[str, Any]] = []
    if photo_block and any(m.expects == PHOTO_SLOT for m in messages):
        quick.append({"label": _label(photo_button), "action": "block", "blockId": photo_block})
    for button in replies:
        if button["payload"] not in seen and len(quick) < MAX_QUICK_REPLIES:
            seen.add(button["payload"])
            quick.append(_quick_reply(button))
    if quick:
        template["quickReplies"] = quick
    return {"version": "2.0", "template": template}, overflow


def problems(response: dict[str, Any]) -> list[str]:
    """Return every way RESPONSE breaks Kakao's limits (empty when it is valid)."""
    found = []
    if response.get("version") != "2.0":
        found.append("version is not 2.0")
    if response.get("useCallback"):
        return found
    template = response.get("template") or {}
    outputs = template.get("outputs") or []
    if not 1 <= len(outputs) <= MAX_OUTPUTS:
        found.append(f"{len(outputs)} outputs")
    for output in outputs:
        if "simpleText" in output and not 0 < len(output["simpleText"]["text"]) <= MAX_TEXT:
            found.append(f"simpleText of {len(output['simpleText']['text'])} characters")
        carousel = output.get("carousel", {})
        kind = carousel.get("type") or next((k for k in ("textCard", "basicCard") if k in output), "")
        cards = carousel.get("items") or ([output[kind]] if kind in output else [])
        if len(cards) > MAX_CAROUSEL:
            found.append(f"carousel of {len(cards)}")
        for card in cards:
            if len(card.get("title", "")) > MAX_CARD_TITLE or len(card.get("buttons", [])) > MAX_CARD_BUTTONS:
                found.append("card title or buttons over the limit")
            if len(card.get("description", "")) > MAX_DESCRIPTION[(kind, bool(carousel))]:
                found.append(f"{kind} description of {len(card['description'])} characters")
            if kind == "basicCard" and not card.get("thumbnail", {}).get("imageUrl"):
                found.append("basicCard without a thumbnail")
            found += [
                f"button label {b['label']!r}" for b in card.get("buttons", []) if len(b["label"]) > MAX_LABEL
            ]
    replies = template.get("quickReplies") or []
    if len(replies) > MAX_QUICK_REPLIES:
        found.append(f"{len(replies)} quick replies")
    found += [f"quick reply label {r['label']!r}" for r in replies if len(r["label"]) > MAX_LABEL]
    return found


class Kakao:
    """The skill endpoint: authentication, the 5-second budget, callbacks and the outbox."""

    def __init__(
        self,
        router: Router,
        delivery: Delivery,
        client: httpx.AsyncClient,
        texts: dict[str, str],
        *,
        secret: str,
        bot_ids: tuple[str, ...],
        budget: float,
        callback_hosts: tuple[str, ...] = CALLBACK_HOSTS,
        photo_block: str = "",
        agent_wait: float = AGENT_WAIT,
        shared: Shared | None = None,
    ) -> None:  # fmt: skip
        """PHOTO_BLOCK: the builder's block with the photo plugin; AGENT_WAIT: how long (seconds) a message
        to an agent keeps its callback open for the agent's answer (Kakao's callbackUrl lasts a minute)."""
        self.router, self.delivery, self.client = router, delivery, client
        self.secret, self.bot_ids, self.budget = secret, bot_ids, budget
        self.texts, self.callback_hosts, self.photo_block = texts, callback_hosts, photo_block
        self.agent_wait = agent_wait
        self.warned_query_secret = False
        # Citizens whose message to an agent was answered with useCallback: their callback URL while it is
        # open, in the state the gateways share (the agent's answer may come through another gateway).
        self.shared = shared or LocalShared()
        self.closing: set[asyncio.Task[None]] = set()
        delivery.register(CHANNEL, self.push, always=False)

    async def _render(self, messages: list[Outbound], user_id: str) -> dict[str, Any]:
        response, overflow = render(
            messages,
            links_title=self.texts["kakao_links"],
            more=self.texts["kakao_more"],
            photo=self.texts["photo"],
            photo_block=self.photo_block,
            photo_button=self.texts["kakao_photo_button"],
        )
        if overflow:
            await self._keep(user_id, overflow)
        return response

    async def _keep(self, user_id: str, messages: list[Outbound]) -> None:
        """Keep MESSAGES in the outbox for the citizen's next message."""
        await self.delivery.keep(CHANNEL, user_id, messages)

    async def _waiting(self, user_id: str) -> list[Outbound]:
        """Take what waits in the outbox; its quick replies are stale by now (but for the standing ones, a
        satisfaction question's), its links are not."""
        return [
            dataclasses.replace(
                m, buttons=tuple(b for b in m.buttons if "payload" not in b or is_standing(b))
            )
            for m in await self.delivery.take(CHANNEL, user_id)
        ]

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("x-kakao-skill-secret") or ""
        if not given and request.query_params.get("secret"):
            given = request.query_params["secret"]
            if not self.warned_query_secret:  # once: the address with the secret is in every proxy's log
                logger.warning(
                    "the Kakao skill secret came as ?secret= in the address, which proxies log: "
                    "set it as the X-Kakao-Skill-Secret header in the bot builder instead"
                )
                self.warned_query_secret = True
        return hmac.compare_digest(given.encode(), self.secret.encode())

    def _callback_allowed(self, url: Any) -> bool:
        """Whether URL is an https address on Kakao's callback hosts (the gateway posts answers to it)."""
        if not isinstance(url, str):
            return False
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        on_kakao = any(host == h or host.endswith("." + h) for h in self.callback_hosts)
        return parts.scheme == "https" and on_kakao and parts.port in (None, 443) and not parts.username

    async def handle(self, request: Request) -> Response:
        """Answer one skill request."""
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, status_code=HTTPStatus.UNAUTHORIZED)
        try:
            try:
                raw = await read_body(request, MAX_BODY)
            except TooLarge as exc:
                raise KakaoError("body too large") from exc
            body = parse_json(raw)
            message = parse(body)
        except (KakaoError, ValueError) as exc:
            logger.warning("refused a Kakao request: %s", exc)
            return JSONResponse(await self._render([Outbound(text=self.texts["bad_request"])], ""))
        bot_id = (body.get("bot") or {}).get("id") if isinstance(body.get("bot"), dict) else None
        if self.bot_ids and bot_id not in self.bot_ids:
            return JSONResponse({"error": "unknown bot"}, status_code=HTTPStatus.FORBIDDEN)

        # A queue's answer still held for the agent's first word goes now: the citizen has moved on.
        held = await self._held(message.user_id)
        if held:
            url = await self.shared.take(_open(message.user_id))
            if url is None or not await self._post(url, held, message.user_id):
                await self._keep(message.user_id, held)
        # Answers that were late last time come first.
        earlier = await self._waiting(message.user_id)
        task = asyncio.create_task(self.router.route(message))
        try:
            answers = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except asyncio.TimeoutError:
            return await self._late(task, message, earlier, body["userRequest"].get("callbackUrl"))
        except Exception as exc:  # a Kakao user never gets an HTTP error
            logger.exception("routing a Kakao message failed: %s", type(exc).__name__)
            answers = [Outbound(text=self.texts["rasa_down"])]
        callback = body["userRequest"].get("callbackUrl")
        can_wait = self._callback_allowed(callback) and await self.shared.get(_open(message.user_id)) is None
        if not earlier + answers:  # a message to an agent, who has not answered yet
            if can_wait:
                return await self._await_agent(message.user_id, callback)
            answers = [Outbound(text=self.texts["handoff_sent"])]
        elif can_wait and not earlier and any(a.holds for a in answers):
            # The chat was just queued in working hours: this request's callback waits for the agent's first
            # word (the claim's greeting), sent after the queue's answer within the minute.
            return await self._await_agent(message.user_id, callback, first=answers)
        return JSONResponse(await self._render(earlier + answers, message.user_id))

    async def _await_agent(self, user_id: str, url: str, first: list[Outbound] | None = None) -> Response:
        """Answer a message to an agent with useCallback: an answer within AGENT_WAIT goes to the citizen at
        once (push); else the callback is closed with a word that the answer comes with the next message.

        FIRST (the queue's answer to the request that queued the chat) is sent through the callback before
        the agent's answer, or alone (with its buttons) if none comes, or as soon as the citizen writes."""
        if first:  # (before the callback opens: a claim at that moment finds both)
            held = json.dumps([m.as_json() for m in first])
            await self.shared.put(_first(user_id), held, self.agent_wait + 5)
        await self.shared.put(_open(user_id), url, self.agent_wait + 5)
        closing = asyncio.create_task(self._close_callback(user_id, url))
        self.closing.add(closing)
        closing.add_done_callback(self.closing.discard)
        waiting = self.texts["kakao_queue_wait" if first else "kakao_agent_wait"]
        return JSONResponse({"version": "2.0", "useCallback": True, "data": {"text": waiting}})

    async def _held(self, user_id: str) -> list[Outbound]:
        raw = await self.shared.take(_first(user_id))
        return [Outbound.from_json(m) for m in json.loads(raw)] if raw else []

    async def _close_callback(self, user_id: str, url: str) -> None:
        await asyncio.sleep(self.agent_wait)
        if await self.shared.get(_open(user_id)) == url and await self.shared.take(_open(user_id)) == url:
            held = await self._held(user_id)
            await self._post(url, held or [Outbound(text=self.texts["kakao_agent_late"])], user_id)

    async def push(self, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES (an agent's answer) through SENDER's open callback, if one is open (after the queue's
        answer it held back)."""
        url = await self.shared.take(_open(sender))
        return url is not None and await self._post(url, await self._held(sender) + messages, sender)

    async def _post(self, url: str, messages: list[Outbound], user_id: str) -> bool:
        """POST MESSAGES to a callback URL (it works once); return whether Kakao took them."""
        try:
            response = await self.client.post(url, json=await self._render(messages, user_id), timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning("a Kakao callback failed (%s)", type(exc).__name__)
            return False
        return True

    async def _late(
        self, task: asyncio.Task[list[Outbound]], message: Inbound, earlier: list[Outbound], callback: Any
    ) -> Response:
        """Answer at once; deliver the real answer through the callback URL or with the next message."""
        wait = Outbound(text=self.texts["kakao_wait"])
        if self._callback_allowed(callback):
            return JSONResponse(
                {"version": "2.0", "useCallback": True, "data": {"text": self.texts["kakao_wait"]}},
                background=BackgroundTask(self._call_back, task, message, earlier, callback),
            )
        return JSONResponse(
            await self._render(earlier + [wait], message.user_id),
            background=BackgroundTask(self._keep_when_done, task, message),
        )

    async def _call_back(
        self, task: asyncio.Task[list[Outbound]], message: Inbound, earlier: list[Outbound], url: str
    ) -> None:
        answers = await task
        if not earlier + answers:  # the chat went to an agent meanwhile: no answer, and no "more" text
            answers = [Outbound(text=self.texts["handoff_sent"])]
        if not await self._post(url, earlier + answers, message.user_id):
            logger.warning("the late answer waits for the citizen's next message")
            await self._keep(message.user_id, earlier + answers)

    async def _keep_when_done(self, task: asyncio.Task[list[Outbound]], message: Inbound) -> None:
        await self._keep(message.user_id, await task)
