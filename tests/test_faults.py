"""Real faults, real services: a sync worker killed mid-batch, Redis killed under traffic, a database that refuses
writes while a member's message arrives. After each, nothing is lost or doubled, and `tuanbot rebuild` finds no
difference between the stored orders and the messages."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import event, func, select

from bot.backend.app import make_app
from bot.cli.rebuild import rebuild
from bot.events import Inbound
from bot.logs import LOG_FILE, setup_logging
from storage.db import Database
from storage.models import FlashClaim, MessageLog, Order, StockCounter, SyncOutbox
from storage.sync import SyncWorker
from tests.conftest import REPO, service_missing
from tests.harness import CONFIG, BotHarness, at, chain, with_flash_sale

H = "#接龙 周六丹东草莓团"
G1, G2 = "阳光花园1号群", "阳光花园2号群"
TOKEN = "fault-t0ken"
# 草莓 with stock (the chain's units go through the stock gate too) and a flash sale of 砂糖橘 in every group
FAULTS = with_flash_sale(
    CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 1000}]"),
    stock=20,
    start="2026-11-26 20:00",
    end="2026-11-26 20:30",
)


@pytest.fixture
def oplog(data_dir: Path) -> Iterator[Path]:
    """The operator's JSON log of this test; its file is closed afterwards."""
    setup_logging(data_dir, console=None)
    yield data_dir / LOG_FILE
    setup_logging(None, console=None)


def _records(path: Path, event_name: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("event") == event_name:
            found.append(record)
    return found


async def _no_difference(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tuanbot rebuild` as the operator runs it afterwards: on the stored messages, in a scratch store, no Redis."""
    monkeypatch.delenv("TUANBOT_REDIS_URL", raising=False)
    scratch = bot.data_dir / f"scratch-{uuid.uuid4().hex[:6]}"
    scratch.mkdir()
    assert await rebuild(bot.config, bot.app.db, scratch=scratch) == []


def _chain_traffic(members: int, *, edit_every: int = 0, cancel_every: int = 0) -> list[tuple[str, str]]:
    """(sender, text): members append their line to the latest list; now and then one edits or cancels their own."""
    lines: list[str] = []
    owners: list[str] = []
    out: list[tuple[str, str]] = []
    for i in range(members):
        name = f"邻居{i}"
        lines.append(f"{i % 9 + 1}栋 {name} 草莓{i % 3 + 1}盒")
        owners.append(name)
        out.append((name, chain(H, *lines)))
        if edit_every and i % edit_every == edit_every - 1:
            j = i - 2
            lines[j] = f"{j % 9 + 1}栋 {owners[j]} 草莓{(j % 3 + 1) % 3 + 2}盒"
            out.append((owners[j], chain(H, *lines)))
        if cancel_every and i % cancel_every == cancel_every - 1:
            j = i - 4
            lines[j] = f"{j % 9 + 1}栋 {owners[j]} 不要了"
            out.append((owners[j], chain(H, *lines)))
    return out


# --- the sync worker, SIGKILLed mid-batch -------------------------------------------------------------------------


async def test_a_sync_worker_killed_mid_batch_leaves_each_order_once_at_its_latest_version(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_db = Database(f"sqlite+aiosqlite:///{data_dir / 'backend.db'}")
    await backend_db.open()
    app = make_app(backend_db, token=TOKEN)
    kill_after = 13
    posts: list[int] = []  # status of every POST the backend answered
    worker: dict[str, asyncio.subprocess.Process] = {}

    async def kill_on_the_nth_answer(request: web.Request, response: web.StreamResponse) -> None:
        """The backend has stored the change; its answer is not sent yet: the worker dies now, before it hears."""
        if request.method == "POST" and request.path == "/api/orders":
            posts.append(response.status)
            if len(posts) == kill_after and "proc" in worker:
                os.kill(worker["proc"].pid, signal.SIGKILL)

    app.on_response_prepare.append(kill_on_the_nth_answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        async with BotHarness(data_dir) as bot:
            for who, text in _chain_traffic(24, edit_every=4, cancel_every=6):
                await bot.say(who, text, settle=False)
            async with bot.app.db.sessions() as s:
                changes = list(await s.scalars(select(SyncOutbox.idempotency_key).order_by(SyncOutbox.id)))
            assert len(changes) == 34  # 24 new lines, 6 edits, 4 cancellations
            assert len(set(changes)) == len(changes)

            proc = await asyncio.create_subprocess_exec(
                *[sys.executable, "-m", "tests.faults.sync_worker", str(bot.app.db.url), url, TOKEN],
                bot.clock.now().isoformat(),
                cwd=REPO,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            worker["proc"] = proc
            try:  # the worker starts, sends, and is killed on the 13th answer
                _, err = await asyncio.wait_for(proc.communicate(), 30)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
            assert len(posts) == kill_after
            async with bot.app.db.sessions() as s:
                statuses = list(await s.scalars(select(SyncOutbox.status).order_by(SyncOutbox.id)))
            # it died mid-batch: the 12 answered rows are marked, the 13th was stored but never marked
            assert statuses == ["sent"] * (kill_after - 1) + ["pending"] * (len(changes) - kill_after + 1)

            async with SyncWorker(bot.app.db, url, TOKEN, bot.clock) as fresh:
                while await fresh.send_pending():
                    pass
            async with bot.app.db.sessions() as s:
                assert set(await s.scalars(select(SyncOutbox.status))) == {"sent"}
                mine = {
                    f"order:{o.id}": o
                    for o in await s.scalars(select(Order).order_by(Order.id).execution_options(populate_existing=True))
                }
                lines = {ref: [(ln.product, float(ln.qty)) for ln in o.lines] for ref, o in mine.items()}
            assert len(posts) == len(changes) + 1  # the 13th change was sent twice …
            assert all(200 <= status < 300 for status in posts)

            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{url}/api/orders", headers={"Authorization": f"Bearer {TOKEN}"}) as resp,
            ):
                assert resp.status == 200
                stored = (await resp.json())["orders"]
            refs = [o["ref"] for o in stored]
            assert len(refs) == len(set(refs)) == len(mine) == 24  # … and every order is there exactly once
            for order in stored:
                ours = mine[order["ref"]]
                assert (order["version"], order["status"], order["participant"]) == (
                    ours.version,
                    ours.status,
                    ours.participant,
                )
                assert [(it["product"], float(it["qty"])) for it in order["items"]] == lines[order["ref"]]
            assert sum(o["status"] == "cancelled" for o in stored) == 4
            assert sum(o["version"] > 1 for o in stored) == 8  # edited or cancelled
            await _no_difference(bot, monkeypatch)
    finally:
        await runner.cleanup()
        await backend_db.close()


# --- Redis killed under traffic -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own on a spare loopback port (never the shared one), pointed to by the bot."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_missing("redis-server (the binary)")
        return
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # The server is not under test: keep it off libfaketime (CI's dated run), which crashes redis-server.
        env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
    )
    try:
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.02)
        else:
            service_missing(f"{binary} on port {port}")
        if proc.poll() is not None:
            service_missing(f"{binary} on port {port}")
        monkeypatch.setenv("TUANBOT_REDIS_URL", f"redis://127.0.0.1:{port}/0")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _model_flash(attempts: list[int], stock: int) -> list[str]:
    """First come, first served, one after another (a room's messages are handled in order)."""
    out = []
    for qty in attempts:
        if qty <= stock:
            stock -= qty
            out.append("confirmed")
        else:
            out.append("waiting")
    return out


async def test_redis_killed_under_traffic_loses_no_order_and_never_oversells(
    data_dir: Path,
    db_target: tuple[str, dict[str, Any]],
    own_redis: subprocess.Popen[bytes],
    oplog: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, kwargs = db_target
    traffic = _chain_traffic(30)
    flash = [1 if i % 3 else 2 for i in range(60)]  # 80 units wanted, 20 in stock
    killed_at: dict[str, int] = {}
    async with BotHarness(
        data_dir, config=FAULTS, start=at("2026-11-26 20:00"), database=url, engine_kwargs=kwargs
    ) as bot:
        assert type(bot.app.services.shared).__name__ == "RedisState"
        g1 = [bot.channel.message(G1, who, text) for who, text in traffic]
        g2 = [bot.channel.message(G2, f"邻居{100 + i}", "抢" if qty == 1 else "+2") for i, qty in enumerate(flash)]
        flash_done = 0
        a_third_in, killed = asyncio.Event(), asyncio.Event()

        async def room_one() -> list[str]:
            results = []
            for i, e in enumerate(g1):
                if i == len(g1) // 2:  # midway, with the other room's attempts in flight: Redis dies
                    await a_third_in.wait()
                    killed_at["flash"] = flash_done
                    own_redis.kill()
                    killed.set()
                results.append(await bot.app.handle(e))
            return results

        async def room_two() -> list[str]:
            nonlocal flash_done
            results = []
            for i, e in enumerate(g2):
                if i == 2 * len(g2) // 3:
                    await killed.wait()  # the rest of the crowd comes after the kill, whatever the scheduling
                results.append(await bot.app.handle(e))
                flash_done += 1
                if flash_done == len(g2) // 3:
                    a_third_in.set()
            return results

        chained, flashed = await asyncio.gather(room_one(), room_two())
        await asyncio.to_thread(own_redis.wait, 10)
        assert chained == ["handled"] * len(g1)
        assert flashed == ["handled"] * len(g2)
        assert 0 < killed_at["flash"] < len(g2)  # the flash sale was under way on both sides of the kill

        # every chain line is an order, and its units are taken from the SQL counter
        orders = await bot.orders()
        assert [who for who, _ in orders] == [f"{i % 9 + 1}栋 邻居{i}" for i in range(len(traffic))]
        wanted = sum(i % 3 + 1 for i in range(len(traffic)))
        async with bot.app.db.sessions() as s:
            strawberries = await s.get(StockCounter, "buy:caomei:草莓")
            oranges = await s.get(StockCounter, "flash:orange")
            claims = list(await s.scalars(select(FlashClaim).order_by(FlashClaim.id)))
            unhandled = await s.scalar(select(func.count()).where(MessageLog.handled_at.is_(None)))
        assert strawberries is not None
        assert oranges is not None
        assert strawberries.left == 1000 - wanted
        # every attempt is recorded once, first come first served, and never a unit beyond the stock
        assert [c.qty for c in claims] == flash
        assert [c.status for c in claims] == _model_flash(flash, 20)
        confirmed = sum(c.qty for c in claims if c.status == "confirmed")
        assert confirmed == 20 - oranges.left == 20
        assert unhandled == 0
        await _no_difference(bot, monkeypatch)

    down = _records(oplog, "redis_unavailable")
    assert {r["part"] for r in down} >= {"stock", "dedupe"}
    assert sum(r["part"] == "stock" for r in down) == 1  # said once per outage, then SQL alone
    assert all(r.get("fallback") in {"sql", "memory"} for r in down)


# --- the database refuses writes while a member's message arrives --------------------------------------------------


async def _wait_for(path: Path, event_name: str, msg_id: str, count: int) -> None:
    for _ in range(500):
        if sum(r.get("msg_id") == msg_id for r in _records(path, event_name)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {count}× {event_name} for {msg_id} in the log")


async def _outage_and_return(
    bot: BotHarness, oplog: Path, message: Inbound, during: Any, end: Any, *, wait: float = 10
) -> None:
    task = asyncio.create_task(bot.app.handle(message))
    try:
        await _wait_for(oplog, "store_unavailable", message.msg_id, 3)  # refused three times, retried each time
        assert not task.done()
        await during()
    finally:
        await end()
        result = await asyncio.wait_for(task, wait)
    assert result == "handled"


async def _after_the_outage(
    bot: BotHarness, message: Inbound, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, expected, confirmed = CASES[case]
    assert await bot.orders() == expected
    async with bot.app.db.sessions() as s:
        handled = await s.scalar(select(MessageLog.handled_at).where(MessageLog.msg_id == message.msg_id))
    assert handled is not None
    assert await bot.say(message.sender_name, message.text, msg_id=message.msg_id) == "duplicate"
    assert await bot.orders() == expected
    await bot.settle()
    bot.expect_said([DIGEST.format("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1, 4), confirmed])  # retried, confirmed once
    await _no_difference(bot, monkeypatch)


FIRST = chain(H, "3栋 王阿姨 草莓2盒")
DIGEST = "{}\n合计:草莓{}盒\n【周六丹东草莓团】已有{}人,还差{}人成团"
CASES = {
    # (who, text, the orders afterwards, what the bot confirms)
    "an_edit": (
        "王阿姨",
        chain(H, "3栋 王阿姨 草莓3盒"),
        [("3栋 王阿姨", ["草莓3盒"])],
        DIGEST.format("✏️ 已修改:3栋 王阿姨 草莓3盒", 3, 1, 4),
    ),
    "a_new_member": (
        "李姐",
        chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"),
        [("3栋 王阿姨", ["草莓2盒"]), ("5-1201 李姐", ["草莓1盒"])],
        DIGEST.format("✅ 已记录:5-1201 李姐 草莓1盒", 3, 2, 3),
    ),
}


@pytest.mark.parametrize(
    "case",
    ["an_edit", "a_new_member"],  # a new member: its id, flushed in the failed transaction, must not be reused
)
async def test_a_postgres_that_refuses_the_order_write_keeps_the_message_until_it_returns(
    case: str, data_dir: Path, pg_schema: tuple[str, dict[str, Any]], oplog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A maintenance lock on `orders` holds every write to it; the bot's statements give up after 100 ms."""
    import asyncpg

    url, kwargs = pg_schema
    settings = kwargs["connect_args"]["server_settings"]
    kwargs = {"connect_args": {"server_settings": {**settings, "lock_timeout": "100ms"}}}
    who, text, _, _ = CASES[case]
    async with BotHarness(data_dir, database=url, engine_kwargs=kwargs) as bot:
        await bot.say("王阿姨", FIRST)
        locker = await asyncpg.connect(
            url.replace("postgresql+asyncpg://", "postgresql://"),
            server_settings={"search_path": settings["search_path"]},
        )
        try:
            tx = locker.transaction()
            await tx.start()
            await locker.execute("LOCK TABLE orders IN EXCLUSIVE MODE")  # reads pass, writes wait
            message = bot.channel.message(G1, who, text)

            async def during() -> None:
                # the message is stored (its row is how a restart finds it) but not handled; no order changed
                row = await locker.fetchrow("SELECT handled_at FROM messages WHERE msg_id = $1", message.msg_id)
                assert row is not None
                assert row["handled_at"] is None
                assert tuple(await locker.fetchrow("SELECT count(*), max(version) FROM orders")) == (1, 1)

            await _outage_and_return(bot, oplog, message, during, tx.rollback, wait=10 if case == "an_edit" else 2)
        finally:
            await locker.close()
        await _after_the_outage(bot, message, case, monkeypatch)


async def test_a_locked_sqlite_keeps_the_message_until_it_returns(
    data_dir: Path, oplog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock; the bot waits 50 ms per write instead of 5 s (fast test)."""
    path = data_dir / "test.db"
    bot = BotHarness(data_dir, database=f"sqlite+aiosqlite:///{path}")

    def short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=50")
        cur.close()

    event.listen(bot.app.db.engine.sync_engine, "connect", short_busy_timeout)
    async with bot:
        await bot.say("王阿姨", FIRST)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # the write lock, as a long `tuanbot` maintenance job would hold it
            who, text, _, _ = CASES["a_new_member"]
            message = bot.channel.message(G1, who, text)

            async def during() -> None:
                # not even stored: nothing says it was handled, and no order is made
                assert (
                    other.execute("SELECT count(*) FROM messages WHERE msg_id = ?", (message.msg_id,)).fetchone()[0]
                    == 0
                )
                assert other.execute("SELECT count(*) FROM orders").fetchone()[0] == 1

            async def end() -> None:
                other.execute("ROLLBACK")

            await _outage_and_return(bot, oplog, message, during, end)
        finally:
            other.close()
        await _after_the_outage(bot, message, "a_new_member", monkeypatch)
