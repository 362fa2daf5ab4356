"""A leader's day of commands typed on a phone, played by `tuanbot replay` (issue #15): typos, `#`, `@小团`,
full-width characters and punctuation; the short help for what is no command, silence for a leader's chat and a
member's command; and every command in the rehearsal log (JSON lines) with the wxid that ran it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.cli.transcript import derived_wxid
from bot.logs import REHEARSAL_LOG_FILE
from tests.test_replay import Replay, chain, msg, replay

__all__ = ["replay"]  # the fixture, shared with tests/test_replay.py

ZHANG = "wxid_zhang"


def leader(at: str, text: str, **extra: Any) -> dict[str, Any]:
    return msg(at, "张姐", text, sender_id=ZHANG, **extra)


DAY = [
    msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")),
    leader("09:20", "汇宗"),  # chat: not addressed to the bot
    leader("09:21", "#汇宗"),
    leader("09:22", "＃汇总　脐橙。"),
    leader("09:30", "@小团 加库 脐橙 10", mentions=["小团"]),
    leader("09:31", "@小团加库存脐橙１０"),
    msg("10:00", "王阿姨", "#汇总"),  # a member: nothing
    leader("12:00", "延长截单 21：00!"),
    {"at": "2026-12-01T12:05:00+08:00", "private": True, "sender": "张姐", "sender_id": ZHANG, "text": "汇总了吗"},
    leader("17:00", "到货了!"),
    leader("17:05", "#到货了吗"),
]


PRICE = "已有1人,当前价68元,再2人降到62元"
SHORT = "没看懂这个指令,发「帮助」看全部指令\n是不是想发「{}」?"


def test_a_leaders_day_of_commands_as_typed_on_a_phone(replay: Replay, tmp_path: Path) -> None:
    kept = tmp_path / "rehearsal"
    assert replay.said(DAY, "--data-dir", str(kept), "--until", "2026-12-01T17:30+08:00") == [
        ("09:11", "✅ 已记录:3栋 王阿姨 脐橙2箱\n合计:脐橙2箱(脐橙还剩48箱)\n【赣南脐橙团】" + PRICE),
        ("09:21", SHORT.format("汇总")),
        (
            "09:22",
            "【汇总】赣南脐橙团(阳光花园1号群)\n合计:脐橙2箱,共136.00元\n1. 3栋 王阿姨 脐橙2箱 136.00元\n"
            + PRICE,
        ),
        ("09:30", SHORT.format("加库存")),
        ("09:31", "✅ 「赣南脐橙团」脐橙还剩58箱"),
        ("12:00", "⏰ 赣南脐橙团 截单时间改到12月1日(周二) 21:00,还没接龙的邻居抓紧啦~"),
        ("12:05", SHORT.format("汇总")),  # privately
        ("17:00", "📦 赣南脐橙团 到货啦!\n自提:东门快递柜旁,17:00-20:00\n请下面@到的邻居按时来取~"),
        ("17:00", "请来取货~"),  # @王阿姨
        ("17:05", SHORT.format("到货")),
    ]
    lines = (kept / REHEARSAL_LOG_FILE).read_text(encoding="utf-8").splitlines()
    log = [json.loads(line) for line in lines]
    commands = [
        (e["event"], e.get("command") or e.get("near"), e["member_id"], e.get("group"), e["msg_id"])
        for e in log
        if e["event"] in ("command_run", "command_refused", "command_unknown")
    ]
    member = derived_wxid("王阿姨")  # a transcript line without sender_id: the wxid replay derives from the name
    g = "阳光花园1号群"
    assert commands == [
        ("command_unknown", "汇总", ZHANG, g, "3"),
        ("command_run", "汇总", ZHANG, g, "4"),
        ("command_unknown", "加库存", ZHANG, g, "5"),
        ("command_run", "加库存", ZHANG, g, "6"),
        ("command_refused", "汇总", member, g, "7"),
        ("command_run", "延长截单", ZHANG, g, "8"),
        ("command_unknown", "汇总", ZHANG, None, "9"),
        ("command_run", "到货", ZHANG, g, "10"),
        ("command_unknown", "到货", ZHANG, g, "11"),
    ]

