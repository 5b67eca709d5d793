"""소통라이브 from the command line: add a session, see its questions ranked, hide one, record an answer.

Usage:
    python -m bot.live add --title "2026 겨울 소통라이브" --opens "2026-12-01 09:00" \
        --closes "2026-12-09 18:00" --airs "2026-12-10 19:00" --url https://www.youtube.com/@cheonan/live
    python -m bot.live list [--json]
    python -m bot.live questions SESSION [--json] [--hidden]   ranked: supporters, votes, topic, 읍·면·동
    python -m bot.live hide QUESTION --reason "개인정보가 들어 있어요" [--show]
    python -m bot.live answer QUESTION --text "…" [--url https://youtu.be/…?t=1234]

Times are the city's local time (or ISO with a zone). Answers are sent by the gateway to those who asked or
agreed and said yes, within a minute, once the session has aired. Exit status: 0 done, 1 no such session or
question or no database, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.live.console import local_moment
from bot.profile import CityProfile, load_profile
from bot.settings import load_settings
from bot.store import live
from bot.store.db import session_factory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.live", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a session")
    for name in ("title", "opens", "closes", "airs", "url"):
        add.add_argument(f"--{name}", required=True)
    add.add_argument("--by", default=getpass.getuser())
    commands.add_parser("list", help="the sessions").add_argument("--json", action="store_true")
    questions = commands.add_parser("questions", help="a session's questions, ranked")
    questions.add_argument("session", type=int)
    questions.add_argument("--json", action="store_true")
    questions.add_argument("--hidden", action="store_true", help="with the hidden and withdrawn ones")
    hide = commands.add_parser("hide", help="hide a question (or --show it again)")
    hide.add_argument("question", type=int)
    hide.add_argument("--reason", default="")
    hide.add_argument("--show", action="store_true")
    hide.add_argument("--by", default=getpass.getuser())
    answer = commands.add_parser("answer", help="record the answer of a question's group")
    answer.add_argument("question", type=int)
    answer.add_argument("--text", required=True)
    answer.add_argument("--url")
    answer.add_argument("--by", default=getpass.getuser())
    return parser


def _add(args: argparse.Namespace, url: str, city: CityProfile) -> int:
    try:
        times = {k: local_moment(getattr(args, k), city.timezone) for k in ("opens", "closes", "airs")}
        with session_factory(url).begin() as session:
            made = live.add_session(
                session, title=args.title, opens_at=times["opens"], closes_at=times["closes"],
                airs_at=times["airs"], stream_url=args.url, by=args.by,
            )  # fmt: skip
    except (ValueError, OverflowError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"소통라이브 {made}: {args.title.strip()}")
    return 0


def _questions(args: argparse.Namespace, url: str, city: CityProfile) -> int:
    with session_factory(url)() as session:
        if live.get_session(session, args.session) is None:
            print(f"no session {args.session}", file=sys.stderr)
            return 1
        ranked = live.ranking(session, session_id=args.session, hidden=args.hidden)
    for group in ranked:
        group["topic_title"] = city.live.topics.get(group["topic"], (group["topic"],))[0]
    if args.json:
        print(json.dumps(ranked, ensure_ascii=False, indent=2))
        return 0
    for rank, group in enumerate(ranked, 1):
        where = f", {group['district']}" if group["district"] else ""
        print(f"{rank}. 공감 {group['supporters']}명 [{group['topic_title']}{where}]")
        for q in group["questions"]:
            shown = "" if q["status"] == "open" else f" ({q['status']}: {q['hidden_reason'] or ''})"
            print(f"   #{q['id']} {q['text']}{shown}")
        if group["answer"]:
            print(f"   답변: {group['answer']} {group['answer_url'] or ''}".rstrip())
    return 0


def _change(args: argparse.Namespace, url: str) -> int:
    try:
        with session_factory(url).begin() as session:
            question, by = args.question, args.by
            if args.command == "hide":
                done = live.hide(session, question_id=question, reason=args.reason, by=by, show=args.show)
            else:
                done = live.answer(session, question_id=question, text=args.text, url=args.url, by=by)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not done:
        print(f"no question {args.question}", file=sys.stderr)
        return 1
    print(f"question {args.question}: {'shown' if getattr(args, 'show', False) else args.command}")
    return 0


def _list(as_json: bool, url: str, city: CityProfile) -> int:
    with session_factory(url)() as session:
        found: list[Any] = live.sessions(session)
    if as_json:
        print(json.dumps([s.as_json() for s in found], ensure_ascii=False, indent=2))
        return 0
    for s in found:
        print(f"{s.id}  {s.title}  airs {city.local_time(s.airs_at)}  {s.stream_url}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    city = load_profile(settings.city_profile)
    try:
        if args.command == "add":
            return _add(args, settings.database_url, city)
        if args.command == "list":
            return _list(args.json, settings.database_url, city)
        if args.command == "questions":
            return _questions(args, settings.database_url, city)
        return _change(args, settings.database_url)
    except SQLAlchemyError as exc:
        print(f"database error: {type(exc).__name__} (run `python -m bot.store.migrate`?)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
