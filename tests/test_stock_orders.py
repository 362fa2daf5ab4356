"""Buy items with stock: lines past it wait (never dropped), a cancellation promotes the first waiter, nothing is
oversold — on SQL alone and with Redis in front; every order change leaves an outbox row for the backend."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.store_setup import apply_config_to_store
from storage.db import Database
from storage.models import StockCounter, SyncOutbox
from storage.shared_state import RedisState
from storage.stock import Stock
from tests.conftest import use_test_redis
from tests.harness import CONFIG, BotHarness, chain

H = "#接龙 周六丹东草莓团"
STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")


async def _left(bot: BotHarness) -> int:
    async with bot.app.db.sessions() as s:
        row = await s.get(StockCounter, "buy:caomei:草莓")
        assert row is not None
        return row.left


LINES = ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒", "6号楼 何姐 草莓1盒", "2栋 陈叔 草莓1盒"]
FULL = "合计:草莓4盒(草莓还剩0盒)\n【周六丹东草莓团】已有{}人,还差{}人成团"


async def _two_in_two_waiting(bot: BotHarness, gate: str) -> None:
    """Four lines against 4 boxes: 王阿姨 and 李姐 take them all, 何姐 and 陈叔 wait."""
    if gate == "redis":
        await bot.app.services.shared.redis.flushdb()  # type: ignore[attr-defined]
        await apply_config_to_store(bot.app.services)
    for i in range(1, 5):
        await bot.say(LINES[i - 1].split()[-2], chain(H, *LINES[:i]))
    await bot.settle(horizon=timedelta(minutes=1))
    bot.expect_said(
        [
            "✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒(草莓还剩2盒)\n【周六丹东草莓团】已有1人,还差4人成团",
            f"✅ 已记录:5-1201 李姐 草莓2盒\n{FULL.format(2, 3)}",
            f"⏳ 已满,登记候补(有人取消按顺序递补):6号楼 何姐 草莓1盒\n{FULL.format(2, 3)}",
            f"⏳ 已满,登记候补(有人取消按顺序递补):2栋 陈叔 草莓1盒\n{FULL.format(2, 3)}",
        ]
    )


async def test_lines_past_the_stock_wait_and_a_cancel_promotes_the_first(data_dir: Path, gate: str) -> None:
    async with BotHarness(data_dir, config=STOCKED) as bot:
        await _two_in_two_waiting(bot, gate)
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨", "5-1201 李姐"]
        assert [w for w, _ in await bot.orders(status="waiting")] == ["6号楼 何姐", "2栋 陈叔"]
        assert await _left(bot) == 0
        # 李姐 cancels her 2 boxes: 何姐 (1) and then 陈叔 (1) move up, in the order they came, and are told
        await bot.say("李姐", chain(H, LINES[0], "5-1201 李姐 不要了", *LINES[2:]))
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨", "6号楼 何姐", "2栋 陈叔"]
        assert await bot.orders(status="waiting") == []
        assert await _left(bot) == 0
        bot.expect_said(
            [
                "6号楼 何姐 有邻居取消了,你的候补转正啦:草莓1盒 ✅",
                "2栋 陈叔 有邻居取消了,你的候补转正啦:草莓1盒 ✅",
                # the promoted were told in person: the digest has the cancel and the new totals, no "已修改"
                f"❎ 已取消:5-1201 李姐\n{FULL.format(3, 2)}",
            ]
        )
        async with bot.app.db.sessions() as s:
            synced = [r.payload for r in await s.scalars(select(SyncOutbox).order_by(SyncOutbox.id))]
        promoted = [p for p in synced if p["participant"] == "6号楼 何姐" and p["status"] == "active"]
        assert promoted[-1]["member"] == "6号楼 何姐"  # her order, not the canceller's (李姐)


async def test_a_cancel_that_promotes_waiters_is_confirmed_as_the_cancel_alone(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=STOCKED) as bot:
        await _two_in_two_waiting(bot, "sql")
        await bot.say("李姐", chain(H, LINES[0], "5-1201 李姐 不要了", *LINES[2:]))
        bot.expect_said(
            [
                "6号楼 何姐 有邻居取消了,你的候补转正啦:草莓1盒 ✅",
                "2栋 陈叔 有邻居取消了,你的候补转正啦:草莓1盒 ✅",
                f"❎ 已取消:5-1201 李姐\n{FULL.format(3, 2)}",
            ]
        )


async def test_every_order_change_is_in_the_outbox_with_its_version(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓3盒"))
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 不要了"))
        progress = "【周六丹东草莓团】已有{}人,还差{}人成团"
        bot.expect_said(
            [
                f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress.format(1, 4)}",
                f"✏️ 已修改:3栋 王阿姨 草莓3盒\n合计:草莓3盒\n{progress.format(1, 4)}",
                f"❎ 已取消:3栋 王阿姨\n{progress.format(0, 5)}",
            ]
        )
        async with bot.app.db.sessions() as s:
            rows = list(await s.scalars(select(SyncOutbox).order_by(SyncOutbox.id)))
        assert [r.idempotency_key for r in rows] == ["order:1:v1", "order:1:v2", "order:1:v3"]
        assert [r.payload["status"] for r in rows] == ["active", "active", "cancelled"]
        assert rows[1].payload["items"] == [{"product": "草莓", "qty": 3.0, "unit": "盒"}]
        assert rows[0].payload["group"] == "阳光花园1号群"
        assert rows[0].payload["buy"] == "caomei"


async def test_a_redis_that_lost_its_counters_does_not_turn_members_away(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_redis(monkeypatch)
    async with BotHarness(data_dir, config=STOCKED) as bot:
        redis = bot.app.services.shared.redis  # type: ignore[attr-defined]
        await redis.flushdb()
        await apply_config_to_store(bot.app.services)
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        await redis.flushdb()  # Redis restarted empty: its counter is gone, SQL still has 2 boxes
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒"))
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨", "5-1201 李姐"]
        assert await _left(bot) == 0
        await bot.say("何姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒", "6号楼 何姐 草莓1盒"))
        assert [w for w, _ in await bot.orders(status="waiting")] == ["6号楼 何姐"]  # now truly sold out
        bot.expect_said(
            [
                "✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒(草莓还剩2盒)\n【周六丹东草莓团】已有1人,还差4人成团",
                f"✅ 已记录:5-1201 李姐 草莓2盒\n{FULL.format(2, 3)}",
                f"⏳ 已满,登记候补(有人取消按顺序递补):6号楼 何姐 草莓1盒\n{FULL.format(2, 3)}",
            ]
        )


async def test_a_rolled_back_order_gives_its_units_back_to_the_redis_gate(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    import bot.domain.orders as chain_orders

    use_test_redis(monkeypatch)
    real_sync, failures = chain_orders._sync, []

    def sync_fails_once(*args: object) -> None:
        if not failures:
            failures.append(1)  # the outbox write fails after the units were taken: the transaction rolls back
            raise OperationalError("INSERT INTO sync_outbox …", {}, Exception("database is locked"))
        real_sync(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(chain_orders, "_sync", sync_fails_once)
    async with BotHarness(data_dir, config=STOCKED) as bot:
        services = bot.app.services
        await services.shared.redis.flushdb()  # type: ignore[attr-defined]
        await apply_config_to_store(services)
        services.stock._trusted.add("buy:caomei:草莓")  # the gate was checked against SQL already: it is believed
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓3盒"))  # fails once, then the retry takes the units
        await services.stock.settle()
        assert failures == [1]
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨"]
        assert await _left(bot) == 1
        assert await services.shared.stock_left("buy:caomei:草莓") == 1  # the gate agrees with the SQL truth
        bot.expect_said(
            ["✅ 已记录:3栋 王阿姨 草莓3盒\n合计:草莓3盒(草莓还剩1盒)\n【周六丹东草莓团】已有1人,还差4人成团"]
        )


async def _stock(data_dir: Path, gate: str, total: int) -> tuple[Stock, Database, RedisState | None]:
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'stock.db'}")
    await db.open()
    redis = None
    if gate == "redis":
        import os

        redis = RedisState(os.environ["TUANBOT_REDIS_URL"], prefix=f"t{uuid.uuid4().hex[:8]}:")
    stock = Stock(db, gate=redis)
    await stock.ensure("flash:m", total)
    return stock, db, redis


async def test_a_batch_is_served_first_come_first_served(data_dir: Path, gate: str) -> None:
    stock, db, redis = await _stock(data_dir, gate, 5)
    try:
        async with db.transaction() as session:
            # a later, smaller want is served when an earlier, bigger one cannot be
            assert await stock.take_many(session, "flash:m", [2, 2, 2, 1, 1]) == [3, 1, None, 0, None]
        assert await stock.left("flash:m") == 0
        async with db.transaction() as session:
            assert await stock.take_many(session, "flash:m", [1, 1]) == [None, None]
        if redis is not None:
            assert await redis.stock_left("flash:m") == 0
    finally:
        await db.close()
        if redis is not None:
            await redis.close()


async def test_a_batch_against_a_drifted_gate_never_oversells(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_redis(monkeypatch)
    stock, db, redis = await _stock(data_dir, "redis", 3)
    assert redis is not None
    try:
        await redis.stock_set("flash:m", 10)  # the gate believes in more than the SQL row holds
        async with db.transaction() as session:
            assert await stock.take_many(session, "flash:m", [2, 2, 1]) == [1, None, 0]
        assert await stock.left("flash:m") == 0
        async with db.transaction() as session:
            await stock.give(session, "flash:m", 2)
        await redis.redis.delete(redis._k("stock", "flash:m"))  # then Redis restarts empty
        stock._trusted.clear()
        async with db.transaction() as session:  # the gate's "no" is checked against SQL once: members are served
            assert await stock.take_many(session, "flash:m", [1, 1, 1]) == [1, 0, None]
        assert await stock.left("flash:m") == 0
        assert await redis.stock_left("flash:m") == 0
    finally:
        await db.close()
        await redis.close()
