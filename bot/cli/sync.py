"""`tuanbot sync`: send what is waiting in the outbox to the backend now, and say how it went — for an operator
backfilling after an outage, or checking the demo's orders reach `tuanbot backend` (`--demo`). A running bot does
the same continuously (`storage.sync.SyncWorker`, started by `tuanbot run` when `backend:` is configured)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from typing import Any

from sqlalchemy import func, select

from bot.cli.existing_store import store_is_there
from bot.clock import SystemClock
from bot.config import ConfigError, load_config
from bot.core.paths import resolve_data_dir
from bot.logs import setup_logging
from bot.settings import read_settings
from storage.db import Database, database_url
from storage.models import SyncOutbox
from storage.sync import SyncWorker


async def run_sync(url: str, token: str, database: str, *, passes: int = 5, http_timeout: float = 10.0) -> int:
    if not await store_is_there("sync", database, "nothing to send"):
        return 2
    db = Database(database)
    await db.open()
    try:
        async with SyncWorker(db, url, token, SystemClock(), first_wait=0.2, timeout=http_timeout) as worker:
            sent = 0
            for _ in range(passes):
                batch = await worker.send_pending(due_only=False)  # asked to send now: the backoff waits no more
                sent += batch
                if batch == 0:
                    break
        async with db.sessions() as session:
            counts = dict(
                (await session.execute(select(SyncOutbox.status, func.count()).group_by(SyncOutbox.status))).all()
            )
            errors = [
                e
                for e in await session.scalars(
                    select(SyncOutbox.last_error)
                    .where(SyncOutbox.status.in_(("pending", "failed")), SyncOutbox.last_error.is_not(None))
                    .order_by(SyncOutbox.id.desc())
                    .limit(1)
                )
                if e
            ]
    finally:
        await db.close()
    print(
        f"sent {sent} change(s) to {url}; outbox: {counts.get('sent', 0)} sent, {counts.get('pending', 0)} pending, "
        f"{counts.get('failed', 0)} failed"
    )
    if errors:
        print(f"tuanbot sync: not sent: {why_not_sent(errors[0], url)}", file=sys.stderr)
    return 1 if counts.get("pending") or counts.get("failed") else 0


def why_not_sent(last_error: str, url: str) -> str:
    """The outbox's last error as an operator reads it: what went wrong and what to check."""
    status = re.match(r"(?:HTTP )?(\d{3})\b", last_error)
    if status and status.group(1) in ("401", "403"):
        return f"the backend refused the token (HTTP {status.group(1)}): check TUANBOT_BACKEND_TOKEN"
    if "Timeout" in last_error:
        return f"{url} did not answer in time (timeout): is it overloaded or unreachable?"
    if "Connect" in last_error or "refused" in last_error.lower():
        return f"could not connect to {url} (connection refused): is the backend running at that address?"
    if status:
        return f"the backend answered HTTP {status.group(1)}: {last_error[:200]}"
    return last_error[:200]


def cmd_sync(args: argparse.Namespace) -> int:
    token = os.environ.get("TUANBOT_BACKEND_TOKEN")  # a secret: read where used, never kept (bot/settings.py)
    if not token:
        print("tuanbot sync: set TUANBOT_BACKEND_TOKEN to the backend's token", file=sys.stderr)
        return 2
    data = resolve_data_dir(args.data_dir)
    setup_logging(data, console=None)
    if args.demo:
        from bot.cli.demo import DEMO_DB

        database, url = args.database or f"sqlite:///{data / DEMO_DB}", args.url
    else:
        path = read_settings().config_path(args.config)
        try:
            config = load_config(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        database = args.database or database_url(data, config.database)
        url = args.url or (config.backend.url if config.backend else None)
    if not url:
        print("tuanbot sync: no backend URL: give --url or a backend: {url: …} section", file=sys.stderr)
        return 2
    return asyncio.run(run_sync(url, token, database, http_timeout=args.timeout))


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("sync", parents=[common], help="send the outbox's order changes to the backend now")
    p.add_argument("--config")
    p.add_argument("--url", help="the backend (default: the config's backend.url)")
    p.add_argument("--database", help="the store whose outbox to send (default: the bot's)")
    p.add_argument("--demo", action="store_true", help="send the last `tuanbot demo`'s orders")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer (default 10)")
    p.set_defaults(func=cmd_sync)
