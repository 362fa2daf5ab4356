"""A leader forwards a chat record (合并转发) to the bot over real gRPC (#15): the gateway delivers a private
ChatHistory app message whose text is the record's XML; the bot answers the tally privately, then `导出` brings
that tally as a file. The catalogue here has no 蓝莓, so its lines are flagged, not dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import LEADER, MEMBERS
from tests.e2e.gateway_process import GatewayProcess

pytestmark = pytest.mark.e2e

RECORD = (Path(__file__).parent.parent / "fixtures" / "forwarded" / "record_blueberry.xml").read_text(encoding="utf-8")


def _to_leader(said: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in said if s["toId"] == LEADER["id"]]


def test_a_forwarded_chat_record_is_tallied_and_exported_privately(gateway: GatewayProcess, bot: BotProcess) -> None:
    gateway.add_contacts(*MEMBERS)
    gateway.app_message(None, "wxid_wang", RECORD, message_type="ChatHistory")  # a member: left alone
    msg_id = gateway.app_message(None, LEADER["id"], RECORD, message_type="ChatHistory")
    received = bot.wait_event("message_received", msg_id=msg_id)
    assert received["kind"] == "chat_record"
    [answer] = _to_leader(gateway.wait_said(lambda s: len(_to_leader(s)) >= 1, timeout=15))
    lines = str(answer["text"]).split("\n")
    assert lines[:4] == [
        "【转发汇总】#接龙 周日智利蓝莓团",
        "合计:蓝莓7盒(?),榴莲1个(?)",
        "1. 3栋 王阿姨 蓝莓4盒",
        "2. 5-1201 李姐 蓝莓3盒 榴莲1个",
    ]
    assert "已取消:2栋 陈叔" in lines
    gateway.say_private(LEADER["id"], "导出")
    said = gateway.wait_said(lambda s: len(_to_leader(s)) >= 3, timeout=15)
    _, exported, workbook = _to_leader(said)
    assert str(exported["text"]).startswith("📄 转发的接龙 #接龙 周日智利蓝莓团 已导出")
    assert workbook["kind"] == "file"
    assert str(workbook["text"]).startswith("forwarded-")
    assert not [s for s in said if s["toId"] == "wxid_wang"]
    assert bot.query("SELECT count(*) FROM orders") == [(0,)]
    ignored = bot.wait_event("message_ignored", reason="private_not_a_leader")
    assert ignored["member"] == "王阿姨"
