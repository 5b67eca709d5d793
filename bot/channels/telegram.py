"""Telegram, with python-telegram-bot v22: polling for local use, or a webhook with a secret token.

Usage:
    TELEGRAM_TOKEN=… python -m bot                                   polling (no public address needed)
    TELEGRAM_TOKEN=… TELEGRAM_WEBHOOK_SECRET=… python -m bot         webhook: POST /telegram/webhook
        then point Telegram at it once: setWebhook(url=https://…/telegram/webhook, secret_token=…)

Callback data holds at most 64 bytes, so a longer button payload is sent as a short key remembered in the
state the gateways share (bot/shared.py), as are the update ids already handled: an update delivered again,
to this gateway or another, is handled once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.bodies import TooLarge, parse_json, read_body
from bot.delivery import Blocked, Delivery
from bot.messages import Inbound, Outbound, split_text
from bot.profile import CityProfile
from bot.router import Router
from bot.shared import LocalShared, Shared

__all__ = ["MAX_CALLBACK", "Telegram", "rate_limiter"]

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_MESSAGE = 4096
MAX_CAPTION = 1024  # a photo's caption
MAX_ALBUM = 10  # photos in one album (sendMediaGroup)
MAX_CALLBACK = 64
# How long an update id is remembered (Telegram redelivers for at most a day) and a long payload's key.
SEEN_FOR = 24 * 3600.0
PAYLOAD_FOR = 30 * 24 * 3600.0
MAX_BODY = 1024 * 1024  # an update is a few kilobytes; a larger body is refused
# The only updates that are conversation turns: a new message and a pressed button. Edited messages
# (a live location moving, a corrected text), channel posts and business messages are not asked for, and
# filtered out if they come: they would answer a form's question again.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# "/command", "/command@this_bot", with what follows ("/start complaint").
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def rate_limiter() -> AIORateLimiter:
    """Telegram's limits for every send, a broadcast's included: at most 30 messages a second overall (one
    every 1/30 s: no burst of 30 at once), 20 a minute per group; a 429's retry_after is waited out and the
    request tried again (3 times)."""
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 30, max_retries=3)


class Telegram:
    """Handle updates: text, a place, a photo, a pressed inline button; answer in the same chat."""

    def __init__(
        self,
        router: Router,
        delivery: Delivery,
        application: Application[Any, Any, Any, Any, Any, Any],
        secret: str = "",
        profile: CityProfile | None = None,
        webhook_url: str = "",
        shared: Shared | None = None,
    ) -> None:  # fmt: skip
        """PROFILE gives the menu's commands, the deep links and the texts; WEBHOOK_URL, when set, is where
        Telegram is told to send updates at start (else the operator calls setWebhook once)."""
        self.router, self.application, self.secret = router, application, secret
        self.commands = profile.telegram_commands if profile else {}
        self.starts = profile.telegram_start if profile else {}
        self.texts = profile.messages if profile else {}
        self.webhook_url = webhook_url
        delivery.register(CHANNEL, self.push)
        self.shared = shared or LocalShared()
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & (filters.TEXT | filters.LOCATION | filters.PHOTO),
                self.on_message,
            )
        )

    async def setup(self) -> None:
        """Show the commands in the bot's menu and, with a webhook address, point Telegram at it (only the
        updates that are turns). A failure is logged: the bot answers without a menu."""
        bot = self.application.bot
        try:
            await bot.set_my_commands([BotCommand(c, d) for c, (d, _) in self.commands.items()])
            if self.webhook_url:
                await bot.set_webhook(
                    self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
                )
        except TelegramError as exc:
            logger.warning("setting Telegram's menu or webhook failed: %s", type(exc).__name__)

    # Webhook mode: the route only checks, parses and enqueues; the application's handlers do the work.

    async def webhook(self, request: Request) -> Response:
        """Take one update from Telegram."""
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=HTTPStatus.FORBIDDEN)
        try:
            raw = await read_body(request, MAX_BODY)
        except TooLarge:
            return JSONResponse({"error": "too large"}, status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            data = parse_json(raw)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            logger.warning("refused a Telegram update: %s", type(exc).__name__)
            return JSONResponse({"error": "not an update"}, status_code=HTTPStatus.BAD_REQUEST)
        if update is None:
            return JSONResponse({"error": "not an update"}, status_code=HTTPStatus.BAD_REQUEST)
        await self.application.update_queue.put(update)
        return Response(status_code=HTTPStatus.OK)

    async def _first_time(self, update: Update) -> bool:
        if await self.shared.first(f"telegram:update:{update.update_id}", SEEN_FOR):
            return True
        logger.info("update %s was delivered again; handled once", update.update_id)
        return False

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Route a text, a shared place or a photo, and answer; a command is a press (or the help text).

        Only private chats are conversations: in a group the bot answers a command with a pointer to a 1:1
        chat and ignores the rest (a citizen's complaint is not for a group to read).
        """
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not await self._first_time(update):
            return
        text = message.text or message.caption or ""
        if chat.type != ChatType.PRIVATE:
            if text.startswith("/"):
                await self.reply(chat.id, [Outbound(text=self.texts["telegram_private_only"])])
            return
        payload = None
        command = _COMMAND.match(text) if message.text else None
        if command is not None:
            payload = self._command(*command.groups())
            if payload is None:
                await self.reply(chat.id, [Outbound(text=self.texts["telegram_help"])])
                return
            text = payload
        location = None
        if message.location:  # a live location's first message; its moves come as edits, not asked for
            location = {"latitude": message.location.latitude, "longitude": message.location.longitude}
        image = f"telegram:{message.photo[-1].file_id}" if message.photo else None
        if not (text or image or location):
            return
        inbound = Inbound(
            channel=CHANNEL, user_id=str(chat.id), text=text, payload=payload, image_url=image,
            location=location,
        )  # fmt: skip
        await self.reply(chat.id, await self.router.route(inbound))

    def _command(self, name: str, argument: str | None) -> str | None:
        """Return what command NAME (with ARGUMENT) says as a press, or None for the help text."""
        if name == "start":  # /start, or a deep link t.me/<bot>?start=KEY
            return self.starts.get((argument or "").strip(), self.texts["telegram_start"])
        return self.commands.get(name, ("", ""))[1] or None

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Route a pressed inline button as its payload, and answer."""
        query = update.callback_query
        chat = update.effective_chat
        if (
            query is None
            or chat is None
            or chat.type != ChatType.PRIVATE
            or not await self._first_time(update)
        ):
            return
        data = query.data or ""
        payload = (
            await self.shared.get(f"telegram:payload:{data}") if data.startswith("k:") else None
        ) or data
        try:
            await query.answer()
        except TelegramError as exc:
            logger.info("answering a button press failed: %s", type(exc).__name__)
        inbound = Inbound(channel=CHANNEL, user_id=str(chat.id), text=payload, payload=payload)
        await self.reply(chat.id, await self.router.route(inbound))

    async def photo(self, file_id: str) -> bytes:
        """Return the bytes of photo FILE_ID (getFile, then its download; the token stays here)."""
        file = await self.application.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    async def callback_data(self, payload: str) -> str:
        """Return PAYLOAD itself if it fits 64 bytes (and is no key), else a short key remembered for it."""
        if len(payload.encode()) <= MAX_CALLBACK and not payload.startswith("k:"):
            return payload
        key = "k:" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        await self.shared.put(f"telegram:payload:{key}", payload, PAYLOAD_FOR)
        return key

    async def _keyboard(self, buttons: tuple[dict[str, str], ...]) -> InlineKeyboardMarkup | None:
        rows = []
        for button in buttons:
            if "payload" in button:
                data = await self.callback_data(button["payload"])
                rows.append([InlineKeyboardButton(button["title"], callback_data=data)])
            elif "url" in button:
                rows.append([InlineKeyboardButton(button["title"], url=button["url"])])
        return InlineKeyboardMarkup(rows) if rows else None

    async def _card(self, chat_id: int, card: dict[str, str]) -> None:
        """Send a card (a post, card news) as a photo with its title and text as caption, or as a text
        without a picture; its link as a button under it."""
        label = card.get("button") or card["title"]
        link = (
            InlineKeyboardMarkup([[InlineKeyboardButton(label, url=card["url"])]])
            if card.get("url")
            else InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=await self.callback_data(card["payload"]))]]
            )
            if card.get("payload")
            else None
        )
        words = f"{card['title']}\n{card.get('text', '')}".strip()
        bot = self.application.bot
        if card.get("image"):
            caption = split_text(words, MAX_CAPTION)[0]
            await bot.send_photo(chat_id, card["image"], caption=caption, reply_markup=link)
        else:
            await bot.send_message(chat_id, split_text(words, MAX_MESSAGE)[0], reply_markup=link)

    async def _album(self, chat_id: int, text: str, cards: tuple[dict[str, str], ...]) -> None:
        """Send cards that all have a picture as one album (one message of up to ten photos), each caption
        its title, text and link, the first headed by TEXT: one request, however many cards."""
        media = []
        for i, card in enumerate(cards[:MAX_ALBUM]):
            words = "\n".join(w for w in (text if i == 0 else "", card["title"], card.get("text", "")) if w)
            link = f"\n{card['url']}" if card.get("url") else ""
            caption = split_text(words, MAX_CAPTION - len(link))[0] + link
            media.append(InputMediaPhoto(card["image"], caption=caption))
        await self.application.bot.send_media_group(chat_id, media)

    async def push(self, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES to chat SENDER unasked (an agent's reply, a ticket's new status); return success.

        Blocked (bot.delivery) if the citizen blocked the bot: nothing will ever reach them.
        """
        try:
            chat_id = int(sender)
        except ValueError:
            return False
        try:
            await self._send(chat_id, messages)
        except Forbidden as exc:
            raise Blocked(sender) from exc
        except TelegramError as exc:
            logger.error("sending to Telegram failed: %s", type(exc).__name__)
            return False
        return True

    async def reply(self, chat_id: int, messages: list[Outbound]) -> bool:
        """Send MESSAGES to CHAT_ID; return whether Telegram took them all."""
        try:
            await self._send(chat_id, messages)
        except TelegramError as exc:
            logger.error("sending to Telegram failed: %s", type(exc).__name__)
            return False
        return True

    async def _send(self, chat_id: int, messages: list[Outbound]) -> None:
        """Send MESSAGES: long texts split, buttons on the last piece, phone numbers as text, cards with
        pictures as an album (the text its first caption, when it has no buttons)."""
        bot = self.application.bot
        for message in messages:
            phones = [f"{b['title']}: {b['phone']}" for b in message.buttons if "phone" in b]
            text = "\n".join([message.signed(), *phones]).strip()
            album = len(message.cards) > 1 and all(c.get("image") for c in message.cards)
            if album and not message.buttons and len(text) < MAX_CAPTION // 2:
                await self._album(chat_id, text, message.cards)
                continue
            pieces = split_text(text, MAX_MESSAGE) or [""]
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                if piece:
                    await bot.send_message(
                        chat_id, piece, reply_markup=await self._keyboard(message.buttons) if last else None
                    )
            if message.image:
                await bot.send_photo(chat_id, message.image)
            if album:
                await self._album(chat_id, "", message.cards)
            else:
                for card in message.cards:
                    await self._card(chat_id, card)
