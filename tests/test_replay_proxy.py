"""A leader's day with 代报 and 取消 played from a transcript (`tuanbot replay --json`), the way a leader rehearses it:
the orders entered for neighbours count for the ladder, the digest, the cutoff summary and the amounts like any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_replay import Replay, chain, digest, msg


@pytest.fixture
def replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Replay:
    return Replay(tmp_path, capsys)


def private(at: str, sender: str, text: str) -> dict[str, Any]:
    return {"at": f"2026-12-01T{at}:00+08:00", "private": True, "sender": sender, "text": text}


def test_a_day_with_a_leaders_proxy_orders_and_cancels(replay: Replay) -> None:
    events = [
        msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")),
        msg("09:20", "张姐", "代报 老周 脐橙1"),
        msg("09:30", "张姐", "@小团 帮5-1201李姐报名脐橙2箱", mentions=["小团"]),
        # 老周 joins the 接龙 himself, under the label the leader used: the same order, nothing new
        msg("09:40", "老周", chain("3栋 王阿姨 脐橙2箱", "老周 脐橙1箱")),
        msg("09:50", "刘妈妈", "代报 老刘 脐橙1"),  # not a leader: nothing
        private("10:00", "张姐", "取消 李姐"),  # privately: the answer too
        msg("10:10", "张姐", "取消老周的订单"),
        msg("10:20", "张姐", "取消 老刘"),
    ]
    result = replay.json(events, "--until", "2026-12-01T10:30+08:00")
    at_62 = "当前价62元,再2人降到55元"
    assert [(s["at"][11:19], s["to"], s["text"]) for s in result["said"]] == [
        ("09:11:00", None, digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        ("09:20:00", None, "✅ 已代报:老周 脐橙1箱,68.00元(赣南脐橙团)"),
        ("09:20:00", None, digest("✅ 已记录:老周 脐橙1箱", 3, 47, 2, "当前价68元,再1人降到62元")),
        ("09:30:00", None, "✅ 已代报:5-1201李姐 脐橙2箱,124.00元(赣南脐橙团)"),  # the third member: 62 a box
        ("09:30:00", None, digest("✅ 已记录:5-1201李姐 脐橙2箱", 5, 45, 3, at_62)),
        ("10:00:00", "张姐", "❎ 已取消「5-1201李姐」的订单:脐橙2箱(阳光花园1号群·赣南脐橙团)"),
        ("10:00:00", None, digest("❎ 已取消:5-1201李姐", 3, 47, 2, "当前价68元,再1人降到62元")),
        ("10:10:00", None, "❎ 已取消「老周」的订单:脐橙1箱(赣南脐橙团)"),
        ("10:10:00", None, digest("❎ 已取消:老周", 2, 48, 1, "当前价68元,再2人降到62元")),
        ("10:20:00", None, "没找到「老刘」的订单。"),
    ]

    def order(member: str, sender: str | None, qty: int, status: str, amount: int) -> dict[str, Any]:
        items = [{"product": "脐橙", "qty": qty, "unit": "箱"}]
        return {"buy": "qicheng", "group": "阳光花园1号群", "member": member, "sender": sender, "items": items,
                "status": status, "amount": amount, "paid": False}  # fmt: skip

    # no member wrote the leader's lines: their `sender` is null (老周's own copy repeated his line, claimed nothing)
    assert result["orders"] == [
        order("3栋 王阿姨", "王阿姨", 2, "active", 136),
        order("老周", None, 1, "cancelled", 0),
        order("5-1201李姐", None, 2, "cancelled", 0),
    ]
    assert result["buys"][0] == {"id": "qicheng", "status": "open", "members": 1, "formed": True, "total": 136}
