"""A leader runs the buy from the phone (issue #15): 开团 (a configured buy now, or a new one from chat words), 截单,
延长截单, 库存 / 加库存 — in the group or privately, leaders only; what they change is stored, survives a restart and
a config reload, and a conflict with the YAML is told to the leader privately."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.cli import main
from bot.config import load_config
from bot.lifecycle import Lifecycle
from tests.harness import CONFIG, BotHarness, Starts, at, chain, to

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
            ["【汇总】周五蓝莓团(阳光花园1号群)\n合计:蓝莓3盒,共89.70元\n1. 3栋 王阿姨 蓝莓2盒 59.80元\n"
                "2. 5-1201 李姐 蓝莓1盒 29.90元\n已有2人"]
        )
        assert await bot.orders("chat-1126-1") == [("3栋 王阿姨", ["蓝莓2盒"]), ("5-1201 李姐", ["蓝莓1盒"])]
    # `tuanbot rebuild` replays the log through a fresh bot: the 开团 from chat makes the same buy, the same orders
    config = data_dir / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    database = f"sqlite:///{data_dir / 'test.db'}"
    args = ["rebuild", "--config", str(config), "--data-dir", str(data_dir), "--database", database]
    assert await asyncio.to_thread(main, args) == 0


H = "#接龙 周六丹东草莓团"


async def test_a_leader_closes_a_buy_and_opens_it_again_from_private_chat(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("陈叔", chain(H, "2栋 陈叔 草莓3盒"), G2)
        bot.expect_said(["✅ 已记录:2栋 陈叔 草莓3盒\n合计:草莓3盒\n【周六丹东草莓团】已有1人,还差4人成团"], G2)
        await bot.say("张姐", "＃截单")  # full-width #: the only open buy closes now, in both its groups
        bot.expect_said([CLOSED_G1])
        bot.expect_said([CLOSED_G2], G2)
        short = "「周六丹东草莓团」未成团(差4人)。要多给大家些时间,发「延长截单 周六丹东草莓团 时间」;"
        bot.expect_said([short + "不成团就在群里说一声,已收的款记得退。"], to("张姐"))  # what to do: privately
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))  # too late now
        bot.expect_said(["抱歉,周六丹东草莓团已于11月26日 10:01截单,3栋 王阿姨的接龙这次没能记上,下次开团早点来哦~"])
        await bot.say_private("张姐", "截单")
        bot.expect_said(["你带的群现在没有进行中的团购。"], to("张姐"))
        await bot.say_private("张姐", "延长截单 明天中午12点")  # the buy that closed last opens again
        moved = "⏰ 周六丹东草莓团 截单时间改到11月27日(周五) 12:00,还没接龙的邻居抓紧啦~"
        bot.expect_said([moved])
        bot.expect_said([moved], G2)
        bot.expect_said(
            ["✅ 「周六丹东草莓团」截单改到11月27日(周五) 12:00,已通知:阳光花园1号群、阳光花园2号群"], to("张姐")
        )
        await bot.say("何姐", chain(H, "6号楼 何姐 草莓1盒"))
        bot.expect_said(["✅ 已记录:6号楼 何姐 草莓1盒\n合计:草莓4盒\n【周六丹东草莓团】已有2人,还差3人成团"])
        await bot.say("张姐", "延长截单 草莓团 下周一 20:00")  # in the group: the announcement is the answer
        for group in (G1, G2):
            bot.expect_said(["⏰ 周六丹东草莓团 截单时间改到11月30日(周一) 20:00,还没接龙的邻居抓紧啦~"], group)
        await bot.say("张姐", "延长截单 草莓团 改天吧")
        bot.expect_said(["没看懂截单时间「改天吧」,可以这样写:周五20:00、今晚8点、明天中午12点、12月5日 20:00"])
        bot.expect_silence(G2)
        assert [e["command"] for e in bot.logged("command_run")] == ["截单", "截单", "延长截单", "延长截单", "延长截单"]


CLOSED_G1 = (
    "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n"
    "已有1人,未成团(差4人)"
)
CLOSED_G2 = (
    "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n【汇总】周六丹东草莓团(阳光花园2号群)\n合计:草莓3盒,共119.70元\n"
    "1. 2栋 陈叔 草莓3盒 119.70元\n已有1人,未成团(差4人)"
)


async def test_chat_changes_survive_a_restart_and_a_reload_and_a_conflict_is_told_privately(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    async with BotHarness(data_dir, config=load_config(path)) as bot:
        await open_blueberries(bot)
        await bot.say("张姐", "延长截单 丹东草莓 周六20:00")  # a product's alias names the buy
        bot.expect_said(["⏰ 周六丹东草莓团 截单时间改到11月28日(周六) 20:00,还没接龙的邻居抓紧啦~"])
        await bot.say("王阿姨", chain(BLUEBERRY, "3栋 王阿姨 蓝莓2盒"))
        bot.expect_said(["✅ 已记录:3栋 王阿姨 蓝莓2盒\n合计:蓝莓2盒(蓝莓还剩48盒)\n【周五蓝莓团】已有1人"])
    async with BotHarness(data_dir, config=load_config(path)) as bot:  # a restart: both changes are still there
        config = bot.app.services.config
        assert config.buy("caomei").cutoff == at("2026-11-28 20:00")  # type: ignore[union-attr]
        assert config.product("蓝莓") is not None
        assert config.buy("chat-1126-1").title == "周五蓝莓团"
        await bot.say("李姐", chain(BLUEBERRY, "3栋 王阿姨 蓝莓2盒", "5-1201 李姐 蓝莓1盒"), msg_id="r-1")
        bot.expect_said(["✅ 已记录:5-1201 李姐 蓝莓1盒\n合计:蓝莓3盒(蓝莓还剩47盒)\n【周五蓝莓团】已有2人"])
        await bot.say("张姐", "汇总 周五蓝莓团", msg_id="r-2")
        bot.expect_said(
            ["【汇总】周五蓝莓团(阳光花园1号群)\n合计:蓝莓3盒,共89.70元\n1. 3栋 王阿姨 蓝莓2盒 59.80元\n"
                "2. 5-1201 李姐 蓝莓1盒 29.90元\n已有2人"]
        )
        # The operator edits the YAML: the strawberries' cutoff moves, and a new buy takes the id chat made.
        edited = CONFIG.replace("cutoff: 2026-11-27 20:00", "cutoff: 2026-11-28 18:00") + (
            "  - id: chat-1126-1\n    title: 土鸡蛋团\n    groups: [阳光花园1号群]\n    items: [{product: 土鸡蛋}]\n"
        )
        path.write_text(edited, encoding="utf-8")
        life = Lifecycle(bot.app)
        assert await life.reload_from(path)
        await bot.settle()
        config = bot.app.services.config
        assert config.buy("caomei").cutoff == at("2026-11-28 20:00")  # type: ignore[union-attr]
        assert config.buy("chat-1126-1").title == "周五蓝莓团"  # type: ignore[union-attr]
        assert bot.app.services.plan is not None
        assert bot.app.services.plan.buy("chat-1126-1").title == "土鸡蛋团"
        bot.expect_said(
            [
                "⚠️ 配置文件里新加了团「土鸡蛋团」,编号 chat-1126-1 和你在群里开的「周五蓝莓团」重复了。"
                "现在仍按群里开的算,文件里的这个团没有生效;请在配置文件里给它换个编号。",
                "⚠️ 配置文件把「周六丹东草莓团」的截单时间改成了11月28日 18:00,你在群里改的是11月28日 20:00,"
                "现在仍按群里的算;要按文件的,发「延长截单 时间」。",
            ],
            to("张姐"),
        )
        assert await life.reload_from(path)  # told once, not at every reload
        await bot.settle()
        bot.expect_silence()


STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")
FULL = "合计:草莓4盒(草莓还剩0盒)\n【周六丹东草莓团】已有{}人,还差{}人成团"
LINES = ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒", "6号楼 何姐 草莓1盒", "2栋 陈叔 草莓1盒"]


async def test_stock_set_or_added_in_chat_moves_the_wait_list_up(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=STOCKED) as bot:
        for i in range(1, 5):  # four lines against 4 boxes: 何姐 and 陈叔 wait
            await bot.say(LINES[i - 1].split()[-2], chain(H, *LINES[:i]))
        bot.expect_said(
            [
                "✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒(草莓还剩2盒)\n【周六丹东草莓团】已有1人,还差4人成团",
                f"✅ 已记录:5-1201 李姐 草莓2盒\n{FULL.format(2, 3)}",
                f"⏳ 已满,登记候补(有人取消按顺序递补):6号楼 何姐 草莓1盒\n{FULL.format(2, 3)}",
                f"⏳ 已满,登记候补(有人取消按顺序递补):2栋 陈叔 草莓1盒\n{FULL.format(2, 3)}",
            ]
        )
        await bot.say("张姐", "加库存 草莓 1")
        bot.expect_said(
            ["6号楼 何姐 团长加了库存,你的候补转正啦:草莓1盒 ✅", "✅ 「周六丹东草莓团」草莓还剩0盒,1位候补转正"]
        )
        await bot.say_private("张姐", "库存 丹东草莓 5")  # set: 5 left from now on; 陈叔 takes one of them
        bot.expect_said(["2栋 陈叔 团长加了库存,你的候补转正啦:草莓1盒 ✅"])
        bot.expect_said(["✅ 「周六丹东草莓团」草莓还剩4盒,1位候补转正"], to("张姐"))
        assert [w for w, _ in await bot.orders()] == ["3栋 王阿姨", "5-1201 李姐", "6号楼 何姐", "2栋 陈叔"]
        await bot.say("张姐", "库存 蓝莓 5")
        bot.expect_said(["本群没有叫「蓝莓」的团购。"])
    async with BotHarness(data_dir, config=STOCKED) as bot:  # a restart: the plan shows the stock chat set
        assert bot.app.services.config.buy("caomei").items[0].stock == 10  # type: ignore[union-attr]
        await bot.say("张姐", "＃库存 周六丹东草莓团 草莓 ３", msg_id="r-1")  # full-width digits, the buy named
        bot.expect_said(["✅ 「周六丹东草莓团」草莓还剩3盒"])
        assert await bot.app.services.stock.left("buy:caomei:草莓") == 3


async def test_a_member_renamed_after_the_leader_cannot_close_the_buy(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", "延长截单 今晚8点")  # the real 张姐 first: her name is bound to her wxid
        bot.expect_said(["⏰ 周六丹东草莓团 截单时间改到11月26日(周四) 20:00,还没接龙的邻居抓紧啦~"])
        await bot.say("张姐", "截单", wxid="wxid_fake")
        await bot.say("张姐", "开团 周五蓝莓团 蓝莓 29.9元/盒", wxid="wxid_fake")
        bot.expect_silence(G1)
        bot.expect_said(["⚠️ 有人改成了你的名字「张姐」,想用团长命令「截单」,已拒绝。对方微信号:wxid_fake"], to("张姐"))
        assert [e["member_id"] for e in bot.logged("command_refused")] == ["wxid_fake", "wxid_fake"]
        assert bot.app.services.config.buy("caomei").cutoff == at("2026-11-26 20:00")  # type: ignore[union-attr]
        assert [b.id for b in bot.app.services.config.buys] == ["caomei"]


async def test_a_leader_opens_buys_from_private_chat(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("路人甲", "大家好")  # the bot knows the room of 张姐's group
        bot.expect_silence()
        await bot.say_private("张姐", "开团 周末鸡蛋团 鸡蛋 库存20 成团3人")  # a catalogue product: its price and unit
        header = ["#接龙 周末鸡蛋团", "土鸡蛋 36元/盒,限量20盒", "满3人成团", "自提:东门快递柜旁 17:00-20:00"]
        bot.expect_said(["\n".join([*header, "例 3栋 王阿姨 土鸡蛋1盒"])])
        bot.expect_said(["✅ 已开团「周末鸡蛋团」(编号 chat-1126-1),接龙已发到:阳光花园1号群"], to("张姐"))
        await bot.say_private("张姐", "开团 周末水果团 榴莲 库存5")  # not in the catalogue and no price
        bot.expect_said(
            ["「榴莲」不在商品表里,请带上价格和单位,例如:开团 周末水果团 榴莲 29.9元/盒 库存50 周五20:00截单"],
            to("张姐"),
        )
        await bot.say_private("张姐", "开团 周六丹东草莓团")  # a configured buy, open already: its header again
        bot.expect_said([Starts("#接龙 周六丹东草莓团\n草莓 39.9元/盒\n")])
        bot.expect_said(["✅ 已开团「周六丹东草莓团」,接龙已发到:阳光花园1号群"], to("张姐"))
        await bot.say_private("张姐", "开团 西瓜团")
        bot.expect_said(
            ["你带的群没有叫「西瓜团」的团购。新开团请写:开团 标题 商品 价格/单位 [库存N] [截单 时间] [成团N人]"],
            to("张姐"),
        )
        await bot.say_private("张姐", "截单")  # two open buys now: which one?
        bot.expect_said(["现在有2个团在进行,请说是哪个:「截单 周六丹东草莓团」、「截单 周末鸡蛋团」"], to("张姐"))
