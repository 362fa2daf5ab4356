"""A sync worker in a process of its own, so that a fault test can SIGKILL it mid-batch.

    python -m tests.faults.sync_worker DATABASE_URL BACKEND_URL TOKEN NOW_ISO

It sends the store's outbox forever (like `tuanbot run`'s worker) on a clock fixed at NOW_ISO, the time the test's
virtual clock had when the rows were written (they are not due before it); only a signal ends it.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.clock import VirtualClock
from bot.logs import setup_logging
from storage.db import Database
from storage.sync import SyncWorker


async def main(database_url: str, backend_url: str, token: str, now: datetime) -> None:
    db = Database(database_url)
    try:
        async with SyncWorker(db, backend_url, token, VirtualClock(now), batch=100) as worker:
            await worker.run(asyncio.Event(), idle=0.05)
    finally:
        await db.close()


if __name__ == "__main__":
    setup_logging(None, console=None)
    url, backend, token, now = sys.argv[1:5]
    asyncio.run(main(url, backend, token, datetime.fromisoformat(now)))
