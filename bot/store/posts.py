"""The city's posts: stored once per feed and guid, updated when edited, found by their search terms.

Search runs on each database's own full-text index over posts.terms (migration 0011): SQLite's FTS5 and
PostgreSQL's tsvector. Either gives the candidates; a post is an answer only if it holds at least
MIN_COVERAGE of the question's terms (so that one shared syllable pair is not a match). Answers come by
how many of the terms they hold, then newest first: a citizen asking about the 흥타령 festival wants this
year's news, not the best-worded old one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.store.models import Post, aware, utcnow

__all__ = [
    "MIN_COVERAGE", "NewPost", "PostView", "newest_posts", "posts_naming", "save_posts", "search_posts"
]  # fmt: skip

MIN_COVERAGE = 0.5
CANDIDATES = 200  # the full-text index's best, before the coverage check


@dataclass(frozen=True)
class NewPost:
    """A post as a feed gives it (bot/news/feeds.py): TERMS are its search terms, space-separated."""

    guid: str
    title: str
    link: str
    published_at: dt.datetime | None  # None: the feed gives none (the time it is first seen is kept)
    category: str | None
    tags: tuple[str, ...]
    summary: str
    image: str | None
    terms: str


@dataclass(frozen=True)
class PostView:
    """A stored post, as answers and cards show it."""

    id: int
    source: str
    title: str
    link: str
    published_at: dt.datetime
    category: str | None
    tags: tuple[str, ...]
    summary: str
    image: str | None


def _view(post: Post) -> PostView:
    return PostView(
        id=post.id, source=post.source, title=post.title, link=post.link,
        published_at=aware(post.published_at), category=post.category,
        tags=tuple(t for t in post.tags.split("\n") if t), summary=post.summary, image=post.image,
    )  # fmt: skip


def save_posts(session: Session, source: str, posts: list[NewPost]) -> tuple[int, int]:
    """Store SOURCE's POSTS: new ones added, changed ones updated, the same ones left alone; return how
    many were added and how many updated."""
    guids = [p.guid for p in posts]
    known = {
        p.guid: p for p in session.scalars(select(Post).where(Post.source == source, Post.guid.in_(guids)))
    }
    added = updated = 0
    now = utcnow()
    for new in posts:
        fields: dict[str, object] = {
            "title": new.title, "link": new.link, "category": new.category, "tags": "\n".join(new.tags),
            "summary": new.summary, "image": new.image, "terms": new.terms,
        }  # fmt: skip
        if new.published_at is not None:
            fields["published_at"] = new.published_at
        post = known.get(new.guid)
        if post is None:
            session.add(Post(source=source, guid=new.guid, **{"published_at": now, **fields}))
            added += 1
            continue
        changed = {k: v for k, v in fields.items() if _stored(post, k) != v}
        for key, value in changed.items():
            setattr(post, key, value)
        if changed:
            post.updated_at = now
            updated += 1
    session.flush()
    return added, updated


def _stored(post: Post, key: str) -> object:
    value = getattr(post, key)
    return aware(value) if isinstance(value, dt.datetime) else value


def newest_posts(session: Session, *, limit: int, categories: tuple[str, ...] = ()) -> list[PostView]:
    """Return the LIMIT newest posts (of CATEGORIES, when given)."""
    query = select(Post).order_by(Post.published_at.desc(), Post.id.desc()).limit(limit)
    if categories:
        query = query.where(Post.category.in_(categories))
    return [_view(p) for p in session.scalars(query)]


def posts_naming(
    session: Session, name: str, *, since: dt.datetime, limit: int, seen_after: dt.datetime | None = None
) -> list[PostView]:
    """Return the LIMIT newest posts published after SINCE (and first fetched after SEEN_AFTER) whose
    title, summary, category or tags name NAME (a 읍·면·동: "성정1동" in "성정1동 행정복지센터 휴관 안내")."""
    named = f"%{name.replace(chr(92), '').replace('%', '').replace('_', '')}%"
    query = (
        select(Post)
        .where(
            Post.published_at > since,
            Post.title.like(named)
            | Post.summary.like(named)
            | Post.tags.like(named)
            | (Post.category == name),
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(limit)
    )
    if seen_after is not None:
        query = query.where(Post.fetched_at > seen_after)
    return [_view(p) for p in session.scalars(query)]


def search_posts(
    session: Session, wanted: list[str], *, limit: int, categories: tuple[str, ...] = ()
) -> list[PostView]:
    """Return at most LIMIT posts (of CATEGORIES, when given) that hold MIN_COVERAGE of the terms WANTED,
    those that hold more first, then the newest."""
    if not wanted:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each term quoted: FTS5 reads a bare word as syntax when it is OR, AND, NOT or NEAR.
        match = " OR ".join(f'"{t}"' for t in wanted)
        found = session.execute(
            text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :match ORDER BY rank LIMIT :n"),
            {"match": match, "n": CANDIDATES},
        )
        ids = [row[0] for row in found]
    else:
        vector = func.to_tsvector(text("'simple'"), Post.terms)
        query = func.to_tsquery(text("'simple'"), " | ".join(f"'{t}'" for t in wanted))
        ids = list(
            session.scalars(
                select(Post.id)
                .where(vector.op("@@")(query))
                .order_by(func.ts_rank(vector, query).desc())
                .limit(CANDIDATES)
            )
        )
    if not ids:
        return []
    rows = select(Post).where(Post.id.in_(ids))
    if categories:
        rows = rows.where(Post.category.in_(categories))
    scored = [(_coverage(wanted, p.terms), p) for p in session.scalars(rows)]
    kept = [(share, p) for share, p in scored if share >= MIN_COVERAGE]
    kept.sort(key=lambda pair: (pair[0], aware(pair[1].published_at), pair[1].id), reverse=True)
    return [_view(p) for _, p in kept[:limit]]


def _coverage(wanted: list[str], have: str) -> float:
    held = set(have.split())
    return sum(t in held for t in wanted) / len(wanted)
