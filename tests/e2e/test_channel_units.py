"""The WeChat channel's pure parts, without a gateway: endpoint and settings checks, kinds, backoff, arrival order."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bot.channels.wechaty.arrival import ArrivalOrder
from bot.channels.wechaty.connection import backoff_delays, parse_endpoint
from bot.channels.wechaty.translate import message_kind
from bot.config import parse_config_text
from bot.events import Kind
from bot.startup import SetupError, connection_settings
from tests.e2e.conftest import corpus_xml

CONFIG = parse_config_text("groups: [{name: 群}]\n", file="t.yaml")


def test_parse_endpoint() -> None:
    assert parse_endpoint("127.0.0.1:8788") == ("127.0.0.1", 8788)
    assert parse_endpoint("grpc://gw.example:443") == ("gw.example", 443)
    for bad in ("127.0.0.1", "host:", ":80", "host:99999", "host:http"):
        with pytest.raises(ValueError, match="host:port"):
            parse_endpoint(bad)


def test_settings_from_env_win_over_the_config(tmp_path: Path) -> None:
    config = parse_config_text("wechat: {endpoint: 'cfg:1', token: cfgtoken}\n", file="t.yaml")
    env = {"WECHATY_PUPPET_SERVICE_TOKEN": "envtoken", "WECHATY_PUPPET_SERVICE_ENDPOINT": "env:2"}
    settings = connection_settings(config, tmp_path, env)
    assert (settings.token, settings.endpoint, settings.side_dir) == ("envtoken", "env:2", tmp_path / ".wechaty")
    assert connection_settings(config, tmp_path, {}).endpoint == "cfg:1"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"WECHATY_PUPPET_SERVICE_ENDPOINT": "h:1"}, "no gateway token"),
        ({"WECHATY_PUPPET_SERVICE_TOKEN": "t"}, "no gateway endpoint"),
        (
            {"WECHATY_PUPPET_SERVICE_TOKEN": "t", "WECHATY_PUPPET_SERVICE_ENDPOINT": "nohostport"},
            "bad gateway endpoint",
        ),
    ],
)
def test_settings_errors_say_what_to_set(tmp_path: Path, env: dict[str, str], says: str) -> None:
    with pytest.raises(SetupError, match=says):
        connection_settings(CONFIG, tmp_path, env)


def test_message_kind_by_content() -> None:
    xml = corpus_xml("xml_001.xml")
    assert message_kind("MESSAGE_TYPE_UNSPECIFIED", xml) == Kind.NATIVE_CHAIN  # GroupNote as python-wechaty sees it
    assert message_kind("MESSAGE_TYPE_TEXT", xml) == Kind.NATIVE_CHAIN
    assert message_kind("MESSAGE_TYPE_TEXT", "1. 草莓1盒") == Kind.TEXT
    assert message_kind("MESSAGE_TYPE_IMAGE", "<msg><img/></msg>") == Kind.OTHER


def test_backoff_first_retry_fast_then_capped() -> None:
    delay = backoff_delays(0.5, 3.0, random.Random(1))
    delays = [delay(n) for n in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(d <= 3.0 for d in delays)
    assert max(delays[5:]) > 1.5
    assert len({round(d, 3) for d in delays[5:]}) > 1, "jittered, so reconnecting bots do not move in lockstep"


async def test_arrival_order_hands_messages_on_in_stream_order() -> None:
    order = ArrivalOrder(patience=1.0)
    for msg_id in ("a", "b", "c"):
        assert order.arrived(msg_id)
    assert not order.arrived("b"), "a repeated delivery takes no turn"
    handed: list[str] = []

    async def handle(msg_id: str, load_time: float) -> None:
        ticket = order.ticket(msg_id)
        await asyncio.sleep(load_time)  # loading the message: the later ones come back first
        await order.wait_turn(ticket)
        handed.append(msg_id)
        await order.done(ticket)

    await asyncio.gather(handle("a", 0.03), handle("b", 0.02), handle("c", 0.0))
    assert handed == ["a", "b", "c"]


async def test_arrival_order_gives_up_on_a_message_that_never_loads() -> None:
    order = ArrivalOrder(patience=0.05)
    order.arrived("lost")
    order.arrived("next")
    ticket = order.ticket("next")
    await asyncio.wait_for(order.wait_turn(ticket), 1.0)
    await order.done(ticket)
    order.arrived("after")
    await asyncio.wait_for(order.wait_turn(order.ticket("after")), 0.01)
