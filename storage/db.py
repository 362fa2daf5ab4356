"""The one engine of a process: where the database is, how it is opened, and its schema brought to head."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, inspect, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.settings import Settings, read_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(data_dir: Path, configured: str | None = None, settings: Settings | None = None) -> str:
    """`TUANBOT_DATABASE_URL` wins over the config's `database:`; the default is SQLite in the data dir. A relative
    SQLite path (`sqlite+aiosqlite:///tuanbot.db`) lives in the data dir too, not wherever the command was started:
    otherwise `tuanbot rebuild` run from another directory would open (and create) a different, empty database."""
    url = (settings or read_settings()).database_url or configured
    return in_data_dir(async_url(url), data_dir) if url else f"sqlite+aiosqlite:///{data_dir / 'tuanbot.db'}"


def in_data_dir(url: str, data_dir: Path) -> str:
    """`url` with a relative SQLite file anchored in `data_dir`; any other URL unchanged."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return url
    if Path(name).is_absolute():
        return url
    return parsed.set(database=str(data_dir / name)).render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for another database or an in-memory one)."""
    parsed = make_url(async_url(url))
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


async def missing_store(url: str) -> str | None:
    """Why `url` holds no tuanbot store (a SQLite file that does not exist or is empty, a database without the
    schema), or None when it has one. Commands that read an existing store (rebuild, sync) ask this before opening
    it, because opening a database creates the schema: a typo would silently check a new, empty store."""
    path = sqlite_file(url)
    if path is not None:
        if not path.exists():
            return f"no database at {path}"
        if path.stat().st_size == 0:
            return f"the database file {path} is empty"
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    if "messages" not in tables:
        where = path or make_url(async_url(url)).render_as_string(hide_password=True)
        return f"no tuanbot tables in {where} (has the bot ever run with it?)"
    return None


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
