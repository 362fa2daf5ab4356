"""A leader's commands in the group (`汇总`, `导出`): which buy they mean, and that each gets its answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from handlers.chain_orders import ChainOrders
from handlers.leader_commands import LeaderCommands
from handlers.questions import Questions
from tests.harness import BotHarness, Starts, at, chain

CONFIG = """
timezone: Asia/Shanghai
bot: {name: 小团}
catalogue:
  - {name: 草莓, unit: 盒, price: 39.9}
  - {name: 赣南脐橙, aliases: [脐橙], unit: 箱, price: 59}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: all
    items: [{product: 草莓}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-26 20:00
  - id: orange-1128
    title: 周末水果团
    groups: all
    items: [{product: 赣南脐橙}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 20:00
"""


def harness(data_dir: Path) -> BotHarness:
    return BotHarness(data_dir, config=CONFIG, handlers=[ChainOrders(), LeaderCommands(), Questions()])


async def test_a_second_summary_within_minutes_is_answered(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        summary = "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人"
        await bot.say("张姐", "汇总 caomei")
        bot.expect_said([summary])
        bot.clock.advance(3 * 60)
        await bot.say("张姐", "汇总 caomei")  # the same text 3 minutes later: the leader asked again, and waits
        bot.expect_said([summary])


ORANGES = "【汇总】周末水果团(阳光花园1号群)\n合计:赣南脐橙2箱,共118.00元\n1. 3栋 王阿姨 赣南脐橙2箱 118.00元\n已有1人"


async def test_a_summary_names_its_buy_by_a_product_or_a_word_of_its_title(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain("#接龙 周末水果团", "3栋 王阿姨 脐橙2箱"))
        await bot.say("小周", chain("#接龙 周六丹东草莓团", "5栋 小周 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=5))
        bot.expect_said([Starts("✅ 已记录:3栋 王阿姨 赣南脐橙2箱"), Starts("✅ 已记录:5栋 小周 草莓1盒")])
        for command in ("汇总 脐橙", "汇总 赣南脐橙", "汇总 水果", "汇总 orange-1128"):
            await bot.say("张姐", command)
            bot.expect_said([ORANGES])
        await bot.say("张姐", "汇总 蓝莓")
        bot.expect_said(["本群没有叫「蓝莓」的团购。"])


async def test_a_bare_summary_with_two_buys_open_answers_for_each(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("张姐", "汇总")
        bot.expect_said([Starts("【汇总】周六丹东草莓团("), Starts("【汇总】周末水果团(")])
        bot.clock.advance_to(at("2026-11-26 21:00"))  # the strawberries closed at 20:00: one buy open
        await bot.say("张姐", "汇总")
        bot.expect_said([Starts("【汇总】周末水果团(")])


async def test_a_bare_summary_with_several_buys_open_leaves_out_the_empty_ones(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain("#接龙 周末水果团", "3栋 王阿姨 脐橙2箱"))
        await bot.settle(horizon=timedelta(minutes=5))
        bot.expect_said([Starts("✅ 已记录:3栋 王阿姨 赣南脐橙2箱")])
        await bot.say("张姐", "汇总")  # the strawberry buy has no order yet: no empty list in a 500-member group
        bot.expect_said([ORANGES])
