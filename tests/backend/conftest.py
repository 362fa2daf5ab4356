"""The backend over real loopback HTTP: an opened database (SQLite and PostgreSQL), the app on 127.0.0.1:0, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.backend.app import make_app
from bot.config import Config, parse_config_text
from storage.db import Database

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
G1, G2 = "阳光花园1号群", "阳光花园2号群"

RULES = """
catalogue:
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}
  - {name: 五常大米, aliases: [大米], unit: 袋, price: 69}
groups:
  - name: 阳光花园1号群
  - name: 阳光花园2号群
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: all
    items: [{product: 草莓, price: 39.9}]
    min_members: 3
  - id: dami
    title: 五常大米阶梯团
    groups: all
    items: [{product: 五常大米, price: 69}]
    ladder:
      - {members: 2, price: 62}
      - {members: 4, price: 55}
flash_sales:
  - id: caomei-flash
    product: 草莓
    price: 29.9
    stock: 10
    groups: all
    start: 2026-11-29 20:00
    end: 2026-11-29 20:30
"""


def rules_config() -> Config:
    return parse_config_text(RULES, file="rules.yaml")


def order_body(
    member: str,
    *items: tuple[str, Any, str | None],
    group: str = G1,
    buy: str = "caomei",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "group": group,
        "buy": buy,
        "member": member,
        "items": [{"product": p, "qty": q, "unit": u} for p, q, u in items],
        **extra,
    }


class Client:
    """A client of one running backend: `post`/`get` return (status, JSON body, headers)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, auth: bool = True, **kw: Any
    ) -> tuple[int, Any, Any]:
        all_headers = {**(AUTH if auth else {}), **(headers or {})}
        async with self.session.request(method, self.base + path, headers=all_headers, **kw) as resp:
            if resp.content_type == "application/json":
                body: Any = await resp.json()
            else:
                body = await resp.read()
            return resp.status, body, resp.headers

    async def post_order(self, key: str | None, body: Any) -> tuple[int, Any]:
        headers = {"Idempotency-Key": key} if key is not None else {}
        status, payload, _ = await self.request("POST", "/api/orders", headers=headers, json=body)
        return status, payload

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        status, body, _ = await self.request("GET", path, **kw)
        return status, body


@asynccontextmanager
async def running(db: Database, config: Config | None = None, *, token: str = TOKEN) -> AsyncIterator[Client]:
    runner = web.AppRunner(make_app(db, config, token=token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(session, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


@pytest.fixture
async def db(db_target: tuple[str, dict[str, Any]]) -> AsyncIterator[Database]:
    url, kwargs = db_target
    database = Database(url, **kwargs)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def serve_app(db: Database) -> Callable[..., AbstractAsyncContextManager[Client]]:
    def start(config: Config | None = None) -> AbstractAsyncContextManager[Client]:
        return running(db, config)

    return start


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    async with running(db, rules_config()) as c:
        yield c
