"""Members ask in the group; the bot answers from live data through the one sender, and says nothing to chatter."""

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
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9, spec: 约3斤/盒}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}
  - {name: 五常大米, aliases: [大米], unit: 袋, price: 69}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
  - name: 阳光花园2号群
    leaders: [李哥]
    pickup: {place: 2期南门便利店, time: "16:00-21:00"}
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [阳光花园1号群, 阳光花园2号群]
    items: [{product: 草莓, price: 39.9, stock: 120}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 20:00
    arrival: 2026-11-28 16:00
    min_members: 5
    example: 例 3栋 王阿姨 草莓1盒
  - id: dami
    title: 五常大米阶梯团
    groups: all
    items: [{product: 五常大米}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-30 21:00
    ladder: [{members: 2, price: 62}, {members: 4, price: 55}]
faq:
  - question: [可以送货上门吗, 能送到家吗]
    answer: 小区内满2件可以送到楼下。
"""
H = "#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒"
G1, G2 = "阳光花园1号群", "阳光花园2号群"


def harness(data_dir: Path) -> BotHarness:
    return BotHarness(data_dir, config=CONFIG, handlers=[ChainOrders(), LeaderCommands(), Questions()])


async def test_price_comes_from_the_buy(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("小周", "草莓多少钱一盒?")
        bot.expect_said(["草莓39.9元/盒(约3斤/盒)"])


async def test_stock_left_counts_the_orders_of_every_group(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"), group=G1)
        await bot.say("老陈", chain(H, "2栋 老陈 草莓3盒"), group=G2)
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_silence()  # the digests wait for their interval
        await bot.say("小周", "草莓还有吗")
        bot.expect_said(["草莓还剩114盒,要的抓紧接龙~"])


async def test_cutoff_says_how_long_remains(data_dir: Path) -> None:
    async with harness(data_dir) as bot:  # the clock starts at 2026-11-26 10:00
        await bot.say("小周", "啥时候截单")  # two buys open, none named: a line each, the soonest cutoff first
        bot.expect_said(["【周六丹东草莓团】明天20:00截单,还剩1天10小时\n【五常大米阶梯团】11月30日(周一)21:00截单,还剩4天11小时"])
        bot.clock.advance_to(at("2026-11-27 19:30"))
        await bot.say("小周", "今天几点截单?")
        bot.expect_said(["【周六丹东草莓团】今天20:00截单,还剩30分钟\n【五常大米阶梯团】11月30日(周一)21:00截单,还剩3天1小时"])
        await bot.say("小周", "草莓几点截单?")  # a product named: its buy only
        bot.expect_said(["【周六丹东草莓团】今天20:00截单,还剩30分钟"])
        bot.clock.advance_to(at("2026-11-27 21:00"))
        await bot.say("小周", "草莓还能接龙吗")
        bot.expect_said(["【周六丹东草莓团】已于今天20:00截单,下次开团早点来哦~"])
        await bot.say("小周", "什么时候截单")  # no product named: the group's open buy
        bot.expect_said(["【五常大米阶梯团】11月30日(周一)21:00截单,还剩3天"])


async def test_pickup_is_the_askers_group(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("小周", "在哪儿取货", group=G1)
        await bot.say("老陈", "在哪儿取货", group=G2)
        bot.expect_said(["自提点:东门快递柜旁(自提时间17:00-20:00)"], G1)
        bot.expect_said(["自提点:2期南门便利店(自提时间16:00-21:00)"], G2)


async def test_status_arrival_how_to_order_faq_and_ladder(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_silence()  # the digest waits for its interval
        await bot.say("小周", "还差几个人成团")
        await bot.say("小周", "草莓什么时候到货")
        await bot.say("小周", "怎么接龙啊")
        await bot.say("小周", "能送到家吗")
        await bot.say("小周", "大米现在多少钱")
        bot.expect_said(
            [
                "【周六丹东草莓团】已有2人,还差3人成团\n【五常大米阶梯团】已有0人,当前价69元,再2人降到62元",
                "【周六丹东草莓团】预计11月28日(周六)16:00到货,到了群里通知",
                "复制群里对应团的最新接龙,在最后加一行写上楼栋、称呼和数量就行:\n"
                "【周六丹东草莓团】例 3栋 王阿姨 草莓1盒,明天20:00截单\n"
                "【五常大米阶梯团】例 3栋 王阿姨 五常大米1袋,11月30日(周一)21:00截单",
                "小区内满2件可以送到楼下。",
                "五常大米现在69元/袋,已有0人,再2人降到62元",
            ]
        )


async def test_after_sales_answers_and_notes_the_leader(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", "鸡蛋碎了三个")
        bot.expect_said(
            ["抱歉给您添麻烦了!请把土鸡蛋的照片发到群里,写明数量,团长核实后给您补发或退款。已通知团长 @张姐"]
        )


async def test_chatter_gets_nothing(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        for who, text in [
            ("王阿姨", "早上好呀各位邻居☀️"),
            ("小周", "谢谢团长"),
            ("小周", "收到"),
            ("李姐", "[捂脸]"),
            ("小周", "李姐你明天去公园吗?"),
            ("陈叔", "明天停电吗?"),
            ("陈叔", "物业几点上班?"),
            ("刘妈妈", "螃蟹要蒸多久?"),
            ("王阿姨", "草莓真甜"),
            ("王阿姨", "12. 3栋 王阿姨 草莓2盒"),
        ]:
            await bot.say(who, text)
            bot.expect_silence()


async def test_the_same_question_inside_the_window_is_answered_once(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        pickup = "自提时间17:00-20:00,自提点:东门快递柜旁。【周六丹东草莓团】预计11月28日(周六)16:00到货,到了群里通知"
        await bot.say("小周", "几点自提?")
        bot.expect_said([pickup])
        await bot.say("王阿姨", "几点可以去拿")  # another member, same question, seconds later
        bot.expect_silence()
        bot.clock.advance(11 * 60)  # past the window (and the sender's identical-text window)
        await bot.say("陈叔", "几点自提")
        bot.expect_said([pickup])
        await bot.say("小周", "草莓还有吗")  # another question is answered at once
        bot.expect_said(["草莓还剩120盒,要的抓紧接龙~"])


async def test_a_mention_is_answered_but_mentioned_chatter_is_not(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        event = bot.channel.message(G1, "小周", "@小团\u2005草莓还有吗", mentions=("wxid_tuanbot",))
        await bot.app.handle(event)
        await bot.settle()
        bot.expect_said(["草莓还剩120盒,要的抓紧接龙~"])
        await bot.app.handle(bot.channel.message(G1, "小周", "@小团\u2005谢谢你", mentions=("wxid_tuanbot",)))
        await bot.settle()
        bot.expect_silence()


async def test_leader_commands_are_not_questions(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("张姐", "汇总")  # two buys open: a summary each, the soonest cutoff first
        bot.expect_said(
            [
                "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人,还差5人成团",
                Starts("【汇总】五常大米阶梯团(阳光花园1号群)\n合计:暂无订单"),
            ]
        )
