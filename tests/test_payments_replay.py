"""A day of payments played through `tuanbot replay` (issue #15): members order in the 接龙, the leader marks two of
them paid in the group and asks privately who has not paid; `--json` shows the private answer and each order's `paid`.
The cutoff post in the group says nothing of who has paid."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_replay import G, Replay, chain, digest, msg

UNPAID = "\n".join(
    [
        "【未付】赣南脐橙团(阳光花园1号群)",
        "1. 2栋 陈叔 62.00元",
        "2. 5栋 老周 还差86.00元(应付186.00元,已付100.00元)",
        "共2人未付,合计148.00元;已付清1人",
    ]
)
CUTOFF = "\n".join(
    [
        "【截单】赣南脐橙团 已截单,之后的接龙不再记录",
        "【汇总】赣南脐橙团(阳光花园1号群)",
        "合计:脐橙6箱,共372.00元",
        "1. 3栋 王阿姨 脐橙2箱 124.00元",
        "2. 2栋 陈叔 脐橙1箱 62.00元",
        "3. 5栋 老周 脐橙3箱 186.00元",
        "已有3人,当前价62元,再2人降到55元",
    ]
)


@pytest.fixture
def day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Replay:
    return Replay(tmp_path, capsys)


def test_a_day_of_orders_payments_and_a_private_unpaid_list(day: Replay) -> None:
    lines = ["3栋 王阿姨 脐橙2箱", "2栋 陈叔 脐橙1箱", "5栋 老周 脐橙3箱"]
    events = [
        msg("09:10", "王阿姨", chain(*lines[:1])),
        msg("09:20", "陈叔", chain(*lines[:2])),
        msg("09:30", "老周", chain(*lines)),
        msg("18:00", "张姐", "已收 3栋王阿姨"),
        msg("18:05", "张姐", "@小团 已收 老周 100"),
        {"at": "2026-12-01T21:00:00+08:00", "private": True, "sender": "张姐", "text": "未付"},
    ]
    result = day.json(events, "--until", "2026-12-01T21:10+08:00")
    assert [(s["at"][11:16], s["group"], s["to"], s["text"]) for s in result["said"]] == [
        ("09:11", G, None, digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        ("09:20", G, None, digest("✅ 已记录:2栋 陈叔 脐橙1箱", 3, 47, 2, "当前价68元,再1人降到62元")),
        ("09:30", G, None, digest("✅ 已记录:5栋 老周 脐橙3箱", 6, 44, 3, "当前价62元,再2人降到55元")),
        (
            "18:00",
            G,
            None,
            "⏰ 赣南脐橙团 还有2小时截单(今晚20:00)\n已有3人,当前价62元,再2人降到55元\n还没接龙的邻居抓紧啦~",
        ),
        ("18:00", G, None, "✅ 已收 3栋 王阿姨 124.00元(赣南脐橙团),已付清。"),
        ("18:05", G, None, "✅ 已收 5栋 老周 100.00元(赣南脐橙团),应付186.00元,少付86.00元。"),
        ("20:00", G, None, CUTOFF),  # the group's post: nothing of who has paid
        ("20:30", G, None, "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩3箱\n20:45结束,接龙下单,先到先得~"),
        ("20:45", G, None, "⏱ 砂糖橘限时秒杀已结束,谢谢大家捧场~"),
        ("21:00", None, "张姐", UNPAID),  # privately, naming the buy and the group; the group hears nothing
    ]
    assert [(o["member"], o["amount"], o["paid"]) for o in result["orders"]] == [
        ("3栋 王阿姨", 124, True),
        ("2栋 陈叔", 62, False),
        ("5栋 老周", 186, False),
    ]
