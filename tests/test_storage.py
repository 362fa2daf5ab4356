"""The store on SQLite and the real PostgreSQL: migrations, constraints, aware times, orders traced to chain lines."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot.events import Inbound
from storage.db import Database, database_url
from storage.errors import is_outage
from storage.journal import MessageJournal
from storage.models import ChainLine, Group, GroupBuy, Member, MessageLog, Order, OrderLine, OutboundMessage
from storage.shared_state import MemoryState

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
    "payments",
    "backend_payments",
}


@pytest.fixture
async def db(db_target: tuple[str, dict[str, Any]]) -> Any:
    url, kwargs = db_target
    database = Database(url, **kwargs)
    await database.open()
    yield database
    await database.close()


@pytest.mark.from_scratch
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


async def test_a_message_reads_back_as_it_arrived_and_is_taken_once(db: Database) -> None:
    """The journal's Core writes (group commit, INSERT … RETURNING): what the ORM reads back is what arrived, aware
    times to the microsecond included; a second delivery, before or after a restart, is not taken again."""
    at = NOW.replace(microsecond=123456)
    event = Inbound("m1", "r@chatroom", "阳光花园1号群", "wxid_a", "王阿姨", "草莓还有吗", at)
    journal = MessageJournal(db, MemoryState())
    assert await journal.record(event, at + timedelta(seconds=1)) is True
    assert await journal.record(event, at + timedelta(seconds=2)) is False  # in hand
    await journal.mark_handled("m1", at + timedelta(seconds=3))
    assert await MessageJournal(db, MemoryState()).record(event, at + timedelta(seconds=4)) is False  # a restart
    async with db.sessions() as s:
        row = await s.scalar(select(MessageLog).where(MessageLog.msg_id == "m1"))
    assert row is not None
    assert (row.text, row.sender_name, row.room_topic, row.kind) == ("草莓还有吗", "王阿姨", "阳光花园1号群", "text")
    assert (row.ts, row.received_at, row.handled_at) == (at, at + timedelta(seconds=1), at + timedelta(seconds=3))
    assert row.ts.tzinfo is not None


async def test_a_stored_but_unhandled_message_is_taken_again(db: Database) -> None:
    """The process died between storing a message and handling it: its next delivery is handled."""
    event = Inbound("m2", "r@chatroom", "群", "wxid_a", "王阿姨", "早", NOW)
    assert await MessageJournal(db, MemoryState()).record(event, NOW) is True
    assert await MessageJournal(db, MemoryState()).record(event, NOW) is True


async def test_a_failed_write_leaves_nothing_behind(db: Database) -> None:
    groups = Group.__table__
    async with db.transaction() as s:
        await s.execute(insert(groups), [{"name": "g0", "created_at": NOW}])
    with pytest.raises(IntegrityError):  # g0 exists: g1, written before it in the same transaction, goes too
        async with db.transaction() as s:
            await s.execute(insert(groups), [{"name": "g1", "created_at": NOW}, {"name": "g0", "created_at": NOW}])
    async with db.sessions() as s:
        assert list(await s.scalars(select(groups.c.name))) == ["g0"]


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


async def test_a_duplicate_or_a_bad_statement_is_not_a_store_outage(db: Database) -> None:
    """Errors that come back the same on every retry are the caller's own, not a store that is down."""
    row = dict(
        msg_id="m1", room_id="r", room_topic="t", sender_id="s", sender_name="n", kind="text", text="database is locked"
    )
    async with db.transaction() as s:
        s.add(MessageLog(**row, ts=NOW, received_at=NOW))
    with pytest.raises(IntegrityError) as duplicate:
        async with db.transaction() as s:
            s.add(MessageLog(**row, ts=NOW, received_at=NOW))
    assert not is_outage(duplicate.value)  # its message quotes the text "database is locked": still not an outage
    with pytest.raises(DBAPIError) as no_table:  # OperationalError on SQLite, ProgrammingError on PostgreSQL
        async with db.sessions() as s:
            await s.execute(text("SELECT nothing FROM no_such_table"))
    assert not is_outage(no_table.value)
    assert not is_outage(RuntimeError("database is locked"))


async def test_a_lost_connection_is_a_store_outage(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(select(1))
        if db.dialect == "postgresql":  # the server ends the session (a restart, a failover)
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            async with db.engine.connect() as other:
                await other.execute(text(f"SELECT pg_terminate_backend({pid})"))
        else:  # the driver's connection closed under the engine
            await (await conn.get_raw_connection()).driver_connection.close()
        with pytest.raises(DBAPIError) as lost:
            await conn.execute(select(1))
    assert is_outage(lost.value)


async def test_a_refused_connection_is_a_store_outage() -> None:
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none")  # nothing listens there
    try:
        with pytest.raises(ConnectionRefusedError) as refused:
            async with db.sessions() as s:
                await s.execute(select(1))
        assert is_outage(refused.value)
    finally:
        await db.close()


async def test_a_database_locked_by_another_process_is_a_store_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    # after the engine's own pragmas: wait 50 ms for the lock, not 5 s
    event.listen(db.engine.sync_engine, "connect", lambda conn, _: conn.cursor().execute("PRAGMA busy_timeout=50"))
    await db.open()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as locked:
            async with db.transaction() as s:
                s.add(Group(name="g", created_at=NOW))
        assert "database is locked" in str(locked.value)
        assert is_outage(locked.value)
    finally:
        other.close()
        await db.close()
