"""A leader talks to the bot one to one (issue #15): commands work there as in the group, their answers come back
privately, the 导出 workbook is sent to the leader as a file wherever it was asked for, and anyone else's private
message is left alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from handlers.leader_commands import HELP
from tests.harness import CONFIG, BotHarness, Starts, chain, to

H = "#接龙 周六丹东草莓团"
G1, G2 = "阳光花园1号群", "阳光花园2号群"
SUMMARY = "\n".join(
    [
        "【汇总】周六丹东草莓团",
        "合计:草莓5盒,共199.50元",
        "1. 3栋 王阿姨 草莓2盒 79.80元",
        "2. 2栋 陈叔 草莓3盒 119.70元",
        "已有2人,还差3人成团",
    ]
)


async def _two_groups_ordered(bot: BotHarness) -> None:
    await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
    bot.expect_said(["✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n【周六丹东草莓团】已有1人,还差4人成团"])
    await bot.say("陈叔", chain(H, "2栋 陈叔 草莓3盒"), G2)
    bot.expect_said(["✅ 已记录:2栋 陈叔 草莓3盒\n合计:草莓5盒\n【周六丹东草莓团】已有2人,还差3人成团"], G2)


async def test_a_leaders_private_summary_covers_the_whole_buy_and_stays_private(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _two_groups_ordered(bot)
        assert await bot.say_private("张姐", "汇总") == "handled"
        bot.expect_said([SUMMARY], to("张姐"))
        bot.expect_silence(G1)
        bot.expect_silence(G2)
        assert await bot.say_private("张姐", "草莓团今天怎么样") == "handled"  # no command: what the bot can do
        bot.expect_said([HELP], to("张姐"))


async def test_a_members_private_message_is_left_alone(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        assert await bot.say_private("王阿姨", "汇总") == "unserved"
        assert await bot.say_private("王阿姨", "草莓还有吗") == "unserved"
        bot.expect_silence()
        assert [e["reason"] for e in bot.logged("message_ignored")] == ["private_not_a_leader"] * 2


async def test_the_workbook_goes_to_the_leader_privately_wherever_it_was_asked_for(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _two_groups_ordered(bot)
        await bot.say("张姐", "导出")  # in the group: the group hears it went to the leader, nothing more
        bot.expect_said(["📄 周六丹东草莓团 已导出(2条,含明细、汇总、自提三张表),文件已私发给团长。"])
        [file_message] = bot.expect_said([Starts("caomei-")], to("张姐"))
        [path] = bot.files(to("张姐"))
        assert file_message == Path(path).name
        assert not bot.files(G1)
        rows = list(load_workbook(path)["明细"].iter_rows(values_only=True))
        assert {r[0] for r in rows[1:]} == {"3栋 王阿姨", "2栋 陈叔"}
        await bot.say_private("张姐", "导出 周六丹东草莓团")  # in private: the answer and the file, both there
        bot.expect_said(
            ["📄 周六丹东草莓团 已导出(2条,含明细、汇总、自提三张表),文件发给你了。", Starts("caomei-")], to("张姐")
        )
        assert len(bot.files(to("张姐"))) == 2


async def test_a_private_message_delivered_twice_is_handled_once_and_rebuild_agrees(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _two_groups_ordered(bot)
        assert await bot.say_private("张姐", "汇总", msg_id="p-1") == "handled"
        assert await bot.say_private("张姐", "汇总", msg_id="p-1") == "duplicate"
        bot.expect_said([SUMMARY], to("张姐"))
    database = f"sqlite:///{data_dir / 'test.db'}"
    config = data_dir / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    args = ["rebuild", "--config", str(config), "--data-dir", str(data_dir), "--database", database]
    assert await asyncio.to_thread(main, args) == 0


async def test_a_member_renamed_after_the_leader_is_refused_and_the_leader_told(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _two_groups_ordered(bot)
        await bot.say("张姐", "汇总")  # the real 张姐 first: her name is bound to her wxid
        bot.expect_said([Starts("【汇总】周六丹东草莓团(阳光花园1号群)")])
        assert [e["name"] for e in bot.logged("leader_bound")] == ["张姐"]
        await bot.say("张姐", "汇总", wxid="wxid_fake")  # someone renamed 张姐: refused, nothing in the group
        await bot.say("张姐", "导出", wxid="wxid_fake")
        bot.expect_silence(G1)
        refused = bot.logged("leader_refused")
        assert [(e["member_id"], e["command"]) for e in refused] == [("wxid_fake", "汇总"), ("wxid_fake", "导出")]
        bot.expect_said(  # the real 张姐 is told once, privately, with the impostor's wxid
            ["⚠️ 有人改成了你的名字「张姐」,想用团长命令「汇总」,已拒绝。对方微信号:wxid_fake"], to("张姐")
        )
    async with BotHarness(data_dir) as bot:  # after a restart the binding holds
        await bot.say("张姐", "汇总", wxid="wxid_fake", msg_id="after-restart")
        bot.expect_silence(G1)
        assert [e["member_id"] for e in bot.logged("leader_refused")] == ["wxid_fake"]


async def test_a_paused_group_hears_only_its_leader_and_still_records_orders(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", "暂停")
        bot.expect_said(["⏸ 已暂停:我在本群先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"])
        await bot.say("王阿姨", "几点自提?")
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.expect_silence(G1)
        assert await bot.orders() == [("3栋 王阿姨", ["草莓2盒"])]
        assert {e["reason"] for e in bot.logged("message_suppressed")} == {"paused"}
        await bot.say("张姐", "汇总")  # the leader's own commands still answer
        bot.expect_said([Starts("【汇总】周六丹东草莓团(阳光花园1号群)\n合计:草莓2盒")])
    async with BotHarness(data_dir) as bot:  # a restart keeps the group paused
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"), msg_id="after-restart-1")
        bot.expect_silence(G1)
        await bot.say_private("张姐", "恢复", msg_id="after-restart-2")  # from private: her only group
        bot.expect_said(["▶️ 已恢复:我在阳光花园1号群继续为大家服务~"], to("张姐"))
        await bot.say("何姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "6号楼 何姐 草莓1盒"), msg_id="a-3")
        bot.expect_said(  # back: the digest names every order the paused group was not told of
            [
                "✅ 已记录:3栋 王阿姨 草莓2盒;5-1201 李姐 草莓1盒;6号楼 何姐 草莓1盒\n合计:草莓4盒\n"
                "【周六丹东草莓团】已有3人,还差2人成团"
            ]
        )
