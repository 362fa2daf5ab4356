"""The one engine of a process: where the database is, how it is opened, and its schema brought to head."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
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
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; WAL keeps it consistent
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        # Every unit of work here ends its own transaction (commit, or rollback on error), so the pool's rollback on
        # each check-in is one more round trip per statement for nothing (measured: about a quarter of a small one).
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


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
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

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
