"""`tuanbot run` as a process of its own for the kill tests: the real `Lifecycle` and `App` on the system clock,
with a channel that is two files instead of a gateway.

    TUANBOT_KILL_AT=stored python -m tests.faults.bot_run CONFIG DATA_DIR INBOX OUTBOX

It starts as `tuanbot run` does (the start-up replay of what the last run left unhandled included), takes the
messages of INBOX (JSON lines: msg_id, room_id, room_topic, sender_id, sender_name, text) as a gateway would push
them, appends everything it says to OUTBOX (one JSON line each, written before `send` returns, as a gateway that has
taken a message), waits until every message is handled and nothing is due within a few seconds, and stops.
`TUANBOT_KILL_AT` (`bot.core.faults`) makes it SIGKILL itself at a named point on the way.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from bot.clock import SystemClock
from bot.config import load_config
from bot.events import Inbound, Outbound
from bot.lifecycle import Lifecycle
from bot.logs import setup_logging
from storage.models import OutboundMessage


class FileChannel:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, out: Outbound) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"room": out.room_id, "text": out.text}, ensure_ascii=False) + "\n")


async def quiet(app: App, clock: SystemClock) -> None:
    """Until nothing queued is due within 3 s (a digest's follow-up included), at most 20 s."""
    deadline = clock.now() + timedelta(seconds=20)
    while clock.now() < deadline:
        async with app.db.sessions() as session:
            first = await session.scalar(
                select(func.min(OutboundMessage.not_before)).where(OutboundMessage.status.in_(["queued", "sending"]))
            )
            waiting = await session.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "sending")
            )
        due = await app.sender.due_count()
        if not due and not waiting and (first is None or first > clock.now() + timedelta(seconds=3)):
            return
        await asyncio.sleep(0.05)


async def main(config_path: Path, data_dir: Path, inbox: list[str], outbox: Path) -> None:
    clock = SystemClock()
    app = App(load_config(config_path), FileChannel(outbox), clock, data_dir)
    life = Lifecycle(app)
    await life.start()
    try:
        for line in inbox:
            fields = json.loads(line)
            app.submit(Inbound(**fields, ts=datetime.now(app.services.config.tz)))
        await app.drain()
        await quiet(app, clock)
        await life.stop()
    finally:
        await app.close()


if __name__ == "__main__":
    setup_logging(Path(sys.argv[2]), console=None)
    config, data, inbox, outbox = map(Path, sys.argv[1:5])
    asyncio.run(main(config, data, inbox.read_text(encoding="utf-8").splitlines(), outbox))
