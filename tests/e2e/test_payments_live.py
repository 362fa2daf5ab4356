"""Payments over real gRPC (#15): a leader marks a neighbour paid in the group (`已收`); `未付` — typed privately, or
in the group — is answered to the leader one to one, and the group hears nothing of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.bot_process import BotProcess, e2e_config
from tests.e2e.conftest import LEADER, new_room
from tests.e2e.gateway_process import GatewayProcess

pytestmark = pytest.mark.e2e

GROUP = "付款测试群"
HEADER = "#接龙 周六丹东草莓团\n草莓 39.9元/盒"


def chain(*lines: str) -> str:
    return HEADER + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _to_leader(said: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in said if s["toId"] == LEADER["id"] and not s.get("roomId")]


@pytest.fixture(scope="module")
def bot(gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """A `tuanbot run` serving this module's one group, with 张姐 as its leader."""
    config = e2e_config([{"name": GROUP, "leaders": [LEADER["name"]]}])
    proc = BotProcess(tmp_path_factory.mktemp("bot"), config, gateway.client_env()).start()
    try:
        proc.wait_event("channel_connected", timeout=30)
        yield proc
    finally:
        code = proc.stop()
        assert code == 0, f"tuanbot run exited {code} on SIGTERM:\n{proc.tail()}"


def test_a_leaders_unpaid_list_is_answered_privately_and_the_group_hears_nothing(
    gateway: GatewayProcess, bot: BotProcess
) -> None:
    room = new_room(gateway, "e2e-pay@chatroom", GROUP)
    gateway.say(room, "wxid_wang", chain("8栋 付阿姨 草莓2盒"))
    gateway.say(room, "wxid_li", chain("8栋 付阿姨 草莓2盒", "9栋 钱叔 草莓1盒"))
    assert bot.wait_orders(GROUP, 2) == [("8栋 付阿姨", "active"), ("9栋 钱叔", "active")]
    gateway.say(room, LEADER["id"], "已收 9栋钱叔")
    marked = "✅ 已收 9栋 钱叔 39.90元(周六丹东草莓团),已付清。"
    gateway.wait_said(lambda s: any(x["text"] == marked for x in s), room_id=room, timeout=15)
    heard = len(gateway.said(room))  # the digests and the 已收 confirmation

    gateway.say_private(LEADER["id"], "未付")
    unpaid = "【未付】周六丹东草莓团(付款测试群)\n1. 8栋 付阿姨 79.80元\n共1人未付,合计79.80元;已付清1人"
    [answer] = _to_leader(gateway.wait_said(lambda s: len(_to_leader(s)) >= 1, timeout=15))
    assert (answer["kind"], answer["text"]) == ("text", unpaid)

    gateway.say(room, LEADER["id"], "未付")  # typed in the group: the list still goes to the leader alone
    said = gateway.wait_said(lambda s: len(_to_leader(s)) >= 2, timeout=15)
    assert [s["text"] for s in _to_leader(said)] == [unpaid, unpaid]
    assert len(gateway.said(room)) == heard  # the group heard nothing of either
    assert not [s for s in said if s["toId"] in ("wxid_wang", "wxid_li")]
