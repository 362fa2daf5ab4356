"""`代报` / `取消` as a leader types them → the command read, or None for anything else (bot/parsing/proxy_commands)."""

from __future__ import annotations

import pytest

from bot.parsing.proxy_commands import ProxyCommand, read_proxy_command

PRODUCTS = ["草莓", "丹东草莓", "车厘子", "樱桃"]


@pytest.mark.parametrize(
    ("text", "line", "loose"),
    [
        ("代报 3栋王阿姨 车厘子2盒", "3栋王阿姨 车厘子2盒", False),
        ("帮3栋王阿姨报名车厘子2盒", "3栋王阿姨 车厘子2盒", True),
        ("帮 3栋 王阿姨 报 车厘子 2盒", "3栋 王阿姨 车厘子 2盒", True),
        ("代报 老周 草莓1", "老周 草莓1", False),
        ("@小团 代报 老周 草莓1", "老周 草莓1", False),
        ("@小团代报 老周 草莓1", "老周 草莓1", False),
        ("#代报 老周 草莓1", "老周 草莓1", False),
        ("＠小团　＃代报　老周　草莓１", "老周 草莓1", False),  # full-width
        ("替老周订草莓1盒", "老周 草莓1盒", True),
        ("代订 老周 草莓1", "老周 草莓1", False),
    ],
)
def test_a_proxy_order_is_read_as_its_line(text: str, line: str, loose: bool) -> None:
    assert read_proxy_command(text, PRODUCTS) == ProxyCommand("代报", line=line, loose=loose)


@pytest.mark.parametrize(
    ("text", "label", "product"),
    [
        ("取消 老周", "老周", ""),
        ("取消老周的订单", "老周", ""),
        ("取消 3栋王阿姨 车厘子", "3栋王阿姨", "车厘子"),
        ("取消老周的草莓", "老周", "草莓"),
        ("@小团 取消 老周", "老周", ""),
        ("＃取消　老周的单子", "老周", ""),
        ("取消 老周 丹东草莓", "老周", "丹东草莓"),  # the longest name that ends it
        ("取消 老周 草莓1盒", "老周", "草莓"),
    ],
)
def test_a_cancel_names_a_participant_and_maybe_a_product(text: str, label: str, product: str) -> None:
    assert read_proxy_command(text, PRODUCTS) == ProxyCommand("取消", label=label, product=product)


@pytest.mark.parametrize(
    "text",
    [
        "取消",  # a member's own cancel (the 接龙 or free text)
        "取消订单",
        "取消 草莓",  # the sender's own strawberries
        "取消了吗",  # a question
        "帮我订两盒草莓",  # the sender's own order
        "给大家报个价",
        "草莓+1",
        "#接龙 周六丹东草莓团\n\n1. 代报 老周 草莓1",  # a 接龙 is never a command
        "代报邻居的事明天说" * 30,  # long text
    ],
)
def test_anything_else_is_no_such_command(text: str) -> None:
    assert read_proxy_command(text, PRODUCTS) is None
