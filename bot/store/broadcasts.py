"""Card news, subscriptions and broadcasts: what the city sends first, to whom, and what became of it.

A broadcast sends one card set once (broadcasts.card_set_id is unique) to the topic's subscribers as they
were when it started: one delivery row each, pending until it is sent, queued, blocked or failed. A
broadcast that stopped half-way (the gateway restarted) goes on with its pending rows: nobody is sent the
set twice, nobody is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.store.conversations import queue_outbox, record_message
from bot.store.models import Broadcast, BroadcastDelivery, CardSet, Subscription, aware, utcnow
from bot.store.posts import posts_naming

__all__ = [
    "DELIVERY_STATUSES", "CardSetView", "add_card_set", "broadcast_report", "finish_broadcast",
    "latest_card_sets", "pending_deliveries", "settle_deliveries", "start_broadcast", "subscribe",
    "start_digests", "subscribed", "unfinished_broadcasts", "unsubscribe",
]  # fmt: skip

DELIVERY_STATUSES = ("pending", "sent", "queued", "blocked", "failed")
MAX_CARDS = 10
TITLE_LIMIT, CAPTION_LIMIT, LINK_LIMIT = 200, 1000, 1000
DIGEST_CARDS, DIGEST_SUMMARY = 5, 100  # a 읍·면·동's digest: its newest posts, each summary cut to this


@dataclass(frozen=True)
class CardSetView:
    """A card set: its topic, title and cards ({"image", "caption", "link"?} each)."""

    id: int
    topic: str
    title: str
    cards: tuple[dict[str, str], ...]
    created_at: dt.datetime


def _view(row: CardSet) -> CardSetView:
    return CardSetView(row.id, row.topic, row.title, tuple(json.loads(row.cards)), aware(row.created_at))


def _card(raw: Any, *, need_image: bool = True) -> dict[str, str]:
    """Return RAW as a stored card: {image, caption, link?}; ValueError if it is not one."""
    if not isinstance(raw, dict):
        raise ValueError("each card is {image, caption, link?}")
    image, caption, link = (str(raw.get(k) or "").strip() for k in ("image", "caption", "link"))
    if (image or need_image) and (not image.startswith("https://") or len(image) > LINK_LIMIT):
        raise ValueError(f"a card's image is an https:// address of at most {LINK_LIMIT} characters")
    if not 0 < len(caption) <= CAPTION_LIMIT:
        raise ValueError(f"a card's caption is 1 to {CAPTION_LIMIT} characters")
    if link and (not link.startswith("https://") or len(link) > LINK_LIMIT):
        raise ValueError(f"a card's link is an https:// address of at most {LINK_LIMIT} characters")
    return {**({"image": image} if image else {}), "caption": caption, **({"link": link} if link else {})}


def add_card_set(
    session: Session, *, topic: str, title: str, cards: Any, by: str, need_image: bool = True
) -> int:
    """Store a card set: a title and 1 to MAX_CARDS cards ({image, caption, link?}, https addresses; the
    image may be left out of a digest's cards: NEED_IMAGE false); ValueError, saying what is wrong, if it
    is not one. Return its id."""
    title = title.strip()
    if not 0 < len(title) <= TITLE_LIMIT:
        raise ValueError(f"a title is 1 to {TITLE_LIMIT} characters")
    if not isinstance(cards, list) or not 1 <= len(cards) <= MAX_CARDS:
        raise ValueError(f"a card set has 1 to {MAX_CARDS} cards")
    made = [_card(c, need_image=need_image) for c in cards]
    row = CardSet(topic=topic, title=title, cards=json.dumps(made, ensure_ascii=False), created_by=by)
    session.add(row)
    session.flush()
    return int(row.id)


def latest_card_sets(session: Session, *, limit: int = 20) -> list[CardSetView]:
    """Return the newest card sets."""
    rows = session.scalars(select(CardSet).order_by(CardSet.id.desc()).limit(limit))
    return [_view(r) for r in rows]


def subscribe(session: Session, *, channel: str, sender: str, topic: str) -> bool:
    """Subscribe the conversation to TOPIC; return whether it is new."""
    found = session.scalar(
        select(Subscription.id).where(
            Subscription.channel == channel, Subscription.sender == sender, Subscription.topic == topic
        )
    )
    if found is not None:
        return False
    session.add(Subscription(channel=channel, sender=sender, topic=topic))
    session.flush()
    return True


def unsubscribe(session: Session, *, channel: str, sender: str, topic: str | None = None) -> int:
    """End the conversation's subscription to TOPIC (None: to every topic); return how many ended."""
    query = delete(Subscription).where(Subscription.channel == channel, Subscription.sender == sender)
    if topic is not None:
        query = query.where(Subscription.topic == topic)
    return int(session.execute(query).rowcount or 0)


def subscribed(session: Session, *, channel: str, sender: str) -> list[str]:
    """Return the topics the conversation receives."""
    return list(
        session.scalars(
            select(Subscription.topic)
            .where(Subscription.channel == channel, Subscription.sender == sender)
            .order_by(Subscription.topic)
        )
    )


def start_broadcast(session: Session, *, topic: str) -> tuple[int, CardSetView] | None:
    """Start sending TOPIC's newest card set that was never sent, to its subscribers as they are now;
    return the broadcast and its card set, or None if there is nothing new to send."""
    sent = select(Broadcast.card_set_id)
    row = session.scalar(
        select(CardSet)
        .where(CardSet.topic == topic, CardSet.id.not_in(sent))
        .order_by(CardSet.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    broadcast = Broadcast(topic=topic, card_set_id=row.id)
    session.add(broadcast)
    session.flush()
    who = session.execute(
        select(Subscription.channel, Subscription.sender).where(Subscription.topic == topic)
    )
    session.add_all(
        BroadcastDelivery(broadcast_id=broadcast.id, channel=channel, sender=sender, status="pending")
        for channel, sender in who
    )
    session.flush()
    return int(broadcast.id), _view(row)


def start_digests(
    session: Session, *, key: str, since: dt.datetime, title: Callable[[str], str], limit: int = DIGEST_CARDS
) -> list[tuple[int, CardSetView]]:
    """For each 읍·면·동 subscribed to as "KEY:<읍·면·동>", store a card set of the posts that name it
    published since SINCE and since its last digest (TITLE(읍·면·동) its title), and start its broadcast;
    return those started (none for a 읍·면·동 without such posts: nobody is sent an empty digest)."""
    topics = session.scalars(
        select(Subscription.topic).where(Subscription.topic.startswith(f"{key}:", autoescape=True)).distinct()
    )
    started = []
    for topic in sorted(topics):
        district = topic.split(":", 1)[1]
        # Never a post twice: only those first seen after the 읍·면·동's last digest (staff may have sent one
        # early; a post dated before it but fetched after it still comes).
        last = session.scalar(select(func.max(CardSet.created_at)).where(CardSet.topic == topic))
        posts = posts_naming(session, district, since=since, seen_after=last, limit=limit)
        if not posts:
            continue
        cards = [
            {"caption": f"{p.title[:TITLE_LIMIT]}\n{p.summary[:DIGEST_SUMMARY]}".strip(), "link": p.link,
             "image": p.image if p.image and p.image.startswith("https://") else ""}
            for p in posts
        ]  # fmt: skip
        add_card_set(session, topic=topic, title=title(district), cards=cards, by="digest", need_image=False)
        found = start_broadcast(session, topic=topic)
        if found is not None:
            started.append(found)
    return started


def unfinished_broadcasts(session: Session) -> list[tuple[int, CardSetView]]:
    """Return the broadcasts that stopped before their last recipient, with their card sets."""
    rows = session.execute(
        select(Broadcast.id, CardSet).join(CardSet, CardSet.id == Broadcast.card_set_id)
        .where(Broadcast.finished_at.is_(None)).order_by(Broadcast.id)
    )  # fmt: skip
    return [(int(broadcast_id), _view(row)) for broadcast_id, row in rows]


def pending_deliveries(session: Session, *, broadcast_id: int, limit: int) -> list[tuple[int, str, str]]:
    """Return up to LIMIT recipients still to send to: (delivery id, channel, sender)."""
    rows = session.execute(
        select(BroadcastDelivery.id, BroadcastDelivery.channel, BroadcastDelivery.sender)
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "pending")
        .order_by(BroadcastDelivery.id).limit(limit)
    )  # fmt: skip
    return [(int(i), c, s) for i, c, s in rows]


def settle_deliveries(
    session: Session,
    *,
    done: list[tuple[tuple[int, str, str], str]],
    messages: list[dict[str, Any]],
    topic: str,
) -> None:
    """Record what became of deliveries ((delivery id, channel, sender), status): the status; the messages
    in the conversation of each who got or will get them; the outbox of those "queued" (their next message
    brings them); a recipient who "blocked" the bot unsubscribed from TOPIC."""
    now = utcnow()
    for (delivery_id, channel, sender), status in done:
        if status not in DELIVERY_STATUSES[1:]:
            raise ValueError(f"unknown delivery status {status!r}")
        session.execute(
            update(BroadcastDelivery)
            .where(BroadcastDelivery.id == delivery_id)
            .values(status=status, done_at=now)
        )
        if status == "blocked":
            unsubscribe(session, channel=channel, sender=sender, topic=topic)
            continue
        if status in ("sent", "queued"):
            for message in messages:
                data = {
                    "buttons": message.get("buttons", []),
                    "image": message.get("image"),
                    "cards": message.get("cards", []),
                }
                record_message(
                    session,
                    channel=channel,
                    sender=sender,
                    direction="out",
                    text=message.get("text", ""),
                    data=data,
                )
        if status == "queued":
            queue_outbox(session, channel=channel, sender=sender, messages=messages)


def finish_broadcast(session: Session, *, broadcast_id: int) -> None:
    """Mark the broadcast done."""
    session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(finished_at=utcnow()))


def broadcast_report(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """Return the newest broadcasts: topic, card set, recipients, counts by status, and seconds taken."""
    broadcasts = list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
    counts: dict[int, dict[str, int]] = {b.id: {s: 0 for s in DELIVERY_STATUSES} for b in broadcasts}
    rows = session.execute(
        select(BroadcastDelivery.broadcast_id, BroadcastDelivery.status, func.count())
        .where(BroadcastDelivery.broadcast_id.in_(list(counts)))
        .group_by(BroadcastDelivery.broadcast_id, BroadcastDelivery.status)
    )  # fmt: skip
    for broadcast_id, status, count in rows:
        counts[broadcast_id][status] = int(count)
    report = []
    for b in broadcasts:
        started, finished = aware(b.started_at), aware(b.finished_at) if b.finished_at else None
        report.append({
            "id": b.id, "topic": b.topic, "card_set": b.card_set_id, "started_at": started.isoformat(),
            "finished_at": finished.isoformat() if finished else None,
            "seconds": round((finished - started).total_seconds(), 1) if finished else None,
            "recipients": sum(counts[b.id].values()), **counts[b.id],
        })  # fmt: skip
    return report
