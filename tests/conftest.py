"""Shared fixtures: real PostgreSQL and Redis (skipped only outside CI), no network beyond loopback, a bot harness."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"
CONTRACT = FIXTURES / "contract" / "config-contract.yaml"
PG_URL = os.environ.get("TUANBOT_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_missing(what: str) -> None:
    """A test that needs a server it cannot reach: skip on a developer's machine, fail in CI."""
    if IN_CI:
        pytest.fail(f"{what} is not reachable, and CI=true: service tests must not skip in CI")
    pytest.skip(f"{what} is not reachable")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --- unit tests cannot reach the network by accident ------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            if host == "localhost":
                return
        raise ConnectionRefusedError(f"tests may not reach the network ({host})")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(self: socket.socket, address: Any) -> None:
        _loopback_only(address)
        _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _loopback_only(address)
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


# --- databases ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _reachable("127.0.0.1", 5432)


@pytest.fixture
async def pg_schema(pg_available: bool) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A fresh PostgreSQL schema for one test: (url, engine kwargs that put it first on the search path)."""
    if not pg_available:
        service_missing("PostgreSQL at 127.0.0.1:5432")
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    _fresh_pg_schemas.add(schema)
    try:
        yield PG_URL, {"connect_args": {"server_settings": {"search_path": schema}}}
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


_templates: dict[str, Any] = {}  # made once per test process: "sqlite", "postgres" (the store at head), "jieba"
_fresh_pg_schemas: set[str] = set()  # made by `pg_schema`, not opened yet


@pytest.fixture(autouse=True)
def _store_from_template(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A new store starts as a copy of one this process migrated to head, instead of running every alembic migration
    again for each test (SQLite: ~0.1 s, a thousand times; PostgreSQL: ~1 s): a new SQLite file is a copy of the
    template's file, a new `pg_schema` gets the template schema's DDL as `pg_dump --schema-only` wrote it (without
    `pg_dump`, or if it fails, the migrations run as before). `Database.open` still runs `alembic upgrade head` on the
    copy, which finds it at head. Tests marked `from_scratch` run the migrations on the empty store themselves."""
    if request.node.get_closest_marker("from_scratch"):
        return
    from storage.db import Database, sqlite_file

    real_open = Database.open

    async def open_from_template(self: Database) -> None:
        path = sqlite_file(self.url)
        if path is not None and path.parent.is_dir() and not path.exists():
            if "sqlite" not in _templates:
                template = tmp_path_factory.mktemp("sqlite_template") / "head.db"
                made = Database(f"sqlite+aiosqlite:///{template}")
                await real_open(made)
                await made.close()
                _templates["sqlite"] = template
            shutil.copyfile(_templates["sqlite"], path)
        elif self.dialect == "postgresql" and _fresh_pg_schemas:
            async with self.engine.connect() as conn:
                schema = (await conn.exec_driver_sql("SELECT current_schema()")).scalar()
            if schema in _fresh_pg_schemas:
                _fresh_pg_schemas.discard(schema)
                ddl = await _pg_template_ddl(real_open)
                if ddl is not None:
                    conn = await _pg_admin()
                    try:
                        await conn.execute(ddl.replace("__template__", schema))
                    finally:
                        await conn.close()
        await real_open(self)

    monkeypatch.setattr(Database, "open", open_from_template)


@pytest.fixture(autouse=True)
def _jieba_from_template(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A product matcher's jieba tokenizer (its cache in the data dir, new for each test) starts from a copy of jieba's
    prefix dictionary this process built once, instead of building it, or loading a 9 MB cache, again (~1.5 s for each
    test that reads a typo or a question). It is jieba's own dictionary only (the matcher adds the catalogue's words
    after `initialize`), so one serves every catalogue; the cache file lands in the data dir as jieba would write it
    (a hard link to the one built). `tuanbot parse`'s matcher (no cache dir) gets the copy too. Not for tests marked
    `from_scratch`."""
    if request.node.get_closest_marker("from_scratch"):
        return
    import jieba

    real_initialize = jieba.Tokenizer.initialize

    def initialize(self: jieba.Tokenizer, dictionary: str | None = None) -> None:
        own = not self.initialized and dictionary is None and self.dictionary == jieba.DEFAULT_DICT
        if not own or (self.tmp_dir and not (self.cache_file and Path(self.tmp_dir).is_dir())):
            real_initialize(self, dictionary)
            return
        if "jieba" not in _templates:
            made = jieba.Tokenizer()
            made.tmp_dir, made.cache_file = str(tmp_path_factory.mktemp("jieba_template")), "jieba.cache"
            real_initialize(made)
            _templates["jieba"] = (made.FREQ, made.total, Path(made.tmp_dir) / made.cache_file)
        freq, total, cache = _templates["jieba"]
        target = Path(self.tmp_dir) / self.cache_file if self.tmp_dir else None  # else the shared one in /tmp
        if target is not None and not target.exists():
            try:
                os.link(cache, target)
            except OSError:
                shutil.copyfile(cache, target)
        with self.lock:
            self.FREQ, self.total = dict(freq), total
            self.initialized = True

    monkeypatch.setattr(jieba.Tokenizer, "initialize", initialize)


async def _pg_admin() -> Any:
    import asyncpg

    return await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))


async def _pg_template_ddl(real_open: Any) -> str | None:
    """The DDL of a schema migrated to head (`__template__` for its name, the alembic version row included)."""
    if "postgres" in _templates:
        return _templates["postgres"]  # type: ignore[no-any-return]
    from storage.db import Database

    _templates["postgres"] = None
    template = f"t_template_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin()
    await conn.execute(f'CREATE SCHEMA "{template}"')
    try:
        made = Database(PG_URL, connect_args={"server_settings": {"search_path": template}})
        await real_open(made)
        await made.close()
        version = await conn.fetchval(f'SELECT version_num FROM "{template}".alembic_version')
        dump = shutil.which("pg_dump")
        if dump is None:
            return None
        args = ["--schema-only", "--no-owner", "--no-privileges", "--schema", template]
        dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
        proc = await asyncio.create_subprocess_exec(
            dump, *args, dsn, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
        if proc.returncode != 0 or f"CREATE TABLE {template}.alembic_version" not in out:
            return None
        lines = [
            line
            for line in out.splitlines()
            if not line.startswith("\\") and line != f"CREATE SCHEMA {template};"  # psql commands; schema exists
        ]
        lines.append(f"INSERT INTO {template}.alembic_version (version_num) VALUES ('{version}');")
        ddl = "\n".join(lines).replace(template, "__template__")
        _templates["postgres"] = ddl
        return ddl
    finally:
        await conn.execute(f'DROP SCHEMA "{template}" CASCADE')
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run a storage test on SQLite and on the real PostgreSQL: (url, engine kwargs)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", {}
    target: tuple[str, dict[str, Any]] = request.getfixturevalue("pg_schema")
    return target


def _own_redis_dbs() -> list[int]:
    """The Redis databases (1-14) this test process may use and FLUSHDB: all of them in a plain run; under
    pytest-xdist each worker gets its own share (gw0 of 2: 1, 3, 5, …), so two tests running at once never share
    one. (Database 0 holds only keys under a per-test prefix; 15 belongs to tests/test_rebuild.py alone.)"""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker.removeprefix("gw") or 0)
    dbs = [db for db in range(1, 15) if (db - 1) % count == index]
    if not dbs:
        pytest.fail(f"{count} xdist workers, but the test Redis has databases 1-14 only: run with at most 14 (-n)")
    return dbs


def use_test_redis(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the bot at a database of the shared Redis of its own (fails under CI=true when Redis is absent)."""
    if not _reachable("127.0.0.1", 6379):
        service_missing("Redis at 127.0.0.1:6379")
    dbs = _own_redis_dbs()
    url = f"redis://127.0.0.1:6379/{dbs[uuid.uuid4().int % len(dbs)]}"
    monkeypatch.setenv("TUANBOT_REDIS_URL", url)
    return url


@pytest.fixture(params=["sql", "redis"])
def gate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a stock test on SQL alone and with the Redis gate in front of it."""
    if request.param == "redis":
        use_test_redis(monkeypatch)
    else:
        monkeypatch.delenv("TUANBOT_REDIS_URL", raising=False)
    return str(request.param)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir()
    return path
