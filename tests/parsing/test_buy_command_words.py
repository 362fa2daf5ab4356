"""A leader's buy commands and times as typed on a phone (#15): pure parsing, no bot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.parsing.buy_commands import NewItem, read_buy_command
from bot.parsing.when import parse_when
from tests.harness import at

NOW = at("2026-11-26 10:00")  # a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周五20:00", "2026-11-27 20:00"),
        ("周五 20:00", "2026-11-27 20:00"),
        ("星期五晚上8点", "2026-11-27 20:00"),
        ("周四9:00", "2026-12-03 09:00"),  # this week's has passed: next week's
        ("周四20:00", "2026-11-26 20:00"),
        ("下周一 20:00", "2026-11-30 20:00"),
        ("今晚8点", "2026-11-26 20:00"),
        ("今晚8点半", "2026-11-26 20:30"),
        ("明天中午12点", "2026-11-27 12:00"),
        ("明天下午3点", "2026-11-27 15:00"),
        ("后天上午十点", "2026-11-28 10:00"),
        ("20:00", "2026-11-26 20:00"),
        ("9:00", "2026-11-27 09:00"),  # passed today: tomorrow
        ("２０：００", "2026-11-26 20:00"),  # full-width
        ("12月5日 20:00", "2026-12-05 20:00"),
        ("12月5号20点", "2026-12-05 20:00"),
        ("2026-12-05 20:00", "2026-12-05 20:00"),
        ("到周五20:00截单", "2026-11-27 20:00"),
    ],
)
def test_times_a_leader_types(text: str, expected: str) -> None:
    assert parse_when(text, NOW) == at(expected)


@pytest.mark.parametrize("text", ["改天吧", "20", "周五", "25:00", "13月1日 20:00", ""])
def test_what_is_no_time(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_a_buy_from_chat_words() -> None:
    command = read_buy_command("@小团 开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单 成团10人", NOW)
    assert command is not None
    assert (command.verb, command.title, command.min_members) == ("开团", "周五蓝莓团", 10)
    assert command.items == [NewItem("蓝莓", Decimal("29.9"), "盒", 50)]
    assert command.when == at("2026-11-27 20:00")
    two = read_buy_command("#开团 周末水果团 草莓 蓝莓 25元/盒 限量20 截单 周六 18:00", NOW)
    assert two is not None
    assert two.items == [NewItem("草莓"), NewItem("蓝莓", Decimal("25"), "盒", 20)]
    assert two.when == at("2026-11-28 18:00")
    bad = read_buy_command("开团 周五蓝莓团 蓝莓 29.9元/盒 截单 改天", NOW)
    assert bad is not None
    assert bad.problem == "time"


@pytest.mark.parametrize(
    ("text", "verb", "name", "product", "units"),
    [
        ("截单", "截单", "", "", None),
        ("＃截单 草莓团", "截单", "草莓团", "", None),
        ("@小团 截单", "截单", "", "", None),
        ("@小团截单", "截单", "", "", None),
        ("库存 草莓 10", "库存", "", "草莓", 10),
        ("库存草莓10盒", "库存", "", "草莓", 10),
        ("加库存 周六丹东草莓团 草莓 ５", "加库存", "周六丹东草莓团", "草莓", 5),
        ("开团 caomei", "开团", "caomei", "", None),
    ],
)
def test_commands_with_their_variants(text: str, verb: str, name: str, product: str, units: int | None) -> None:
    command = read_buy_command(text, NOW)
    assert command is not None
    assert (command.verb, command.name, command.product, command.units) == (verb, name, product, units)


@pytest.mark.parametrize("text", ["开团了吗", "截单了没?", "库存还有多少", "草莓还有吗", "截单时间是几点"])
def test_questions_are_no_commands(text: str) -> None:
    assert read_buy_command(text, NOW) is None


def test_the_extended_cutoff_may_name_the_buy_first() -> None:
    command = read_buy_command("延长截单 草莓团 到周六 20:00", NOW)
    assert command is not None
    assert (command.name, command.when) == ("草莓团", at("2026-11-28 20:00"))
    alone = read_buy_command("延长截单到明晚8点", NOW)
    assert alone is not None
    assert (alone.name, alone.when) == ("", at("2026-11-27 20:00"))
