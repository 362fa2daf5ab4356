"""限时秒杀 in the group, as members play it: first come by arrival, sold-out said once, a wait list that moves up,
and never a unit more than the stock — on SQL alone and with Redis in front."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import apply_config_to_store
from handlers.flash_sale import Attempt, read_attempt
from storage.models import FlashClaim, StockCounter, SyncOutbox
from tests.harness import CONFIG, BotHarness, at, with_flash_sale

SALE = with_flash_sale(CONFIG, stock=3, start="2026-11-26 20:00", end="2026-11-26 20:30")
G1 = "阳光花园1号群"


async def _fresh(bot: BotHarness, gate: str) -> None:
    if gate == "redis":
        await bot.app.services.shared.redis.flushdb()  # type: ignore[attr-defined]
        await apply_config_to_store(bot.app.services)


async def _claims(bot: BotHarness) -> list[tuple[str, int, str]]:
    async with bot.app.db.sessions() as s:
        rows = await s.scalars(select(FlashClaim).order_by(FlashClaim.id))
        return [(c.name, c.qty, c.status) for c in rows]


def test_what_counts_as_taking_part() -> None:
    products = ["砂糖橘", "沙糖桔"]
    assert read_attempt("抢", products) == Attempt(1, None)
    assert read_attempt("+2", products) == Attempt(2, None)
    assert read_attempt("要两箱", products) == Attempt(2, None)
    assert read_attempt("沙糖桔+1", products) == Attempt(1, "沙糖桔")
    assert read_attempt("不要了", products) == "cancel"
    for chatter in ["我要去买菜", "今天好冷", "要不要一起去", "抢到了吗", "好的"]:
        assert read_attempt(chatter, products) is None


async def test_a_flash_sale_as_the_group_plays_it(data_dir: Path, gate: str) -> None:
    async with BotHarness(data_dir, config=SALE, start=at("2026-11-26 19:59")) as bot:
        await _fresh(bot, gate)
        await bot.say("王阿姨", "抢")  # before the start: chatter
        assert await _claims(bot) == []
        bot.clock.advance_to(at("2026-11-26 20:00"))
        await bot.say("王阿姨", "抢", settle=False)
        await bot.say("李姐", "砂糖橘+2", settle=False)
        await bot.say("何姐", "我要一箱", settle=False)
        await bot.say("陈叔", "抢!", settle=False)
        await bot.settle(horizon=timedelta(minutes=1))
        assert await _claims(bot) == [
            ("王阿姨", 1, "confirmed"),
            ("李姐", 2, "confirmed"),
            ("何姐", 1, "waiting"),
            ("陈叔", 1, "waiting"),
        ]
        said = bot.said()
        assert sum("抢光" in t and "下次" in t for t in said) == 1  # the sold-out notice, once
        # the waiters are told in one notice, not one reply each
        notice = "砂糖橘已抢光啦,已登记候补:何姐第1位、陈叔第2位。有人退出会按顺序递补~"
        assert [t for t in said if "登记候补" in t] == [notice]
        assert any("秒杀抢到:王阿姨1箱、李姐2箱" in t for t in said)
        # 李姐 gives back her 2: 何姐 then 陈叔 get one each, in the order they came, and are told
        await bot.say("李姐", "不要了")
        assert [c[2] for c in await _claims(bot)] == ["confirmed", "cancelled", "confirmed", "confirmed"]
        told = [t for t in bot.said() if "候补成功" in t]
        assert [t.split()[0] for t in told] == ["何姐", "陈叔"]
        async with bot.app.db.sessions() as s:
            counter = await s.get(StockCounter, "flash:orange")
            assert counter is not None
            assert counter.left == 0
            keys = set(await s.scalars(select(SyncOutbox.idempotency_key)))
        assert {"flash:1:v1", "flash:2:v2", "flash:3:v2"} <= keys
        bot.clock.advance_to(at("2026-11-26 20:31"))
        await bot.say("小周", "抢")  # after the end: chatter again
        assert len(await _claims(bot)) == 4


async def test_a_crowd_never_gets_more_than_the_stock(data_dir: Path, gate: str) -> None:
    crowd = SALE.replace("stock: 3", "stock: 10")
    async with BotHarness(data_dir, config=crowd, start=at("2026-11-26 20:00")) as bot:
        await _fresh(bot, gate)
        events = [bot.channel.message(G1, f"邻居{i}", "抢" if i % 3 else "+2") for i in range(60)]
        await asyncio.gather(*(bot.app.handle(e) for e in events))
        async with bot.app.db.sessions() as s:
            confirmed = await s.scalar(select(func.sum(FlashClaim.qty)).where(FlashClaim.status == "confirmed"))
            counter = await s.get(StockCounter, "flash:orange")
        assert confirmed == 10
        assert counter is not None
        assert counter.left == 0
        await bot.settle()
        assert sum("抢光" in t and "下次" in t for t in bot.said()) == 1
