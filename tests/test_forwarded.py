"""A leader forwards a 接龙 from a group the bot is not in (issue #15, "Forwarded material"): a chat record (合并转发)
or a native 接龙 card sent privately is tallied against the catalogue and answered privately; `导出` right after
sends that tally as a workbook; nothing becomes an order of any buy; anyone else's forward is left alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from bot.events import Kind
from handlers.forwarded import NO_CHAIN, UNREADABLE
from tests.harness import CONFIG, BotHarness, Starts, chain, to

FIXTURES = Path(__file__).parent / "fixtures" / "forwarded"
RECORD = (FIXTURES / "record_blueberry.xml").read_text(encoding="utf-8")
CARD = (FIXTURES / "card_blueberry.xml").read_text(encoding="utf-8")
FOOTER = "(来自{source};只是汇总,不记入任何团购。发「导出」把表格发给你,30分钟内有效)"
RECORD_SUMMARY = "\n".join(
    [
        "【转发汇总】#接龙 周日智利蓝莓团",
        "合计:蓝莓7盒,榴莲1个(?)",
        "1. 3栋 王阿姨 蓝莓4盒",  # her edit, in her line's place
        "2. 5-1201 李姐 蓝莓3盒 榴莲1个",
        "已取消:2栋 陈叔",  # 不要了 in his own copy
        "待确认(商品不在目录):5-1201 李姐(榴莲)",
        "共2人,读了3份接龙",
        FOOTER.format(source="「阳光花园3号群的聊天记录」"),
    ]
)
CARD_SUMMARY = "\n".join(
    [
        "【转发汇总】#接龙 周日智利蓝莓团",
        "合计:蓝莓6盒,土鸡蛋2盒",
        "1. 3栋 王阿姨 蓝莓2盒",
        "2. 5-1201 李姐 蓝莓3盒",
        "3. 6号楼 何姐 蓝莓1盒 土鸡蛋2盒",
        "共3人,读了1份接龙",
        FOOTER.format(source="接龙卡片"),
    ]
)
EXPORTED = "📄 转发的接龙 #接龙 周日智利蓝莓团 已导出(含明细、汇总、自提三张表),文件发给你了。"


async def test_a_forwarded_chat_record_is_tallied_privately_and_exported_on_request(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        assert await bot.say_private("张姐", RECORD, kind=Kind.CHAT_RECORD) == "handled"
        bot.expect_said([RECORD_SUMMARY], to("张姐"))
        bot.expect_silence("阳光花园1号群")
        assert await bot.orders(status=None) == []  # a group the bot is not in: no order of any buy
        [tallied] = bot.logged("forward_tallied")
        assert (tallied["messages"], tallied["chains"], tallied["lines"]) == (5, 1, 2)
        leader = bot.channel.wxid("张姐")
        assert [(e["command"], e["member_id"], e["group"]) for e in bot.logged("command_run")] == [
            ("转发接龙", leader, None)  # every command, logged with the wxid that ran it (#15)
        ]

        await bot.say_private("张姐", "导出")  # right after: THAT tally, as a file, privately
        [_, name] = bot.expect_said([EXPORTED, Starts("forwarded-")], to("张姐"))
        [path] = bot.files(to("张姐"))
        assert Path(path).name == name
        book = load_workbook(path)
        detail = list(book["明细"].iter_rows(values_only=True))
        assert detail[1:] == [
            ("3栋 王阿姨", "「阳光花园3号群的聊天记录」", "蓝莓", 4, "盒", 25, 100, None),  # the catalogue's price
            ("5-1201 李姐", "「阳光花园3号群的聊天记录」", "蓝莓", 3, "盒", 25, 75, None),
            ("5-1201 李姐", "「阳光花园3号群的聊天记录」", "榴莲", 1, "个", "未计价", None, None),
        ]
        totals = list(book["汇总"].iter_rows(values_only=True))
        assert totals[1:3] == [("蓝莓", 4 + 3, "盒", 175), ("榴莲(?)", 1, "个", "未计价")]
        assert ("待确认(商品不在本团)", "5-1201 李姐", None, None) in totals


async def test_export_after_half_an_hour_is_the_buys_own_again(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say_private("张姐", RECORD, kind=Kind.CHAT_RECORD)
        bot.expect_said([RECORD_SUMMARY], to("张姐"))
        await bot.say_private("张姐", "导出 周六丹东草莓团")  # a buy named: that buy's export, as before
        bot.expect_said(
            ["📄 周六丹东草莓团 已导出(0条,含明细、汇总、自提三张表),文件发给你了。", Starts("caomei-")], to("张姐")
        )
        bot.clock.advance(timedelta(minutes=31).total_seconds())
        await bot.say_private("张姐", "导出")
        bot.expect_said(
            ["📄 周六丹东草莓团 已导出(0条,含明细、汇总、自提三张表),文件发给你了。", Starts("caomei-")], to("张姐")
        )
        assert not any(Path(p).name.startswith("forwarded-") for p in bot.files(to("张姐")))


async def test_a_native_card_sent_privately_is_tallied(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        assert await bot.say_private("张姐", CARD, kind=Kind.NATIVE_CHAIN) == "handled"
        bot.expect_said([CARD_SUMMARY], to("张姐"))
        assert await bot.orders(status=None) == []
        await bot.say_private("张姐", "#导出")
        bot.expect_said([EXPORTED, Starts("forwarded-")], to("张姐"))


def record(*messages: tuple[str, str]) -> str:
    """A chat record of (sender, text) messages, as WeChat forwards it."""
    items = "".join(
        f'<dataitem datatype="1"><sourcename>{who}</sourcename><datadesc>{text}</datadesc></dataitem>'
        for who, text in messages
    )
    inner = f"<recordinfo><datalist>{items}</datalist></recordinfo>"
    appmsg = f"<title>群聊的聊天记录</title><type>19</type><recorditem><![CDATA[{inner}]]></recorditem>"
    return f"<msg><appmsg>{appmsg}</appmsg></msg>"


async def test_a_forwarded_chain_of_a_configured_buy_reads_its_product_and_stores_nothing(data_dir: Path) -> None:
    header = "#接龙 周六丹东草莓团"
    forwarded = record(
        ("王阿姨", chain(header, "3栋 王阿姨 2盒")), ("李姐", chain(header, "3栋 王阿姨 2盒", "李姐 1盒"))
    )
    async with BotHarness(data_dir) as bot:
        await bot.say_private("张姐", forwarded, kind=Kind.CHAT_RECORD)
        bot.expect_said(
            [
                "【转发汇总】#接龙 周六丹东草莓团\n合计:草莓3盒\n1. 3栋 王阿姨 草莓2盒\n2. 李姐 草莓1盒\n"
                "共2人,读了2份接龙\n" + FOOTER.format(source="「群聊的聊天记录」")
            ],
            to("张姐"),
        )
        assert await bot.orders(status=None) == []  # the buy's orders come from its groups, never from a forward


async def test_a_members_forward_is_left_alone(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        assert await bot.say_private("王阿姨", RECORD, kind=Kind.CHAT_RECORD) == "unserved"
        assert await bot.say_private("王阿姨", CARD, kind=Kind.NATIVE_CHAIN) == "unserved"
        assert await bot.say_private("王阿姨", "导出") == "unserved"
        bot.expect_silence()
        assert bot.logged("forward_tallied") == []


async def test_a_forwarded_record_in_a_group_is_nobodys(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        assert await bot.say("张姐", RECORD, kind=Kind.CHAT_RECORD) == "handled"
        bot.expect_silence()
        assert await bot.orders(status=None) == []


async def test_an_unreadable_or_hostile_forward_gets_a_short_answer(data_dir: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<msg><appmsg><type>19</type><title>&lol2;</title><recorditem></recorditem></appmsg></msg>"
    )
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<msg><appmsg><type>19</type><title>&x;</title><recorditem></recorditem></appmsg></msg>"
    )
    truncated = RECORD[: len(RECORD) // 2]
    chatter = RECORD.replace("#接龙 周日智利蓝莓团", "周日的蓝莓大家觉得怎么样").replace("1. ", "").replace("2. ", "")
    async with BotHarness(data_dir) as bot:
        for i, xml in enumerate((bomb, xxe, truncated, "<msg>" * 100_000, "x" * 3_000_000)):
            assert await bot.say_private("张姐", xml, kind=Kind.CHAT_RECORD, msg_id=f"bad-{i}") == "handled"
            bot.expect_said([UNREADABLE], to("张姐"))
            bot.clock.advance(11 * 60)  # past the same-text window, which still holds replies too (design.md)
        await bot.say_private("张姐", chatter.replace("3. ", ""), kind=Kind.CHAT_RECORD)
        bot.expect_said([NO_CHAIN], to("张姐"))
        await bot.say_private("张姐", "导出")  # nothing was tallied: the buy's own export
        bot.expect_said(
            ["📄 周六丹东草莓团 已导出(0条,含明细、汇总、自提三张表),文件发给你了。", Starts("caomei-")], to("张姐")
        )


async def test_rebuild_replays_a_forward_and_finds_no_orders_to_differ(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain("#接龙 周六丹东草莓团", "3栋 王阿姨 草莓2盒"))
        bot.expect_said([Starts("✅ 已记录:3栋 王阿姨 草莓2盒")])
        await bot.say_private("张姐", RECORD, kind=Kind.CHAT_RECORD)
        bot.expect_said([RECORD_SUMMARY], to("张姐"))
        await bot.say_private("张姐", "导出")
        bot.expect_said([EXPORTED, Starts("forwarded-")], to("张姐"))
    config = data_dir / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    database = f"sqlite:///{data_dir / 'test.db'}"
    args = ["rebuild", "--config", str(config), "--data-dir", str(data_dir), "--database", database]
    assert await asyncio.to_thread(main, args) == 0
