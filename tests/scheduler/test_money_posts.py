"""Money in what the leader reads: each participant's amount and the buy's total in `汇总` and the cutoff post, at
the ladder tier the whole buy reached (every group's members count), exact to the 分."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scheduler.service import BotScheduler
from tests.harness import BotHarness, at, chain
from tests.scheduler.conftest import G1, G2, MONDAY, NEXT_MONDAY, firings, meet_rooms, scheduler_of, week_config

LADDER = """
timezone: Asia/Shanghai
bot: {name: 小团}
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
chain: {digest_every: 30s}
catalogue:
  - {name: 五常大米, aliases: [大米], unit: 袋, price: 69}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36.5}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
  - name: 阳光花园2号群
    leaders: [李哥]
buys:
  - id: dami
    title: 五常大米阶梯团
    groups: all
    items: [{product: 五常大米}, {product: 土鸡蛋}]
    opens: 2026-11-30 09:00
    cutoff: 2026-12-02 21:00
    ladder:
      - {members: 3, price: 62}
      - {members: 5, price: 55}
"""
H = "#接龙 五常大米阶梯团"


@pytest.fixture
async def ladder_bot(data_dir: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(data_dir, config=week_config(LADDER), start=MONDAY) as bot:
        await meet_rooms(bot)
        yield bot


@pytest.fixture
async def ladder_sched(ladder_bot: BotHarness) -> AsyncIterator[BotScheduler]:
    scheduler = scheduler_of(ladder_bot)
    await scheduler.start(paused=True)
    yield scheduler
    await scheduler.shutdown()


def digest(lines: str, totals: str, status: str) -> str:
    return f"✅ 已记录:{lines}\n合计:{totals}\n【五常大米阶梯团】{status}"


async def test_summary_and_cutoff_post_price_every_member_at_the_tier_reached(
    ladder_bot: BotHarness, ladder_sched: BotScheduler
) -> None:
    bot = ladder_bot
    bot.clock.advance_to(at("2026-11-30 10:00"))
    await bot.say("王阿姨", chain(H, "3栋 王阿姨 大米2袋", "5-1201 李姐 五常大米1袋 鸡蛋1盒"))
    await bot.settle()
    two = "已有2人,当前价69元,再1人降到62元"
    bot.expect_said([digest("3栋 王阿姨 五常大米2袋;5-1201 李姐 五常大米1袋 土鸡蛋1盒", "五常大米3袋,土鸡蛋1盒", two)])
    await bot.say("张姐", "汇总 dami")
    # below the first tier: the item's price (69), the eggs at theirs (36.5); 2×69 + (69 + 36.5)
    bot.expect_said(
        [
            "【汇总】五常大米阶梯团(阳光花园1号群)\n合计:五常大米3袋,土鸡蛋1盒,共243.50元\n"
            "1. 3栋 王阿姨 五常大米2袋 138.00元\n2. 5-1201 李姐 五常大米1袋 土鸡蛋1盒 105.50元\n" + two
        ]
    )
    await bot.say("陈叔", chain(H, "2栋 陈叔 大米3袋"), G2)
    await bot.settle()
    three = "已有3人,当前价62元,再2人降到55元"
    bot.expect_said([digest("2栋 陈叔 五常大米3袋", "五常大米6袋,土鸡蛋1盒", three)], G2)
    # 陈叔 joined in group 2: the buy reached 3 members, so group 1's members pay 62 too (the eggs keep 36.5)
    g1 = (
        "【汇总】五常大米阶梯团(阳光花园1号群)\n合计:五常大米3袋,土鸡蛋1盒,共222.50元\n"
        "1. 3栋 王阿姨 五常大米2袋 124.00元\n2. 5-1201 李姐 五常大米1袋 土鸡蛋1盒 98.50元\n" + three
    )
    await bot.say("张姐", "汇总 dami")
    bot.expect_said([g1])

    for when, spec in firings(bot.config, MONDAY, NEXT_MONDAY):
        if spec.kind == "cutoff":
            bot.clock.advance_to(when)
            assert await ladder_sched.fire(spec, when)
    await bot.settle()
    closed = "【截单】五常大米阶梯团 已截单,之后的接龙不再记录\n"
    g2 = "【汇总】五常大米阶梯团(阳光花园2号群)\n合计:五常大米3袋,共186.00元\n1. 2栋 陈叔 五常大米3袋 186.00元\n"
    g2 += three
    bot.expect_said([closed + g1], G1)
    bot.expect_said([closed + g2], G2)
