"""The one engine of a process: where the database is, how it is opened, and its schema brought to head."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from threading import Thread
from typing import Any

import aiosqlite
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, make_url
from sqlalchemy import exc as exc_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(data_dir: Path, configured: str | None = None) -> str:
    """`TUANBOT_DATABASE_URL` wins over the config's `database:`; the default is SQLite in the data dir."""
    url = os.environ.get("TUANBOT_DATABASE_URL") or configured
    return async_url(url) if url else f"sqlite+aiosqlite:///{data_dir / 'tuanbot.db'}"


def async_url(url: str) -> str:
    """The URLs operators copy from elsewhere (`postgresql://`, `sqlite:///`), with the async drivers we ship."""
    for plain, async_ in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    (journal_mode,) = cur.fetchone()
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; WAL keeps it consistent
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()
    driver = getattr(dbapi_conn, "driver_connection", None)
    if isinstance(driver, OneTripConnection):
        driver.inline_writes = journal_mode == "wal" and driver.cross_thread


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        # Every unit of work here ends its own transaction (commit, or rollback on error), so the pool's rollback on
        # each check-in is one more round trip per statement for nothing (measured: about a quarter of a small one).
        kwargs.setdefault("pool_reset_on_return", None)
        if url.startswith("sqlite+aiosqlite"):
            # the driver's arguments SQLAlchemy would pass (path, uri, check_same_thread), and any given here
            args, options = make_url(url).get_dialect()().create_connect_args(make_url(url))
            options.update(kwargs.pop("connect_args", {}))
            kwargs.setdefault("async_creator", partial(OneTripConnection.open, *args, **options))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


#: what a statement left for its cursor: description, rowcount, lastrowid, rows
Executed = tuple[Any, int, int | None, list[Any]]


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, with at most one trip to its thread per statement instead of three or four.

    SQLAlchemy's aiosqlite adapter drives a cursor step by step — open it, execute, fetch the rows, close it — and
    each step is a hop to the connection's thread and back (~50–150 µs each here: a queue put, a thread wake-up, a
    loop wake-up), where SQLite itself takes ~20 µs for one of our statements. Our cursor does the four steps in one
    call (`_execute_and_fetch`) and hands the adapter what it reads afterwards (rows, description, rowcount, lastrowid).

    And once a write transaction holds SQLite's write lock (a write statement ran in it), its next statements run
    on the calling thread, with no hop at all: on a WAL database SQLite never waits for a lock while it holds the
    write lock, so such a statement cannot stall the event loop on another writer. Everything that may wait still
    goes to the thread: the first write of a transaction (it takes the lock, waiting up to `busy_timeout`), reads
    outside a write transaction, and the commit (it may checkpoint the WAL). Only on a WAL file database opened for
    use across threads (`inline_writes`, set when the connection is opened); elsewhere, every call takes the trip.
    Statements, transactions and errors are the driver's own; only where the call runs changes."""

    #: a WAL database whose connection may be used from the loop's thread: see the class docstring
    inline_writes = False
    #: opened with `check_same_thread=False` (SQLAlchemy does so for a file database)
    cross_thread = False
    #: this connection holds SQLite's write lock: a write statement ran in the open transaction
    _writing = False

    @classmethod
    def open(cls, database: str, **options: Any) -> OneTripConnection:
        """Like `aiosqlite.connect` (the connection is awaited by SQLAlchemy, which opens it on its thread)."""
        conn = cls(partial(sqlite3.connect, database, **options), iter_chunk_size=64)
        # as SQLAlchemy does for its own: an unclosed connection must not hold the process's exit (aiosqlite < 0.20
        # is a Thread itself)
        (conn if isinstance(conn, Thread) else conn._thread).daemon = True
        conn.cross_thread = options.get("check_same_thread", True) is False
        return conn

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def statement(self, sql: str, parameters: Any, *, many: bool = False) -> Executed:
        """One statement: on the calling thread while this connection holds the write lock, else on its thread."""
        raw = self._conn
        if self._writing and raw.in_transaction:
            done = _execute_and_fetch(raw, sql, parameters, many=many)
        else:
            done = await self._execute(_execute_and_fetch, raw, sql, parameters, many=many)
        # a write statement (rowcount ≥ 0, even for no row) took the write lock, which the transaction keeps
        self._writing = self.inline_writes and raw.in_transaction and (self._writing or done[1] >= 0)
        return done

    async def commit(self) -> None:
        self._writing = False
        await super().commit()

    async def rollback(self) -> None:
        self._writing = False
        await super().rollback()


class OneTripCursor:
    """A cursor of `OneTripConnection`: the parts of aiosqlite's cursor SQLAlchemy's adapter uses, each statement
    executed, fetched and closed in one call (`OneTripConnection.statement`)."""

    arraysize = 1

    def __init__(self, conn: OneTripConnection) -> None:
        self._conn = conn
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        self._took(await self._conn.statement(sql, parameters or ()))
        return self

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        self._took(await self._conn.statement(sql, parameters, many=True))
        return self

    def _took(self, executed: Executed) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = executed

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []  # the sqlite3 cursor was closed already

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, OneTripCursor]:  # `await conn.cursor()` works as with aiosqlite
        return self.__aenter__().__await__()


def _execute_and_fetch(conn: sqlite3.Connection, sql: str, parameters: Any, *, many: bool) -> Executed:
    """Execute, fetch every row, close: one call, on whichever thread `OneTripConnection.statement` chose."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def dialect_insert(dialect: str) -> Callable[[Any], Any]:
    """`insert` of the dialect named (`Database.dialect`): it knows `ON CONFLICT … DO NOTHING` (both of ours do)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _upgrade(connection: Connection) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class Database:
    """Owns the engine and the session factory; `open()` migrates to head, `close()` disposes."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = async_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite's fast lane for the reply path's one-statement writes; None on PostgreSQL (SQLAlchemy all the way)
        # (a file only: an in-memory database has one connection, which the lane's autocommit would take from
        # every transaction)
        on_file = self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:")
        self.lane = FastLane(self.engine) if on_file else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which knows `ON CONFLICT … DO NOTHING` (both of ours do)."""
        return dialect_insert(self.dialect)(table)

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)
        if self.lane is not None:
            await self.lane.open()

    async def close(self) -> None:
        if self.lane is not None:
            await self.lane.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session


class FastLane:
    """SQLite only: the reply path's one-statement writes (the message log, the outbound queue) on a connection of
    their own, checked out of the engine's pool once (so every pragma and connect hook applies) and driven through
    aiosqlite directly in autocommit: one thread hop per write instead of SQLAlchemy's four or five. Measured on the
    e2e reply path: ~1.5–2 ms → ~0.2 ms per write. Each `run` is one statement and its own transaction. Values are
    stored exactly as SQLAlchemy stores them (`sqlite_value`, checked against the ORM in tests/test_storage.py);
    errors are raised as SQLAlchemy's, so callers handle one kind."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: Any = None  # the checked-out AsyncConnection that owns the driver connection
        self._driver: Any = None  # its aiosqlite.Connection, in autocommit: each statement is its own transaction

    async def run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Execute one statement as its own transaction: the rows it returned (RETURNING, SELECT)."""
        values = [sqlite_value(v) for v in params]
        if self._driver is None:
            await self.open()
        try:
            return list(await self._driver.execute_fetchall(sql, values))  # one thread hop
        except sqlite3.Error as exc:
            kind = exc_.IntegrityError if isinstance(exc, sqlite3.IntegrityError) else exc_.OperationalError
            raise kind(sql, values, exc) from exc

    async def open(self) -> None:
        if self._conn is None:
            self._conn = conn = await self.engine.connect()
            # SQLAlchemy's own switch: it puts the driver in autocommit and resets it when the connection goes back
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._driver = (await conn.get_raw_connection()).driver_connection

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = self._driver = None


def sqlite_value(value: Any) -> Any:
    """A Python value as SQLAlchemy writes it to SQLite for our column types: aware datetimes as UTC text with
    microseconds (`UTCDateTime` over `DateTime`), lists and dicts as JSON text (`JSON`)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware times only")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value
