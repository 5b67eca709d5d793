"""The city profile: a YAML file of city facts, quick links and the short names of intents and categories.

One file per city in bot/profiles/ (or any path), chosen by the CITY_PROFILE setting. Loading checks that
every category has a department and two to four quick links, and refuses a profile that does not.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.messages import squash
from bot.nlu.taxonomy import CATEGORIES

__all__ = [
    "PROFILES_DIR",
    "BusinessHours",
    "CityProfile",
    "Department",
    "Feed",
    "Link",
    "NewsSettings",
    "ProfileError",
    "Topic",
    "load_profile",
]

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ProfileError(ValueError):
    """A city profile that is incomplete or inconsistent."""


@dataclass(frozen=True)
class Department:
    """A department of the city, as citizens are told about it."""

    name: str
    phone: str


@dataclass(frozen=True)
class Link:
    """A quick link: a web address or a phone number, and whether its address was checked."""

    title: str
    url: str | None
    phone: str | None
    verified: bool

    def button(self) -> dict[str, str]:
        """Return the channel-neutral button: {"title", "url"} or {"title", "phone"}."""
        if self.url:
            return {"title": self.title, "url": self.url}
        return {"title": self.title, "phone": self.phone or ""}


@dataclass(frozen=True)
class BusinessHours:
    """When people answer: weekdays and opening times in the city's time zone."""

    days: tuple[int, ...]
    open: dt.time
    close: dt.time
    text: str

    def is_open(self, moment: dt.datetime, zone: ZoneInfo) -> bool:
        """Return whether MOMENT (aware) falls within business hours."""
        local = moment.astimezone(zone)
        return local.weekday() in self.days and self.open <= local.time() < self.close

    def next_open(self, moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """Return when people are next at work after MOMENT (aware), in ZONE (MOMENT if they are now)."""
        local = moment.astimezone(zone)
        for days in range(8):
            day = local.date() + dt.timedelta(days=days)
            start = dt.datetime.combine(day, self.open, tzinfo=zone)
            end = dt.datetime.combine(day, self.close, tzinfo=zone)
            if day.weekday() in self.days and local < end:
                return max(start, local)
        raise ValueError("business hours name no working day")


@dataclass(frozen=True)
class HandoffSettings:
    """Who answers callback requests, the emergency numbers, and the agents' saved replies."""

    callback_department: str
    emergency: tuple[dict[str, str], ...]
    # Out of business hours, with a crisis: who answers besides the emergency numbers (around the clock).
    on_call: tuple[dict[str, str], ...]
    templates: tuple[str, ...]


@dataclass(frozen=True)
class Feed:
    """One of the city's feeds: its short name (the posts' source), its title, and its address ("" until
    the city gives it: not fetched)."""

    name: str
    title: str
    url: str


@dataclass(frozen=True)
class Topic:
    """A subscription topic: its name, what it sends and how often, and when (weekday 0-6 from Monday,
    the time of day in the city's time zone)."""

    key: str
    title: str
    says: str
    day: int
    time: dt.time
    # Sent per 읍·면·동: a citizen subscribes to "KEY:<읍·면·동>", and each is sent a digest of the week's
    # posts that name it (bot/news/broadcast.py), not a card set staff publish.
    per_district: bool = False


@dataclass(frozen=True)
class NewsSettings:
    """The city's posts: feeds, how often they are read, how many cards an answer shows, the blog
    categories of an info topic, and the words that ask for news without saying what about."""

    feeds: tuple[Feed, ...] = ()
    fetch_every_minutes: int = 30
    cards: int = 3
    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    generic_words: frozenset[str] = frozenset()
    subscriptions: dict[str, Topic] = field(default_factory=dict)
    subscribe_words: tuple[str, ...] = ()
    unsubscribe_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveSettings:
    """소통라이브 (bot/live): the short messages that open its menu, how many open questions one citizen may
    leave and how long each, how long before the broadcast the reminder goes and how long it lasts (answers
    go out after it), and the topics a question
    is filed under (key: (title, words that say it); the last topic takes what no words match)."""

    words: tuple[str, ...] = ()
    most_questions: int = 3
    question_length: int = 300
    remind_before: dt.timedelta = dt.timedelta(minutes=30)
    broadcast: dt.timedelta = dt.timedelta(minutes=90)
    topics: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def topic_of(self, text: str) -> str:
        """Return the key of the topic TEXT's words say most, else the last topic's."""
        said = squash(text)
        counts = {key: sum(w in said for w in words) for key, (_, words) in self.topics.items()}
        best = max(counts, key=lambda key: counts[key], default="")
        return best if best and counts[best] else next(reversed(self.topics), "")


@dataclass(frozen=True)
class CityProfile:
    """One city's profile."""

    city: str
    bot_name: str
    phone: str
    timezone: ZoneInfo
    time_format: str
    business_hours: BusinessHours
    departments: dict[str, Department]
    routing: dict[str, dict[str, str]]
    districts: dict[str, tuple[str, ...]]
    place_names: tuple[str, ...]
    links: dict[str, Link]
    answer_links: dict[str, dict[str, tuple[str, ...]]]
    status_labels: dict[str, str]
    messages: dict[str, str]
    # Lines that help in other languages, under the reply to a message in one (messages.foreign_language).
    foreign_help: tuple[dict[str, str], ...]
    handoff: HandoffSettings
    intent_labels: dict[str, str]
    category_labels: dict[str, dict[str, str]]
    weekday_names: tuple[str, ...]
    cancel_stems: tuple[str, ...]
    cancel_phrases: tuple[str, ...]
    # Telegram: the bot's menu (command -> (its description, what it says; "" for the help text)) and the
    # deep links t.me/<bot>?start=KEY (key -> what the start says).
    # When a satisfaction question may be sent (never at night); None: business hours.
    survey_hours: BusinessHours | None = None
    # Working days to process a complaint, by category ("default" for the rest): the ticket's deadline.
    ticket_deadlines: dict[str, int] = field(default_factory=lambda: {"default": 7})
    telegram_commands: dict[str, tuple[str, str]] = field(default_factory=dict)
    telegram_start: dict[str, str] = field(default_factory=dict)
    news: NewsSettings = field(default_factory=NewsSettings)
    live: LiveSettings = field(default_factory=lambda: LiveSettings())

    def label(self, intent: str, category: str | None = None) -> str:
        """Return the short name of INTENT, or of its CATEGORY when one is given and known."""
        if category and category in self.category_labels.get(intent, {}):
            return self.category_labels[intent][category]
        return self.intent_labels.get(intent, intent)

    def names_intent(self, intent: str, text: str) -> bool:
        """Return whether TEXT is only the short name of INTENT (a menu button), saying nothing more."""
        return squash(text) == squash(self.label(intent))

    def category_of_label(self, intent: str, text: str) -> str | None:
        """Return the category of INTENT whose short name TEXT is (a pressed button), or None."""
        wanted = squash(text)
        return next(
            (c for c, name in self.category_labels.get(intent, {}).items() if squash(name) == wanted), None
        )

    def department(self, intent: str, category: str) -> Department:
        """Return the department responsible for CATEGORY of INTENT."""
        return self.departments[self.routing[intent][category]]

    def answer_buttons(self, intent: str, category: str) -> list[dict[str, str]]:
        """Return the quick-link buttons that go with the answer for CATEGORY of INTENT."""
        return self.link_buttons(self.answer_links[intent][category])

    def link_buttons(self, keys: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
        """Return the buttons of the quick links KEYS that exist and whose address was checked.

        A button titled "시 블로그" must open the blog, not the home page in its place.
        """
        return [self.links[k].button() for k in keys if k in self.links and self.links[k].verified]

    def deadline_days(self, category: str) -> int:
        """Return the working days a complaint of CATEGORY has to be processed in."""
        return self.ticket_deadlines.get(category, self.ticket_deadlines.get("default", 7))

    def local_date(self, moment: dt.datetime) -> str:
        """Return MOMENT's day as the city's people read a date, with its weekday: 12월 15일(화)."""
        local = moment.astimezone(self.timezone)
        return f"{local.month}월 {local.day}일({self.weekday(local)[0]})"

    def local_moment(self, moment: dt.datetime) -> str:
        """Return MOMENT as a day with its weekday and a time: 12월 10일(목) 19:00."""
        return f"{self.local_date(moment)} {moment.astimezone(self.timezone):%H:%M}"

    def local_time(self, moment: dt.datetime) -> str:
        """Return MOMENT (aware) as the city's people read a time."""
        return moment.astimezone(self.timezone).strftime(self.time_format)

    def weekday(self, moment: dt.datetime) -> str:
        """Return the name of MOMENT's day of the week."""
        return self.weekday_names[moment.weekday()]

    def says_stop(self, text: str, *, longest: int) -> bool:
        """Return whether TEXT is a short message (at most LONGEST characters) with a "stop" stem."""
        squashed = squash(text)
        return len(squashed) <= longest and any(stem in squashed for stem in self.cancel_stems)

    def leaves_queue(self, text: str) -> bool:
        """Return whether TEXT asks to stop waiting for a person."""
        said = squash(text)
        return said in self.cancel_phrases or said == squash(self.messages["cancel_handoff_button"])

    def dong_of(self, text: str) -> str | None:
        """Return the 읍·면·동 (or everyday 법정동 name) that TEXT names, not a 구; else None."""
        squashed = squash(text)
        return next((n for n in self.place_names if n in squashed and n not in self.districts), None)

    def district_of(self, text: str) -> str | None:
        """Return the 읍·면·동 that TEXT mentions, else its 구, else None."""
        squashed = squash(text)
        return next((name for name in self.place_names if name in squashed), None)


def _time(value: str) -> dt.time:
    return dt.datetime.strptime(str(value), "%H:%M").time()


def _hours(raw: dict[str, Any]) -> BusinessHours:
    return BusinessHours(
        days=tuple(_WEEKDAYS.index(d) for d in raw["days"]),
        open=_time(raw["open"]),
        close=_time(raw["close"]),
        text=str(raw.get("text", "")),
    )


def _parse(raw: dict[str, Any]) -> CityProfile:
    labels = raw["labels"]
    hours = raw["business_hours"]
    districts = {gu: tuple(names) for gu, names in raw["districts"].items()}
    names = {n for group in districts.values() for n in group} | set(raw.get("place_names", []))
    return CityProfile(
        city=raw["city"],
        bot_name=raw["bot_name"],
        phone=str(raw["phone"]),
        timezone=ZoneInfo(raw.get("timezone", "Asia/Seoul")),
        time_format=raw.get("time_format", "%Y-%m-%d %H:%M"),
        business_hours=_hours(hours),
        survey_hours=_hours(raw["survey_hours"]) if raw.get("survey_hours") else None,
        # A department without a checked number of its own is reached through the city's main number.
        departments={
            k: Department(v["name"], str(v.get("phone") or raw["phone"]))
            for k, v in raw["departments"].items()
        },
        routing={intent: dict(cats) for intent, cats in raw["routing"].items()},
        districts=districts,
        # 읍·면·동 before 구 (the more precise place), longest first (쌍용1동 before 쌍용동).
        place_names=tuple(sorted(names, key=len, reverse=True))
        + tuple(sorted(districts, key=len, reverse=True)),
        links={
            k: Link(v["title"], v.get("url"), v.get("phone"), bool(v.get("verified", False)))
            for k, v in raw["quick_links"].items()
        },
        answer_links={
            intent: {c: tuple(keys) for c, keys in cats.items()} for intent, cats in raw["answers"].items()
        },
        status_labels=dict(raw["status_labels"]),
        messages={k: str(v).replace("{phone}", str(raw["phone"])) for k, v in raw["messages"].items()},
        handoff=HandoffSettings(
            callback_department=raw["handoff"]["callback_department"],
            emergency=_phones(raw["handoff"]["emergency"]),
            on_call=_phones(raw["handoff"].get("on_call", [])),
            templates=tuple(str(t) for t in raw["handoff"].get("templates", [])),
        ),
        foreign_help=_phones(raw.get("foreign_help", [])),
        intent_labels=dict(labels["intents"]),
        category_labels={k: dict(v) for k, v in labels["categories"].items()},
        weekday_names=tuple(str(d) for d in raw["weekday_names"]),
        ticket_deadlines={str(k): int(v) for k, v in (raw.get("ticket_deadlines") or {"default": 7}).items()},
        cancel_stems=tuple(squash(str(w)) for w in raw["cancel"]["stems"]),
        cancel_phrases=tuple(squash(str(w)) for w in raw["cancel"]["phrases"]),
        telegram_commands={
            str(c["command"]): (str(c["description"]), str(c.get("says") or ""))
            for c in raw.get("telegram", {}).get("commands", [])
        },
        telegram_start={str(k): str(v) for k, v in raw.get("telegram", {}).get("start", {}).items()},
        news=_news(raw.get("news") or {}),
        live=_live(raw.get("live") or {}),
    )


def _live(raw: dict[str, Any]) -> LiveSettings:
    return LiveSettings(
        words=tuple(squash(str(w)) for w in raw.get("words", [])),
        most_questions=int(raw.get("most_questions", 3)),
        question_length=int(raw.get("question_length", 300)),
        remind_before=dt.timedelta(minutes=int(raw.get("remind_before_minutes", 30))),
        broadcast=dt.timedelta(minutes=int(raw.get("broadcast_minutes", 90))),
        topics={
            str(key): (str(t["title"]), tuple(squash(str(w)) for w in t.get("words", [])))
            for key, t in (raw.get("topics") or {}).items()
        },
    )


def _news(raw: dict[str, Any]) -> NewsSettings:
    return NewsSettings(
        feeds=tuple(
            Feed(str(f["name"]), str(f.get("title") or f["name"]), str(f.get("url") or ""))
            for f in raw.get("feeds", [])
        ),
        fetch_every_minutes=int(raw.get("fetch_every_minutes", 30)),
        cards=int(raw.get("cards", 3)),
        topics={str(k): tuple(str(c) for c in v) for k, v in (raw.get("topics") or {}).items()},
        generic_words=frozenset(str(w) for w in raw.get("generic_words", [])),
        subscriptions={
            str(key): Topic(
                str(key),
                str(t["title"]),
                str(t["says"]),
                _WEEKDAYS.index(t["send"]["day"]),
                _time(t["send"]["time"]),
                bool(t.get("per_district", False)),
            )
            for key, t in (raw.get("subscriptions") or {}).items()
        },
        subscribe_words=tuple(squash(str(w)) for w in raw.get("subscribe_words", [])),
        unsubscribe_words=tuple(squash(str(w)) for w in raw.get("unsubscribe_words", [])),
    )


def _phones(entries: list[dict[str, Any]]) -> tuple[dict[str, str], ...]:
    """Return call buttons for ENTRIES ({title, phone} each)."""
    return tuple({"title": str(e["title"]), "phone": str(e["phone"])} for e in entries)


def _check(profile: CityProfile) -> None:
    """Raise ProfileError unless every category has a department, a label and two to four links."""
    problems = []
    for intent, categories in CATEGORIES.items():
        for category in categories:
            key = profile.routing.get(intent, {}).get(category)
            if key not in profile.departments:
                problems.append(f"routing.{intent}.{category}: no department {key!r}")
            if category not in profile.category_labels.get(intent, {}):
                problems.append(f"labels.categories.{intent}.{category} is missing")
            if intent == "complaint":
                continue
            links = profile.answer_links.get(intent, {}).get(category, ())
            if not 2 <= len(links) <= 4:
                problems.append(f"answers.{intent}.{category}: {len(links)} links, want 2 to 4")
            problems += [
                f"answers.{intent}.{category}: unknown link {k!r}" for k in links if k not in profile.links
            ]
    if profile.handoff.callback_department not in profile.departments:
        problems.append(f"handoff.callback_department: no department {profile.handoff.callback_department!r}")
    for key, link in profile.links.items():
        if bool(link.url) == bool(link.phone):
            problems.append(f"quick_links.{key}: give either url or phone")
        elif link.url and not link.url.startswith("https://"):
            problems.append(f"quick_links.{key}: url must start with https://")
    if len(profile.weekday_names) != 7:
        problems.append("weekday_names: seven names, Monday first")
    if problems:
        raise ProfileError("; ".join(problems))


@functools.cache
def load_profile(name_or_path: str) -> CityProfile:
    """Load and check a profile by name (a file in bot/profiles/) or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise FileNotFoundError(f"city profile not found: {path}")
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        profile = _parse(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{path}: {exc!r}") from exc
    _check(profile)
    return profile
