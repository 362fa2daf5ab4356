"""A leader types a command on a phone (issue #15): every command works with or without `@小团`, with `#`/`＃`, with
a space or none before its argument, in full-width characters (ＡＢＣ１２３, the full-width space, `20：00`) and with
trailing punctuation (`汇总。` `到货了!`). A leader's `#…` or `@小团 …` that is no command gets a short help; a
leader's ordinary chat and anyone else's command get nothing. Each command says who ran it in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.leader_commands import HELP
from tests.harness import BotHarness, Expected, Starts, to

LEADER = "wxid_fc7794c656"  # 张姐's account in the simulator (`SimChannel.wxid`)
SUMMARY = "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人,还差5人成团"
EXPORTED = "📄 周六丹东草莓团 已导出(0条,含明细、汇总、自提三张表),文件已私发给团长。"
ARRIVAL = "📦 周六丹东草莓团 到货啦!\n自提:东门快递柜旁,17:00-20:00\n请下面@到的邻居按时来取~"
PAUSED = "⏸ 已暂停:我在本群先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"
RESUMED = "▶️ 已恢复:我在本群继续为大家服务~"
HEADER = (
    "#接龙 周六丹东草莓团\n草莓 39.9元/盒\n满5人成团\n截单:11月27日(周五) 20:00\n自提:东门快递柜旁 17:00-20:00\n"
    "例 3栋 王阿姨 草莓1盒"
)
CUTOFF = "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n" + SUMMARY.replace("还差5人成团", "未成团(差5人)")
EXTENDED = "⏰ 周六丹东草莓团 截单时间改到11月27日(周五) 20:00,还没接龙的邻居抓紧啦~"
EXTENDED_SAT = "⏰ 周六丹东草莓团 截单时间改到11月28日(周六) 18:00,还没接龙的邻居抓紧啦~"
STOCK = "✅ 「周六丹东草莓团」草莓还剩10盒"
ADDED = "✅ 「周六丹东草莓团」草莓还剩5盒"
SHORT = "没看懂这个指令,发「帮助」看全部指令"


def near(command: str) -> str:
    return f"{SHORT}\n是不是想发「{command}」?"


# (command, what the leader types, what the bot says in the group)
VARIANTS: list[tuple[str, str, list[Expected]]] = [
    *[
        ("汇总", text, [SUMMARY])
        for text in (
            "汇总",
            "@小团 汇总",
            "@小团\u2005汇总",  # WeChat puts a four-per-em space after an @-mention
            "@小团汇总",
            "#汇总",
            "＃汇总",
            "汇总。",
            "汇总!",
            "汇总 caomei",
            "汇总caomei",
            "汇总\u3000ｃａｏｍｅｉ",
            "汇总草莓",
            "＃汇总 草莓！",
            "汇总一下",
        )
    ],
    *[("导出", text, [EXPORTED]) for text in ("导出", "#导出", "@小团 导出。", "导出caomei", "导出 ｃａｏｍｅｉ")],
    *[("到货", text, [ARRIVAL]) for text in ("到货", "到货了", "到货了!", "#到货", "@小团 到货了。", "到货草莓")],
    *[("帮助", text, [HELP]) for text in ("帮助", "#帮助", "@小团 帮助", "帮助!", "菜单")],
    *[("暂停", text, [PAUSED]) for text in ("暂停", "#暂停。", "@小团 暂停", "＃暂停\u3000阳光花园１号群")],
    *[
        ("开团", text, [HEADER])
        for text in ("开团 caomei", "开团caomei", "#开团 周六丹东草莓团", "@小团 开团\u3000ｃａｏｍｅｉ")
    ],
    *[
        ("截单", text, [CUTOFF])
        for text in ("截单", "截单 caomei", "截单caomei", "#截单 周六丹东草莓团!", "@小团 截单 草莓", "＃截单。")
    ],
    *[
        ("延长截单", text, [EXTENDED])
        for text in (
            "延长截单 周五20:00",
            "延长截单 周五20：00",
            "延长截单到周五２０：００",
            "#延长截单 caomei 周五20：00",
            "@小团 延长截单 周六丹东草莓团 周五 20:00。",
        )
    ],
    ("延长截单", "延长截单 周六18:00", [EXTENDED_SAT]),
    *[("库存", text, [STOCK]) for text in ("库存 草莓 10", "库存草莓10", "#库存 草莓 １０", "@小团 库存 草莓 10盒。")],
    *[
        ("加库存", text, [ADDED])
        for text in ("加库存 草莓 5", "加库存草莓5", "＃加库存\u3000草莓\u3000５", "@小团 加库存 草莓 5盒!")
    ],
]


@pytest.mark.parametrize(("command", "text", "said"), VARIANTS)
async def test_every_command_reads_as_a_leader_types_it(
    data_dir: Path, command: str, text: str, said: list[Expected]
) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", text)
        bot.expect_said(said)
        if command == "导出":
            bot.expect_said([Starts("caomei-20261126-1000.xlsx")], to("张姐"))
        if command == "截单":  # closed short of 成团: what the leader can do, privately (test_leader_followups)
            bot.expect_said([Starts("「周六丹东草莓团」未成团(差5人)。")], to("张姐"))
        ran = [(e["command"], e["member_id"], e["group"]) for e in bot.logged("command_run")]
        assert ran == [(command, LEADER, "阳光花园1号群")]


@pytest.mark.parametrize("text", ["恢复", "@小团恢复", "恢复!", "#恢复 阳光花园1号群"])
async def test_resume_reads_as_a_leader_types_it(data_dir: Path, text: str) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("张姐", "暂停")
        bot.expect_said([PAUSED])
        await bot.say("张姐", text)
        bot.expect_said([RESUMED])
        assert [e["command"] for e in bot.logged("command_run")] == ["暂停", "恢复"]


# (who, what they type, what the bot says in the group, whether it is logged as a refused command)
NOT_COMMANDS: list[tuple[str, str, list[Expected], bool]] = [
    ("张姐", "#汇宗", [near("汇总")], False),
    ("张姐", "@小团 汇宗", [near("汇总")], False),
    ("张姐", "＃到货了吗", [near("到货")], False),
    ("张姐", "#加库 草莓 5", [near("加库存")], False),
    ("张姐", "#截单了没", [near("截单")], False),
    ("张姐", "@小团 谢谢", [SHORT], False),
    ("张姐", "#今天几点发货", [SHORT], False),
    ("张姐", "汇宗", [], False),  # a leader's ordinary chat: not addressed to the bot
    ("张姐", "大家辛苦了!", [], False),
    ("张姐", "#接龙 周五团", [], False),  # a 接龙 header without lines: a post, not a command
    ("张姐", "@小团 草莓还有吗", ["草莓还有货,明天20:00截单前都可以接龙"], False),  # a leader may ask too
    ("王阿姨", "#汇宗", [], False),  # not a leader: nothing
    ("王阿姨", "@小团 汇宗", [], False),
    ("王阿姨", "汇总", [], True),
    ("王阿姨", "#汇总", [], True),
    ("王阿姨", "截单 caomei", [], True),
    ("王阿姨", "@小团 库存 草莓 10", [], True),
    ("王阿姨", "到货了", [], True),  # a member cannot announce the arrival
    ("王阿姨", "到货了吗", ["【周六丹东草莓团】到货时间团长确认后会在群里通知"], False),  # a question, answered
    ("王阿姨", "截单", [], False),  # a member's bare 截单 may be a question: the questions route's
]


@pytest.mark.parametrize(("who", "text", "said", "refused"), NOT_COMMANDS)
async def test_a_leaders_unknown_command_gets_a_short_help_and_others_nothing(
    data_dir: Path, who: str, text: str, said: list[Expected], refused: bool
) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say(who, text)
        bot.expect_said(said)
        assert bot.logged("command_run") == []
        assert len(bot.logged("command_refused")) == refused


async def test_a_members_command_is_refused_and_logged_with_her_wxid(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        for text in ("汇总", "#导出", "截单 caomei", "@小团 库存 草莓 10", "到货 草莓", "@小团 暂停"):
            await bot.say("王阿姨", text)
        await bot.say("张姐", "大家好", wxid="wxid_fake")  # a member renamed 张姐: her name is free yet, not bound
        await bot.say("张姐", "汇总")  # the real 张姐 binds her name
        bot.expect_said([SUMMARY])
        await bot.say("张姐", "#截单", wxid="wxid_fake")
        await bot.say("张姐", "#汇宗", wxid="wxid_fake")
        bot.expect_said([])
        notice = "⚠️ 有人改成了你的名字「张姐」,想用团长命令「截单」,已拒绝。对方微信号:wxid_fake"
        bot.expect_said([notice], to("张姐"))  # once per impostor
        member = bot.channel.wxid("王阿姨")
        refused = [(e["command"], e["member_id"], e["group"]) for e in bot.logged("command_refused")]
        assert refused == [
            ("汇总", member, "阳光花园1号群"),
            ("导出", member, "阳光花园1号群"),
            ("截单", member, "阳光花园1号群"),
            ("库存", member, "阳光花园1号群"),
            ("到货", member, "阳光花园1号群"),
            ("暂停", member, "阳光花园1号群"),
            ("截单", "wxid_fake", "阳光花园1号群"),
            ("未知指令", "wxid_fake", "阳光花园1号群"),
        ]
        assert [(e["command"], e["member_id"]) for e in bot.logged("command_run")] == [("汇总", LEADER)]


async def test_a_leaders_private_typo_gets_the_short_help_privately(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say_private("张姐", "汇宗")
        bot.expect_said([near("汇总")], to("张姐"))
        await bot.say_private("张姐", "ＨＩ")
        bot.expect_said([HELP], to("张姐"))
        await bot.say_private("张姐", "汇总。")
        bot.expect_said([SUMMARY.replace("(阳光花园1号群)", "")], to("张姐"))
        runs = [(e["command"], e["member_id"], e["group"], e.get("private")) for e in bot.logged("command_run")]
        assert runs == [("汇总", LEADER, None, True)]
