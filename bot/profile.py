"""The city profile: a YAML file of city facts and the short names of intents and categories."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PROFILES_DIR", "CityProfile", "load_profile"]

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True)
class CityProfile:
    """One city's profile."""

    city: str
    bot_name: str
    intent_labels: dict[str, str]
    category_labels: dict[str, dict[str, str]]

    def label(self, intent: str, category: str | None = None) -> str:
        """Return the short name of INTENT, or of its CATEGORY when one is given and known."""
        if category and category in self.category_labels.get(intent, {}):
            return self.category_labels[intent][category]
        return self.intent_labels.get(intent, intent)


@functools.cache
def load_profile(name_or_path: str) -> CityProfile:
    """Load a profile by name (a file in bot/profiles/) or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise FileNotFoundError(f"city profile not found: {path}")
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels = raw["labels"]
    return CityProfile(
        city=raw["city"],
        bot_name=raw["bot_name"],
        intent_labels=dict(labels["intents"]),
        category_labels={k: dict(v) for k, v in labels["categories"].items()},
    )
