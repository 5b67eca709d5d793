"""Settings from the environment, in one frozen object (see .env.example for every variable)."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROJECT_ROOT", "RASA_TOKEN_FILE", "RASA_URL_FILE", "Settings", "SettingsError", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps the token of the Rasa it started when RASA_TOKEN is not set (readable by its owner).
RASA_TOKEN_FILE = PROJECT_ROOT / ".rasa-token"
# Where `make run` keeps the addresses of the Rasa servers it started when RASA_URL is not set.
RASA_URL_FILE = PROJECT_ROOT / ".rasa-url"

# Secrets that are examples, not secrets: the gateway refuses to start with one of them.
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "xxx", "todo", "example"}
_MIN_SECRET = 16


class SettingsError(ValueError):
    """A setting that the gateway cannot start with."""


@dataclass(frozen=True)
class Settings:
    """Everything the processes read from the environment."""

    city_profile: str = "cheonan"
    models_dir: Path = PROJECT_ROOT / "models"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'minwon.db'}"
    # The gateway (python -m bot).
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    # The action server (python -m actions): its address, and the secret Rasa must send it (endpoints.yml's
    # X-Actions-Token header); without the secret it does not start.
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055
    actions_token: str = ""
    # How long the gateway waits for Rasa (seconds); Kakao answers within its own budget.
    rasa_timeout: float = 30.0
    kakao_skill_secret: str = ""
    kakao_bot_ids: tuple[str, ...] = ()
    kakao_budget: float = 3.5
    kakao_callback_hosts: tuple[str, ...] = ("kakao.com",)
    # The builder's block with the 이미지 보안전송 plugin (its id), and whether the channel uses 상담톡 or
    # 1:1 채팅 (then a handed-off Kakao citizen may go to Kakao's own 상담직원 연결); docs/channels.md.
    kakao_photo_block: str = ""
    kakao_operator: bool = False
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    # Where Telegram sends updates (https://…/telegram/webhook): set at start; empty: set it yourself.
    telegram_webhook_url: str = ""
    # Another Bot API server (a local one, or a test double): its address up to the token, ".../bot".
    telegram_api_url: str = ""
    # Handoff: offer a callback ticket after this long in the queue (seconds); an agent whose console is
    # gone this long (seconds) gives their chats back to the queue; console cookies only over HTTPS.
    handoff_callback_after: float = 600.0
    agent_grace: float = 30.0
    # None: Secure unless the console is reached on this machine (localhost, 127.0.0.1, ::1).
    agent_cookie_secure: bool | None = None
    # The web chat: sites whose pages may open its socket besides this one (WEB_ORIGINS, comma-separated),
    # and its limits (WEB_LIMITS: socket_rate,socket_burst,address_rate,address_burst,new_chats_per_hour,
    # handoffs_per_hour[,open_handoffs]).
    web_origins: tuple[str, ...] = ()
    web_limits: tuple[float, ...] = ()
    # Personal data at rest: the key that seals citizens' raw words (bot/privacy.py; empty: a key file
    # made on first use, PERSONAL_DATA_KEY_FILE), and how many days messages and conversations are kept.
    personal_data_key: str = ""
    personal_data_key_file: Path = PROJECT_ROOT / ".personal-data-key"
    retention_days: int = 90
    # Redis (redis://127.0.0.1:6379/0): set when several gateways run; they share there what one process
    # would keep in memory (bot/shared.py). Empty: one gateway, its own memory.
    redis_url: str = ""
    # Photos: where web-chat uploads are kept (outside any web root; agents see them through the console),
    # the largest upload taken, and the hosts whose photo addresses the console may fetch (Kakao's).
    photos_dir: Path = PROJECT_ROOT / "photos"
    photo_max_bytes: int = 10 * 1024 * 1024
    image_hosts: tuple[str, ...] = ("kakaocdn.net",)
    # Retraining: how much lower than the serving model's a candidate's held-out accuracy may be.
    retrain_tolerance: float = 0.005

    def check_channels(self) -> None:
        """Raise SettingsError for a channel that is switched on with a missing or placeholder secret."""
        problems = []
        if self.kakao_skill_secret and _weak(self.kakao_skill_secret):
            problems.append(f"KAKAO_SKILL_SECRET must be a real secret of {_MIN_SECRET} or more characters")
        if self.telegram_webhook_secret and not self.telegram_token:
            problems.append("TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_TOKEN is missing")
        if self.telegram_webhook_secret and _weak(self.telegram_webhook_secret):
            problems.append(
                f"TELEGRAM_WEBHOOK_SECRET must be a real secret of {_MIN_SECRET} or more characters"
            )
        if self.telegram_webhook_secret and not re.fullmatch(_TELEGRAM_SECRET, self.telegram_webhook_secret):
            problems.append("TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (at most 256)")
        if self.web_limits and len(self.web_limits) not in (6, 7):
            problems.append("WEB_LIMITS needs six or seven numbers (see .env.example)")
        if problems:
            raise SettingsError("; ".join(problems))


# Telegram's setWebhook takes a secret of 1-256 of these characters only (PTB's Bot.set_webhook).
_TELEGRAM_SECRET = r"[A-Za-z0-9_-]{1,256}"


def _yes_no(value: str) -> bool | None:
    """Return True for 1/true/yes, False for 0/false/no, None for anything else (the default)."""
    value = value.strip().lower()
    return True if value in ("1", "true", "yes") else False if value in ("0", "false", "no") else None


def _weak(secret: str) -> bool:
    return secret.strip().lower() in _PLACEHOLDERS or len(secret) < _MIN_SECRET


def _set_or_from_make_run(env: dict[str, str], name: str, kept: Path) -> str:
    """Return the setting NAME; if empty, what `make run` kept in the file KEPT for the Rasa it started."""
    if env.get(name):
        return env[name]
    with contextlib.suppress(OSError):
        return kept.read_text(encoding="utf-8").strip()
    return ""


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ENV (default: the process environment)."""
    env = dict(os.environ) if env is None else env
    try:
        return Settings(
            city_profile=env.get("CITY_PROFILE", "cheonan"),
            models_dir=Path(env.get("MODELS_DIR", str(PROJECT_ROOT / "models"))),
            database_url=env.get("DATABASE_URL") or Settings.database_url,
            host=env.get("HOST") or Settings.host,
            port=int(env.get("PORT") or Settings.port),
            rasa_url=(_set_or_from_make_run(env, "RASA_URL", RASA_URL_FILE) or Settings.rasa_url).rstrip("/"),
            rasa_token=_set_or_from_make_run(env, "RASA_TOKEN", RASA_TOKEN_FILE),
            rasa_timeout=float(env.get("RASA_TIMEOUT") or Settings.rasa_timeout),
            actions_host=env.get("ACTIONS_HOST") or Settings.actions_host,
            actions_port=int(env.get("ACTIONS_PORT") or Settings.actions_port),
            actions_token=env.get("ACTIONS_TOKEN", ""),
            kakao_skill_secret=env.get("KAKAO_SKILL_SECRET", ""),
            kakao_bot_ids=tuple(b.strip() for b in env.get("KAKAO_BOT_IDS", "").split(",") if b.strip()),
            kakao_budget=float(env.get("KAKAO_BUDGET") or Settings.kakao_budget),
            kakao_callback_hosts=tuple(
                h.strip().lower()
                for h in (env.get("KAKAO_CALLBACK_HOSTS") or "kakao.com").split(",")
                if h.strip()
            ),
            kakao_photo_block=env.get("KAKAO_PHOTO_BLOCK_ID", "").strip(),
            kakao_operator=_yes_no(env.get("KAKAO_OPERATOR", "")) is True,
            telegram_token=env.get("TELEGRAM_TOKEN", ""),
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
            telegram_api_url=env.get("TELEGRAM_API_URL", ""),
            handoff_callback_after=float(
                env.get("HANDOFF_CALLBACK_AFTER") or Settings.handoff_callback_after
            ),
            agent_grace=float(env.get("AGENT_GRACE") or Settings.agent_grace),
            agent_cookie_secure=_yes_no(env.get("AGENT_COOKIE_SECURE", "")),
            web_origins=tuple(
                o.strip().rstrip("/") for o in env.get("WEB_ORIGINS", "").split(",") if o.strip()
            ),
            web_limits=tuple(float(x) for x in env.get("WEB_LIMITS", "").split(",") if x.strip()),
            personal_data_key=env.get("PERSONAL_DATA_KEY", ""),
            personal_data_key_file=Path(env.get("PERSONAL_DATA_KEY_FILE") or Settings.personal_data_key_file),
            retention_days=int(env.get("RETENTION_DAYS") or Settings.retention_days),
            redis_url=env.get("REDIS_URL", "").strip(),
            photos_dir=Path(env.get("PHOTOS_DIR") or Settings.photos_dir),
            photo_max_bytes=int(env.get("PHOTO_MAX_BYTES") or Settings.photo_max_bytes),
            image_hosts=tuple(
                h.strip().lower() for h in (env.get("IMAGE_HOSTS") or "kakaocdn.net").split(",") if h.strip()
            ),
            retrain_tolerance=float(env.get("RETRAIN_TOLERANCE") or Settings.retrain_tolerance),
        )
    except ValueError as exc:
        raise SettingsError(f"a number setting is not a number: {exc}") from exc
