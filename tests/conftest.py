"""Shared fixtures: real PostgreSQL and Redis (skipped only outside CI), no network beyond loopback, a bot harness."""

from __future__ import annotations

import ipaddress
import os
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
    try:
        yield PG_URL, {"connect_args": {"server_settings": {"search_path": schema}}}
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run a storage test on SQLite and on the real PostgreSQL: (url, engine kwargs)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", {}
    target: tuple[str, dict[str, Any]] = request.getfixturevalue("pg_schema")
    return target


def use_test_redis(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the bot at a database of the shared Redis of its own (fails under CI=true when Redis is absent)."""
    if not _reachable("127.0.0.1", 6379):
        service_missing("Redis at 127.0.0.1:6379")
    url = f"redis://127.0.0.1:6379/{1 + uuid.uuid4().int % 14}"
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
