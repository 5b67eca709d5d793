"""The city's feeds (RSS 2.0 or Atom: the blog, the YouTube channel, press releases) read into posts.

feedparser reads the feed; a feed that is not well-formed XML, or no feed at all (an error page in its
place), is refused whole with one clear log line, so nothing of it is half-stored. Summaries become plain
text (feedparser has removed scripts and styles; the tags and entities left go here), at most SUMMARY_LIMIT
characters at a sentence or word end.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import logging
import re
import xml.sax
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.news.terms import terms
from bot.store.posts import NewPost

__all__ = ["FeedError", "parse_feed", "plain_text"]

logger = logging.getLogger(__name__)

SUMMARY_LIMIT = 300
TITLE_LIMIT = 300
LINK_LIMIT = 1000


class FeedError(ValueError):
    """The document is no feed that can be read whole."""


class _Text(HTMLParser):
    """The text of an HTML fragment: what a reader sees, line breaks where blocks end."""

    _BREAKS = {"br", "p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4"}
    _HIDDEN = {"script", "style"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.hidden += tag in self._HIDDEN
        if tag in self._BREAKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self._HIDDEN and self.hidden > 0
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def plain_text(fragment: str) -> str:
    """Return the text of the HTML FRAGMENT: no tags, no entities, spaces and lines tidied."""
    reader = _Text()
    reader.feed(fragment)
    reader.close()
    text = "".join(reader.parts).replace("\xa0", " ")
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for end in (". ", "요. ", "\n", " "):
        at = cut.rfind(end)
        if at >= limit // 2:
            return cut[: at + len(end)].rstrip() + "…"
    return cut.rstrip() + "…"


def _date(entry: Any) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.timezone.utc)


def _image(entry: Any) -> str | None:
    for key in ("media_thumbnail", "media_content"):
        for item in entry.get(key) or []:
            url = str(item.get("url") or "")
            if url.startswith(("https://", "http://")) and (
                key == "media_thumbnail" or "image" in item.get("type", "image")
            ):
                return url[:LINK_LIMIT]
    for link in entry.get("enclosures") or []:
        if str(link.get("type", "")).startswith("image/") and link.get("href"):
            return str(link["href"])[:LINK_LIMIT]
    # An image in the summary only from the post's own site (not a counter pixel of someone else's).
    host = urlsplit(str(entry.get("link") or "")).netloc
    for src in re.findall(r"""<img[^>]+src=["'](https?://[^"']+)""", entry.get("summary") or ""):
        if host and urlsplit(src).netloc == host:
            return src[:LINK_LIMIT]
    return None


def parse_feed(document: bytes, *, name: str = "feed") -> list[NewPost]:
    """Return the posts of DOCUMENT (RSS or Atom), newest first as the feed lists them; FeedError if it is
    no well-formed feed. Entries without a title or a link are skipped; of two with the same guid the
    later in the feed wins (a correction)."""
    parsed = feedparser.parse(document)
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXException) or not parsed.get("version"):
        reason = type(problem).__name__ if problem else "not RSS or Atom"
        raise FeedError(f"{name}: not a well-formed feed ({reason}: {problem}); nothing was stored")
    posts: dict[str, NewPost] = {}
    for entry in parsed.entries:
        title = _shorten(html.unescape(plain_text(entry.get("title") or "")).replace("\n", " "), TITLE_LIMIT)
        link = str(entry.get("link") or "")
        if not title or not link.startswith(("https://", "http://")):
            continue
        guid = str(entry.get("id") or link)[:500]
        labels = [str(t.get("term") or "").strip() for t in entry.get("tags") or []]
        labels = [t for t in labels if t]
        summary = entry.get("summary") or ""
        # HTML escaped once more than it should be (&lt;p&gt;) is HTML all the same.
        summary = plain_text(html.unescape(summary) if "&lt;" in summary else summary)
        summary = _shorten(summary, SUMMARY_LIMIT)
        words = " ".join([title, summary, *labels])
        posts[guid] = NewPost(
            guid=guid, title=title, link=link[:LINK_LIMIT], published_at=_date(entry),
            category=labels[0][:50] if labels else None, tags=tuple(t[:50] for t in labels[1:]),
            summary=summary, image=_image(entry), terms=" ".join(terms(words)),
        )  # fmt: skip
    return list(posts.values())
