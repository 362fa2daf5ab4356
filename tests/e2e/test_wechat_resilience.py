"""`tuanbot run` when things go wrong: the gateway dies and returns, is not up yet, rejects the token; and shutdown."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.e2e.bot_process import BotProcess, e2e_config
from tests.e2e.conftest import LEADER, MEMBERS, start_gateway
from tests.e2e.gateway_process import GatewayProcess

pytestmark = pytest.mark.e2e

GROUP = "翠湖苑1期团购群"
ROOM = "e2e-resilience@chatroom"
HEADER = "#接龙 周六丹东草莓团\n草莓 39.9元/盒"
CONFIG = e2e_config([{"name": GROUP, "leaders": [LEADER["name"]]}])


def chain(*lines: str) -> str:
    return HEADER + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _room(gw: GatewayProcess) -> None:
    gw.create_room(ROOM, topic=GROUP, members=MEMBERS)


def test_gateway_killed_and_restarted_the_bot_reconnects_and_heals(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path)
    bot = BotProcess(tmp_path, CONFIG, gw.client_env())
    try:
        _room(gw)
        bot.start().wait_event("channel_connected", timeout=30)
        gw.say(ROOM, "wxid_zhang", chain("张姐 草莓1盒"))
        gw.say(ROOM, "wxid_wang", chain("张姐 草莓1盒", "3栋 王阿姨 草莓2盒"))
        bot.wait_orders(GROUP, 2)

        gw.kill()  # mid-conversation, no goodbye
        bot.wait_event("channel_disconnected", timeout=10)
        time.sleep(2.5)  # down for a few seconds: several reconnect attempts fail meanwhile
        gw.restart()  # same ports; a fresh mock world (the bot's rooms are re-created below)
        back = time.monotonic()
        _room(gw)
        reconnected = bot.wait_event("channel_reconnected", timeout=10)
        assert reconnected["outage_seconds"] > 2
        took = time.monotonic() - back
        assert took < 5, f"reconnected {took:.1f}s after the gateway came back"

        # 李姐 posted line 3 while the bot was away (it never saw it); 何姐's copy carries it and adds line 4.
        gw.say(ROOM, "wxid_he", chain("张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "何姐 草莓2盒"))
        orders = bot.wait_orders(GROUP, 4)
        assert [who for who, _ in orders] == ["张姐", "3栋 王阿姨", "5-1201 李姐", "何姐"]
        assert all(status == "active" for _, status in orders)
        said = gw.wait_said(lambda s: any("何姐" in x["text"] for x in s), room_id=ROOM, timeout=10)
        assert "李姐" in said[-1]["text"]
        assert bot.stop() == 0
    finally:
        bot.stop(timeout=5)
        gw.stop()


def test_bot_started_before_the_gateway_waits_for_it(tmp_path: Path) -> None:
    grpc, http = _free_port(), _free_port()
    env = {
        "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{grpc}",
        "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_tuanbot_e2e",
    }
    bot = BotProcess(tmp_path, CONFIG, env).start()
    gw: GatewayProcess | None = None
    try:
        bot.wait_event("channel_connect_failed", timeout=30)
        time.sleep(1.5)
        assert bot.running()
        gw = start_gateway(tmp_path, grpc_port=grpc, http_port=http)
        up = time.monotonic()
        _room(gw)
        bot.wait_event("channel_connected", timeout=10)
        assert time.monotonic() - up < 5
        gw.say(ROOM, LEADER["id"], "汇总 late-start")
        gw.wait_said(lambda s: any("late-start" in x["text"] for x in s), room_id=ROOM, timeout=10)
    finally:
        assert bot.stop() == 0
        if gw is not None:
            gw.stop()


def test_sigterm_finishes_the_message_in_hand_and_flushes_the_sender(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path)
    bot = BotProcess(tmp_path, CONFIG, gw.client_env())
    try:
        _room(gw)
        bot.start().wait_event("channel_connected", timeout=30)
        assert (bot.data_dir / "tuanbot.pid").read_text().strip() == str(bot.proc.pid if bot.proc else "")
        msg_id = gw.say(ROOM, LEADER["id"], "汇总 stop-test")
        bot.wait_event("message_received", msg_id=msg_id)
        assert bot.stop() == 0
        assert [s["text"] for s in gw.said(ROOM)] == ["本群没有叫「stop-test」的团购。"]
        assert not (bot.data_dir / "tuanbot.pid").exists()
        assert not (tmp_path / ".wechaty").exists(), "wechaty's side files belong in the data dir"
        assert (bot.data_dir / ".wechaty").is_dir()
    finally:
        bot.stop(timeout=5)
        gw.stop()


def test_a_rejected_token_is_fatal_with_a_clear_message(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path)
    try:
        env = {**gw.client_env(), "WECHATY_PUPPET_SERVICE_TOKEN": "not-the-token"}
        bot = BotProcess(tmp_path, CONFIG, env).start()
        code = bot.wait_exit(30)
        assert code == 3
        assert "rejected the token" in bot.console()
    finally:
        gw.stop()


@pytest.mark.parametrize(
    ("missing", "says"),
    [("WECHATY_PUPPET_SERVICE_TOKEN", "no gateway token"), ("WECHATY_PUPPET_SERVICE_ENDPOINT", "no gateway endpoint")],
)
def test_missing_token_or_endpoint_is_a_clear_error(tmp_path: Path, missing: str, says: str) -> None:
    env = {"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:9", "WECHATY_PUPPET_SERVICE_TOKEN": "t"}
    env.pop(missing)
    bot = BotProcess(tmp_path, CONFIG, env, drop_env=(missing,)).start()
    assert bot.wait_exit(30) == 2
    assert says in bot.console()
