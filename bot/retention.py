"""Personal data is kept only as long as needed: old conversations are deleted on a schedule.

Usage:
    python -m bot.retention [--days 90] [--dry-run]      (the gateway also runs it once a day)

Deleted when older than RETENTION_DAYS (default 90): the gateway's messages (a message an agent labelled
stays as training data, masked, its sealed raw text removed), Rasa's conversation events, the outbox, and
web-chat photos that no ticket keeps (PHOTOS_DIR).
Tickets keep their own rule: their phone numbers are forgotten a year after closing
(python -m bot.tickets purge-contacts), which this runs too. Prints what it removed as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from bot.photos import Photos
from bot.settings import load_settings
from bot.store.db import Database, session_factory
from bot.store.retention import apply_retention
from bot.store.tickets import photo_refs

__all__ = ["apply_retention", "keep_retention", "main"]

logger = logging.getLogger(__name__)
DAY = 24 * 3600.0


async def keep_retention(db: Database, *, days: int, photos: Photos, every: float = DAY) -> None:
    """Apply the retention rule now and then every EVERY seconds (a task of the gateway's lifespan)."""
    while True:
        try:
            counts = await db.run(lambda session: apply_retention(session, days=days))
            kept = await db.run(photo_refs)
            counts["photos_deleted"] = await asyncio.to_thread(photos.forget, older_than_days=days, keep=kept)
            logger.info("retention (%d days): %s", days, counts)
        except Exception:  # noqa: BLE001 - the next round tries again; the gateway serves on
            logger.exception("the retention job failed; it runs again in %.0f s", every)
        await asyncio.sleep(every)


def main(argv: list[str] | None = None) -> int:
    """Apply the retention rule once and print what went."""
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.retention", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=settings.retention_days, help="keep this many days")
    parser.add_argument("--dry-run", action="store_true", help="count, and delete nothing")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    photos = Photos(settings.photos_dir, max_bytes=settings.photo_max_bytes)
    with session_factory(settings.database_url)() as session:
        counts: dict[str, Any] = apply_retention(session, days=args.days)
        kept = photo_refs(session)
        counts["photos_deleted"] = photos.forget(older_than_days=args.days, keep=kept, dry_run=args.dry_run)
        if args.dry_run:
            session.rollback()
        else:
            session.commit()
    print(json.dumps({"days": args.days, "dry_run": args.dry_run, **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
