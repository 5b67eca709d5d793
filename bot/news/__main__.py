"""The city's posts from the command line: read the feeds, and see what a question finds.

Usage:
    python -m bot.news fetch                              every feed of the profile that has an address
    python -m bot.news fetch --source blog --file FEED.xml  a saved feed, as the posts of SOURCE
    python -m bot.news search "흥타령 축제 언제예요?" [--topic events_tourism] [--json]
    python -m bot.news list [--limit 10] [--json]
    python -m bot.news cards add --topic weekend_guide --title "천안주말사용설명서 12월 둘째 주" \
        --card "IMAGE_URL|CAPTION|LINK" [--card …] (1 to 10; a caption's first line is the card's title)
    python -m bot.news cards list [--json]
    python -m bot.news send weekend_guide        the topic's newest card set now (the gateway sends it)
    python -m bot.news broadcasts [--json]       recipients, sent, queued, blocked, failed, seconds

`fetch` stores each post once per source (updated when the feed changed it) and prints what it did; a feed
that is no feed (invalid XML, an error page) is refused whole. `send` starts a broadcast in the database;
the gateway (any of several) sends it within a minute, as it does on the topic's schedule. Exit status: 0
done, 1 a feed was not read, nothing to send or no database, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.news.answers import news_answer
from bot.news.broadcast import start_topic
from bot.news.feeds import FeedError
from bot.news.fetch import Fetched, download, store_feed
from bot.profile import CityProfile, load_profile
from bot.settings import load_settings
from bot.store.broadcasts import (
    DELIVERY_STATUSES,
    add_card_set,
    broadcast_report,
    latest_card_sets,
)
from bot.store.db import session_factory
from bot.store.posts import PostView, newest_posts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.news", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="read the feeds into posts")
    fetch.add_argument("--source", help="the feed's name in the profile (blog, youtube, press)")
    fetch.add_argument("--file", type=Path, help="a saved feed to read instead of the address")
    search = commands.add_parser("search", help="what a question finds")
    search.add_argument("question")
    search.add_argument("--topic", default="city_news")
    search.add_argument("--json", action="store_true")
    listing = commands.add_parser("list", help="the newest posts")
    listing.add_argument("--limit", type=int, default=10)
    listing.add_argument("--json", action="store_true")
    cards = commands.add_parser("cards", help="card news").add_subparsers(dest="action", required=True)
    add = cards.add_parser("add", help="publish a card set")
    add.add_argument("--topic", required=True)
    add.add_argument("--title", required=True)
    add.add_argument("--card", action="append", required=True, help="IMAGE_URL|CAPTION|LINK (LINK optional)")
    add.add_argument("--by", default=getpass.getuser())
    cards.add_parser("list", help="the newest card sets").add_argument("--json", action="store_true")
    commands.add_parser("send", help="send a topic's newest card set now").add_argument("topic")
    commands.add_parser("broadcasts", help="what the broadcasts did").add_argument(
        "--json", action="store_true"
    )
    return parser


def _card(spec: str) -> dict[str, str]:
    """Return the card "IMAGE|CAPTION|LINK" describes (add_card_set checks it); "\\n" is a new line."""
    image, _, rest = spec.partition("|")
    caption, _, link = rest.partition("|")
    return {"image": image, "caption": caption.replace("\\n", "\n"), "link": link}


def _no_topic(topic: str, topics: set[str]) -> int:
    print(f"no topic {topic!r} in the profile (there are: {', '.join(sorted(topics))})", file=sys.stderr)
    return 2


def _cards(args: argparse.Namespace, database_url: str, topics: set[str]) -> int:
    if args.action == "add":
        if args.topic not in topics:
            return _no_topic(args.topic, topics)
        cards = [_card(spec) for spec in args.card]
        try:
            with session_factory(database_url).begin() as session:
                set_id = add_card_set(session, topic=args.topic, title=args.title, cards=cards, by=args.by)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"card set {set_id}: {args.title} ({len(cards)} cards, {args.topic})")
        return 0
    with session_factory(database_url)() as session:
        sets = latest_card_sets(session)
    if args.json:
        found = [{**dataclasses.asdict(c), "created_at": c.created_at.isoformat()} for c in sets]
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    for c in sets:
        print(f"{c.id}  [{c.topic}] {c.title} ({len(c.cards)} cards)")
    return 0


def _post(post: PostView) -> dict[str, Any]:
    data = dataclasses.asdict(post)
    data["published_at"] = post.published_at.isoformat()
    return data


async def _download(url: str) -> bytes:
    async with httpx.AsyncClient() as client:
        return await download(client, url)


def _fetch(args: argparse.Namespace, database_url: str, urls: dict[str, str]) -> int:
    if args.file is not None and not args.source:
        print("--file needs --source (the feed's name)", file=sys.stderr)
        return 2
    if args.source and args.source not in urls:
        print(f"no feed {args.source!r} in the profile (there are: {', '.join(urls)})", file=sys.stderr)
        return 2
    sources = [args.source] if args.source else [name for name, url in urls.items() if url]
    if not sources or (args.file is None and not all(urls[s] for s in sources)):
        print("no address for the feed in the profile: give --file", file=sys.stderr)
        return 2
    failed = False
    for source in sources:
        try:
            document = args.file.read_bytes() if args.file else asyncio.run(_download(urls[source]))
            with session_factory(database_url).begin() as session:
                done = store_feed(session, source, document)
        except (FeedError, OSError) as exc:
            done, failed = Fetched(source, error=str(exc)), True
        print(f"{source}: {done.error or f'{done.added} new, {done.updated} updated'}")
    return 1 if failed else 0


def _send(topic: str, database_url: str, city: CityProfile) -> int:
    if topic not in city.news.subscriptions:
        return _no_topic(topic, set(city.news.subscriptions))
    with session_factory(database_url).begin() as session:
        started = start_topic(session, profile=city, topic=topic)
    if not started:
        print(f"nothing of {topic} that was not sent already", file=sys.stderr)
        return 1
    for broadcast_id, card_set in started:
        print(f"broadcast {broadcast_id} of card set {card_set.id} ({card_set.title})")
    print("the gateway sends them within a minute")
    return 0


def _broadcasts(as_json: bool, database_url: str) -> int:
    with session_factory(database_url)() as session:
        report = broadcast_report(session)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    for b in report:
        counts = ", ".join(f"{status} {b[status]}" for status in DELIVERY_STATUSES)
        took = "" if b["seconds"] is None else f", {b['seconds']} s"
        print(
            f"{b['id']}  {b['topic']}  {b['started_at'][:16]}  recipients {b['recipients']}: {counts}{took}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    city = load_profile(settings.city_profile)
    try:
        if args.command == "fetch":
            return _fetch(args, settings.database_url, {f.name: f.url for f in city.news.feeds})
        if args.command == "cards":
            published = {k for k, t in city.news.subscriptions.items() if not t.per_district}
            return _cards(args, settings.database_url, published)
        if args.command == "send":
            return _send(args.topic, settings.database_url, city)
        if args.command == "broadcasts":
            return _broadcasts(args.json, settings.database_url)
        with session_factory(settings.database_url)() as session:
            if args.command == "search":
                line, posts = news_answer(session, city, args.question, args.topic)
                header = city.messages[line]
            else:
                posts, header = newest_posts(session, limit=args.limit), ""
    except SQLAlchemyError as exc:
        print(f"database error: {type(exc).__name__} (run `python -m bot.store.migrate`?)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"line": header, "posts": [_post(p) for p in posts]}, ensure_ascii=False, indent=2))
        return 0
    if header:
        print(header)
    for post in posts:
        where = f"{post.source}/{post.category or '-'}"
        print(f"{city.local_date(post.published_at)}  [{where}] {post.title}\n    {post.link}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
