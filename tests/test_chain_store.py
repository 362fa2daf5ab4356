"""The 接龙 store path: a new line is a handful of Core statements in the message's one transaction, one trip to
SQLite's thread each; the same rows on SQLite and PostgreSQL; the outbox rows commit or roll back with the order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from storage.db import OneTripConnection
from storage.models import ChainLine, Member, Order, OrderLine, OutboundMessage, SyncOutbox
from tests.harness import CONFIG, BotHarness, chain

H = "#接龙 周六丹东草莓团"
STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")


@contextmanager
def statements(bot: BotHarness) -> Iterator[list[str]]:
    """The SQL the bot's engine runs meanwhile (the fast lane's own writes are not among them)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(" ".join(sql.split()[:3]))

    engine = bot.app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call made on an SQLite connection's thread meanwhile (each one a hop there and back)."""
    made: list[str] = []
    real = OneTripConnection._execute

    async def counted(self: OneTripConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(OneTripConnection, "_execute", counted)
        yield made


async def test_a_new_line_is_five_statements_and_four_trips(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with BotHarness(data_dir) as bot:
        lines = ["3栋 王阿姨 草莓2盒"]
        await bot.say("王阿姨", chain(H, *lines), settle=False)  # the chain's first copy queues its digest
        lines.append("5-1201 李姐 草莓1盒")
        with statements(bot) as sql, trips(monkeypatch) as made:
            await bot.say("李姐", chain(H, *lines), settle=False)
        assert sql == [
            "INSERT INTO chain_lines",
            "INSERT INTO members",
            "INSERT INTO orders",
            "INSERT INTO order_lines",
            "INSERT INTO sync_outbox",
        ]
        # the message log, the transaction's first write (it takes SQLite's write lock; the four after it run
        # without a trip), its commit, the handled mark: four trips (SQLAlchemy's aiosqlite cursor took 26)
        assert made == ["_execute_fetchall", "_execute_and_fetch", "commit", "_execute_fetchall"]
        lines.append("5-1201 李姐 草莓1盒 蓝莓1盒")  # her second line: her member id is known by now
        with statements(bot) as sql:
            await bot.say("李姐", chain(H, *lines), settle=False)
        assert "INSERT INTO members" not in sql
        assert len(sql) == 4
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨", "5-1201 李姐", "5-1201 李姐"]


async def test_a_queued_digest_is_looked_up_once_not_per_message(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        lines = ["3栋 王阿姨 草莓2盒"]
        await bot.say("王阿姨", chain(H, *lines), settle=False)
        bot.app.services.chain.digest_pending.clear()  # as after a restart: the store knows a digest is queued
        with statements(bot) as sql:
            for i in range(5):
                lines.append(f"{i + 1}栋 邻居{i} 草莓1盒")
                await bot.say(f"邻居{i}", chain(H, *lines), settle=False)
        assert sum(s.startswith("SELECT outbound.") for s in sql) == 1  # then remembered until it is due
        async with bot.app.db.sessions() as s:
            queued = await s.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.kind == "digest")
            )
        assert queued == 1
        await bot.settle(horizon=timedelta(minutes=1))
        assert "邻居4 草莓1盒" in bot.said()[-1]


async def test_the_store_path_writes_the_same_rows_on_sqlite_and_postgres(
    data_dir: Path, db_target: tuple[str, dict[str, Any]]
) -> None:
    url, kwargs = db_target
    async with BotHarness(data_dir, config=STOCKED, database=url, engine_kwargs=kwargs) as bot:
        lines = ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒"]
        await bot.say("王阿姨", chain(H, lines[0]))
        await bot.say("李姐", chain(H, *lines))
        bot.app.services.forget()  # a restart: member ids and chain state come from the store again
        lines.append("3栋 王阿姨 蓝莓1盒")  # 王阿姨's second line: the member row exists, no second one
        await bot.say("王阿姨", chain(H, *lines))
        lines.append("6号楼 何姐 草莓1盒")  # past the stock: waits
        await bot.say("何姐", chain(H, *lines))
        lines[1] = "5-1201 李姐 不要了"  # a cancel gives 2 boxes back: 何姐 moves up
        await bot.say("李姐", chain(H, *lines))
        assert await bot.orders() == [
            ("3栋 王阿姨", ["草莓2盒"]),
            ("3栋 王阿姨", ["蓝莓1盒"]),
            ("6号楼 何姐", ["草莓1盒"]),
        ]
        async with bot.app.db.sessions() as s:
            members = {m.name: m.id for m in await s.scalars(select(Member))}
            orders = list(await s.scalars(select(Order).order_by(Order.id)))
            lines_of = {ol.order_id: ol for ol in await s.scalars(select(OrderLine))}
            chain_lines = {cl.id: cl for cl in await s.scalars(select(ChainLine))}
            synced = [r.idempotency_key for r in await s.scalars(select(SyncOutbox).order_by(SyncOutbox.id))]
        assert set(members) == {"王阿姨", "李姐", "何姐"}
        assert [o.member_id for o in orders] == [members[n] for n in ("王阿姨", "李姐", "王阿姨", "何姐")]
        assert [(o.status, o.version) for o in orders] == [
            ("active", 1),
            ("cancelled", 2),
            ("active", 1),
            ("active", 2),  # waited, then promoted
        ]
        for order in orders:
            assert lines_of[order.id].chain_line_id == order.chain_line_id
            assert chain_lines[order.chain_line_id].who == order.participant
            assert order.created_at.tzinfo is not None
        assert synced == ["order:1:v1", "order:2:v1", "order:3:v1", "order:4:v1", "order:2:v2", "order:4:v2"]
