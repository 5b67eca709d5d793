"""The city's posts from the command line: read the feeds, and see what a question finds.

Usage:
    python -m bot.news fetch                              every feed of the profile that has an address
    python -m bot.news fetch --source blog --file FEED.xml  a saved feed, as the posts of SOURCE
    python -m bot.news search "흥타령 축제 언제예요?" [--topic events_tourism] [--json]
    python -m bot.news list [--limit 10] [--json]

`fetch` stores each post once per source (updated when the feed changed it) and prints what it did; a feed
that is no feed (invalid XML, an error page) is refused whole. Exit status: 0 done, 1 a feed was not read
or no database, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.news.answers import news_answer
from bot.news.feeds import FeedError
from bot.news.fetch import Fetched, download, store_feed
from bot.profile import load_profile
from bot.settings import load_settings
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
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    city = load_profile(settings.city_profile)
    try:
        if args.command == "fetch":
            return _fetch(args, settings.database_url, {f.name: f.url for f in city.news.feeds})
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
