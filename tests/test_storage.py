"""The store on SQLite and the real PostgreSQL: migrations, constraints, aware times, orders traced to chain lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database, database_url
from storage.models import ChainLine, Group, GroupBuy, Member, MessageLog, Order, OrderLine, OutboundMessage

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone(timedelta(hours=8)))
TABLES = {
    "groups",
    "members",
    "messages",
    "group_buys",
    "chain_lines",
    "orders",
    "order_lines",
    "outbound",
    "stock_counters",
    "flash_claims",
    "sync_outbox",
    "backend_orders",
    "backend_requests",
}


@pytest.fixture
async def db(db_target: tuple[str, dict[str, Any]]) -> Any:
    url, kwargs = db_target
    database = Database(url, **kwargs)
    await database.open()
    yield database
    await database.close()


async def test_migrations_create_every_table_and_run_twice(db: Database) -> None:
    await db.open()  # already at head: a second start changes nothing
    async with db.engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert TABLES <= names
    assert "alembic_version" in names


async def test_an_order_traces_back_to_its_chain_line(db: Database) -> None:
    async with db.transaction() as s:
        group = Group(name="阳光花园1号群", room_id="1@chatroom", created_at=NOW)
        s.add_all([group, GroupBuy(id="caomei", title="草莓团", cutoff=NOW + timedelta(days=1))])
        await s.flush()
        member = Member(group_id=group.id, wxid="wxid_1", name="王阿姨", created_at=NOW)
        line = ChainLine(
            buy_id="caomei",
            group_id=group.id,
            key="3栋 王阿姨 草莓2盒",
            raw="3栋 王阿姨 草莓2盒",
            who="3栋 王阿姨",
            author_id="wxid_1",
            first_msg_id="m1",
            status="active",
            created_at=NOW,
        )
        s.add_all([member, line])
        await s.flush()
        s.add(
            Order(
                buy_id="caomei",
                group_id=group.id,
                member_id=member.id,
                chain_line_id=line.id,
                participant="3栋 王阿姨",
                status="active",
                created_at=NOW,
                updated_at=NOW,
                lines=[OrderLine(chain_line_id=line.id, product="草莓", known=True, qty=Decimal("1.5"), unit="盒")],
            )
        )
    async with db.sessions() as s:
        order = (await s.scalars(select(Order))).one()
        assert order.lines[0].qty == Decimal("1.5")
        assert order.lines[0].chain_line_id == order.chain_line_id
        line = await s.get(ChainLine, order.chain_line_id)
        assert line is not None
        assert line.first_msg_id == "m1"
        assert line.created_at == NOW
        assert line.created_at.tzinfo is not None
        assert line.created_at.utcoffset() == timedelta(0)


async def test_a_chain_line_is_unique_by_content_within_a_buy_and_group(db: Database) -> None:
    async with db.transaction() as s:
        s.add_all([Group(id=1, name="g", created_at=NOW), GroupBuy(id="b", title="t")])
    line = dict(buy_id="b", group_id=1, key="k", raw="k", who="w", first_msg_id="m", status="active", created_at=NOW)
    async with db.transaction() as s:
        s.add(ChainLine(**line))
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(ChainLine(**line))


async def test_message_ids_are_unique(db: Database) -> None:
    row = dict(
        msg_id="m1",
        room_id="r",
        room_topic="t",
        sender_id="s",
        sender_name="n",
        kind="text",
        text="x",
        ts=NOW,
        received_at=NOW,
    )
    async with db.transaction() as s:
        s.add(MessageLog(**row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(MessageLog(**row))


async def test_outbound_keys_are_unique(db: Database) -> None:
    row = dict(room_id="r", text="t", kind="column", key="column:x:g:2026-11-30", status="queued", created_at=NOW)
    async with db.transaction() as s:
        s.add(OutboundMessage(**row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(OutboundMessage(**row))


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as s:
            s.add(Group(name="g", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001


def test_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUANBOT_DATABASE_URL", raising=False)
    assert database_url(tmp_path) == f"sqlite+aiosqlite:///{tmp_path / 'tuanbot.db'}"
    assert database_url(tmp_path, "postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    monkeypatch.setenv("TUANBOT_DATABASE_URL", "postgres://x@y/z")
    assert database_url(tmp_path, "sqlite:///a.db") == "postgresql+asyncpg://x@y/z"


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await db.open()
    async with db.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
    await db.close()
    assert mode == "wal"


async def test_the_fast_lane_stores_values_exactly_as_sqlalchemy_does(tmp_path: Path) -> None:
    """SQLite's fast lane (reply-path writes without the ORM) must write what the ORM writes and reads back."""
    import sqlite3

    path = tmp_path / "lane.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.open()
    try:
        assert db.lane is not None
        at = NOW.replace(microsecond=123456)
        row = {"room_id": "r@chatroom", "group_name": "群", "text": "草莓还有吗", "mentions": ["wxid_a", "王阿姨"]}
        row |= {"kind": "reply", "status": "queued", "created_at": at, "not_before": at, "attempts": 0}
        async with db.transaction() as session:
            session.add(OutboundMessage(**row, key="orm"))
        lane_row = row | {"key": "lane"}
        await db.lane.run(
            f"INSERT INTO outbound ({', '.join(lane_row)}) VALUES ({', '.join('?' * len(lane_row))})",
            list(lane_row.values()),
        )
        raw = sqlite3.connect(path).execute("SELECT mentions, created_at, not_before FROM outbound ORDER BY id")
        orm_raw, lane_raw = raw.fetchall()
        assert orm_raw == lane_raw
        async with db.sessions() as session:
            back = await session.scalar(select(OutboundMessage).where(OutboundMessage.key == "lane"))
        assert back is not None
        assert (back.created_at, back.mentions) == (at, ["wxid_a", "王阿姨"])
        with pytest.raises(IntegrityError):  # errors come back as SQLAlchemy's, like every other write
            await db.lane.run("INSERT INTO outbound (room_id) VALUES (?)", ["r@chatroom"])
        assert await db.lane.run("SELECT count(*) FROM outbound") == [(2,)]  # the failed write left nothing behind
    finally:
        await db.close()


async def test_sqlite_statements_take_one_trip_at_most_and_read_back_as_with_aiosqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`OneTripConnection`: a statement is executed, fetched and closed in one call, on the connection's thread
    until the transaction holds the write lock and on the caller's after; what SQLAlchemy reads (rows, rowcount,
    errors, streamed results) is what the stock aiosqlite cursor gives."""
    import threading

    from sqlalchemy import insert, update

    import storage.db

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    await db.open()
    ran: list[tuple[str, bool]] = []  # (statement, on the loop's thread)
    real = storage.db._execute_and_fetch

    def recorded(conn: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        ran.append((sql.split()[0], threading.current_thread() is threading.main_thread()))
        return real(conn, sql, *args, **kwargs)

    groups = Group.__table__
    async with db.sessions() as s:  # the pool's connection is opened (its set-up statements are not recorded)
        await s.execute(select(groups.c.id))
    monkeypatch.setattr(storage.db, "_execute_and_fetch", recorded)
    try:
        async with db.transaction() as s:
            assert await s.scalar(select(func.count()).select_from(groups)) == 0
            first = await s.scalar(insert(groups).returning(groups.c.id), {"name": "g0", "created_at": NOW})
            more = await s.scalars(
                insert(groups).returning(groups.c.name), [{"name": f"g{i}", "created_at": NOW} for i in (1, 2)]
            )
            assert (first, sorted(more)) == (1, ["g1", "g2"])
            assert (await s.execute(update(groups).where(groups.c.id > 1).values(topic="t"))).rowcount == 2
            await s.execute(insert(groups), [{"name": "g3", "created_at": NOW}, {"name": "g4", "created_at": NOW}])
            assert await s.scalar(select(func.count()).select_from(groups)) == 5
        # a read and the first write go to the thread (the write may wait for the lock); then no more trips
        assert ran == [
            ("SELECT", False),
            ("INSERT", False),
            ("INSERT", True),
            ("UPDATE", True),
            ("INSERT", True),
            ("SELECT", True),
        ]
        ran.clear()
        async with db.engine.connect() as conn:  # after the commit: a read is a trip again
            streamed = await conn.stream(select(groups.c.name).order_by(groups.c.id))
            assert [name async for name in streamed.scalars()] == ["g0", "g1", "g2", "g3", "g4"]
        assert ran == [("SELECT", False)]
        with pytest.raises(IntegrityError):  # g0 exists
            async with db.transaction() as s:
                await s.execute(insert(groups), [{"name": "g5", "created_at": NOW}, {"name": "g0", "created_at": NOW}])
        async with db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(groups)) == 5  # g5 rolled back with the error
    finally:
        await db.close()


async def test_a_write_waiting_for_sqlites_lock_never_stalls_the_event_loop(tmp_path: Path) -> None:
    """Another process holds the write lock: the bot's first write waits for it on the connection's thread, while
    the loop goes on; the statements after it, and a database in memory (one thread only), work as ever."""
    import asyncio
    import sqlite3

    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.open()
    other = sqlite3.connect(path, isolation_level=None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with db.transaction() as s:
            s.add(Group(name="g", created_at=NOW))
            await s.flush()
            s.add(Group(name="h", created_at=NOW))

    try:
        other.execute("BEGIN IMMEDIATE")
        beat = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()
        assert ticks >= 10  # the loop kept going while the write waited
        other.execute("ROLLBACK")
        await writing
        beat.cancel()
        assert other.execute("SELECT count(*) FROM groups").fetchone() == (2,)
    finally:
        other.close()
        await db.close()
    memory = Database("sqlite+aiosqlite://")
    await memory.open()
    try:
        async with memory.transaction() as s:
            s.add(Group(name="g", created_at=NOW))
            await s.flush()
            s.add(Group(name="h", created_at=NOW))
        async with memory.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Group)) == 2
    finally:
        await memory.close()


async def test_held_outbox_changes_commit_with_the_transaction_or_not_at_all(db: Database) -> None:
    from storage.models import SyncOutbox
    from storage.outbox import hold_change, order_payload, write_held_changes

    def payload(version: int) -> dict[str, Any]:
        return order_payload(
            ref="order:1", version=version, group="g", buy="b", member="m", participant="p", items=[], remark="",
            status="active",
        )  # fmt: skip

    async with db.transaction() as s:
        hold_change(s, payload(1), NOW)
        hold_change(s, payload(2), NOW)
        await write_held_changes(s)
    with pytest.raises(RuntimeError, match="not written"):  # held and forgotten: the commit refuses, all rolls back
        async with db.transaction() as s:
            s.add(Group(name="g", created_at=NOW)), hold_change(s, payload(3), NOW)
    async with db.sessions() as s:
        keys = list(await s.scalars(select(SyncOutbox.idempotency_key).order_by(SyncOutbox.id)))
        assert keys == ["order:1:v1", "order:1:v2"]
        assert await s.scalar(select(func.count()).select_from(Group)) == 0
