"""The public page of a 소통라이브 (GET /live/{id}, no login), which the city links from its blog.

It shows the open questions ranked with their supporters, and each group's answer once the session has
aired (answers recorded before are the broadcast's, not yet the page's). Never who asked or agreed, never a
hidden or withdrawn question. Every value is escaped; its words are the profile's messages.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

from bot.messages import fill
from bot.profile import CityProfile
from bot.store.live import LiveSessionView

__all__ = ["notice", "render"]

TEMPLATE = Path(__file__).resolve().parent.parent / "web" / "live_public.html"
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _page(title: str, body: str) -> str:
    # One pass, so that a value that looks like a slot stays text.
    slots = {"title": html.escape(title), "body": body}
    return _SLOT.sub(lambda m: slots.get(m[1], ""), TEMPLATE.read_text(encoding="utf-8"))


def notice(profile: CityProfile, key: str) -> str:
    """Return a page that only says the profile's message KEY (no such session, no database)."""
    said = html.escape(profile.messages[key])
    return _page(profile.city, f"<main><p class=notice>{said}</p></main>")


def render(
    profile: CityProfile, view: LiveSessionView, groups: list[dict[str, Any]], *, now: dt.datetime
) -> str:
    """Return the page of session VIEW with its GROUPS (bot.store.live.ranking, open questions only, each
    with its topic_title)."""
    # Answers once the broadcast is over; questions once the window has closed (staff have reviewed them:
    # the masking catches numbers, not names or street addresses).
    says, aired = profile.messages, now >= view.airs_at + profile.live.broadcast
    if now < view.closes_at:
        groups = []
    airs = profile.local_moment(view.airs_at)
    head = (
        f"<header><p>{html.escape(profile.city)}</p><h1>{html.escape(view.title)}</h1>"
        f"<p>{html.escape(fill(says['live_page_airs'], airs=airs))} · "
        f'<a href="{html.escape(view.stream_url)}">{html.escape(says["live_page_watch"])}</a></p></header>'
    )
    items = "".join(_group(profile, group, aired) for group in groups)
    empty = says["live_page_collecting" if now < view.closes_at else "live_page_none"]
    listed = f"<ol>{items}</ol>" if items else f"<p class=notice>{html.escape(empty)}</p>"
    later = "" if aired or not items else f"<p class=notice>{html.escape(says['live_page_later'])}</p>"
    body = f"{head}<main><h2>{html.escape(says['live_page_questions'])}</h2>{later}{listed}</main>"
    return _page(view.title, body)


def _group(profile: CityProfile, group: dict[str, Any], aired: bool) -> str:
    says = profile.messages
    first, *alike = group["questions"]
    meta = fill(says["live_supporters"], count=group["supporters"], topic=group["topic_title"])
    meta += f" · {group['district']}" if group["district"] else ""
    parts = [f"<p class=meta>{html.escape(meta)}</p>", f"<p class=question>{html.escape(first['text'])}</p>"]
    if alike:
        listed = "".join(f"<li>{html.escape(q['text'])}</li>" for q in alike)
        parts.append(
            f"<details><summary>{html.escape(says['live_page_alike'])}</summary><ul>{listed}</ul></details>"
        )
    if aired and group["answer"]:
        link = group["answer_url"]
        parts.append(
            f"<div class=answer><strong>{html.escape(says['live_page_answer'])}</strong>"
            f"<p>{html.escape(group['answer'])}</p>"
            + (f'<a href="{html.escape(link)}">{html.escape(says["live_answer_button"])}</a>' if link else "")
            + "</div>"
        )
    return f"<li>{''.join(parts)}</li>"
