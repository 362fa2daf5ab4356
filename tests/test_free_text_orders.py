"""Members' orders outside the 接龙 (issue 15): `+1`, `草莓+1`, `要2盒草莓`, `我要两盒车厘子`, `不要了`, `我订了什么`,
recorded as 接龙 lines and confirmed in the digest; `chain.free_text_orders` record | hint | off. Driven as members
would: a member says this, the bot says exactly that."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.harness import CONFIG, BotHarness, at, chain, with_flash_sale

H = "#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒"
# a second buy open at the same time, selling 车厘子 (and the catalogue knowing it)
CHERRY = CONFIG.replace(
    "  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}\n",
    "  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}\n"
    "  - {name: 智利车厘子, aliases: [车厘子, 樱桃], unit: 盒, price: 128}\n",
) + (
    "  - id: chelizi\n    title: 周日车厘子团\n    groups: [阳光花园1号群]\n"
    "    items: [{product: 智利车厘子, stock: 3}]\n"
    "    opens: 2026-11-26 09:00\n    cutoff: 2026-11-28 20:00\n"
)
# one buy selling two products
BERRIES = CONFIG.replace(
    "items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9}, {product: 蓝莓}]"
)


def progress(members: int) -> str:
    left = f"还差{5 - members}人成团" if members < 5 else "已成团"
    return f"【周六丹东草莓团】已有{members}人,{left}"


def recorded(line: str, total: int, members: int) -> str:
    return f"✅ 已记录:{line}\n合计:草莓{total}盒\n{progress(members)}"


async def digest(bot: BotHarness) -> None:
    """Let the digest (every 30 s in the test config) and the replies out."""
    await bot.settle(horizon=timedelta(minutes=1))


FORMS = [
    ("+1", 1),
    ("+2", 2),
    ("草莓+1", 1),
    ("要2盒草莓", 2),
    ("我要两盒草莓", 2),
    ("草莓 来3盒", 3),
    ("草莓我要一份", 1),
    ("算我一个", 1),
    ("团长我要两盒草莓,谢谢[抱拳]", 2),
    ("@小团 草莓x2", 2),
    ("丹东草莓加一", 1),
    ("给我留两盒", 2),
    ("我也+1 🙏", 1),
    ("来俩", 2),
    ("我要三盒。", 3),
    ("＋1", 1),
    ("2份", 2),
    ("求一份草莓", 1),
    ("接龙+1", 1),
    ("一盒草莓", 1),
]


async def test_every_way_a_neighbour_says_an_order_is_recorded_and_confirmed(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        total = 0
        for n, (text, qty) in enumerate(FORMS, 1):
            await bot.say(f"邻居{n}", text)
            await digest(bot)
            total += qty
            bot.expect_said([recorded(f"邻居{n} 草莓{qty}盒", total, n)])
        assert await bot.orders() == [(f"邻居{n}", [f"草莓{qty}盒"]) for n, (_, qty) in enumerate(FORMS, 1)]


@pytest.mark.parametrize(
    "text",
    [
        "我也想要一个这样的孩子",
        "+1 同意",
        "我买了两盒草莓",
        "草莓",
        "2",
        "两个",
        "好的",
        "我也要",
        "+1+1",
        "来了",
        "要不要",
    ],
)
async def test_chatter_is_no_order(data_dir: Path, text: str) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", text)
        await digest(bot)
        bot.expect_silence()
        assert await bot.orders() == []


async def test_a_question_stays_a_question(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "草莓还有吗")
        bot.expect_said(["草莓还有货,明天20:00截单前都可以接龙"])
        await bot.say("李姐", "我要两盒草莓可以吗")
        bot.expect_said(["复制群里最新的接龙,在最后加一行写上楼栋、称呼和数量就行,例 3栋 王阿姨 草莓1盒,明天20:00截单"])
        assert await bot.orders() == []


async def test_with_no_buy_open_words_are_no_order(data_dir: Path) -> None:
    async with BotHarness(data_dir, start=at("2026-11-26 08:00")) as bot:  # the buy opens at 09:00
        await bot.say("王阿姨", "+1")
        await bot.say("李姐", "我要两盒草莓")
        await digest(bot)
        bot.expect_silence()
        bot.clock.advance_to(at("2026-11-27 20:05"))  # after the cutoff
        await bot.say("王阿姨", "草莓+1")
        await digest(bot)
        bot.expect_silence()
        assert await bot.orders() == []


async def test_the_product_named_picks_the_buy_and_a_bare_plus_one_asks_which(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=CHERRY) as bot:
        await bot.say("王阿姨", "+1")
        bot.expect_said(["王阿姨 现在接龙的有草莓、智利车厘子,要哪个?回复「草莓+1」这样就行~"])
        await bot.say("王阿姨", "我要两盒车厘子", settle=False)
        await bot.say("李姐", "车厘子 来3盒", settle=False)  # 3 are in stock: 2 taken, so she waits
        await bot.say("何姐", "草莓+1", settle=False)
        await digest(bot)
        bot.expect_said(
            [
                "✅ 已记录:王阿姨 智利车厘子2盒\n⏳ 已满,登记候补(有人取消按顺序递补):李姐 智利车厘子3盒\n"
                "合计:智利车厘子2盒(智利车厘子还剩1盒)\n【周日车厘子团】已有1人",
                recorded("何姐 草莓1盒", 1, 1),
            ]
        )
        assert await bot.orders("chelizi", status=None) == [("王阿姨", ["智利车厘子2盒"]), ("李姐", ["智利车厘子3盒"])]


async def test_a_cancel_in_words_cancels_the_only_order_and_asks_which_of_several(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=BERRIES) as bot:
        await bot.say("李姐", "不要了")  # no order: chatter, silence
        await bot.say("李姐", "取消订单")  # she means an order: told she has none
        bot.expect_said(["李姐 你还没有订单哦~"])
        await bot.say("王阿姨", "草莓+1", settle=False)
        await bot.say("王阿姨", "蓝莓2盒", settle=False)
        await digest(bot)
        bot.expect_said([f"✅ 已记录:王阿姨 草莓1盒;王阿姨 蓝莓2盒\n合计:草莓1盒,蓝莓2盒\n{progress(1)}"])
        await bot.say("王阿姨", "不要了")
        bot.expect_said(["王阿姨 你有2单:草莓1盒、蓝莓2盒,要取消哪个?回复「取消草莓」这样就行~"])
        await bot.say("王阿姨", "取消草莓")
        await digest(bot)
        bot.expect_said(["❎ 已取消:王阿姨\n合计:蓝莓2盒\n【周六丹东草莓团】已有1人,还差4人成团"])
        await bot.say("王阿姨", "我不要了")  # now her only order
        await digest(bot)
        bot.expect_said(["❎ 已取消:王阿姨\n【周六丹东草莓团】已有0人,还差5人成团"])
        await bot.say("王阿姨", "草莓不要了")
        bot.expect_said(["王阿姨 你还没有草莓的订单哦~"])
        assert await bot.orders() == []


async def test_a_cancel_in_words_cancels_a_chain_line_too(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("陈叔", chain(H, "张姐 草莓1盒", "2栋 陈叔 草莓3盒"))
        await digest(bot)
        bot.expect_said([recorded("张姐 草莓1盒;2栋 陈叔 草莓3盒", 4, 2)])
        await bot.say("陈叔", "取消")
        await digest(bot)
        bot.expect_said([f"❎ 已取消:2栋 陈叔\n合计:草莓1盒\n{progress(1)}"])
        assert await bot.orders() == [("张姐", ["草莓1盒"])]


async def test_my_orders_lists_orders_said_in_words(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "我要两盒草莓")
        await digest(bot)
        bot.expect_said([recorded("王阿姨 草莓2盒", 2, 1)])
        for question in ("我订了什么", "我接龙了吗", "我+1了吗"):
            await bot.say("王阿姨", question)
            bot.expect_said(["您接龙了【周六丹东草莓团】草莓2盒,共79.80元"])
            bot.clock.advance(200)  # past the question handler's 3-minute window for the same question
        await bot.say("李姐", "我刚才+1了没")
        bot.expect_said(["您还没有接龙【周六丹东草莓团】哦,要的话复制群里最新的接龙加一行就行~"])


async def test_the_same_words_twice_in_a_moment_are_one_order(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "草莓+1")
        await bot.say("王阿姨", "草莓+1")  # sent twice (a slow network, an impatient thumb)
        await digest(bot)
        bot.expect_said([recorded("王阿姨 草莓1盒", 1, 1)])
        bot.clock.advance(11 * 60)  # past the same-text window: she wants one more
        await bot.say("王阿姨", "草莓+1")
        await digest(bot)
        bot.expect_said([f"✅ 已记录:王阿姨 草莓1盒\n合计:草莓2盒\n{progress(1)}"])
        assert await bot.orders() == [("王阿姨", ["草莓1盒"]), ("王阿姨", ["草莓1盒"])]


# --- with the 接龙 ---------------------------------------------------------------------------------------------


async def test_her_own_chain_line_for_the_same_order_is_the_same_order(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", chain(H, "张姐 草莓1盒"), settle=False)
        await bot.say("王阿姨", "+1", settle=False)
        await digest(bot)
        bot.expect_said([recorded("张姐 草莓1盒;王阿姨 草莓1盒", 2, 2)])
        # she then writes herself into the list as she ordered: nothing new, nothing said
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓1盒"))
        await digest(bot)
        bot.expect_silence()
        assert await bot.orders() == [("张姐", ["草莓1盒"]), ("王阿姨", ["草莓1盒"])]
        # a copier's list without her line cancels nothing; one with it changes nothing
        await bot.say("李姐", chain(H, "张姐 草莓1盒", "5-1201 李姐 草莓2盒"))
        await digest(bot)
        bot.expect_said([recorded("5-1201 李姐 草莓2盒", 4, 3)])
        # her line edited to 3: her order is 3, not a second one
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓2盒"))
        await digest(bot)
        bot.expect_said([f"✏️ 已修改:3栋 王阿姨 草莓3盒\n合计:草莓6盒\n{progress(3)}"])
        assert await bot.orders() == [("张姐", ["草莓1盒"]), ("3栋 王阿姨", ["草莓3盒"]), ("5-1201 李姐", ["草莓2盒"])]
        await bot.say("王阿姨", "不要了")  # her one order, now a line of the list
        await digest(bot)
        bot.expect_said([f"❎ 已取消:3栋 王阿姨\n合计:草莓3盒\n{progress(2)}"])


async def test_her_chain_line_with_a_new_quantity_edits_her_order_after_a_restart_too(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "我要两盒草莓")
        await digest(bot)
        bot.expect_said([recorded("王阿姨 草莓2盒", 2, 1)])
        bot.app.services.forget()  # as a restart: the chain is read back from the store
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "王阿姨 草莓1盒"))
        await digest(bot)
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒\n✏️ 已修改:王阿姨 草莓1盒\n合计:草莓2盒\n{progress(2)}"])
        assert await bot.orders() == [("王阿姨", ["草莓1盒"]), ("张姐", ["草莓1盒"])]


async def test_a_copier_writing_her_in_the_list_is_a_copy_and_another_product_is_a_second_order(
    data_dir: Path,
) -> None:
    async with BotHarness(data_dir, config=BERRIES) as bot:
        await bot.say("王阿姨", "草莓+1")
        await digest(bot)
        bot.expect_said([recorded("王阿姨 草莓1盒", 1, 1)])
        # the leader copies the list and writes in 王阿姨's order as she said it: no second order
        await bot.say("张姐", chain(H, "张姐 草莓1盒", "王阿姨 草莓1"))
        await digest(bot)
        bot.expect_said([recorded("张姐 草莓1盒", 2, 2)])
        # her own line for blueberries is a second order, beside her strawberries
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "王阿姨 草莓1", "王阿姨 蓝莓2盒"))
        await digest(bot)
        bot.expect_said([f"✅ 已记录:王阿姨 蓝莓2盒\n合计:草莓2盒,蓝莓2盒\n{progress(2)}"])
        assert await bot.orders() == [("王阿姨", ["草莓1盒"]), ("张姐", ["草莓1盒"]), ("王阿姨", ["蓝莓2盒"])]


# --- limits that apply to every order ------------------------------------------------------------------------


async def test_a_flash_sale_keeps_its_plus_one_and_the_buy_keeps_its_product(data_dir: Path) -> None:
    config = with_flash_sale(CONFIG, stock=5, start="2026-11-26 10:00", end="2026-11-26 11:00")
    async with BotHarness(data_dir, config=config) as bot:
        await bot.say("王阿姨", "+1")  # the running sale's claim, as before
        await bot.say("李姐", "草莓+1")  # the open buy's product: an order of the buy
        await digest(bot)
        bot.expect_said(["⚡ 砂糖橘秒杀抢到:王阿姨1箱,还剩4箱", recorded("李姐 草莓1盒", 1, 1)])
        assert await bot.orders() == [("李姐", ["草莓1盒"])]


async def test_a_members_cap_applies_to_orders_in_words(data_dir: Path) -> None:
    config = CONFIG.replace("chain: {digest_every: 30s}", "chain: {digest_every: 30s, max_orders_per_member: 1}")
    async with BotHarness(data_dir, config=config) as bot:
        await bot.say("王阿姨", "草莓+1")
        await digest(bot)
        bot.expect_said([recorded("王阿姨 草莓1盒", 1, 1)])
        await bot.say("王阿姨", "再来两盒草莓")
        await digest(bot)
        bot.expect_said(
            ["@张姐 团长请注意:王阿姨发的接龙有1行超过上限(每条最多1000行,每人每团最多1单),没有记录,请核对~"]
        )
        assert await bot.orders() == [("王阿姨", ["草莓1盒"])]


# --- the switch --------------------------------------------------------------------------------------------------


async def test_hint_answers_once_per_member_and_records_nothing(data_dir: Path) -> None:
    config = CONFIG.replace("chain: {digest_every: 30s}", "chain: {digest_every: 30s, free_text_orders: hint}")
    async with BotHarness(data_dir, config=config) as bot:
        await bot.say("王阿姨", "我要两盒草莓")
        hint = "王阿姨 本群用接龙下单哦:复制群里最新的接龙,在末尾加一行「王阿姨 草莓2盒」再发出来~"
        bot.expect_said([hint])
        await bot.say("王阿姨", "+1")  # inside the window: not told again
        await bot.say("李姐", "+1")
        bot.expect_said(["李姐 本群用接龙下单哦:复制群里最新的接龙,在末尾加一行「李姐 草莓1盒」再发出来~"])
        bot.clock.advance(11 * 60)
        await bot.say("王阿姨", "不要了")
        bot.expect_said(["王阿姨 要取消的话,请复制群里最新的接龙,把你那行改成「王阿姨 取消」再发出来~"])
        await digest(bot)
        bot.expect_silence()
        assert await bot.orders() == []


async def test_off_leaves_words_to_the_questions_as_before(data_dir: Path) -> None:
    config = CONFIG.replace("chain: {digest_every: 30s}", "chain: {digest_every: 30s, free_text_orders: off}")
    async with BotHarness(data_dir, config=config) as bot:
        await bot.say("王阿姨", "+1")
        await bot.say("王阿姨", "我要两盒草莓")
        await bot.say("王阿姨", "不要了")
        await digest(bot)
        bot.expect_silence()
        assert await bot.orders() == []
        assert {e["handler"] for e in bot.logged("message_routed")} == {"questions"}


async def test_a_member_the_list_knows_orders_in_words_under_her_label(data_dir: Path) -> None:
    """`草莓+1` from 王阿姨, in the list as `3栋 王阿姨`: a second order, under her label, so she counts once."""
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓1盒"))
        await digest(bot)
        bot.expect_said([recorded("3栋 王阿姨 草莓1盒", 1, 1)])
        await bot.say("王阿姨", "草莓+1")
        await digest(bot)
        bot.expect_said([recorded("3栋 王阿姨 草莓1盒", 2, 1)])
        assert await bot.orders() == [("3栋 王阿姨", ["草莓1盒"]), ("3栋 王阿姨", ["草莓1盒"])]


async def test_rebuild_finds_the_orders_said_in_words_where_the_bot_put_them(data_dir: Path) -> None:
    """One write path: replaying the stored messages through a fresh bot gives the same orders."""
    from bot.cli.rebuild import rebuild

    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "+1", settle=False)
        await bot.say("李姐", "我要两盒草莓", settle=False)
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.say("李姐", "不要了", settle=False)
        await digest(bot)
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒;张姐 草莓1盒\n❎ 已取消:李姐\n合计:草莓3盒\n{progress(2)}"])
        assert await bot.orders() == [("3栋 王阿姨", ["草莓2盒"]), ("张姐", ["草莓1盒"])]
        (data_dir / "scratch").mkdir()
        assert await rebuild(bot.config, bot.app.db, scratch=data_dir / "scratch") == []
