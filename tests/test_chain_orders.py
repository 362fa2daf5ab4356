"""接龙 in a served group → stored orders and one short digest; `汇总` for leaders only. Driven as members would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.events import Outbound
from tests.harness import BotHarness, Starts, at, chain, to

H = "#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒"


def progress(members: int) -> str:
    """The last line of a digest: the buy's members so far (both groups) against its 5 to go ahead."""
    left = f"还差{5 - members}人成团" if members < 5 else "已成团"
    return f"【周六丹东草莓团】已有{members}人,{left}"


async def test_a_chain_becomes_orders_confirmed_in_one_digest(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", chain(H, "张姐 草莓1盒"), settle=False)
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.say("李姐", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓两盒"), settle=False)
        bot.expect_silence()  # nothing yet: the digest waits for its interval
        await bot.settle(horizon=timedelta(minutes=1))
        assert await bot.orders() == [
            ("张姐", ["草莓1盒"]),
            ("3栋 王阿姨", ["草莓2盒"]),
            ("5-1201 李姐", ["草莓2盒"]),
        ]
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒;5-1201 李姐 草莓2盒\n合计:草莓5盒\n{progress(3)}"])


async def test_racing_copies_keep_both_lines_and_a_missing_line_is_no_cancel(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        base = ["张姐 草莓1盒", "3栋 王阿姨 草莓2盒"]
        await bot.say("王阿姨", chain(H, *base))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒\n合计:草莓3盒\n{progress(2)}"])
        await bot.say("李姐", chain(H, *base, "5-1201 李姐 草莓1盒"))
        bot.expect_said([f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓4盒\n{progress(3)}"])
        await bot.say("何姐", chain(H, *base, "6号楼2单元 何姐 草莓3盒"))  # copied the same message: also "3."
        bot.expect_said([f"✅ 已记录:6号楼2单元 何姐 草莓3盒\n合计:草莓7盒\n{progress(4)}"])
        await bot.say("陈叔", chain(H, *base, "6号楼2单元 何姐 草莓3盒", "2栋 陈叔 草莓1盒"))  # lacks 李姐's line
        bot.expect_said([f"✅ 已记录:2栋 陈叔 草莓1盒\n合计:草莓8盒\n{progress(5)}"])  # no "已取消" for 李姐
        who = [w for w, _ in await bot.orders()]
        assert who == ["张姐", "3栋 王阿姨", "5-1201 李姐", "6号楼2单元 何姐", "2栋 陈叔"]


async def test_a_member_editing_her_line_updates_her_order(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒\n合计:草莓3盒\n{progress(2)}"])
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓3盒"))
        assert await bot.orders() == [("张姐", ["草莓1盒"]), ("3栋 王阿姨", ["草莓3盒"])]
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([f"✏️ 已修改:3栋 王阿姨 草莓3盒\n合计:草莓4盒\n{progress(2)}"])


async def test_an_explicit_cancel_cancels(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("陈叔", chain(H, "张姐 草莓1盒", "2栋 陈叔 草莓3盒"))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;2栋 陈叔 草莓3盒\n合计:草莓4盒\n{progress(2)}"])
        await bot.say("陈叔", chain(H, "张姐 草莓1盒", "2栋 陈叔 不要了"))
        assert await bot.orders() == [("张姐", ["草莓1盒"])]
        assert await bot.orders(status="cancelled") == [("2栋 陈叔", ["草莓3盒"])]
        await bot.settle(horizon=timedelta(minutes=2))
        bot.expect_said([f"❎ 已取消:2栋 陈叔\n合计:草莓1盒\n{progress(1)}"])


async def test_a_replayed_message_changes_nothing(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        text = chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒")
        await bot.say("王阿姨", text, msg_id="m1")
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒\n合计:草莓3盒\n{progress(2)}"])
        await bot.say("王阿姨", text, msg_id="m1")
        bot.expect_silence()
        await bot.say("王阿姨", text, msg_id="m2")  # the same text again under a new id: lines known by content
        bot.expect_silence()
        assert len(await bot.orders()) == 2


async def test_a_missed_message_heals_from_the_next_copy(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", chain(H, "张姐 草莓1盒"))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒\n合计:草莓1盒\n{progress(1)}"])
        # 王阿姨's message never reached the bot; 李姐's copy carries her line too
        await bot.say("李姐", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒;5-1201 李姐 草莓1盒\n合计:草莓4盒\n{progress(3)}"])
        assert [w for w, _ in await bot.orders()] == ["张姐", "3栋 王阿姨", "5-1201 李姐"]


async def test_after_the_cutoff_new_lines_are_answered_once_as_too_late(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒\n合计:草莓3盒\n{progress(2)}"])
        bot.clock.advance_to(at("2026-11-27 20:05"))
        late = chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "1-302 刘妈妈 草莓1盒")
        too_late = "抱歉,周六丹东草莓团已于11月27日 20:00截单,{}的接龙这次没能记上,下次开团早点来哦~"
        await bot.say("刘妈妈", late)
        bot.expect_said([too_late.format("1-302 刘妈妈")])
        await bot.say("小周", late + "\n4. 8栋 小周 草莓1盒")
        bot.expect_said([too_late.format("8栋 小周")])  # 刘妈妈 is not told twice
        assert [w for w, _ in await bot.orders()] == ["张姐", "3栋 王阿姨"]


async def test_a_check_in_chain_is_left_alone(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "打卡#接龙\n\n1. 王阿姨 跑步5公里\n2. 李姐 瑜伽30分钟")
        await bot.settle(horizon=timedelta(minutes=2))
        assert await bot.orders() == []
        bot.expect_silence()


async def test_an_unknown_product_is_kept_and_raised_to_the_leader(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒 榴莲1个"))
        await bot.settle(horizon=timedelta(minutes=1))
        assert await bot.orders() == [("张姐", ["草莓1盒"]), ("3栋 王阿姨", ["草莓2盒", "榴莲1个"])]
        bot.expect_said(
            [
                "✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒 榴莲1个\n❓ 请团长确认:3栋 王阿姨 草莓2盒 榴莲1个\n"
                f"合计:草莓3盒,榴莲1个\n{progress(2)}"
            ]
        )


async def test_garbage_never_crashes_the_bot(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        # A handler that raised would be logged and fail the test when the harness closes (see BotHarness.check).
        for junk in ["\x00\x01\x02", "1.\n2.\n3.", "#接龙", "1. " + "草" * 5000, "🍓" * 300, "1)2)3)"]:
            await bot.say("捣蛋鬼", junk)
            bot.expect_silence()  # no order, no reply to garbage
            assert bot.failures() == []
        assert await bot.orders() == []
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        assert await bot.orders() == [("3栋 王阿姨", ["草莓2盒"])]
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress(1)}"])


async def test_the_leader_gets_the_summary_and_members_get_nothing(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒;5-1201 李姐 草莓1盒\n合计:草莓4盒\n{progress(3)}"])
        await bot.say("王阿姨", "汇总")
        bot.expect_silence()
        await bot.say("张姐", "汇总")
        bot.expect_said(
            [
                "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:草莓4盒,共159.60元\n"
                "1. 张姐 草莓1盒 39.90元\n2. 3栋 王阿姨 草莓2盒 79.80元\n3. 5-1201 李姐 草莓1盒 39.90元\n"
                "已有3人,还差2人成团"
            ]
        )


async def test_the_leader_exports_the_buy_to_a_workbook(data_dir: Path) -> None:
    from openpyxl import load_workbook

    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
        bot.expect_said([f"✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒\n合计:草莓3盒\n{progress(2)}"])
        await bot.say("陈叔", chain(H, "2栋 陈叔 草莓3盒"), group="阳光花园2号群")
        bot.expect_said([f"✅ 已记录:2栋 陈叔 草莓3盒\n合计:草莓6盒\n{progress(3)}"], group="阳光花园2号群")
        await bot.say("王阿姨", "导出")  # not a leader: nothing
        bot.expect_silence()
        await bot.say("张姐", "导出")
        exported = "📄 周六丹东草莓团 已导出(3条,含明细、汇总、自提三张表),文件已私发给团长。"
        bot.expect_said([exported])  # never a path or a file name in the group
        [name] = bot.expect_said([Starts("caomei-")], to("张姐"))  # the file, to the leader one to one
        [path] = bot.files(to("张姐"))
        assert name == Path(path).name
        workbook = load_workbook(path)
        assert workbook.sheetnames == ["明细", "汇总", "自提"]
        rows = list(workbook["明细"].iter_rows(values_only=True))
        assert {r[0] for r in rows[1:]} == {"张姐", "3栋 王阿姨", "2栋 陈叔"}
        assert ("草莓", 6, "盒", 239.4) in [tuple(r[:4]) for r in workbook["汇总"].iter_rows(values_only=True)]
        amounts = [row[6] for row in workbook["明细"].iter_rows(min_row=2)]  # 金额: numbers the leader's Excel sums
        assert [(c.value, c.data_type, c.number_format) for c in amounts] == [
            (39.9, "n", "#,##0.00"),
            (79.8, "n", "#,##0.00"),
            (119.7, "n", "#,##0.00"),
        ]


async def test_a_line_recorded_while_a_digest_is_on_its_way_is_confirmed_next(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"), settle=False)
        channel_send = bot.channel.send
        racing = chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒")

        async def slow_send(out: Outbound) -> None:  # while the digest is being said, 李姐's copy is handled
            bot.channel.send = channel_send  # type: ignore[method-assign]
            await bot.app.handle(bot.channel.message("阳光花园1号群", "李姐", racing))
            await channel_send(out)

        bot.channel.send = slow_send  # type: ignore[method-assign]
        await bot.settle(horizon=timedelta(minutes=2))
        bot.expect_said(
            [
                f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress(1)}",
                f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n{progress(2)}",  # not lost between the two
            ]
        )


async def test_an_edit_and_a_cancel_the_bot_missed_heal_from_the_next_copy(data_dir: Path) -> None:
    """#17: 王阿姨's edit and 何姐's cancel never reached the bot; 陈叔's copy carries both: one order changed, one
    cancelled, nobody doubled, and the copier's own order untouched."""
    async with BotHarness(data_dir) as bot:
        lines = ["3栋 王阿姨 草莓2盒", "6号楼 何姐 草莓1盒"]
        await bot.say("何姐", chain(H, *lines))
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒;6号楼 何姐 草莓1盒\n合计:草莓3盒\n{progress(2)}"])
        await bot.say("陈叔", chain(H, "3栋 王阿姨 草莓3盒", "6号楼 何姐 不要了", "2栋 陈叔 草莓1盒"))
        bot.expect_said(
            [
                "✅ 已记录:2栋 陈叔 草莓1盒\n✏️ 已修改:3栋 王阿姨 草莓3盒\n❎ 已取消:6号楼 何姐\n"
                f"合计:草莓4盒\n{progress(2)}"
            ]
        )
        assert await bot.orders() == [("3栋 王阿姨", ["草莓3盒"]), ("2栋 陈叔", ["草莓1盒"])]


async def test_a_digest_the_gateway_refused_is_said_later_once(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        bot.channel.fail_next = 1
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.settle(horizon=timedelta(minutes=2))
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress(1)}"])
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
        bot.expect_said([f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n{progress(2)}"])


async def test_a_fraction_of_a_unit_that_does_not_split_is_flagged_to_the_leader(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓4.5盒"))
        bot.expect_said(
            [f"✅ 已记录:3栋 王阿姨 草莓4.5盒\n❓ 请团长确认:3栋 王阿姨 草莓4.5盒\n合计:草莓4.5盒\n{progress(1)}"]
        )
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓5盒"))  # she fixes it: nothing left to confirm
        bot.expect_said([f"✏️ 已修改:3栋 王阿姨 草莓5盒\n合计:草莓5盒\n{progress(1)}"])


async def test_orders_that_come_while_a_refused_digest_waits_to_retry_get_their_own_digest(data_dir: Path) -> None:
    """The retried digest says what it said the first time (its orders are told); orders recorded while it waits
    are named by the next one, not lost behind it (a gateway outage under load used to swallow them)."""
    async with BotHarness(data_dir) as bot:
        bot.channel.fail_next = 6  # the gateway is down for a minute: retries after 1, 2, 4, 8, 16 and 32 s fail
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.settle(horizon=timedelta(seconds=75))  # meanwhile the follow-up digest finds nothing new
        bot.expect_silence()
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"), settle=False)
        await bot.settle(horizon=timedelta(minutes=3))
        bot.expect_said(  # both are said, once each: the refused one when its retry goes through, then 李姐's
            [
                f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress(1)}",
                f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n{progress(2)}",
            ]
        )


async def test_an_order_committed_while_a_digest_found_nothing_is_confirmed_by_a_recheck(data_dir: Path) -> None:
    """The race the gateway-outage e2e test hit under load: a digest renders while a member's order transaction is
    still open (it sees nothing and is suppressed), and that transaction, having seen the digest waiting, queued
    none of its own. The empty digest looks once more an interval later."""
    from bot.notices.digest import DIGEST

    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.settle(horizon=timedelta(seconds=30))
        bot.expect_said([f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress(1)}"])
        render = bot.app.sender.renderers[DIGEST]
        racing = bot.channel.message("阳光花园1号群", "李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))

        async def render_then_commit(row: Any) -> str | None:  # the follow-up digest renders first...
            text = await render(row)
            assert text is None
            bot.app.sender.renderers[DIGEST] = render
            await bot.app.handle(racing)  # ...and 李姐's order commits after it looked, relying on it
            return text

        bot.app.sender.renderers[DIGEST] = render_then_commit
        await bot.settle(horizon=timedelta(minutes=3))
        bot.expect_said([f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n{progress(2)}"])
