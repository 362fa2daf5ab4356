"""Payments (issue #15): a leader marks a participant paid (`已收 3栋王阿姨`, `已收 老周 62`) and asks who has not
paid (`未付 [团]`): the list goes to the leader privately wherever it was asked for; the group sees nothing unless the
leader asks there (`未付 发群`). Paid status shows in `汇总`, the 导出 workbook and replay's `--json`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.parsing.payments import PaymentCommand, read_payment_command
from storage.models import Payment
from tests.harness import CONFIG, BotHarness, Starts, chain, to

H = "#接龙 周六丹东草莓团"
G1, G2 = "阳光花园1号群", "阳光花园2号群"
LINES = ["3栋 王阿姨 草莓2盒", "2栋 陈叔 草莓3盒", "5栋 老周 草莓2盒"]
UNPAID = "\n".join(
    [
        "【未付】周六丹东草莓团(阳光花园1号群)",
        "1. 2栋 陈叔 119.70元",
        "2. 5栋 老周 还差17.80元(应付79.80元,已付62.00元)",
        "共2人未付,合计137.50元;已付清1人",
    ]
)
EGGS = (
    CONFIG
    + """\
  - id: jidan
    title: 周日土鸡蛋团
    groups: [阳光花园1号群]
    items: [{product: 土鸡蛋, price: 36}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-28 20:00
"""
)


async def _three_ordered(bot: BotHarness) -> None:
    for who, n in (("王阿姨", 1), ("陈叔", 2), ("老周", 3)):
        await bot.say(who, chain(H, *LINES[:n]))
    bot.consume(G1)  # the 接龙 digests: tests/test_chain_orders.py checks them


async def test_a_leader_marks_paid_in_the_group_and_gets_the_unpaid_list_privately(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_ordered(bot)
        await bot.say("张姐", "已收 3栋王阿姨")
        bot.expect_said(["✅ 已收 3栋 王阿姨 79.80元(周六丹东草莓团),已付清。"])
        await bot.say("张姐", "@小团 已收 老周 62")
        bot.expect_said(["✅ 已收 5栋 老周 62.00元(周六丹东草莓团),应付79.80元,少付17.80元。"])
        await bot.say("张姐", "未付")  # in the group: the list goes to the leader, the group hears nothing
        bot.expect_silence(G1)
        bot.expect_said([UNPAID], to("张姐"))
        await bot.say_private("张姐", "未付")  # privately: answered there, naming the buy and the group
        bot.expect_said([UNPAID], to("张姐"))
        bot.expect_silence(G1)
        await bot.say("张姐", "汇总")  # in the group: what came in, in all; never who owes
        bot.expect_said(
            [
                "\n".join(
                    [
                        "【汇总】周六丹东草莓团(阳光花园1号群)",
                        "合计:草莓7盒,共279.30元",
                        "1. 3栋 王阿姨 草莓2盒 79.80元",
                        "2. 2栋 陈叔 草莓3盒 119.70元",
                        "3. 5栋 老周 草莓2盒 79.80元",
                        "收款:已付清1人,未付2人共137.50元",
                        "已有3人,还差2人成团",
                    ]
                )
            ]
        )
        await bot.say_private("张姐", "汇总")  # privately: each line's payment too
        bot.expect_said(
            [
                "\n".join(
                    [
                        "【汇总】周六丹东草莓团",
                        "合计:草莓7盒,共279.30元",
                        "1. 3栋 王阿姨 草莓2盒 79.80元 ✓已付",
                        "2. 2栋 陈叔 草莓3盒 119.70元 未付",
                        "3. 5栋 老周 草莓2盒 79.80元 已付62.00元",
                        "收款:已付清1人,未付2人共137.50元",
                        "已有3人,还差2人成团",
                    ]
                )
            ],
            to("张姐"),
        )
        await bot.say("张姐", "已收 王阿姨")  # again: never counted twice
        bot.expect_said(["3栋 王阿姨 已经付清了(周六丹东草莓团 79.80元),没有再记。"])
        await bot.say("张姐", "＃已收　陈叔　１１９．７元")  # full width, as a phone's keyboard may type it
        bot.expect_said(["✅ 已收 2栋 陈叔 119.70元(周六丹东草莓团),已付清。"])
        await bot.say("张姐", "收到老周的钱了 17.8")
        bot.expect_said(["✅ 已收 5栋 老周 17.80元(周六丹东草莓团,之前已付62.00元),已付清。"])
        await bot.say_private("张姐", "未付")
        bot.expect_said(["✅ 你带的群的团都付清了,没有未付的。"], to("张姐"))
        await bot.say_private("张姐", "未付 草莓")  # named: the buy's list even when all paid
        bot.expect_said(["【未付】周六丹东草莓团(阳光花园1号群)\n✅ 3人都已付清。"], to("张姐"))
        async with bot.app.db.sessions() as s:
            rows = [(p.participant, p.paid, p.marked_by) for p in await s.scalars(select(Payment).order_by(Payment.id))]
        wxid = bot.channel.wxid("张姐")
        assert rows == [
            ("3栋 王阿姨", Decimal("79.80"), wxid),
            ("5栋 老周", Decimal("79.80"), wxid),
            ("2栋 陈叔", Decimal("119.70"), wxid),
        ]


async def test_before_any_order_there_is_nothing_to_pay(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say_private("张姐", "未付")
        bot.expect_said(["你带的群现在还没有订单。"], to("张姐"))
        await bot.say("张姐", "已收 王阿姨")
        bot.expect_said(["没找到「王阿姨」。接龙里没有这个名字。"])


async def test_an_unknown_or_ambiguous_label_is_asked_about(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        await bot.say("王阿姨2", chain(H, "3栋 王阿姨 草莓2盒", "5栋 王阿姨 草莓1盒", "5栋 老周 草莓1盒"))
        bot.consume(G1)  # the digests
        await bot.say("张姐", "已收 老王")
        bot.expect_said(["没找到「老王」。是不是:3栋 王阿姨、5栋 王阿姨、5栋 老周?"])
        await bot.say("张姐", "已收 王阿姨")
        bot.expect_said(["「王阿姨」对得上2位:3栋 王阿姨、5栋 王阿姨。请写全,比如「已收 3栋 王阿姨」"])
        await bot.say("张姐", "已收 小李")
        bot.expect_said(["没找到「小李」。接龙里没有这个名字。"])
        await bot.say("张姐", "已收 5栋 老周 0")
        bot.expect_said(["收到的金额是0.00元?没有记。发「已收 5栋 老周」或写上收到的金额。"])
        await bot.say("张姐", "已收")
        bot.expect_said(["收了谁的钱?发「已收 3栋王阿姨」;金额不一样就写上:「已收 老周 62」"])
        await bot.say("张姐", "货款已付")  # said in passing, about no participant: no answer
        await bot.say("张姐", "5栋王阿姨已付")  # the same in passing, about one: marked
        bot.expect_said(["✅ 已收 5栋 王阿姨 39.90元(周六丹东草莓团),已付清。"])


async def test_a_member_typing_the_commands_gets_nothing_and_changes_nothing(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.consume(G1)  # the digest
        await bot.say("王阿姨", "已收 3栋 王阿姨")
        await bot.say("王阿姨", "3栋王阿姨已付")  # a member's own words: not a command (nothing routes it here)
        await bot.say("王阿姨", "未付")
        assert await bot.say_private("王阿姨", "未付") == "unserved"
        bot.expect_silence()
        async with bot.app.db.sessions() as s:
            assert list(await s.scalars(select(Payment))) == []
        assert [e["command"] for e in bot.logged("command_refused")] == ["已收", "未付"]


async def test_a_renamed_member_cannot_mark_anyone_paid(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.consume(G1)  # the digest
        await bot.say("张姐", "未付")  # the real 张姐 binds the name
        bot.expect_said([Starts("【未付】周六丹东草莓团")], to("张姐"))
        await bot.say("张姐", "已收 3栋 王阿姨", wxid="wxid_impostor")
        bot.expect_silence(G1)
        bot.expect_said([Starts("⚠️ 有人改成了你的名字「张姐」,想用团长命令「已收」")], to("张姐"))
        async with bot.app.db.sessions() as s:
            assert list(await s.scalars(select(Payment))) == []


async def test_an_order_changed_after_paying_owes_the_difference(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_ordered(bot)
        await bot.say("张姐", "已收 王阿姨")
        await bot.say("张姐", "已收 陈叔 120")
        bot.expect_said(
            [
                "✅ 已收 3栋 王阿姨 79.80元(周六丹东草莓团),已付清。",
                "✅ 已收 2栋 陈叔 120.00元(周六丹东草莓团),应付119.70元,多付0.30元。",
            ]
        )
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓3盒", *LINES[1:]))  # one box more, after paying
        bot.consume(G1)  # the digest's ✏️ 已修改
        await bot.say_private("张姐", "未付")
        bot.expect_said(
            [
                "\n".join(
                    [
                        "【未付】周六丹东草莓团(阳光花园1号群)",
                        "1. 3栋 王阿姨 还差39.90元(应付119.70元,已付79.80元)",
                        "2. 5栋 老周 79.80元",
                        "共2人未付,合计119.70元;已付清1人",
                    ]
                )
            ],
            to("张姐"),
        )


async def test_with_several_buys_the_money_covers_what_they_ordered(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=EGGS) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        await bot.say("王阿姨", chain("#接龙 周日土鸡蛋团", "3栋 王阿姨 鸡蛋1盒", "5栋 老周 鸡蛋2盒"))
        await bot.say("老周", chain(H, "3栋 王阿姨 草莓2盒", "5栋 老周 草莓1盒"))
        bot.consume(G1)  # the digests
        await bot.say("张姐", "已收 王阿姨")  # what she owes in both
        bot.expect_said(["✅ 已收 3栋 王阿姨 115.80元:周六丹东草莓团 79.80元、周日土鸡蛋团 36.00元,已付清。"])
        await bot.say("张姐", "已收 老周 50")  # less than both: the buy closing first is paid first
        bot.expect_said(
            ["✅ 已收 5栋 老周 50.00元:周六丹东草莓团 39.90元、周日土鸡蛋团 10.10元,应付111.90元,少付61.90元。"]
        )
        await bot.say("张姐", "未付")
        bot.expect_said(
            [
                "【未付】周日土鸡蛋团(阳光花园1号群)\n1. 5栋 老周 还差61.90元(应付72.00元,已付10.10元)\n"
                "共1人未付,合计61.90元;已付清1人"
            ],
            to("张姐"),
        )


async def test_the_list_goes_in_the_group_only_when_asked_there(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_ordered(bot)
        await bot.say("张姐", "已收 王阿姨 79.8")
        bot.expect_said([Starts("✅ 已收 3栋 王阿姨 79.80元")])
        await bot.say("张姐", "未付 发群")
        bot.expect_said(
            [
                "【未付】周六丹东草莓团(阳光花园1号群)\n1. 2栋 陈叔 119.70元\n2. 5栋 老周 79.80元\n"
                "共2人未付,合计199.50元;已付清1人"
            ]
        )
        await bot.say_private("张姐", "未付 发群")
        bot.expect_said(["要发到群里,请在那个群里发「未付 发群」。"], to("张姐"))
        await bot.say("张姐", "未付 蓝莓")
        bot.expect_said(["本群没有叫「蓝莓」的团购。"], to("张姐"))


async def test_the_workbook_has_a_paid_column(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await _three_ordered(bot)
        await bot.say("张姐", "已收 王阿姨")
        await bot.say("张姐", "已收 老周 50")
        bot.consume(G1)  # the two confirmations: checked above
        await bot.say_private("张姐", "导出")
        bot.expect_said([Starts("📄 周六丹东草莓团 已导出(3条"), Starts("caomei-")], to("张姐"))
        [path] = bot.files(to("张姐"))
        book = load_workbook(path)
        detail = [(r[0], r[8]) for r in book["明细"].iter_rows(values_only=True)]
        assert detail == [("接龙人", "付款"), ("3栋 王阿姨", "已付"), ("2栋 陈叔", "未付"), ("5栋 老周", "还差29.80元")]
        pickup = [(r[1], r[5]) for r in book["自提"].iter_rows(min_row=2, values_only=True)]
        assert pickup == [("2栋 陈叔", "未付"), ("3栋 王阿姨", "已付"), ("5栋 老周", "还差29.80元")]
        labels = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if r and r[0]}
        assert (labels["已付清"], labels["未付"], labels["未付金额"]) == ("1人", "2人", 149.5)


async def test_payments_are_stored_and_survive_a_restart_on_sqlite_and_postgres(
    data_dir: Path, db_target: tuple[str, dict[str, Any]]
) -> None:
    url, kwargs = db_target
    async with BotHarness(data_dir, database=url, engine_kwargs=kwargs) as bot:
        await _three_ordered(bot)
        await bot.say("张姐", "已收 王阿姨")
        await bot.say("张姐", "已收 老周 62")
        bot.consume(G1)  # the confirmations: checked above
    async with BotHarness(data_dir, database=url, engine_kwargs=kwargs) as bot:  # a restart (new message ids)
        await bot.say_private("张姐", "未付", msg_id="after-1")
        bot.expect_said([UNPAID], to("张姐"))
        await bot.say("张姐", "已收 老周 17.8", msg_id="after-2")
        bot.expect_said(["✅ 已收 5栋 老周 17.80元(周六丹东草莓团,之前已付62.00元),已付清。"])
        async with bot.app.db.sessions() as s:
            paid = {p.participant: p.paid for p in await s.scalars(select(Payment))}
        assert paid == {"3栋 王阿姨": Decimal("79.80"), "5栋 老周": Decimal("79.80")}


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("已收 3栋王阿姨", PaymentCommand("已收", label="3栋王阿姨")),
        ("已收 3栋 王阿姨", PaymentCommand("已收", label="3栋 王阿姨")),
        ("已收 老周 62", PaymentCommand("已收", label="老周", amount=Decimal(62))),
        ("@小团 #已收款 老周 ￥62.5", PaymentCommand("已收", label="老周", amount=Decimal("62.5"))),
        ("＃已收到　老周６２元", PaymentCommand("已收", label="老周", amount=Decimal(62))),
        ("已收 5-1201 李姐", PaymentCommand("已收", label="5-1201 李姐")),
        ("已收 李姐 5-1201", PaymentCommand("已收", label="李姐 5-1201")),
        ("王阿姨已付", PaymentCommand("已收", label="王阿姨", loose=True)),
        ("3栋 王阿姨 已付款 79.8", PaymentCommand("已收", label="3栋 王阿姨", amount=Decimal("79.8"), loose=True)),
        ("收到王阿姨的钱了", PaymentCommand("已收", label="王阿姨", loose=True)),
        ("收到 老周 的转账 62", PaymentCommand("已收", label="老周", amount=Decimal(62), loose=True)),
        ("未付", PaymentCommand("未付")),
        ("@小团 未付款 车厘子", PaymentCommand("未付", buy="车厘子")),
        ("未付 群里", PaymentCommand("未付", to_group=True)),
        ("＃未付　草莓　发群", PaymentCommand("未付", buy="草莓", to_group=True)),
        ("谁还没付", PaymentCommand("未付")),
        ("收到", None),  # "got it"
        ("收到,谢谢", None),
        ("王阿姨付了吗?", None),  # a question
        ("我已付", None),
        ("未付款怎么办", None),
        ("已收货", None),
        ("#接龙 草莓\n1. 3栋 王阿姨 已付", None),  # a list is never a command
    ],
)
def test_how_leaders_type_the_commands(text: str, command: PaymentCommand | None) -> None:
    assert read_payment_command(text) == command
