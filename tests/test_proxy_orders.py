"""A leader's 代报 and 取消 for a neighbour (issue #15), in the group and privately: the order is the participant's
line of the 接龙, so a later 接龙 line under the same label is the same order; stock, the wait list, the ladder, the
digest and the summary treat it as any order. Leaders only: a member, or a member renamed after the leader, gets
nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.cli import main
from tests.harness import CONFIG as HARNESS_CONFIG
from tests.harness import BotHarness, Starts, at, chain, to, with_flash_sale

G1, G2 = "阳光花园1号群", "阳光花园2号群"
H = "#接龙 周六丹东草莓团"

CONFIG = """
timezone: Asia/Shanghai
bot: {name: 小团}
quiet_hours: "22:00-08:00"
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
chain: {digest_every: 30s}
catalogue:
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}
  - {name: 车厘子, aliases: [樱桃], unit: 盒, price: 59}
  - {name: 蓝莓, unit: 盒, price: 25}
groups:
  - name: 阳光花园1号群
    leaders: [张姐, 李哥]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
  - name: 阳光花园2号群
    leaders: [李哥]
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [阳光花园1号群, 阳光花园2号群]
    items: [{product: 草莓, price: 39.9}, {product: 车厘子, stock: 3}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 20:00
    min_members: 5
"""


STATUS = "【周六丹东草莓团】"


def digest(line: str, totals: str, members: int, cherries_left: int) -> str:
    return f"{line}\n合计:{totals}(车厘子还剩{cherries_left}盒)\n{STATUS}已有{members}人,还差{5 - members}人成团"


async def test_a_proxy_order_is_the_neighbours_line_of_the_chain(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("张姐", "代报 3栋王阿姨 车厘子2盒")
        bot.expect_said(
            [
                "✅ 已代报:3栋王阿姨 车厘子2盒,118.00元(周六丹东草莓团)",
                digest("✅ 已记录:3栋王阿姨 车厘子2盒", "车厘子2盒", 1, 1),
            ]
        )
        # the neighbour later joins the 接龙 herself, under her label: the same order, not a second one
        await bot.say("王阿姨", chain(H, "3栋王阿姨 车厘子2盒"))
        bot.expect_silence()
        # a copier carries the line written another way: a copy of it, nothing new
        await bot.say("李姐", chain(H, "3栋 王阿姨 车厘子2", "5-1201 李姐 草莓1盒"))
        bot.expect_said([digest("✅ 已记录:5-1201 李姐 草莓1盒", "车厘子2盒,草莓1盒", 2, 1)])
        assert await bot.orders(status=None) == [("3栋王阿姨", ["车厘子2盒"]), ("5-1201 李姐", ["草莓1盒"])]
        await bot.say("张姐", "汇总")
        bot.expect_said(
            [
                "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:车厘子2盒,草莓1盒,共157.90元\n"
                "1. 3栋王阿姨 车厘子2盒 118.00元\n2. 5-1201 李姐 草莓1盒 39.90元\n已有2人,还差3人成团"
            ]
        )


async def test_the_forms_a_leader_types_and_the_questions_back(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("张姐", "帮3栋王阿姨报名车厘子2盒")
        bot.expect_said(
            [
                "✅ 已代报:3栋王阿姨 车厘子2盒,118.00元(周六丹东草莓团)",
                digest("✅ 已记录:3栋王阿姨 车厘子2盒", "车厘子2盒", 1, 1),
            ]
        )
        await bot.say("张姐", "帮 3栋 王阿姨 报 草莓 2盒")  # the same participant: her one order now holds both
        await bot.say("张姐", "＠小团 ＃代报　老周　樱桃１")  # full-width, an alias, the unit left out
        bot.expect_said(
            [
                "✏️ 已改好:3栋王阿姨 车厘子2盒 草莓2盒,197.80元(周六丹东草莓团)",  # her label as first written
                digest("✏️ 已修改:3栋王阿姨 车厘子2盒 草莓2盒", "车厘子2盒,草莓2盒", 1, 1),
                "✅ 已代报:老周 车厘子1盒,59.00元(周六丹东草莓团)",
                digest("✅ 已记录:老周 车厘子1盒", "车厘子3盒,草莓2盒", 2, 0),
            ]
        )
        await bot.say("张姐", "代报 老周 车厘子1")  # said again: nothing changes
        bot.expect_said(["「老周」已经报了车厘子1盒,59.00元,没有改动(周六丹东草莓团)"])
        await bot.say("张姐", "代报 6号楼何姐 车厘子1")  # past the stock: on the wait list, like any order
        bot.expect_said(
            [
                "⏳ 已代报,但已满:6号楼何姐 车厘子1盒 登记候补,有人取消按顺序递补(周六丹东草莓团)",
                digest("⏳ 已满,登记候补(有人取消按顺序递补):6号楼何姐 车厘子1盒", "车厘子3盒,草莓2盒", 2, 0),
            ]
        )
        await bot.say("张姐", "代报 老周 西瓜2个")
        await bot.say("张姐", "代报 老周")
        await bot.say("张姐", "#代报 老周 蓝莓1")
        bot.expect_said(
            [
                "没找到商品「西瓜」,现在在卖:草莓、车厘子。请用商品名再发一次~",
                "没看懂「老周」。现在在卖:草莓、车厘子。代报请写邻居和商品数量,例如:代报 3栋王阿姨 草莓2盒",
                "「周六丹东草莓团」里没有蓝莓。",
            ]
        )
        assert await bot.orders(status=None) == [
            ("3栋王阿姨", ["车厘子2盒", "草莓2盒"]),
            ("老周", ["车厘子1盒"]),
            ("6号楼何姐", ["车厘子1盒"]),
        ]


async def test_a_leader_cancels_a_neighbours_order_or_one_product_of_it(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 车厘子2盒 草莓1盒"))
        await bot.say("老周", chain(H, "3栋 王阿姨 车厘子2盒 草莓1盒", "老周 车厘子1盒"))
        await bot.say("何姐", chain(H, "3栋 王阿姨 车厘子2盒 草莓1盒", "老周 车厘子1盒", "6号楼 何姐 车厘子1盒"))
        bot.consume(G1)  # the three digests: test_chain_orders checks them
        mark = bot.log_mark()
        await bot.say("张姐", "取消 3栋王阿姨 车厘子")  # one product off: her order keeps the rest, 何姐 moves up
        bot.expect_said(
            [
                "❎ 已取消「3栋 王阿姨」的车厘子,还剩:草莓1盒 39.90元(周六丹东草莓团)",
                "6号楼 何姐 有邻居取消了,你的候补转正啦:车厘子1盒 ✅",
                digest("✏️ 已修改:3栋 王阿姨 草莓1盒", "草莓1盒,车厘子2盒", 3, 1),
            ]
        )
        await bot.say("张姐", "取消老周的订单")
        bot.expect_said(
            [
                "❎ 已取消「老周」的订单:车厘子1盒(周六丹东草莓团)",
                digest("❎ 已取消:老周", "草莓1盒,车厘子1盒", 2, 2),
            ]
        )
        await bot.say("张姐", "取消 老周")
        await bot.say("张姐", "取消 6号 何")  # nobody's label: the close ones are named
        bot.expect_said(["没找到「老周」的订单。", "没找到「6号 何」的订单。是不是:6号楼 何姐?"])
        cancelled = bot.logged("order_cancelled", since=mark)
        assert [(e["who"], e["by"], e["reason"]) for e in cancelled] == [
            ("老周", bot.logged("command_run")[-1]["member_id"], "leader_command")
        ]
        assert await bot.orders() == [("3栋 王阿姨", ["草莓1盒"]), ("6号楼 何姐", ["车厘子1盒"])]


async def test_privately_the_answer_is_private_and_names_the_group_and_the_buy(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("王阿姨", "大家好")  # the bot knows both rooms
        await bot.say("陈叔", chain(H, "2栋 陈叔 草莓3盒"), G2)
        bot.expect_said([Starts("✅ 已记录:2栋 陈叔 草莓3盒")], G2)
        await bot.say_private("张姐", "代报 老周 草莓1")  # 张姐 leads one group: that one
        bot.expect_said(["✅ 已代报:老周 草莓1盒,39.90元(阳光花园1号群·周六丹东草莓团)"], to("张姐"))
        bot.expect_said([Starts("✅ 已记录:老周 草莓1盒\n合计:草莓4盒")])  # the digest, in the group
        await bot.say_private("李哥", "代报 老刘 草莓1")  # 李哥 leads both groups of the buy: which one?
        bot.expect_said(
            ["你带的阳光花园1号群、阳光花园2号群都在「周六丹东草莓团」,请写上群名,例如:代报 阳光花园1号群 老刘 草莓1"],
            to("李哥"),
        )
        await bot.say_private("李哥", "代报 2号群 老刘 草莓1")
        bot.expect_said(["✅ 已代报:老刘 草莓1盒,39.90元(阳光花园2号群·周六丹东草莓团)"], to("李哥"))
        bot.expect_said([Starts("✅ 已记录:老刘 草莓1盒")], G2)
        await bot.say_private("李哥", "取消 陈叔")  # one group has 陈叔: that one, and the answer says so
        bot.expect_said(["❎ 已取消「2栋 陈叔」的订单:草莓3盒(阳光花园2号群·周六丹东草莓团)"], to("李哥"))
        bot.expect_said([Starts("❎ 已取消:2栋 陈叔")], G2)
        bot.expect_silence(G1)
    assert await rebuilt(data_dir) == 0


async def test_members_get_nothing_and_a_renamed_member_is_refused(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("张姐", "代报 老周 草莓1")  # the real 张姐 first: her name is bound to her wxid
        bot.expect_said([Starts("✅ 已代报:老周 草莓1盒"), Starts("✅ 已记录:老周 草莓1盒")])
        await bot.say("王阿姨", "代报 3栋王阿姨 草莓2盒")
        await bot.say("王阿姨", "取消 老周")
        await bot.say_private("王阿姨", "代报 3栋王阿姨 草莓2盒")
        await bot.say("张姐", "取消 老周", wxid="wxid_fake")  # renamed after the leader: refused
        await bot.say("张姐", "代报 5-1201 李姐 草莓9盒", wxid="wxid_fake")
        bot.expect_silence(G1)
        bot.expect_silence(to("王阿姨"))
        bot.expect_said(["⚠️ 有人改成了你的名字「张姐」,想用团长命令「取消」,已拒绝。对方微信号:wxid_fake"], to("张姐"))
        refused = [(e["member_id"], e["command"]) for e in bot.logged("leader_refused")]
        assert refused == [("wxid_fake", "取消"), ("wxid_fake", "代报")]
        assert await bot.orders() == [("老周", ["草莓1盒"])]


async def test_after_a_restart_the_neighbours_line_is_still_the_same_order(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("张姐", "代报 3栋王阿姨 车厘子2盒", msg_id="p-1")
        bot.expect_said([Starts("✅ 已代报:3栋王阿姨 车厘子2盒"), Starts("✅ 已记录:3栋王阿姨 车厘子2盒")])
    async with BotHarness(data_dir, config=CONFIG) as bot:
        await bot.say("王阿姨", chain(H, "3栋王阿姨 车厘子3盒"), msg_id="p-2")  # her own line, changed: her edit
        bot.expect_said([digest("✏️ 已修改:3栋王阿姨 车厘子3盒", "车厘子3盒", 1, 0)])
        await bot.say("张姐", "取消 3栋王阿姨 樱桃", msg_id="p-3")
        bot.expect_said(
            ["❎ 已取消「3栋王阿姨」的车厘子(周六丹东草莓团)", f"❎ 已取消:3栋王阿姨\n{STATUS}已有0人,还差5人成团"]
        )
        await bot.say("张姐", "代报 3栋王阿姨 车厘子1盒", msg_id="p-4")  # ordered again after the cancel: a new order
        bot.expect_said([Starts("✅ 已代报:3栋王阿姨 车厘子1盒"), Starts("✅ 已记录:3栋王阿姨 车厘子1盒")])
        assert await bot.orders(status=None) == [("3栋王阿姨", ["车厘子3盒"]), ("3栋王阿姨", ["车厘子1盒"])]
    assert await rebuilt(data_dir) == 0  # `tuanbot rebuild` replays the log through a fresh bot: the same orders


async def rebuilt(data_dir: Path) -> int:
    config = data_dir / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    database = f"sqlite:///{data_dir / 'test.db'}"
    args = ["rebuild", "--config", str(config), "--data-dir", str(data_dir), "--database", database]
    return await asyncio.to_thread(main, args)


FLASH = with_flash_sale(HARNESS_CONFIG, stock=3, start="2026-11-26 10:00", end="2026-11-26 12:00")


async def test_a_flash_sale_product_is_claimed_for_the_neighbour_and_given_back(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=FLASH) as bot:
        await bot.say("王阿姨", "抢2箱")
        bot.expect_said(["⚡ 砂糖橘秒杀抢到:王阿姨2箱,还剩1箱"])
        await bot.say("张姐", "代报 老周 砂糖橘1")  # the sale's stock, in arrival order, like any claim
        bot.expect_said(
            [
                "✅ 已代抢:老周 砂糖橘1箱,19.90元(砂糖橘限时秒杀)",
                "⚡ 砂糖橘秒杀抢到:老周1箱,已抢光",
                "🈵 砂糖橘秒杀已抢光!没抢到的邻居别急,下次早点来~",
            ]
        )
        await bot.say("张姐", "代报 3栋何姐 沙糖桔1")
        bot.expect_said(
            [
                "⏳ 已抢光:3栋何姐 砂糖橘1箱 登记候补,有人退出按顺序递补(砂糖橘限时秒杀)",
                "砂糖橘已抢光啦,已登记候补:3栋何姐第1位。有人退出会按顺序递补~",
            ]
        )
        await bot.say("张姐", "取消 老周")  # the claim's units go to the first waiter, who is told
        bot.expect_said(
            ["❎ 已取消「老周」的秒杀:砂糖橘1箱(砂糖橘限时秒杀)", "3栋何姐 有邻居退出,你候补成功啦:砂糖橘1箱 🎉"]
        )
        cancelled = [(e["by"], e["reason"]) for e in bot.logged("flash_cancelled")]
        assert cancelled == [(bot.logged("command_run")[-1]["member_id"], "leader_command")]


TWO_BUYS = (
    CONFIG
    + """  - id: lanmei
    title: 周五蓝莓团
    groups: [阳光花园1号群]
    items: [{product: 蓝莓}, {product: 草莓, price: 35}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 18:00
"""
)


async def test_with_two_buys_open_the_product_or_the_title_names_the_buy(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=TWO_BUYS) as bot:
        await bot.say("张姐", "代报 老周 蓝莓2")  # only the blueberry buy sells 蓝莓
        bot.expect_said(["✅ 已代报:老周 蓝莓2盒,50.00元(周五蓝莓团)", Starts("✅ 已记录:老周 蓝莓2盒")])
        await bot.say("张姐", "代报 老周 草莓1")  # both sell 草莓: which one?
        bot.expect_said(
            ["草莓在「周六丹东草莓团」、「周五蓝莓团」都有,请在后面写上团名,例如:代报 老周 草莓1 周六丹东草莓团"]
        )
        await bot.say("张姐", "代报 老周 草莓1 周五蓝莓团")  # the title decides (its 草莓 read as no item)
        bot.expect_said(["✏️ 已改好:老周 蓝莓2盒 草莓1盒,85.00元(周五蓝莓团)", Starts("✏️ 已修改:老周 蓝莓2盒 草莓1盒")])
        await bot.say("张姐", "取消 老周 草莓")
        bot.expect_said(["❎ 已取消「老周」的草莓,还剩:蓝莓2盒 50.00元(周五蓝莓团)", Starts("✏️ 已修改:老周 蓝莓2盒")])
        bot.clock.advance_to(at("2026-11-27 18:30"))  # the blueberry buy has closed
        await bot.say("张姐", "代报 老周 蓝莓1")
        await bot.say("张姐", "取消 老周")  # his order of the closed buy: still his, the leader may cancel it
        bot.expect_said(
            [
                "「周五蓝莓团」已截单,要补报请先发「延长截单 周五蓝莓团 时间」。",
                "❎ 已取消「老周」的订单:蓝莓2盒(周五蓝莓团)",
                Starts("❎ 已取消:老周"),
            ]
        )
