"""Chat changes laid on the YAML plan (#15), pure: what wins, and what the leader is told."""

from __future__ import annotations

from typing import Any

from bot.config import parse_config_text
from bot.domain.overlay import layer
from storage.models import ChatBuy
from tests.harness import CONFIG, at

STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")


def row(buy_id: str, origin: str, spec: dict[str, Any], base: dict[str, Any] | None = None) -> ChatBuy:
    return ChatBuy(buy_id=buy_id, origin=origin, spec=spec, base=base or {}, products=[], made_by="wxid_zhang")


def test_chat_wins_over_the_file_for_what_chat_changed_and_the_leader_is_told() -> None:
    plan = parse_config_text(STOCKED.replace("stock: 4", "stock: 8"), file="t.yaml")
    changed = row("caomei", "plan", {"stock": {"草莓": 10}}, {"stock": {"草莓": 4}})
    config, conflicts = layer(plan, [changed])
    assert config.buy("caomei").items[0].stock == 10  # type: ignore[union-attr]
    assert [c.text for c in conflicts] == [
        "⚠️ 配置文件把「周六丹东草莓团」草莓的库存改成了8,你在群里改的是10,现在仍按10算;"
        "要按文件的,发「库存 草莓 数量」。"
    ]
    assert layer(parse_config_text(STOCKED, file="t.yaml"), [changed])[1] == []  # the file as it was: no conflict


def test_a_change_to_a_buy_gone_from_the_file_and_an_unreadable_row_are_told_not_fatal() -> None:
    plan = parse_config_text(CONFIG, file="t.yaml")
    gone = row("lanmei", "plan", {"cutoff": at("2026-11-28 20:00").isoformat()}, {"cutoff": None})
    broken = row("chat-1126-1", "chat", {"id": "chat-1126-1", "title": "坏团", "groups": [], "items": []})
    config, conflicts = layer(plan, [gone, broken])
    assert [b.id for b in config.buys] == ["caomei"]
    assert [(c.buy_id, c.made_by) for c in conflicts] == [("lanmei", "wxid_zhang"), ("chat-1126-1", "wxid_zhang")]
    assert conflicts[0].text == "⚠️ 配置文件里已经没有团 lanmei 了,你在群里对它的改动(截单时间、库存)不再生效。"
    assert conflicts[1].text == "⚠️ 你在群里开的团 chat-1126-1 读不出来了,暂时没有生效,请重新开团。"
