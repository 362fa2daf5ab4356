"""The one engine of a process: where the database is, how it is opened, and its schema brought to head."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.settings import Settings, read_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(data_dir: Path, configured: str | None = None, settings: Settings | None = None) -> str:
    """`TUANBOT_DATABASE_URL` wins over the config's `database:`; the default is SQLite in the data dir."""
    url = (settings or read_settings()).database_url or configured
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

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which knows `ON CONFLICT … DO NOTHING` (both of ours do)."""
        return dialect_insert(self.dialect)(table)

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session
