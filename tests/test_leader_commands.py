"""A leader's commands in the group (`汇总`, `导出`): which buy they mean, and that each gets its answer."""

from __future__ import annotations

from pathlib import Path

from handlers.chain_orders import ChainOrders
from handlers.leader_commands import LeaderCommands
from handlers.questions import Questions
from tests.harness import BotHarness

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
