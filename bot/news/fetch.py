"""Reading the city's feeds into posts: from their addresses on a schedule, or from a saved file.

A feed is read whole (at most MAX_BYTES) and stored in one transaction: a feed that fails to download or
to parse leaves the posts as they were, with one log line that says which feed and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from bot.news.feeds import FeedError, parse_feed
from bot.profile import CityProfile, Feed
from bot.shared import Shared
from bot.store.db import Database
from bot.store.posts import save_posts

__all__ = ["MAX_BYTES", "Fetched", "NewsFetcher", "download", "store_feed"]

logger = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # a blog's feed is well under 1 MB; a feed past this is refused


@dataclass(frozen=True)
class Fetched:
    """What reading one feed did."""

    source: str
    added: int = 0
    updated: int = 0
    error: str = ""


async def download(client: httpx.AsyncClient, url: str) -> bytes:
    """Return the document at URL, at most MAX_BYTES; FeedError if it cannot be had."""
    try:
        async with client.stream("GET", url, follow_redirects=True, timeout=30.0) as response:
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FeedError(f"{url}: larger than {MAX_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise FeedError(f"{url}: {type(exc).__name__}") from exc


def store_feed(session: Session, source: str, document: bytes) -> Fetched:
    """Parse DOCUMENT and store its posts as SOURCE's, in SESSION's transaction; FeedError if it is no
    feed (nothing stored)."""
    added, updated = save_posts(session, source, parse_feed(document, name=source))
    return Fetched(source, added, updated)


class NewsFetcher:
    """Read every feed of the profile that has an address, every fetch_every_minutes, on one gateway."""

    def __init__(
        self, *, db: Database, client: httpx.AsyncClient, profile: CityProfile, shared: Shared
    ) -> None:
        self.db, self.client, self.shared = db, client, shared
        self.news = profile.news

    async def fetch(self, feed: Feed) -> Fetched:
        """Read FEED and store its posts."""
        try:
            document = await download(self.client, feed.url)
            done = await self.db.run(lambda session: store_feed(session, feed.name, document))
        except FeedError as exc:
            logger.warning("the %s feed was not read: %s", feed.name, exc)
            return Fetched(feed.name, error=str(exc))
        logger.info("the %s feed: %d new posts, %d updated", feed.name, done.added, done.updated)
        return done

    async def fetch_all(self) -> list[Fetched]:
        """Read every feed that has an address."""
        return [await self.fetch(feed) for feed in self.news.feeds if feed.url]

    async def run(self) -> None:
        """Read the feeds for ever (a task of the gateway's lifespan)."""
        if any(feed.url for feed in self.news.feeds):
            await self.shared.every("news", self.news.fetch_every_minutes * 60, self.fetch_all)
