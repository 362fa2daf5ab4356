"""Processes and stores for `benchmarks/chaos.py`: the bot's log read on as it grows, a Redis of our own to kill,
PostgreSQL administration, and the store read back (orders, messages, chain lines)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.chaos_model import StoredOrder
from tests.e2e.bot_process import BotProcess

PG_ADMIN = os.environ.get("TUANBOT_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class LogTail:
    """The bot's operator log, read on from where we stopped (it outlives every bot process)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        out = []
        for line in data[:end].splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def wait(self, event: str, timeout: float, bot: BotProcess | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(r.get("event") == event for r in self.new()):
                return True
            if bot is not None and not bot.running():
                raise RuntimeError(f"the bot exited ({bot.proc and bot.proc.returncode}):\n{bot.tail()}")
            time.sleep(0.02)
        return False


class OwnRedis:
    def __init__(self, work: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise SystemExit("redis-server not found: the pg run kills a Redis of its own")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/3"

    def start(self) -> None:
        cmd = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # libfaketime crashes redis-server
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("own redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


async def admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def read_store(url: str) -> tuple[list[StoredOrder], set[str], set[str], list[Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT o.id, o.participant, o.status, ol.product, ol.qty FROM orders o "
                        "LEFT JOIN order_lines ol ON ol.order_id = o.id ORDER BY o.id"
                    )
                )
            ).all()
            msgs = (await conn.execute(text("SELECT msg_id, handled_at FROM messages"))).all()
            chain = (
                await conn.execute(
                    text("SELECT who, raw, author_id, first_msg_id, status FROM chain_lines ORDER BY id")
                )
            ).all()
    finally:
        await engine.dispose()
    by_id: dict[int, StoredOrder] = {}
    for oid, who, status, product, qty in rows:
        got = by_id.get(oid)
        add = float(qty) if product == "草莓" and qty is not None else None
        if got is not None and add is not None:
            add += got.qty or 0.0
        by_id[oid] = StoredOrder(who, status, add if add is not None else (got.qty if got else None))
    return list(by_id.values()), {m for m, _ in msgs}, {m for m, h in msgs if h is None}, list(chain)


async def handled_ids(url: str, ids: set[str]) -> set[str]:
    """Which of these messages the bot has stored and marked handled."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT msg_id FROM messages WHERE handled_at IS NOT NULL"))).all()
    except Exception:  # not created yet, or busy: ask again
        return set()
    finally:
        await engine.dispose()
    return {r[0] for r in rows} & ids
