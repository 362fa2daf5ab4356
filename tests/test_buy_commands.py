"""A leader runs the buy from the phone (issue #15): 开团 (a configured buy now, or a new one from chat words), 截单,
延长截单, 库存 / 加库存 — in the group or privately, leaders only; what they change is stored, survives a restart and
a config reload, and a conflict with the YAML is told to the leader privately."""

from __future__ import annotations

from pathlib import Path

from tests.harness import BotHarness, chain, to

G1, G2 = "阳光花园1号群", "阳光花园2号群"
BLUEBERRY = "#接龙 周五蓝莓团"
BLUEBERRY_HEADER = "\n".join(
    [
        BLUEBERRY,
        "蓝莓 29.9元/盒,限量50盒",
        "截单:11月27日(周五) 20:00",
        "自提:东门快递柜旁 17:00-20:00",
        "例 3栋 王阿姨 蓝莓1盒",
    ]
)


async def open_blueberries(bot: BotHarness) -> None:
    await bot.say("张姐", "@小团 开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单")
    bot.expect_said([BLUEBERRY_HEADER])


async def test_a_buy_opened_from_chat_takes_two_orders_and_sums_them_up(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await open_blueberries(bot)
        await bot.say("王阿姨", chain(BLUEBERRY, "3栋 王阿姨 蓝莓2盒"))
        await bot.say("李姐", chain(BLUEBERRY, "3栋 王阿姨 蓝莓2盒", "5-1201 李姐 蓝莓1盒"))
        bot.expect_said(
            [
                "✅ 已记录:3栋 王阿姨 蓝莓2盒\n合计:蓝莓2盒(蓝莓还剩48盒)\n【周五蓝莓团】已有1人",
                "✅ 已记录:5-1201 李姐 蓝莓1盒\n合计:蓝莓3盒(蓝莓还剩47盒)\n【周五蓝莓团】已有2人",
            ]
        )
        await bot.say("张姐", "汇总 周五蓝莓团")
        bot.expect_said(
            ["【汇总】周五蓝莓团(阳光花园1号群)\n合计:蓝莓3盒\n1. 3栋 王阿姨 蓝莓2盒\n2. 5-1201 李姐 蓝莓1盒\n已有2人"]
        )
        assert await bot.orders("chat-1126-1") == [("3栋 王阿姨", ["蓝莓2盒"]), ("5-1201 李姐", ["蓝莓1盒"])]
