"""`tuanbot replay`: whole days played through the real bot from a transcript, the way a leader rehearses a week.

Each test writes a transcript (one JSON message per line), runs the command as a user would, and reads exactly what
the bot said and what orders the store holds at the end (`--json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.logs import LOG_FILE, REHEARSAL_LOG_FILE

G = "阳光花园1号群"

CONFIG = """\
timezone: Asia/Shanghai
bot: {name: 小团}
quiet_hours: "22:00-08:00"
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
chain: {digest_every: 1m}
catalogue:
  - {name: 脐橙, aliases: [赣南脐橙], unit: 箱, price: 68, spec: 10斤/箱}
  - {name: 砂糖橘, aliases: [沙糖桔], unit: 箱, price: 29.9}
groups:
  - name: 阳光花园1号群
    leaders: [张姐, wxid_boss]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
buys:
  - id: qicheng
    title: 赣南脐橙团
    groups: [阳光花园1号群]
    items: [{product: 脐橙, stock: 50}]
    opens: 2026-12-01 09:00
    cutoff: 2026-12-01 20:00
    ladder:
      - {members: 3, price: 62}
      - {members: 5, price: 55}
flash_sales:
  - id: orange-flash
    product: 砂糖橘
    price: 19.9
    stock: 3
    groups: all
    start: 2026-12-01 20:30
    end: 2026-12-01 20:45
    alerts: [0]
reminders: {cutoff: [-2h]}
"""

HEADER = "#接龙 赣南脐橙团\n例 3栋 王阿姨 脐橙1箱"
OPENING = (
    "#接龙 赣南脐橙团\n脐橙 68元/箱(10斤/箱),限量50箱\n阶梯价:3人62元,5人55元(人越多越便宜)\n"
    "截单:12月1日(周二) 20:00\n自提:东门快递柜旁 17:00-20:00\n例 3栋 王阿姨 脐橙1箱"
)


def chain(*lines: str) -> str:
    return HEADER + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def msg(at: str, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    """A group message at 2026-12-01 `at` (HH:MM[:SS], Beijing time)."""
    seconds = "" if at.count(":") == 2 else ":00"
    return {"at": f"2026-12-01T{at}{seconds}+08:00", "group": G, "sender": sender, "text": text, **extra}


class Replay:
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.dir = tmp_path
        self.capsys = capsys
        self.config = tmp_path / "config.yaml"
        self.config.write_text(CONFIG, encoding="utf-8")
        self.file = tmp_path / "day.jsonl"

    def write(self, events: list[dict[str, Any]] | str) -> Path:
        text = events if isinstance(events, str) else "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        self.file.write_text(text, encoding="utf-8")
        return self.file

    def run(self, *args: str) -> tuple[int, str, str]:
        code = main(["replay", "--config", str(self.config), *args, str(self.file)])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, events: list[dict[str, Any]], *args: str) -> dict[str, Any]:
        self.write(events)
        code, out, err = self.run("--json", *args)
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result

    def said(self, events: list[dict[str, Any]], *args: str) -> list[tuple[str, str]]:
        """(HH:MM, text) of each thing the bot said."""
        return [(s["at"][11:16], s["text"]) for s in self.json(events, *args)["said"]]


@pytest.fixture
def replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Replay:
    return Replay(tmp_path, capsys)


def digest(line: str, total: int, left: int, members: int, price: str) -> str:
    return f"{line}\n合计:脐橙{total}箱(脐橙还剩{left}箱)\n【赣南脐橙团】已有{members}人,{price}"


# --- one test per kind of event --------------------------------------------------------------------------------


def test_a_group_message_is_handled_at_its_time_and_answered(replay: Replay) -> None:
    result = replay.json([msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱"))], "--until", "2026-12-01T09:20+08:00")
    assert [(s["at"], s["group"], s["to"], s["text"], s["mentions"], s["file"]) for s in result["said"]] == [
        (
            "2026-12-01T09:11:00+08:00",  # the digest: once a minute at most (chain: digest_every)
            G,
            None,
            digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元"),
            [],
            None,
        ),
    ]
    assert result["orders"] == [
        {
            "buy": "qicheng",
            "group": G,
            "member": "3栋 王阿姨",
            "sender": "王阿姨",
            "items": [{"product": "脐橙", "qty": 2, "unit": "箱"}],
            "status": "active",
            "amount": 136,
            "paid": False,
        }
    ]


def test_sender_id_is_who_the_bot_sees(replay: Replay) -> None:
    # the leader is configured by wxid: only the message carrying it is the leader's
    events = [
        msg("10:00", "老板娘", chain("3栋 王阿姨 脐橙2箱")),
        msg("10:05", "老板娘", "汇总"),  # her wxid derived from the name: a member, no summary
        msg("10:20", "老板娘", "汇总", sender_id="wxid_boss"),
    ]
    said = replay.said(events, "--until", "2026-12-01T10:30+08:00")
    assert said == [
        ("10:01", digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        (
            "10:20",
            (
                "【汇总】赣南脐橙团(阳光花园1号群)\n合计:脐橙2箱,共136.00元\n1. 3栋 王阿姨 脐橙2箱 136.00元\n"
                "已有1人,当前价68元,再2人降到62元"
            ),
        ),
    ]


def test_a_repeated_id_is_a_redelivery_handled_once(replay: Replay, capsys: pytest.CaptureFixture[str]) -> None:
    events = [
        msg("20:30:10", "王阿姨", "抢", id="m-1"),
        msg("20:30:20", "王阿姨", "抢", id="m-1"),  # the gateway delivers it again
        msg("20:30:30", "李姐", "砂糖橘+1"),
    ]
    result = replay.json(events, "--until", "2026-12-01T20:31+08:00")
    claims = [(o["member"], o["items"][0]["qty"], o["status"], o["amount"]) for o in result["orders"]]
    assert claims == [("王阿姨", 1, "active", 19.9), ("李姐", 1, "active", 19.9)]
    assert result["buys"][1] == {"id": "orange-flash", "status": "running", "members": 2, "formed": True, "total": 39.8}
    code, out, _ = replay.run()  # the conversation shows the message once
    assert code == 0
    assert out.count("王阿姨: 抢") == 1


def test_mentions_name_the_bot_and_the_bots_mentions_are_names(replay: Replay) -> None:
    events = [
        msg("10:00", "刘妈妈", "谁知道几点截单"),  # asked of the neighbours: the bot stays out of it
        msg("10:10", "刘妈妈", "谁知道几点截单", mentions=["小团"]),  # @小团 (WeChat carries it beside the text)
    ]
    result = replay.json(events, "--until", "2026-12-01T10:20+08:00")
    assert [(s["at"][11:16], s["text"], s["mentions"]) for s in result["said"]] == [
        ("10:10", "【赣南脐橙团】今天20:00截单,还剩9小时50分钟", ["刘妈妈"]),
    ]


def _native_card(title: str, entries: list[tuple[str, str]]) -> str:
    """A native 接龙 card (appmsg type 53): `title` is the list as WeChat renders it, each entry (wxid, text) is
    located in it by UTF-16 range, as WeChat writes `solitaire_info`."""
    units = title.encode("utf-16-le")
    items = ""
    for wxid, text in entries:
        start = units.index(text.encode("utf-16-le")) // 2
        length = len(text.encode("utf-16-le")) // 2
        items += f"<i><u>{wxid}</u><h>0</h><s>.</s><t>1764551400</t><r>{start}-{length}</r></i>"
    info = f"<solitaire><tt>0-10</tt><au>wxid_boss</au><content>{items}</content></solitaire>"
    return (
        f'<?xml version="1.0"?><msg><appmsg appid="" sdkver="0"><title>{title}</title><type>53</type>'
        f"<extinfo><solitaire_info><![CDATA[{info}]]></solitaire_info></extinfo></appmsg></msg>"
    )


def test_a_native_jielong_card_is_read_with_its_writers(replay: Replay) -> None:
    title = chain("3栋 王阿姨 脐橙2箱", "5-1201 李姐 脐橙1箱")
    card = _native_card(title, [("wxid_wang", "3栋 王阿姨 脐橙2箱"), ("wxid_li", "5-1201 李姐 脐橙1箱")])
    result = replay.json(
        [msg("10:00", "李姐", card, type="native", sender_id="wxid_li")], "--until", "2026-12-01T10:10+08:00"
    )
    assert [(s["at"][11:16], s["text"]) for s in result["said"]] == [
        ("10:01", digest("✅ 已记录:3栋 王阿姨 脐橙2箱;5-1201 李姐 脐橙1箱", 3, 47, 2, "当前价68元,再1人降到62元")),
    ]
    assert [(o["member"], o["sender"], o["amount"]) for o in result["orders"]] == [
        ("3栋 王阿姨", "3栋 王阿姨", 136),  # written by wxid_wang, who has not spoken: known by the line's label
        ("5-1201 李姐", "李姐", 68),
    ]


def test_a_private_message_reaches_the_bot_one_to_one(replay: Replay) -> None:
    events = [
        msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")),
        {"at": "2026-12-01T10:00:00+08:00", "private": True, "sender": "张姐", "text": "汇总"},  # the leader
        {
            "at": "2026-12-01T10:05:00+08:00",
            "private": True,
            "sender": "王阿姨",
            "text": "汇总",
        },  # a member: left alone
    ]
    result = replay.json(events, "--until", "2026-12-01T10:30+08:00")
    assert [(s["at"][11:16], s["group"], s["to"], s["text"]) for s in result["said"]] == [
        ("09:11", G, None, digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        (
            "10:00",
            None,
            "张姐",
            "【汇总】赣南脐橙团\n合计:脐橙2箱,共136.00元\n1. 3栋 王阿姨 脐橙2箱 136.00元\n"
            "已有1人,当前价68元,再2人降到62元",
        ),
    ]
    code, out, _ = replay.run()
    assert code == 0
    lines = out.splitlines()
    assert "10:00  张姐 → 小团: 汇总" in lines
    assert "10:00  🤖 小团 → 张姐: 【汇总】赣南脐橙团" in lines


def test_a_file_the_bot_sends_is_named_in_said(replay: Replay) -> None:
    events = [{"at": "2026-12-01T10:00:00+08:00", "private": True, "sender": "张姐", "text": "导出"}]
    said = replay.json(events, "--until", "2026-12-01T10:10+08:00")["said"]
    assert [(s["at"], s["to"], s["text"], s["file"]) for s in said] == [
        (
            "2026-12-01T10:00:00+08:00",
            "张姐",
            "📄 赣南脐橙团 已导出(0条,含明细、汇总、自提三张表),文件发给你了。",
            None,
        ),
        # a second later: the sender's anti-ban pause between two sends (seeded: the same on every run)
        ("2026-12-01T10:00:01+08:00", "张姐", "qicheng-20261201-1000.xlsx", "qicheng-20261201-1000.xlsx"),
    ]


# --- the clock -------------------------------------------------------------------------------------------------


def test_scheduled_posts_fire_between_events_at_their_own_time(replay: Replay) -> None:
    said = replay.said([msg("08:30", "王阿姨", "早上好"), msg("21:00", "李姐", "几点截单")])
    assert [(at, text.split("\n", 1)[0]) for at, text in said] == [
        ("09:00", "#接龙 赣南脐橙团"),
        ("18:00", "⏰ 赣南脐橙团 还有2小时截单(今晚20:00)"),
        ("20:00", "【截单】赣南脐橙团 已截单,之后的接龙不再记录"),
        ("20:30", "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩3箱"),
        ("20:45", "⏱ 砂糖橘限时秒杀已结束,谢谢大家捧场~"),
        ("21:00", "【赣南脐橙团】已于今天20:00截单,下次开团早点来哦~"),
    ]
    assert said[0][1] == OPENING


def test_until_runs_the_clock_on_and_stops_the_day(replay: Replay) -> None:
    events = [msg("17:30", "王阿姨", "早")]
    # default: an hour after the last message, so the 18:00 reminder goes out and the 20:00 cutoff does not
    assert [at for at, _ in replay.said(events)] == ["18:00"]
    assert [at for at, _ in replay.said(events, "--until", "2026-12-01T20:00+08:00")] == ["18:00", "20:00"]
    naive = replay.said(events, "--until", "2026-12-01 20:00")  # naive: the config's timezone
    assert [at for at, _ in naive] == ["18:00", "20:00"]
    # messages after --until are not played
    late = [msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")), msg("12:00", "李姐", chain("李姐 脐橙1箱"))]
    result = replay.json(late, "--until", "2026-12-01T11:00+08:00")
    assert [o["member"] for o in result["orders"]] == ["3栋 王阿姨"]


def test_a_bad_until_is_a_usage_error(replay: Replay) -> None:
    replay.write([msg("10:00", "王阿姨", "早")])
    code, _, err = replay.run("--until", "tomorrow")
    assert code == 2
    assert "--until: not an ISO time: 'tomorrow'" in err


# --- malformed transcripts ---------------------------------------------------------------------------------------

GOOD = json.dumps(msg("09:10", "王阿姨", "早"), ensure_ascii=False)
LI = '{"at": "2026-12-01T09:20:00+08:00", "group": "阳光花园1号群", "sender": "李姐", '


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"at": "2026-12-01T09:20:00+08:00", "group": "阳光花园1号群", "sender": "李姐", "text": "早"',
            "not a JSON object",
        ),
        ('["早"]', "not a JSON object: each line is one message"),
        (
            '{"at": "2026-12-01T09:20:00+08:00", "group": "阳光花园1号群", "sendr": "李姐", "text": "早"}',
            "sendr: unknown key",
        ),
        ('{"at": "2026-12-01T09:20:00+08:00", "group": "阳光花园1号群", "text": "早"}', "sender: missing"),
        ('{"at": "9点20", "group": "阳光花园1号群", "sender": "李姐", "text": "早"}', "at: not an ISO time: '9点20'"),
        (
            '{"at": "2026-12-01T09:00:00+08:00", "group": "阳光花园1号群", "sender": "李姐", "text": "早"}',
            "at: 2026-12-01T09:00:00+08:00 is before the line above",
        ),
        (
            '{"at": "2026-12-01T09:20:00+08:00", "group": "2号群", "sender": "李姐", "text": "早"}',
            "group: '2号群' is not a configured group",
        ),
        ('{"at": "2026-12-01T09:20:00+08:00", "sender": "李姐", "text": "早"}', "group: missing"),
        (
            '{"at": "2026-12-01T09:20:00+08:00", "group": "阳光花园1号群", "sender": "李姐", "text": 3}',
            "text: a string",
        ),
        (
            LI + '"text": "x", "type": "image"}',
            "type: 'image' is not one of text, native",
        ),
        (
            LI + '"text": "x", "mentions": "小团"}',
            "mentions: a list of display names",
        ),
    ],
)
def test_a_malformed_line_is_named_by_file_and_line(replay: Replay, line: str, message: str) -> None:
    replay.write(GOOD + "\n\n" + line + "\n")  # the blank line is allowed, and counted
    code, out, err = replay.run("--json")
    assert code == 1
    assert out == ""  # nothing is played
    assert err.startswith(f"{replay.file}:3: {message}")


def test_an_empty_transcript_plays_nothing(replay: Replay) -> None:
    assert replay.json([], "--until", "2026-12-01T08:00+08:00") == {
        "said": [],
        "orders": [],
        "buys": [
            {"id": "qicheng", "status": "upcoming", "members": 0, "formed": True, "total": 0},
            {"id": "orange-flash", "status": "upcoming", "members": 0, "formed": True, "total": 0},
        ],
    }


# --- a realistic day -----------------------------------------------------------------------------------------------


def test_a_ladder_buy_day_with_an_edit_a_cancel_a_question_and_the_cutoff(replay: Replay) -> None:
    lines = ["张姐 脐橙1箱"]
    events = [msg("08:55", "王阿姨", "早上好"), msg("09:02", "张姐", chain(*lines))]
    lines.append("3栋 王阿姨 脐橙2箱")
    events.append(msg("09:10", "王阿姨", chain(*lines)))
    lines.append("5-1201 李姐 脐橙1箱")
    events.append(msg("09:12", "李姐", chain(*lines)))
    lines.append("2栋 陈叔 脐橙3箱")
    events.append(msg("09:20", "陈叔", chain(*lines)))
    events.append(msg("09:25", "刘妈妈", "@小团 几点截单", mentions=["小团"]))
    lines[1] = "3栋 王阿姨 脐橙3箱"  # her edit: 2 → 3
    events.append(msg("10:00", "王阿姨", chain(*lines)))
    lines[3] = "2栋 陈叔 不要了"  # his cancel
    events.append(msg("11:00", "陈叔", chain(*lines)))
    lines.append("6号楼 何姐 脐橙1箱")
    events.append(msg("12:00", "何姐", chain(*lines)))
    events.append(msg("19:40", "刘妈妈", "脐橙还有吗"))
    result = replay.json(events)  # runs on to 20:40: the cutoff post and the flash sale's start go out
    at_62 = "当前价62元,再2人降到55元"
    at_62_one_more = "当前价62元,再1人降到55元"
    assert [(s["at"], s["text"], s["mentions"]) for s in result["said"]] == [
        ("2026-12-01T09:00:00+08:00", OPENING, []),
        ("2026-12-01T09:03:00+08:00", digest("✅ 已记录:张姐 脐橙1箱", 1, 49, 1, "当前价68元,再2人降到62元"), []),
        ("2026-12-01T09:10:00+08:00", digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 3, 47, 2, "当前价68元,再1人降到62元"), []),
        ("2026-12-01T09:12:00+08:00", digest("✅ 已记录:5-1201 李姐 脐橙1箱", 4, 46, 3, at_62), []),
        ("2026-12-01T09:20:00+08:00", digest("✅ 已记录:2栋 陈叔 脐橙3箱", 7, 43, 4, at_62_one_more), []),
        ("2026-12-01T09:25:00+08:00", "【赣南脐橙团】今天20:00截单,还剩10小时35分钟", ["刘妈妈"]),
        ("2026-12-01T10:00:00+08:00", digest("✏️ 已修改:3栋 王阿姨 脐橙3箱", 8, 42, 4, at_62_one_more), []),
        ("2026-12-01T11:00:00+08:00", digest("❎ 已取消:2栋 陈叔", 5, 45, 3, at_62), []),
        ("2026-12-01T12:00:00+08:00", digest("✅ 已记录:6号楼 何姐 脐橙1箱", 6, 44, 4, at_62_one_more), []),
        (
            "2026-12-01T18:00:00+08:00",
            "⏰ 赣南脐橙团 还有2小时截单(今晚20:00)\n已有4人,当前价62元,再1人降到55元\n还没接龙的邻居抓紧啦~",
            [],
        ),
        ("2026-12-01T19:40:00+08:00", "脐橙还剩44箱,要的抓紧接龙~", ["刘妈妈"]),
        (
            "2026-12-01T20:00:00+08:00",
            "【截单】赣南脐橙团 已截单,之后的接龙不再记录\n【汇总】赣南脐橙团(阳光花园1号群)\n合计:脐橙6箱,共372.00元\n"
            "1. 张姐 脐橙1箱 62.00元\n2. 3栋 王阿姨 脐橙3箱 186.00元\n3. 5-1201 李姐 脐橙1箱 62.00元\n"
            "4. 6号楼 何姐 脐橙1箱 62.00元\n"
            "已有4人,当前价62元,再1人降到55元",
            [],
        ),
        (
            "2026-12-01T20:30:00+08:00",
            "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩3箱\n20:45结束,接龙下单,先到先得~",
            [],
        ),
    ]

    def order(member: str, sender: str, qty: int, status: str, amount: int) -> dict[str, Any]:
        items = [{"product": "脐橙", "qty": qty, "unit": "箱"}]
        return {"buy": "qicheng", "group": G, "member": member, "sender": sender, "items": items,
                "status": status, "amount": amount, "paid": False}  # fmt: skip

    # four members reached the 3-member tier: everyone pays 62 a box; the cancelled order costs nothing
    assert result["orders"] == [
        order("张姐", "张姐", 1, "active", 62),
        order("3栋 王阿姨", "王阿姨", 3, "active", 186),
        order("5-1201 李姐", "李姐", 1, "active", 62),
        order("2栋 陈叔", "陈叔", 3, "cancelled", 0),
        order("6号楼 何姐", "何姐", 1, "active", 62),
    ]
    assert result["buys"] == [
        {"id": "qicheng", "status": "closed", "members": 4, "formed": True, "total": 372},
        {"id": "orange-flash", "status": "running", "members": 0, "formed": True, "total": 0},
    ]


def test_without_json_the_day_prints_as_the_demo_does_then_each_summary(replay: Replay) -> None:
    replay.write([msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")), msg("09:12", "刘妈妈", "脐橙多少钱")])
    code, out, _ = replay.run("--until", "2026-12-01T09:15+08:00")
    assert code == 0
    assert out.splitlines()[-12:] == [
        "        1. 3栋 王阿姨 脐橙2箱",
        "09:11  🤖 小团: ✅ 已记录:3栋 王阿姨 脐橙2箱",
        "        合计:脐橙2箱(脐橙还剩48箱)",
        "        【赣南脐橙团】已有1人,当前价68元,再2人降到62元",
        "09:12  刘妈妈: 脐橙多少钱",
        "09:12  🤖 小团: @刘妈妈 脐橙现在68元/箱(10斤/箱),已有1人,再2人降到62元",
        "",
        "== 汇总 read back from the store ==",
        "【汇总】赣南脐橙团",
        "合计:脐橙2箱,共136.00元",
        "1. 3栋 王阿姨 脐橙2箱 136.00元",
        "已有1人,当前价68元,再2人降到62元",
    ]


def test_a_replay_writes_into_a_throwaway_dir_unless_given_one(
    replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live"
    monkeypatch.setenv("TUANBOT_DATA", str(live))  # the running bot's data dir
    monkeypatch.chdir(tmp_path)
    events = [msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱"))]
    replay.json(events)
    assert not live.exists()  # neither its database nor its operator log
    assert not (tmp_path / "data").exists()
    kept = tmp_path / "rehearsal"
    replay.write(events)
    code, _, _ = replay.run("--json", "--data-dir", str(kept))
    assert code == 0
    assert (kept / "replay.db").exists()
    assert "order_created" in (kept / REHEARSAL_LOG_FILE).read_text(encoding="utf-8")  # a rehearsal's own log
    assert not (kept / LOG_FILE).exists()
    assert not live.exists()


def test_a_group_configured_by_room_id_plays_too(replay: Replay) -> None:
    replay.config.write_text(
        CONFIG.replace("  - name: 阳光花园1号群\n", "  - name: 阳光花园1号群\n    room_id: '20998877@chatroom'\n"),
        encoding="utf-8",
    )
    said = replay.said([msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱"))], "--until", "2026-12-01T09:20+08:00")
    assert said == [("09:11", digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元"))]
