"""The gateway's composition root: create_app builds every part, wires them, and serves them as one ASGI app.

Each part is handed what it needs here, never reached through another part, so that the imports run one way
(docs/architecture.md; tests/test_layering.py checks them).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from telegram.ext import Application

from bot.channels.kakao import Kakao
from bot.channels.telegram import ALLOWED_UPDATES, Telegram, rate_limiter
from bot.channels.web import WebChat, WebLimits
from bot.delivery import Delivery
from bot.handoff import crisis
from bot.handoff.console import Console
from bot.handoff.desk import Desk
from bot.handoff.hub import Hub
from bot.handoff.reception import Reception
from bot.insights.dashboard import Dashboard
from bot.insights.satisfaction import Satisfaction
from bot.live.chat import LiveChat
from bot.live.console import LiveDesk
from bot.live.notify import LiveNotifier
from bot.news.broadcast import Broadcaster
from bot.news.console import NewsDesk
from bot.news.fetch import NewsFetcher
from bot.news.subscriptions import Subscriptions
from bot.photos import Photos
from bot.profile import load_profile
from bot.rasa import RasaClient
from bot.retention import keep_retention
from bot.router import Router
from bot.settings import Settings
from bot.shared import shared_from
from bot.store.conversations import has_conversation
from bot.store.db import Database, session_factory
from bot.tickets.choices import TicketChoices
from bot.tickets.workspace import Workspace
from bot.transcript import Transcript

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    client: httpx.AsyncClient | None = None,
    telegram_app: Application[Any, Any, Any, Any, Any, Any] | None = None,
) -> Starlette:
    """Build the gateway for SETTINGS.

    CLIENT (the one shared httpx client for Rasa and Kakao callbacks) and TELEGRAM_APP (python-telegram-bot's
    Application) are made here unless given (tests give them, to stay off the network).
    """
    settings.check_channels()
    profile = load_profile(settings.city_profile)
    crisis.warm()  # train the crisis classifier now, not while the first citizen waits
    # Explicit timeouts: connecting to Rasa must be quick; a turn with actions may take a while.
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(settings.rasa_timeout, connect=3.0))
    rasa = RasaClient(http, settings.rasa_url, settings.rasa_token)
    db = Database(session_factory(settings.database_url))
    shared = shared_from(settings.redis_url)
    hub = Hub(shared)
    transcript = Transcript(db)
    delivery = Delivery(db, transcript)
    web_limits = WebLimits(*settings.web_limits)
    reception = Reception(
        db=db, rasa=rasa, hub=hub, delivery=delivery, profile=profile,
        handoffs_per_hour=web_limits.handoffs_per_hour, open_handoffs=int(web_limits.open_handoffs),
        kakao_operator=settings.kakao_operator, shared=shared,
    )  # fmt: skip
    satisfaction = Satisfaction(db=db, delivery=delivery, profile=profile, shared=shared)
    news = NewsFetcher(db=db, client=http, profile=profile, shared=shared)
    broadcaster = Broadcaster(db=db, delivery=delivery, profile=profile, shared=shared)
    live_chat = LiveChat(db=db, profile=profile, shared=shared)
    live_notifier = LiveNotifier(db=db, delivery=delivery, profile=profile, shared=shared)
    router = Router(
        rasa=rasa, db=db, transcript=transcript, reception=reception, texts=profile.messages,
        foreign_help=profile.foreign_help, shared=shared, delivery=delivery,
        standing=(
            satisfaction, TicketChoices(db=db, profile=profile), Subscriptions(db=db, profile=profile),
            live_chat,
        ),
        menus=live_chat.decorate,
    )  # fmt: skip
    photos = Photos(
        settings.photos_dir, max_bytes=settings.photo_max_bytes, http=http, image_hosts=settings.image_hosts
    )
    web = WebChat(
        router, delivery, profile, photos=photos, shared=shared,
        known=lambda sender: db.run_or(
            lambda session: has_conversation(session, channel="web", sender=sender), False
        ),
        origins=settings.web_origins, limits=web_limits,
    )  # fmt: skip
    desk = Desk(
        db=db, hub=hub, delivery=delivery, transcript=transcript, reception=reception, rasa=rasa,
        profile=profile, callback_after=dt.timedelta(seconds=settings.handoff_callback_after),
        grace=settings.agent_grace, shared=shared,
    )  # fmt: skip
    console = Console(
        db=db, hub=hub, desk=desk, profile=profile, secure_cookie=settings.agent_cookie_secure, photos=photos,
        shared=shared,
    )  # fmt: skip
    workspace = Workspace(db=db, delivery=delivery, profile=profile, guard=console.guard)
    dashboard = Dashboard(db=db, profile=profile, guard=console.guard)
    news_desk = NewsDesk(db=db, profile=profile, guard=console.guard, broadcaster=broadcaster)
    live_desk = LiveDesk(db=db, profile=profile, guard=console.guard)

    async def healthz(request: Request) -> Response:
        answers = {"rasa": await rasa.healthy(), "database": await db.ping()}
        ok = all(answers.values())
        return JSONResponse(answers, status_code=HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE)

    routes = [
        Route("/", web.page),
        Route("/web/chat.js", script("chat.js")),
        Route("/agent/agent.js", script("agent.js")),
        Route("/agent/tickets.js", script("tickets.js")),
        Route("/agent/insights.js", script("insights.js")),
        Route("/agent/console.js", script("console.js")),
        Route("/agent/news.js", script("news.js")),
        Route("/agent/live.js", script("live.js")),
        WebSocketRoute("/web/ws", web.socket),
        Route("/web/upload", web.upload, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/livez", lambda request: JSONResponse({"live": True})),  # this process answers (the balancer)
        *console.routes(),
        *workspace.routes(),
        *dashboard.routes(),
        *news_desk.routes(),
        *live_desk.routes(),
    ]
    if settings.kakao_skill_secret:
        kakao = Kakao(
            router, delivery, http, profile.messages, secret=settings.kakao_skill_secret,
            bot_ids=settings.kakao_bot_ids, budget=settings.kakao_budget,
            callback_hosts=settings.kakao_callback_hosts, photo_block=settings.kakao_photo_block,
            shared=shared,
        )  # fmt: skip
        routes.append(Route("/kakao/skill", kakao.handle, methods=["POST"]))
    else:
        kakao = None

    telegram: Telegram | None = None
    webhook = bool(settings.telegram_webhook_secret)
    if settings.telegram_token:
        if telegram_app is None:
            builder = Application.builder().token(settings.telegram_token).rate_limiter(rate_limiter())
            if settings.telegram_api_url:
                builder = builder.base_url(settings.telegram_api_url)
            telegram_app = (builder.updater(None) if webhook else builder).build()
        telegram = Telegram(
            router, delivery, telegram_app, settings.telegram_webhook_secret, profile=profile,
            webhook_url=settings.telegram_webhook_url, shared=shared,
        )  # fmt: skip
        if webhook:
            routes.append(Route("/telegram/webhook", telegram.webhook, methods=["POST"]))
        photos.telegram_file = telegram.photo

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        channels = ["web"] + (["kakao"] if settings.kakao_skill_secret else [])
        if telegram is not None:
            await telegram.application.initialize()
            await telegram.application.start()
            await telegram.setup()
            if not webhook and telegram.application.updater is not None:
                await telegram.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            channels.append("telegram (webhook)" if webhook else "telegram (polling)")
        logger.info("gateway up on %s:%s; channels: %s", settings.host, settings.port, ", ".join(channels))
        listening = asyncio.create_task(shared.run())
        jobs = [
            asyncio.create_task(job)
            for job in (
                desk.run_sweeps(), router.run_catch_up(), crisis.keep_current(), satisfaction.run(),
                news.run(), broadcaster.run_forever(), live_notifier.run_forever(),
                keep_retention(db, days=settings.retention_days, photos=photos),
            )
        ]  # fmt: skip
        yield
        for job in jobs:
            job.cancel()
        listening.cancel()
        await transcript.settled()  # answers already sent are stored before the gateway stops
        if telegram is not None:
            if telegram.application.updater is not None and telegram.application.updater.running:
                await telegram.application.updater.stop()
            await telegram.application.stop()
            await telegram.application.shutdown()
        if client is None:
            await http.aclose()
        await shared.close()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])
    app.state.router = router
    app.state.transcript = transcript
    app.state.web = web
    app.state.desk = desk
    app.state.satisfaction = satisfaction
    app.state.broadcaster = broadcaster
    app.state.live_notifier = live_notifier
    app.state.telegram = telegram
    app.state.kakao = kakao
    return app


WEB_FILES = Path(__file__).resolve().parent / "web"
# Every answer: no page may frame ours, scripts only from files of this site (none inline), no referrer
# with the chat's address, and no guessing of content types.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
     b"form-action 'self'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]  # fmt: skip


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP answer (those it already has are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def script(name: str) -> Callable[[Request], Awaitable[Response]]:
    """Return an endpoint serving the page script bot/web/NAME."""

    async def endpoint(request: Request) -> Response:
        text = (WEB_FILES / name).read_text(encoding="utf-8")
        return Response(
            text, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    return endpoint
