"""The sync worker against a backend on loopback: each change once in effect, through failures and restarts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from storage.models import SyncOutbox
from storage.sync import SyncWorker
from tests.harness import BotHarness, chain

H = "#接龙 周六丹东草莓团"


@dataclass
class FakeBackend:
    """Stores by Idempotency-Key like the real one; can fail the next N requests or reject everything."""

    stored: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    fail_next: int = 0
    reject: bool = False
    token: str = "t0ken"
    url: str = ""

    async def orders(self, request: web.Request) -> web.Response:
        key = request.headers["Idempotency-Key"]
        self.requests.append(key)
        if request.headers["Authorization"] != f"Bearer {self.token}":
            return web.json_response({"error": "wrong token"}, status=403)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": "busy"}, status=503)
        if self.reject:
            return web.json_response({"error": "bad order"}, status=400)
        self.stored.setdefault(key, json.loads(await request.text()))
        return web.json_response({"ok": True}, status=201)


@pytest.fixture
async def backend() -> AsyncIterator[FakeBackend]:
    fake = FakeBackend()
    app = web.Application()
    app.router.add_post("/api/orders", fake.orders)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


DIGEST = "{}\n合计:草莓{}盒\n【周六丹东草莓团】已有{}人,还差{}人成团"


async def _one_change(bot: BotHarness) -> None:
    await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
    bot.expect_said([DIGEST.format("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1, 4)])


async def _three_changes(bot: BotHarness) -> None:
    await _one_change(bot)
    await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
    await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"))
    bot.expect_said(
        [
            DIGEST.format("✅ 已记录:5-1201 李姐 草莓1盒", 3, 2, 3),
            DIGEST.format("✏️ 已修改:3栋 王阿姨 草莓3盒", 4, 2, 3),
        ]
    )


async def _statuses(bot: BotHarness) -> list[str]:
    async with bot.app.db.sessions() as s:
        return list(await s.scalars(select(SyncOutbox.status).order_by(SyncOutbox.id)))


async def test_every_change_reaches_the_backend_once(data_dir: Path, backend: FakeBackend) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_changes(bot)
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock, first_wait=0.01) as worker:
            assert await worker.send_pending() == 3
            assert await worker.send_pending() == 0
    assert list(backend.stored) == ["order:1:v1", "order:2:v1", "order:1:v2"]
    assert backend.stored["order:1:v2"]["items"] == [{"product": "草莓", "qty": 3.0, "unit": "盒"}]


async def test_transient_failures_are_retried_with_backoff(data_dir: Path, backend: FakeBackend) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_changes(bot)
        backend.fail_next = 2
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock, first_wait=0.01) as worker:
            assert await worker.send_pending() == 3
        assert await _statuses(bot) == ["sent", "sent", "sent"]
    assert backend.requests[:3] == ["order:1:v1"] * 3
    assert len(backend.stored) == 3


async def test_a_backend_that_stays_down_is_tried_later_and_nothing_is_lost(
    data_dir: Path, backend: FakeBackend
) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_changes(bot)
        backend.fail_next = 10**6
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock, first_wait=0.01, attempts=2) as worker:
            assert await worker.send_pending() == 0
            assert await _statuses(bot) == ["pending"] * 3
            assert await worker.send_pending() == 0  # not due yet: nothing is hammered
            backend.fail_next = 0
            bot.clock.advance(5)
            assert await worker.send_pending() == 3
    assert len(backend.stored) == 3


async def test_a_restarted_worker_resumes_and_a_resend_is_stored_once(data_dir: Path, backend: FakeBackend) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_changes(bot)
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock, batch=1) as worker:
            assert await worker.send_pending() == 1  # then the process dies
        async with bot.app.db.transaction() as s:  # and it died after the POST, before marking the row
            row = await s.scalar(select(SyncOutbox).where(SyncOutbox.idempotency_key == "order:1:v1"))
            assert row is not None
            row.status = "pending"
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock) as worker:
            assert await worker.send_pending() == 3
    assert backend.requests.count("order:1:v1") == 2
    assert len(backend.stored) == 3


async def test_a_rejected_change_is_marked_failed_for_the_operator(data_dir: Path, backend: FakeBackend) -> None:
    async with BotHarness(data_dir) as bot:
        await _one_change(bot)
        backend.reject = True
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock) as worker:
            assert await worker.send_pending() == 0
            bot.clock.advance(timedelta(hours=1).total_seconds())
            assert await worker.send_pending() == 0
        assert await _statuses(bot) == ["failed"]
    assert backend.requests == ["order:1:v1"]


async def test_a_rotated_token_keeps_the_change_until_the_token_is_right(data_dir: Path, backend: FakeBackend) -> None:
    async with BotHarness(data_dir) as bot:
        await _one_change(bot)
        backend.token = "new-t0ken"  # the leader's backend rotated its token; the bot still has the old one
        async with SyncWorker(bot.app.db, backend.url, "t0ken", bot.clock, first_wait=0.01, attempts=2) as worker:
            assert await worker.send_pending() == 0
        assert await _statuses(bot) == ["pending"]  # kept, not failed
        bot.clock.advance(60)
        async with SyncWorker(bot.app.db, backend.url, "new-t0ken", bot.clock) as worker:
            assert await worker.send_pending() == 1
    assert list(backend.stored) == ["order:1:v1"]
