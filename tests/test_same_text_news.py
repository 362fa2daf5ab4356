"""#15: the same-text window never holds back news. A digest or flash notice says something only when the group has
not been told it, so its text equal to one said minutes ago is a new change (a re-order after a cancel) and is said;
replies (two leaders' identical 代报 confirmations) were never held. Posts keep the window (tests/test_sender.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.harness import CONFIG, BotHarness, at, chain, with_flash_sale

H = "#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒"
TWO_LEADERS = CONFIG.replace("leaders: [张姐]", "leaders: [张姐, 王姐]")


def progress(members: int) -> str:
    return f"【周六丹东草莓团】已有{members}人,还差{5 - members}人成团"


RECORDED = f"✅ 已记录:老周 草莓1盒\n合计:草莓1盒\n{progress(1)}"
CANCELLED = f"❎ 已取消:老周\n{progress(0)}"
SOLD_OUT = "🈵 砂糖橘秒杀已抢光!没抢到的邻居别急,下次早点来~"


async def test_a_reorder_in_the_chain_after_a_cancel_is_confirmed_though_its_digest_reads_as_before(
    data_dir: Path,
) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("老周", chain(H, "老周 草莓1盒"))
        bot.expect_said([RECORDED])
        await bot.say("老周", chain(H, "老周 不要了"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([CANCELLED])
        await bot.say("老周", chain(H, "老周 草莓一盒"))  # she changes her mind again, two minutes later
        await bot.settle(horizon=timedelta(minutes=1))
        assert await bot.orders() == [("老周", ["草莓1盒"])]
        bot.expect_said([RECORDED])  # the same text as the first digest: the group must see the re-order


async def test_two_leaders_identical_proxy_orders_each_get_their_answer_and_the_group_its_digest(
    data_dir: Path,
) -> None:
    async with BotHarness(data_dir, config=TWO_LEADERS) as bot:
        await bot.say("张姐", "代报 老周 草莓1盒")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已代报:老周 草莓1盒,39.90元(周六丹东草莓团)", RECORDED])
        await bot.say("张姐", "取消 老周")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["❎ 已取消「老周」的订单:草莓1盒(周六丹东草莓团)", CANCELLED])
        await bot.say("王姐", "代报 老周 草莓1盒")  # the other leader, asked by 老周 again
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已代报:老周 草莓1盒,39.90元(周六丹东草莓团)", RECORDED])
        await bot.say("王姐", "代报 老周 草莓1盒")  # twice: nothing changed, and she is told so
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["「老周」已经报了草莓1盒,39.90元,没有改动(周六丹东草莓团)"])


async def test_a_flash_claim_again_after_giving_it_back_is_announced_again(data_dir: Path) -> None:
    sale = with_flash_sale(CONFIG, stock=3, start="2026-11-26 20:00", end="2026-11-26 20:30")
    waitlist = "砂糖橘已抢光啦,已登记候补:何姐第1位。有人退出会按顺序递补~"
    async with BotHarness(data_dir, config=sale, start=at("2026-11-26 20:00")) as bot:
        await bot.say("老周", "抢")
        bot.expect_said(["⚡ 砂糖橘秒杀抢到:老周1箱,还剩2箱"])
        await bot.say("老周", "不要了")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_silence()
        await bot.say("老周", "抢")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["⚡ 砂糖橘秒杀抢到:老周1箱,还剩2箱"])
        await bot.say("王阿姨", "砂糖橘+2")
        await bot.say("何姐", "抢")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["⚡ 砂糖橘秒杀抢到:王阿姨2箱,已抢光", SOLD_OUT, waitlist])
        await bot.say("何姐", "不要了")
        await bot.say("何姐", "抢")  # back in the queue, first again
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([waitlist])
