"""`tuanbot run` against the test gateway: real processes, real gRPC, one bot serving a room per test."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import LEADER, corpus_xml, new_room
from tests.e2e.gateway_process import GatewayProcess

pytestmark = pytest.mark.e2e

HEADER = "#接龙 周六丹东草莓团\n草莓 39.9元/盒"
_probes = itertools.count(1)


def chain(*lines: str) -> str:
    return HEADER + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def texts(gw: GatewayProcess, room: str) -> list[str]:
    return [s["text"] for s in gw.said(room)]


def probe(gw: GatewayProcess, room: str) -> str:
    """A leader command whose answer marks "the bot has handled everything said in this room before it"."""
    tag = f"probe-{next(_probes)}"
    gw.say(room, LEADER["id"], f"汇总 {tag}")
    answer = f"本群没有叫「{tag}」的团购。"
    gw.wait_said(lambda said: any(s["text"] == answer for s in said), room_id=room, timeout=10)
    return answer


def test_chain_becomes_orders_and_digest(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-chain@chatroom", "接龙测试群")
    gateway.say(room, "wxid_zhang", chain("张姐 草莓1盒"))
    gateway.say(room, "wxid_wang", chain("张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
    orders = bot.wait_orders("接龙测试群", 2)
    assert orders == [("张姐", "active"), ("3栋 王阿姨", "active")]
    said = gateway.wait_said(lambda s: any("王阿姨" in x["text"] for x in s), room_id=room, timeout=10)
    digest = said[-1]["text"]
    assert "草莓" in digest
    assert "王阿姨" in digest


def test_native_chain_card_is_read_as_a_chain(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-native@chatroom", "原生接龙群")
    xml = corpus_xml("xml_001.xml")
    msg_id = gateway.app_message(room, "wxid_li", xml)  # GroupNote: python-wechaty sees message type 0
    received = bot.wait_event("message_received", msg_id=msg_id)
    assert received["kind"] == "native_chain"
    # A check-in (打卡) card: read as a chain, header and all, and rightly not taken as orders of the 草莓 buy.
    unmatched = bot.wait_event("chain_unmatched", msg_id=msg_id)
    assert unmatched["header"].startswith("@真AI健身教练Jessie  打卡#接龙")
    probe(gateway, room)
    assert bot.orders("原生接龙群") == []


def test_chatter_gets_silence(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-chatter@chatroom", "闲聊测试群")
    for text in ("早上好呀各位邻居☀️", "今天东门在修路,大家出门绕一下", "李姐你家的猫找到了吗?"):
        gateway.say(room, "wxid_wang", text)
    answer = probe(gateway, room)
    assert texts(gateway, room) == [answer]


def test_a_members_question_gets_the_right_answer_and_chatter_none(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-questions@chatroom", "问答测试群")
    gateway.say(room, "wxid_wang", "早上好呀各位邻居☀️")  # chatter first: nothing
    gateway.say(room, "wxid_li", "草莓多少钱一盒?")
    said = gateway.wait_said(lambda s: any("39.9" in x["text"] for x in s), room_id=room, timeout=10)
    assert len(said) == 1
    assert "草莓" in said[0]["text"]
    assert said[0]["mentionIds"] == ["wxid_li"]  # the answer @s whoever asked
    gateway.say(room, "wxid_he", "几点截单呀")
    said = gateway.wait_said(lambda s: len(s) >= 2, room_id=room, timeout=10)
    assert "截单" in said[1]["text"]
    gateway.say(room, "wxid_he", "谢谢小团👍")
    answer = probe(gateway, room)
    assert texts(gateway, room)[2:] == [answer]  # thanks get no answer


def test_the_bot_never_answers_itself(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-self@chatroom", "自言自语群")
    # What the bot says comes back to it as a message (self-echo on); a chain in its own name must not count either.
    gateway.say(room, gateway.bot_id, chain("机器人 草莓9盒"))
    gateway.say(room, gateway.bot_id, "汇总")
    answer = probe(gateway, room)
    time.sleep(0.3)  # the probe's answer is echoed back too: give it time to be (not) answered
    assert texts(gateway, room) == [answer]
    assert bot.orders("自言自语群") == []
    assert not [r for r in bot.events("message_received") if str(r.get("msg_id", "")).startswith("botmsg_")]


def test_the_same_message_twice_is_handled_once(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-dup@chatroom", "重复投递群")
    text = chain("何姐 草莓1盒")
    first = gateway.say_raw(room, "wxid_he", text, message_id="e2e-dup-1")
    second = gateway.say_raw(room, "wxid_he", text, message_id="e2e-dup-1")
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    probe(gateway, room)
    assert bot.orders("重复投递群") == [("何姐", "active")]
    assert len(bot.events("message_received", msg_id="e2e-dup-1")) == 1


def test_a_message_in_an_unserved_room_is_ignored(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-unserved@chatroom", "隔壁小区闲聊群")
    msg_id = gateway.say(room, "wxid_li", chain("李姐 草莓1盒"))
    gateway.say(room, LEADER["id"], "汇总")
    probe(gateway, new_room(gateway, "e2e-unserved-probe@chatroom", "旁听群"))
    time.sleep(0.3)
    assert texts(gateway, room) == []
    assert bot.events("message_received", msg_id=msg_id) == []
    assert bot.query(
        "SELECT count(*) FROM orders o JOIN chain_lines c ON c.id = o.chain_line_id WHERE c.first_msg_id = ?", msg_id
    ) == [(0,)]


def test_invited_by_a_leader_into_a_served_room_greets_once(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = "e2e-invite@chatroom"
    stranger = gateway.room_invitation("e2e-stranger@chatroom", "wxid_nobody", topic="邀请进群")
    invitation = gateway.room_invitation(room, LEADER["id"], topic="邀请进群", members=["wxid_wang"])
    bot.wait_event("room_joined", room=room)
    greeting = gateway.wait_said(lambda s: len(s) >= 1, room_id=room, timeout=10)
    assert len(greeting) == 1
    assert "小团" in greeting[0]["text"]
    accepted = {i["id"]: i["accepted"] for i in gateway.invitations()}
    assert accepted[invitation] is not None
    assert accepted[stranger] is None, "an invitation from someone who leads no group is declined"
    # The bot is added to the same room again (a rejoin): no second greeting.
    gateway.room_join(room, LEADER["id"])
    probe(gateway, room)
    assert [t for t in texts(gateway, room) if "小团" in t] == [greeting[0]["text"]]


def test_added_to_a_served_room_greets_once_and_unserved_stays_silent(gateway: GatewayProcess, bot: BotProcess) -> None:
    served = new_room(gateway, "e2e-added@chatroom", "直接拉群", with_bot=False)
    unserved = new_room(gateway, "e2e-added-unserved@chatroom", "别的群", with_bot=False)
    gateway.room_join(unserved, "wxid_wang")
    gateway.room_join(served, LEADER["id"])
    bot.wait_event("room_joined_unserved", room=unserved)
    bot.wait_event("room_joined", room=served)
    gateway.wait_said(lambda s: len(s) == 1, room_id=served, timeout=10)
    gateway.room_join(served, LEADER["id"])
    probe(gateway, served)
    assert len([t for t in texts(gateway, served) if "小团" in t]) == 1
    assert texts(gateway, unserved) == []


def test_a_renamed_room_keeps_being_served(gateway: GatewayProcess, bot: BotProcess) -> None:
    room = new_room(gateway, "e2e-rename@chatroom", "改名测试群")
    gateway.room_topic(room, "改名测试群🍓新名字", changer_id=LEADER["id"])  # renamed before the bot heard a word
    bot.wait_event("room_renamed", room=room)
    gateway.say(room, "wxid_li", chain("5-1201 李姐 草莓1盒"))
    assert bot.wait_orders("改名测试群", 1) == [("5-1201 李姐", "active")]


def test_a_leader_gets_the_workbook_privately_and_a_member_nothing(gateway: GatewayProcess, bot: BotProcess) -> None:
    """Private chat and files over real gRPC (#15): the leader's private `导出 周六丹东草莓团` is answered in
    private, then the workbook follows as a file message to the leader; the group hears nothing; a member's private
    message gets no answer."""
    room = new_room(gateway, "e2e-private@chatroom", "私聊测试群")
    gateway.say(room, "wxid_wang", chain("3栋 王阿姨 草莓2盒"))
    bot.wait_orders("私聊测试群", 1)
    gateway.wait_said(lambda s: len(s) == 1, room_id=room, timeout=10)  # the digest
    gateway.say_private("wxid_wang", "汇总")  # a member: left alone
    gateway.say_private(LEADER["id"], "导出 周六丹东草莓团")

    def to_leader(said: list[dict[str, object]]) -> list[dict[str, object]]:
        return [s for s in said if s["toId"] == LEADER["id"]]

    said = gateway.wait_said(lambda s: len(to_leader(s)) >= 2, timeout=15)
    answer, workbook = to_leader(said)
    assert answer["kind"] == "text"
    assert str(answer["text"]).startswith("📄 周六丹东草莓团 已导出(")
    assert str(answer["text"]).endswith(",文件发给你了。")
    assert workbook["kind"] == "file"
    assert str(workbook["text"]).startswith("caomei-")
    assert str(workbook["text"]).endswith(".xlsx")
    assert not [s for s in said if s["toId"] == "wxid_wang"]
    assert len(gateway.said(room)) == 1  # the group heard only its digest
    ignored = bot.wait_event("message_ignored", reason="private_not_a_leader")
    assert ignored["member"] == "王阿姨"
