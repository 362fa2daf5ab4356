"""A leader's day run from the phone (#15), played through `tuanbot replay --json` as a leader rehearses it: every
leader command typed in the group and privately to the bot, and what the bot said (where, to whom, when), the orders
and the buys that leaves. Members typing the commands get nothing; a member renamed to the leader's name is refused
and the real leader told privately. Transcript format: docs/replay.md; the engine: bot/cli/replay.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from handlers.leader_commands import HELP
from tests.test_replay import Replay

G = "阳光花园1号群"
LEADER = "张姐"

CONFIG = """\
timezone: Asia/Shanghai
bot: {name: 小团}
quiet_hours: "22:00-08:00"
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
chain: {digest_every: 1m}
catalogue:
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [阳光花园1号群]
    items: [{product: 草莓, stock: 4}]
    opens: 2026-12-01 09:00
    cutoff: 2026-12-03 20:00
"""

STRAWBERRIES = "#接龙 周六丹东草莓团"
BLUEBERRIES = "#接龙 周五蓝莓团"


def chain(header: str, *lines: str) -> str:
    return header + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def when(at: str) -> str:
    """2026-12-01 `at` (HH:MM, or `MM-DD HH:MM` another day), Beijing time, to the second."""
    day, _, clock = at.rpartition(" ")
    return f"2026-{day or '12-01'}T{clock}:00+08:00"


def said_in_group(at: str, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"at": when(at), "group": G, "sender": sender, "text": text, **extra}


def said_privately(at: str, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    """A private message to the bot (docs/replay.md: `"private": true`, no group)."""
    return {"at": when(at), "private": True, "sender": sender, "text": text, **extra}


class Day(Replay):
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(tmp_path, capsys)
        self.config.write_text(CONFIG, encoding="utf-8")

    def play(self, events: list[dict[str, Any]], until: str) -> dict[str, Any]:
        """`tuanbot replay --json --until 2026-`until`` (MM-DDTHH:MM, Beijing time)."""
        return self.json(events, "--until", f"2026-{until}+08:00")


def bot(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(MM-DD HH:MM:SS, where: the group, or `→ name` for a private message, text) of each thing the bot said."""
    return [(s["at"][5:19].replace("T", " "), s["group"] or f"→ {s['to']}", s["text"]) for s in result["said"]]


def order(member: str, qty: int, amount: float, *, buy: str = "caomei", product: str = "草莓", unit: str = "盒",
          status: str = "active", sender: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"buy": buy, "group": G, "member": member, "sender": sender or member.split()[-1],
            "items": [{"product": product, "qty": qty, "unit": unit}], "status": status, "amount": amount,
            "paid": False}  # fmt: skip


@pytest.fixture
def day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Day:
    return Day(tmp_path, capsys)


g, p = said_in_group, said_privately  # a line of the transcript: in the group / privately to the bot
S = STRAWBERRIES
WANG, LI, HE, CHEN = "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒", "6号楼 何姐 草莓1盒", "2栋 陈叔 草莓1盒"
HEADER = (
    "#接龙 周六丹东草莓团\n草莓 39.9元/盒,限量4盒\n截单:12月3日(周四) 20:00\n自提:东门快递柜旁 17:00-20:00\n"
    "例 3栋 王阿姨 草莓1盒"
)


def strawberry_digest(line: str, boxes: int, people: int) -> str:
    return f"{line}\n合计:草莓{boxes}盒(草莓还剩{4 - boxes}盒)\n【周六丹东草莓团】已有{people}人"


FULL = "合计:草莓4盒(草莓还剩0盒)\n【周六丹东草莓团】已有2人"
CLOSED = "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n"
EGG_PEOPLE = "【周末鸡蛋团】已有1人,还差2人成团"


def blue_digest(line: str, boxes: int, people: int) -> str:
    return f"{line}\n合计:蓝莓{boxes}盒(蓝莓还剩{50 - boxes}盒)\n【周五蓝莓团】已有{people}人"


# --- 帮助 ----------------------------------------------------------------------------------------------------------


def test_help_in_the_group_and_privately_and_a_private_word_that_is_no_command(day: Day) -> None:
    events = [g("09:30", LEADER, "帮助"), p("09:31", LEADER, "@小团 帮助"), p("09:32", LEADER, "在吗")]
    assert bot(day.play(events, "12-01T09:40")) == [
        ("12-01 09:30:00", G, HELP),
        ("12-01 09:31:00", "→ 张姐", HELP),
        ("12-01 09:32:00", "→ 张姐", HELP),  # a leader's private message that is no command: what the bot can do
    ]


# --- 开团 ----------------------------------------------------------------------------------------------------------


def test_a_configured_buy_opened_early_by_its_id_posts_its_header_now_and_not_again_at_its_time(day: Day) -> None:
    result = day.play([g("08:30", LEADER, "开团 caomei"), g("09:10", "王阿姨", chain(S, WANG))], "12-01T09:30")
    assert bot(result) == [
        ("12-01 08:30:00", G, HEADER),  # in the group the header is the answer; nothing more at the planned 09:00
        ("12-01 09:11:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
    ]
    assert result["orders"] == [order("3栋 王阿姨", 2, 79.8)]
    assert result["buys"] == [{"id": "caomei", "status": "open", "members": 1, "formed": True, "total": 79.8}]


def test_a_configured_buy_opened_early_from_private_chat(day: Day) -> None:
    result = day.play([p("08:30", LEADER, "开团 周六丹东草莓团")], "12-01T09:30")
    assert bot(result) == [
        ("12-01 08:30:00", G, HEADER),
        ("12-01 08:30:01", "→ 张姐", "✅ 已开团「周六丹东草莓团」,接龙已发到:阳光花园1号群"),  # the anti-ban pause
    ]
    assert result["buys"] == [{"id": "caomei", "status": "open", "members": 0, "formed": True, "total": 0}]


BLUEBERRY_DAY = [
    g("10:00", LEADER, "开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单"),
    g("10:05", "王阿姨", chain(BLUEBERRIES, "3栋 王阿姨 蓝莓2盒")),
    g("10:07", "李姐", chain(BLUEBERRIES, "3栋 王阿姨 蓝莓2盒", "5-1201 李姐 蓝莓1盒")),
    g("10:20", LEADER, "汇总 周五蓝莓团"),
    p("10:25", LEADER, "汇总 蓝莓"),
]
BLUEBERRY_HEADER = (
    "#接龙 周五蓝莓团\n蓝莓 29.9元/盒,限量50盒\n截单:12月4日(周五) 20:00\n自提:东门快递柜旁 17:00-20:00\n"
    "例 3栋 王阿姨 蓝莓1盒"
)
BLUEBERRY_LINES = "合计:蓝莓3盒,共89.70元\n1. 3栋 王阿姨 蓝莓2盒 59.80元\n2. 5-1201 李姐 蓝莓1盒 29.90元\n已有2人"


def test_a_buy_opened_from_chat_takes_two_orders_and_its_summary_has_the_money(day: Day) -> None:
    result = day.play(BLUEBERRY_DAY, "12-01T11:00")
    said = [(s["at"], s["group"], s["to"], s["text"], s["mentions"], s["file"]) for s in result["said"]]
    assert said == [
        ("2026-12-01T10:00:00+08:00", G, None, BLUEBERRY_HEADER, [], None),
        ("2026-12-01T10:06:00+08:00", G, None, blue_digest("✅ 已记录:3栋 王阿姨 蓝莓2盒", 2, 1), [], None),
        ("2026-12-01T10:08:00+08:00", G, None, blue_digest("✅ 已记录:5-1201 李姐 蓝莓1盒", 3, 2), [], None),
        ("2026-12-01T10:20:00+08:00", G, None, f"【汇总】周五蓝莓团(阳光花园1号群)\n{BLUEBERRY_LINES}", [], None),
        ("2026-12-01T10:25:00+08:00", None, "张姐", f"【汇总】周五蓝莓团\n{BLUEBERRY_LINES}", [], None),  # every group
    ]
    blue = {"buy": "chat-1201-1", "product": "蓝莓"}
    assert result["orders"] == [order("3栋 王阿姨", 2, 59.8, **blue), order("5-1201 李姐", 1, 29.9, **blue)]
    assert result["buys"] == [
        {"id": "caomei", "status": "open", "members": 0, "formed": True, "total": 0},
        {"id": "chat-1201-1", "status": "open", "members": 2, "formed": True, "total": 89.7},  # the buy chat made
    ]
    # the same day as the conversation, then each buy read back from the store (the one made in chat too)
    day.write(BLUEBERRY_DAY)
    code, out, _ = day.run("--until", "2026-12-01T11:00+08:00")
    assert code == 0
    assert out.splitlines() == [
        "",
        "—— 12月01日 周二 · 阳光花园1号群 ——",
        "10:00  张姐: 开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单",
        "10:00  🤖 小团: #接龙 周五蓝莓团",
        "        蓝莓 29.9元/盒,限量50盒",
        "        截单:12月4日(周五) 20:00",
        "        自提:东门快递柜旁 17:00-20:00",
        "        例 3栋 王阿姨 蓝莓1盒",
        "10:05  王阿姨: #接龙 周五蓝莓团",
        "        ",
        "        1. 3栋 王阿姨 蓝莓2盒",
        "10:06  🤖 小团: ✅ 已记录:3栋 王阿姨 蓝莓2盒",
        "        合计:蓝莓2盒(蓝莓还剩48盒)",
        "        【周五蓝莓团】已有1人",
        "10:07  李姐: #接龙 周五蓝莓团",
        "        ",
        "        1. 3栋 王阿姨 蓝莓2盒",
        "        2. 5-1201 李姐 蓝莓1盒",
        "10:08  🤖 小团: ✅ 已记录:5-1201 李姐 蓝莓1盒",
        "        合计:蓝莓3盒(蓝莓还剩47盒)",
        "        【周五蓝莓团】已有2人",
        "10:20  张姐: 汇总 周五蓝莓团",
        "10:20  🤖 小团: 【汇总】周五蓝莓团(阳光花园1号群)",
        "        合计:蓝莓3盒,共89.70元",
        "        1. 3栋 王阿姨 蓝莓2盒 59.80元",
        "        2. 5-1201 李姐 蓝莓1盒 29.90元",
        "        已有2人",
        "",
        "—— 12月01日 周二 · 私聊 ——",
        "10:25  张姐 → 小团: 汇总 蓝莓",
        "10:25  🤖 小团 → 张姐: 【汇总】周五蓝莓团",
        "        合计:蓝莓3盒,共89.70元",
        "        1. 3栋 王阿姨 蓝莓2盒 59.80元",
        "        2. 5-1201 李姐 蓝莓1盒 29.90元",
        "        已有2人",
        "",
        "== 汇总 read back from the store ==",
        "【汇总】周六丹东草莓团",
        "合计:暂无订单",
        "已有0人",
        "",
        "== 汇总 read back from the store ==",
        "【汇总】周五蓝莓团",
        *BLUEBERRY_LINES.split("\n"),
    ]


def test_a_buy_opened_from_private_chat_closes_at_its_own_cutoff(day: Day) -> None:
    events = [
        p("10:00", LEADER, "开团 周末鸡蛋团 鸡蛋 库存20 成团3人 周四20:00截单"),  # a catalogue product: its price, unit
        g("10:05", "王阿姨", chain("#接龙 周末鸡蛋团", "3栋 王阿姨 土鸡蛋2盒")),
        p("10:20", LEADER, "汇总 鸡蛋"),
    ]
    eggs = "合计:土鸡蛋2盒,共72.00元\n1. 3栋 王阿姨 土鸡蛋2盒 72.00元\n已有1人,还差2人成团"
    assert bot(day.play(events, "12-03T21:00")) == [
        (
            "12-01 10:00:00",
            G,
            "#接龙 周末鸡蛋团\n土鸡蛋 36元/盒,限量20盒\n满3人成团\n截单:12月3日(周四) 20:00\n"
            "自提:东门快递柜旁 17:00-20:00\n例 3栋 王阿姨 土鸡蛋1盒",
        ),
        ("12-01 10:00:01", "→ 张姐", "✅ 已开团「周末鸡蛋团」(编号 chat-1201-1),接龙已发到:阳光花园1号群"),
        ("12-01 10:06:00", G, "✅ 已记录:3栋 王阿姨 土鸡蛋2盒\n合计:土鸡蛋2盒(土鸡蛋还剩18盒)\n" + EGG_PEOPLE),
        ("12-01 10:20:00", "→ 张姐", f"【汇总】周末鸡蛋团\n{eggs}"),
        # both buys close at 20:00 on Thursday: the one from the YAML and the one from chat, each with its summary
        ("12-03 20:00:00", G, f"{CLOSED}【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人"),
        (
            "12-03 20:00:00",
            G,
            "【截单】周末鸡蛋团 已截单,之后的接龙不再记录\n【汇总】周末鸡蛋团(阳光花园1号群)\n"
            + eggs.replace("还差2人成团", "未成团(差2人)"),  # closed short of 成团: it did not form
        ),
        (  # and the leader who opened it hears privately what she can do
            "12-03 20:00:01",
            "→ 张姐",
            "「周末鸡蛋团」截单时未成团(差2人)。要多给大家些时间,发「延长截单 周末鸡蛋团 时间」;不成团就在群里说一声,"
            "已收的款记得退。",
        ),
    ]


def test_a_buy_opened_in_chat_shows_in_tuanbot_schedule(
    day: Day, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "rehearsal"
    day.write(BLUEBERRY_DAY)
    assert day.run("--json", "--data-dir", str(kept), "--until", "2026-12-01T11:00+08:00")[0] == 0
    # `tuanbot schedule` lays the chat changes a store holds on the YAML plan: here the rehearsal's store
    monkeypatch.setenv("TUANBOT_DATABASE_URL", f"sqlite+aiosqlite:///{kept / 'replay.db'}")
    args = ["schedule", "--config", str(day.config), "--data-dir", str(kept), "--from", "2026-12-01T11:00", "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["at"], r["job"], r["text"]) for r in rows] == [
        (
            "2026-12-03T20:00:00+08:00",
            "cutoff:caomei:阳光花园1号群",
            "【截单】周六丹东草莓团 已截单,之后的接龙不再记录",
        ),
        (
            "2026-12-04T20:00:00+08:00",
            "cutoff:chat-1201-1:阳光花园1号群",
            "【截单】周五蓝莓团 已截单,之后的接龙不再记录",
        ),
    ]


# --- 截单 / 延长截单 --------------------------------------------------------------------------------------------------


def test_close_now_and_move_the_cutoff_in_the_group_and_privately(day: Day) -> None:
    closed = f"{CLOSED}【汇总】周六丹东草莓团(阳光花园1号群)\n合计:"
    events = [
        g("09:10", "王阿姨", chain(S, WANG)),
        g("10:00", LEADER, "截单"),  # the only open buy, now
        g("10:05", "李姐", chain(S, WANG, LI)),  # too late
        p("10:10", LEADER, "截单"),
        p("10:15", LEADER, "延长截单 草莓 明天中午12点"),  # open again until tomorrow noon
        g("10:20", "李姐", chain(S, WANG, LI)),  # the same list again: her line counts now
        g("10:30", LEADER, "延长截单 周四20:00"),
        p("11:00", LEADER, "截单 草莓"),
    ]
    result = day.play(events, "12-05T21:00")  # past every cutoff the buy had: nothing more is said
    assert bot(result) == [
        ("12-01 09:11:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
        ("12-01 10:00:00", G, closed + "草莓2盒,共79.80元\n1. 3栋 王阿姨 草莓2盒 79.80元\n已有1人"),
        (
            "12-01 10:05:00",
            G,
            f"抱歉,周六丹东草莓团已于12月01日 10:00截单,{LI.rsplit(' ', 1)[0]}的接龙这次没能记上,下次开团早点来哦~",
        ),
        ("12-01 10:10:00", "→ 张姐", "你带的群现在没有进行中的团购。"),
        ("12-01 10:15:00", G, "⏰ 周六丹东草莓团 截单时间改到12月2日(周三) 12:00,还没接龙的邻居抓紧啦~"),
        ("12-01 10:15:00", "→ 张姐", "✅ 「周六丹东草莓团」截单改到12月2日(周三) 12:00,已通知:阳光花园1号群"),
        ("12-01 10:20:00", G, strawberry_digest("✅ 已记录:5-1201 李姐 草莓2盒", 4, 2)),
        ("12-01 10:30:00", G, "⏰ 周六丹东草莓团 截单时间改到12月3日(周四) 20:00,还没接龙的邻居抓紧啦~"),
        (
            "12-01 11:00:00",
            G,
            closed + "草莓4盒,共159.60元\n1. 3栋 王阿姨 草莓2盒 79.80元\n2. 5-1201 李姐 草莓2盒 79.80元\n已有2人",
        ),
        ("12-01 11:00:00", "→ 张姐", "✅ 已截单「周六丹东草莓团」,已通知:阳光花园1号群"),
    ]
    assert result["orders"] == [order("3栋 王阿姨", 2, 79.8), order("5-1201 李姐", 2, 79.8)]
    assert result["buys"] == [{"id": "caomei", "status": "closed", "members": 2, "formed": True, "total": 159.6}]


# --- 库存 / 加库存 --------------------------------------------------------------------------------------------------


def test_stock_set_or_added_moves_the_wait_list_up_in_the_group_and_privately(day: Day) -> None:
    lines = [WANG, LI, HE, CHEN]
    events = [g(f"10:0{i}", lines[i - 1].split()[1], chain(S, *lines[:i])) for i in range(1, 5)]  # 4 boxes, 6 asked
    events += [
        g("10:10", LEADER, "加库存 草莓 1"),
        p("10:15", LEADER, "库存 丹东草莓 5"),  # set: 5 from now on, 陈叔 takes one
        p("10:20", LEADER, "加库存 草莓 2"),
        g("10:25", LEADER, "库存 草莓 3"),
    ]
    result = day.play(events, "12-01T10:30")
    assert bot(result) == [
        ("12-01 10:02:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
        ("12-01 10:03:00", G, strawberry_digest("✅ 已记录:5-1201 李姐 草莓2盒", 4, 2)),
        ("12-01 10:04:00", G, f"⏳ 已满,登记候补(有人取消按顺序递补):6号楼 何姐 草莓1盒\n{FULL}"),
        ("12-01 10:05:00", G, f"⏳ 已满,登记候补(有人取消按顺序递补):2栋 陈叔 草莓1盒\n{FULL}"),
        ("12-01 10:10:00", G, "6号楼 何姐 团长加了库存,你的候补转正啦:草莓1盒 ✅"),
        ("12-01 10:10:00", G, "✅ 「周六丹东草莓团」草莓还剩0盒,1位候补转正"),
        ("12-01 10:15:00", G, "2栋 陈叔 团长加了库存,你的候补转正啦:草莓1盒 ✅"),
        ("12-01 10:15:01", "→ 张姐", "✅ 「周六丹东草莓团」草莓还剩4盒,1位候补转正"),
        ("12-01 10:20:00", "→ 张姐", "✅ 「周六丹东草莓团」草莓还剩6盒"),
        ("12-01 10:25:00", G, "✅ 「周六丹东草莓团」草莓还剩3盒"),
    ]
    assert [(o["member"], o["status"]) for o in result["orders"]] == [
        ("3栋 王阿姨", "active"),
        ("5-1201 李姐", "active"),
        ("6号楼 何姐", "active"),
        ("2栋 陈叔", "active"),
    ]


# --- 到货 ----------------------------------------------------------------------------------------------------------

UNSTOCKED = CONFIG.replace("items: [{product: 草莓, stock: 4}]", "items: [{product: 草莓}]")
ARRIVED = "📦 周六丹东草莓团 到货啦!\n自提:东门快递柜旁,17:00-20:00\n请下面@到的邻居按时来取~"


def test_arrival_mentions_the_buyers_in_batches_from_the_group_and_privately(day: Day) -> None:
    day.config.write_text(UNSTOCKED, encoding="utf-8")
    lines = [f"{i}栋 邻居{i:02d} 草莓1盒" for i in range(1, 22)]  # 21 buyers: two batches of @s
    events = [g(f"10:{i:02d}", f"邻居{i:02d}", chain(S, *lines[:i])) for i in range(1, 22)]
    events += [g("11:00", LEADER, "到货"), p("11:11", LEADER, "到货 草莓")]  # 11 minutes on: past the same-text window
    result = day.play(events, "12-01T11:30")
    digests = [
        (f"12-01 10:{i + 1:02d}:00", G, f"✅ 已记录:{lines[i - 1]}\n合计:草莓{i}盒\n【周六丹东草莓团】已有{i}人")
        for i in range(1, 22)
    ]
    everyone = [f"邻居{i:02d}" for i in range(1, 22)]
    first, second = ("请来取货(1/2)~", everyone[:20]), ("请来取货(2/2)~", everyone[20:])  # 20 @s to a message
    assert bot(result)[:21] == digests
    assert [(s["at"][11:19], s["group"], s["to"], s["text"], s["mentions"]) for s in result["said"][21:]] == [
        ("11:00:00", G, None, ARRIVED, []),
        ("11:00:00", G, None, *first),
        ("11:00:02", G, None, *second),  # the sender's anti-ban pauses (seeded) space the batches a little
        ("11:11:00", G, None, ARRIVED, []),
        ("11:11:00", G, None, *first),
        ("11:11:01", G, None, *second),
        ("11:11:01", None, "张姐", "✅ 已在阳光花园1号群(21人)发了周六丹东草莓团的到货通知。", []),
    ]


# --- 暂停 / 恢复 ----------------------------------------------------------------------------------------------------


def test_paused_the_bot_is_silent_in_the_group_but_records_orders_and_answers_the_leader(day: Day) -> None:
    events = [
        g("09:10", "王阿姨", chain(S, WANG)),
        g("10:00", LEADER, "暂停"),
        g("10:05", "李姐", chain(S, WANG, LI)),  # recorded, not confirmed
        g("10:06", "刘妈妈", "草莓多少钱", mentions=["小团"]),  # not answered
        g("10:07", LEADER, "汇总"),  # the leader's own commands are
        g("10:08", LEADER, "库存 草莓 6"),
        g("10:10", LEADER, "恢复"),
        g("10:12", "何姐", chain(S, WANG, LI, HE)),  # the next digest confirms what waited too
        p("10:20", LEADER, "暂停"),  # privately: the one group she leads
        g("10:21", "陈叔", chain(S, WANG, LI, HE, CHEN)),
        g("10:22", "刘妈妈", "几点截单", mentions=["小团"]),
        p("10:30", LEADER, "恢复 阳光花园1号群"),
        g("10:31", "刘妈妈", "几点截单", mentions=["小团"]),
    ]
    result = day.play(events, "12-01T10:40")
    assert bot(result) == [
        ("12-01 09:11:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
        ("12-01 10:00:00", G, "⏸ 已暂停:我在本群先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"),
        (
            "12-01 10:07:00",
            G,
            "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:草莓4盒,共159.60元\n1. 3栋 王阿姨 草莓2盒 79.80元\n"
            "2. 5-1201 李姐 草莓2盒 79.80元\n已有2人",
        ),
        ("12-01 10:08:00", G, "✅ 「周六丹东草莓团」草莓还剩6盒"),
        ("12-01 10:10:00", G, "▶️ 已恢复:我在本群继续为大家服务~"),
        (
            "12-01 10:12:00",
            G,
            "✅ 已记录:5-1201 李姐 草莓2盒;6号楼 何姐 草莓1盒\n合计:草莓5盒(草莓还剩5盒)\n【周六丹东草莓团】已有3人",
        ),
        ("12-01 10:20:00", "→ 张姐", f"⏸ 已暂停:我在{G}先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"),
        ("12-01 10:30:00", "→ 张姐", "▶️ 已恢复:我在阳光花园1号群继续为大家服务~"),
        ("12-01 10:31:00", G, "【周六丹东草莓团】12月3日(周四)20:00截单,还剩2天9小时"),
    ]
    assert [(o["member"], o["status"]) for o in result["orders"]] == [
        ("3栋 王阿姨", "active"),
        ("5-1201 李姐", "active"),
        ("6号楼 何姐", "active"),
        ("2栋 陈叔", "active"),  # ordered while the bot was paused
    ]


# --- 汇总 / 导出 ----------------------------------------------------------------------------------------------------


def test_summary_and_export_in_the_group_and_privately_the_workbook_always_to_the_leader(day: Day) -> None:
    events = [
        g("09:10", "王阿姨", chain(S, WANG)),
        g("09:20", LEADER, "汇总 caomei"),
        p("09:25", LEADER, "汇总"),
        g("09:30", LEADER, "导出"),
        p("09:40", LEADER, "导出 草莓"),
    ]
    result = day.play(events, "12-01T10:00")
    lines = "合计:草莓2盒,共79.80元\n1. 3栋 王阿姨 草莓2盒 79.80元\n已有1人"
    exported = "📄 周六丹东草莓团 已导出(1条,含明细、汇总、自提三张表),"
    assert [(s["at"][11:19], s["group"], s["to"], s["text"], s["file"]) for s in result["said"]] == [
        ("09:11:00", G, None, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1), None),
        ("09:20:00", G, None, f"【汇总】周六丹东草莓团(阳光花园1号群)\n{lines}", None),
        ("09:25:00", None, "张姐", f"【汇总】周六丹东草莓团\n{lines}", None),
        ("09:30:00", G, None, exported + "文件已私发给团长。", None),  # the group sees neither the file nor its name
        ("09:30:00", None, "张姐", "caomei-20261201-0930.xlsx", "caomei-20261201-0930.xlsx"),
        ("09:40:00", None, "张姐", exported + "文件发给你了。", None),
        ("09:40:00", None, "张姐", "caomei-20261201-0940.xlsx", "caomei-20261201-0940.xlsx"),
    ]


# --- who may run them ------------------------------------------------------------------------------------------------

COMMANDS = [
    "帮助",
    "开团 caomei",
    "开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单",
    "截单",
    "延长截单 周五20:00",
    "库存 草莓 9",
    "加库存 草莓 2",
    "到货",
    "暂停",
    "汇总",
    "导出",
]


def test_a_member_typing_the_leader_commands_gets_nothing_in_the_group_or_privately(day: Day) -> None:
    events = [g("09:10", "王阿姨", chain(S, WANG))]
    events += [g(f"09:{20 + i}", "王阿姨", command) for i, command in enumerate(COMMANDS)]
    events += [p(f"09:{40 + i}", "王阿姨", command) for i, command in enumerate(COMMANDS)]
    events.append(g("09:55", "李姐", chain(S, WANG, LI)))  # nothing was closed, paused or restocked
    result = day.play(events, "12-01T10:00")
    assert bot(result) == [
        ("12-01 09:11:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
        ("12-01 09:55:00", G, strawberry_digest("✅ 已记录:5-1201 李姐 草莓2盒", 4, 2)),
    ]
    assert result["buys"] == [{"id": "caomei", "status": "open", "members": 2, "formed": True, "total": 159.6}]


def test_a_member_renamed_to_the_leaders_name_is_refused_and_the_leader_told_privately(day: Day) -> None:
    events = [
        g("09:00", LEADER, "汇总"),  # the real 张姐 first: her name is bound to her account
        g("09:10", LEADER, "截单", sender_id="wxid_fake"),  # someone renamed 张姐
        g("09:11", LEADER, "开团 周五蓝莓团 蓝莓 29.9元/盒", sender_id="wxid_fake"),
        p("09:12", LEADER, "导出", sender_id="wxid_fake"),
        g("09:20", "王阿姨", chain(S, WANG)),  # the buy is still open
    ]
    result = day.play(events, "12-01T09:30")
    assert bot(result) == [
        ("12-01 09:00:00", G, HEADER),
        ("12-01 09:00:01", G, "【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人"),
        ("12-01 09:10:00", "→ 张姐", "⚠️ 有人改成了你的名字「张姐」,想用团长命令「截单」,已拒绝。对方微信号:wxid_fake"),
        ("12-01 09:21:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
    ]
    assert result["buys"] == [{"id": "caomei", "status": "open", "members": 1, "formed": True, "total": 79.8}]
