"""Settings from the environment, in one frozen object (see .env.example for every variable)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROJECT_ROOT", "Settings", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything the processes read from the environment."""

    city_profile: str = "cheonan"
    models_dir: Path = PROJECT_ROOT / "models"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'minwon.db'}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ENV (default: the process environment)."""
    env = dict(os.environ) if env is None else env
    return Settings(
        city_profile=env.get("CITY_PROFILE", "cheonan"),
        models_dir=Path(env.get("MODELS_DIR", str(PROJECT_ROOT / "models"))),
        database_url=env.get("DATABASE_URL") or Settings.database_url,
    )
