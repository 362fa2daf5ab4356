"""What members ask every day (#16): their own orders and what they cost (`my_orders`), what is on (`whats_on`),
a product's spec (`spec`). A member's message in, exactly what the bot says out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.harness import BotHarness, Starts, at, chain

CONFIG = """
timezone: Asia/Shanghai
bot: {name: 小团}
catalogue:
  - {name: 草莓, unit: 盒, price: 39.9, spec: 约3斤/盒}
  - {name: 五常大米, aliases: [大米], unit: 袋, price: 69}
  - {name: 车厘子, unit: 箱, price: 199, spec: 5斤/箱 JJ级}
  - {name: 豆浆, unit: 份, price: 5}
  - {name: 砂糖橘, unit: 箱, price: 29.9}
  - {name: 榴莲, unit: 个, price: 168, spec: 约5-6斤/个}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
buys:
  - id: caomei
    title: 周四草莓团
    groups: all
    items: [{product: 草莓}, {product: 豆浆}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-26 20:00
  - id: dami
    title: 五常大米阶梯团
    groups: all
    items: [{product: 五常大米}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-28 21:00
    ladder: [{members: 2, price: 62}, {members: 4, price: 55}]
  - id: cherry
    title: 智利车厘子
    groups: all
    items: [{product: 车厘子, price: 189}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 12:00
flash_sales:
  - {id: orange, product: 砂糖橘, price: 19.9, stock: 50, groups: all, start: 2026-11-26 11:00, end: 2026-11-26 12:00}
"""
STRAWBERRY = "#接龙 周四草莓团"
RICE = "#接龙 五常大米阶梯团"


def harness(data_dir: Path) -> BotHarness:
    return BotHarness(data_dir, config=CONFIG)


async def test_my_orders_lists_the_askers_orders_with_their_amounts(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain(STRAWBERRY, "3栋 王阿姨 草莓2盒 豆浆1份"))
        await bot.say("老陈", chain(STRAWBERRY, "3栋 王阿姨 草莓2盒 豆浆1份", "2栋 老陈 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=5))
        bot.expect_said([Starts("✅ 已记录:3栋 王阿姨 草莓2盒 豆浆1份;2栋 老陈 草莓1盒")])
        await bot.say("王阿姨", "我订了几盒?")
        bot.expect_said(["您接龙了【周四草莓团】草莓2盒 豆浆1份,共84.80元"])
        await bot.say("小周", "我接龙了吗")
        bot.expect_said(["您现在还没有接龙哦,要的话复制群里最新的接龙加一行就行~"])


async def test_my_orders_counts_a_ladder_at_the_tier_reached_and_a_flash_claim_at_the_sale_price(
    data_dir: Path,
) -> None:
    async with harness(data_dir) as bot:
        await bot.say("王阿姨", chain(STRAWBERRY, "3栋 王阿姨 草莓1盒"))
        await bot.say("王阿姨", chain(RICE, "3栋 王阿姨 大米2袋"))
        await bot.say("老陈", chain(RICE, "3栋 王阿姨 大米2袋", "2栋 老陈 大米1袋"))  # 2 members: 62元 a bag
        bot.clock.advance_to(at("2026-11-26 11:00"))
        await bot.say("王阿姨", "砂糖橘要2箱")
        await bot.settle(horizon=timedelta(minutes=5))
        bot.expect_said(
            [
                Starts("✅ 已记录:3栋 王阿姨 草莓1盒"),
                Starts("✅ 已记录:3栋 王阿姨 五常大米2袋;2栋 老陈 五常大米1袋"),
                Starts("⚡ 砂糖橘秒杀抢到:王阿姨2箱"),
            ]
        )
        await bot.say("王阿姨", "我都订了啥")
        bot.expect_said(
            [
                "您接龙了:\n"
                "【周四草莓团】草莓1盒,39.90元\n"
                "【五常大米阶梯团】五常大米2袋,124.00元(按现在的阶梯价62元/袋算)\n"
                "【砂糖橘秒杀】砂糖橘2箱,39.80元\n"
                "共203.70元"
            ]
        )
        await bot.say("王阿姨", "我大米订了几袋")  # a product named: that buy only
        bot.expect_said(["您接龙了【五常大米阶梯团】五常大米2袋,共124.00元(按现在的阶梯价62元/袋算)"])


async def test_whats_on_lists_the_open_buys_and_todays_flash_sale(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("小周", "今天有什么团?")
        bot.expect_said(
            [
                "现在在接龙的有:\n"
                "【周四草莓团】草莓39.9元/盒、豆浆5元/份,今天20:00截单\n"
                "【智利车厘子】车厘子189元/箱,明天12:00截单\n"
                "【五常大米阶梯团】五常大米现价69元/袋,11月28日(周六)21:00截单\n"
                "⚡砂糖橘秒杀价19.9元/箱(原价29.9元),今天11:00开抢,12:00结束,限量50箱"
            ]
        )
        bot.clock.advance_to(at("2026-11-28 22:00"))  # everything closed
        await bot.say("小周", "最近有啥团购吗")
        bot.expect_said(["本群现在没有进行中的团购,开团会在群里通知~"])


async def test_when_the_flash_sale_starts(data_dir: Path) -> None:
    async with harness(data_dir) as bot:  # no FAQ here: the reader hears a pickup time in 几点, the sale answers
        await bot.say("小周", "秒杀几点开始")
        bot.expect_said(["砂糖橘秒杀价19.9元/箱(原价29.9元),今天11:00开抢,12:00结束,限量50箱"])
        await bot.say("陈叔", "秒杀的砂糖橘几点能拿")
        bot.expect_said(["自提时间17:00-20:00,自提点:东门快递柜旁"])


async def test_spec_comes_from_the_catalogue(data_dir: Path) -> None:
    async with harness(data_dir) as bot:
        await bot.say("小周", "车厘子几斤一箱?")
        bot.expect_said(["车厘子规格:5斤/箱 JJ级,189元/箱"])
        await bot.say("王阿姨", "豆浆一份多大?")
        bot.expect_said(["豆浆5元/份,规格团长还没写,可以问下团长~"])
        await bot.say("陈叔", "榴莲一个几斤")
        bot.expect_said(["榴莲规格:约5-6斤/个,参考价168元/个,这期团购里没有"])


async def test_asked_sideways_as_people_write(data_dir: Path) -> None:
    """Kinds the reader missed on text nobody tuned to (#16): the flash sale's start as `几点开抢`, a buy named by
    the words of its title (`阶梯团`), stock as `卖光没`, after-sales with no 坏/退 (`有股怪味`), pay as `钱咋给`."""
    async with harness(data_dir) as bot:
        await bot.say("小周", "几点开抢")
        bot.expect_said(["砂糖橘秒杀价19.9元/箱(原价29.9元),今天11:00开抢,12:00结束,限量50箱"])
        await bot.say("王阿姨", "阶梯团几点截")
        bot.expect_said(["【五常大米阶梯团】11月28日(周六)21:00截单,还剩2天11小时"])
        await bot.say("陈叔", "草莓卖光没")
        bot.expect_said(["草莓还有货,今天20:00截单前都可以接龙"])
        await bot.say("李姐", "草莓有股怪味")
        bot.expect_said(["抱歉给您添麻烦了!请把草莓的照片发到群里,写明数量,团长核实后给您补发或退款。已通知团长 @张姐"])
        await bot.say("老刘", "钱咋给")
        bot.expect_said(
            [
                "复制群里对应团的最新接龙,在最后加一行写上楼栋、称呼和数量就行:\n"
                "【周四草莓团】例 3栋 王阿姨 草莓1盒,今天20:00截单\n"
                "【智利车厘子】例 3栋 王阿姨 车厘子1箱,明天12:00截单\n"
                "【五常大米阶梯团】例 3栋 王阿姨 五常大米1袋,11月28日(周六)21:00截单"
            ]
        )
