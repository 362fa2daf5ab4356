"""What a leader meets after 暂停 and after a cutoff that did not form (#15, docs/decisions.md):
- in a group the leader paused, the leader's own commands that post to the group (`到货`, `截单`, `延长截单`, a chat
  `开团`'s header) go out there — typed in the group or privately — while the bot's own posts stay silent;
- a buy with 成团N人 that reaches its cutoff short says plainly that it did not form, and the leader hears what
  to do."""

from __future__ import annotations

from pathlib import Path

from tests.harness import BotHarness, chain, to

G1 = "阳光花园1号群"
H = "#接龙 周六丹东草莓团"
PAUSED = "⏸ 已暂停:我在本群先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"
ARRIVED = "📦 周六丹东草莓团 到货啦!\n自提:东门快递柜旁,17:00-20:00\n请下面@到的邻居按时来取~"
CLOSED = "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n【汇总】周六丹东草莓团({})\n"
SHORT = "已有1人,未成团(差4人)"
HINT = "要多给大家些时间,发「延长截单 周六丹东草莓团 时间」;不成团就在群里说一声,已收的款记得退。"
SHORT_HINT = "「周六丹东草莓团」未成团(差4人)。" + HINT


async def test_a_paused_group_hears_its_leaders_own_posts_typed_in_the_group(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.expect_said(["✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n【周六丹东草莓团】已有1人,还差4人成团"])
        await bot.say("张姐", "暂停")
        bot.expect_said([PAUSED])
        await bot.say("张姐", "延长截单 周六20:00")  # the leader's decision: the group is told
        moved = "⏰ 周六丹东草莓团 截单时间改到11月28日(周六) 20:00,还没接龙的邻居抓紧啦~"
        bot.expect_said([moved])
        await bot.say("王阿姨", "几点截单?")  # the bot's own answers stay silent in the paused group
        bot.expect_silence(G1)
        await bot.say("张姐", "截单")
        bot.expect_said([CLOSED.format(G1) + "合计:草莓2盒,共79.80元\n1. 3栋 王阿姨 草莓2盒 79.80元\n" + SHORT])
        bot.expect_said([SHORT_HINT], to("张姐"))  # a cutoff short of 成团: the leader hears privately what to do
        await bot.say("张姐", "到货")
        bot.expect_said([ARRIVED, "请来取货~"])
        await bot.say("张姐", "开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单")
        bot.expect_said(
            [
                "#接龙 周五蓝莓团\n蓝莓 29.9元/盒,限量50盒\n截单:11月27日(周五) 20:00\n自提:东门快递柜旁 17:00-20:00\n"
                "例 3栋 王阿姨 蓝莓1盒"
            ]  # fmt: skip
        )
        paused = [e["kind"] for e in bot.logged("message_suppressed") if e["reason"] == "paused"]
        assert paused == ["reply"]  # the answer to 几点截单, and nothing of the leader's


async def test_a_paused_group_hears_its_leaders_own_posts_sent_privately(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.consume(G1)
        await bot.say_private("张姐", "暂停")  # her one group
        bot.expect_said([f"⏸ 已暂停:我在{G1}先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"], to("张姐"))
        await bot.say_private("张姐", "截单")
        bot.expect_said([CLOSED.format(G1) + "合计:草莓2盒,共79.80元\n1. 3栋 王阿姨 草莓2盒 79.80元\n" + SHORT])
        bot.expect_said([f"✅ 已截单「周六丹东草莓团」,已通知:{G1}\n{SHORT_HINT}"], to("张姐"))
        await bot.say_private("张姐", "到货")
        bot.expect_said([ARRIVED, "请来取货~"])
        bot.expect_said([f"✅ 已在{G1}(1人)发了周六丹东草莓团的到货通知。"], to("张姐"))


async def test_after_a_cutoff_short_of_forming_the_summary_says_it_did_not_form(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.consume(G1)
        await bot.say("张姐", "汇总")  # before the cutoff it can still form
        lines = "合计:草莓2盒,共79.80元\n1. 3栋 王阿姨 草莓2盒 79.80元\n"
        bot.expect_said([f"【汇总】周六丹东草莓团({G1})\n{lines}已有1人,还差4人成团"])
        bot.clock.advance(2 * 86400)  # past Friday 20:00: the buy closed with 1 of 5
        await bot.say("张姐", "汇总")
        bot.expect_said([f"【汇总】周六丹东草莓团({G1})\n{lines}{SHORT}\n{HINT}"])
        await bot.say_private("张姐", "汇总")
        bot.expect_said([f"【汇总】周六丹东草莓团\n{lines}{SHORT}\n{HINT}"], to("张姐"))
        await bot.say("王阿姨", "@小团 成团了吗")  # a member hears the plain status, not what the leader can do
        bot.expect_said([f"【周六丹东草莓团】{SHORT}"])
