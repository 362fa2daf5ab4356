"""The reader of orders said outside the 接龙 (`bot.parsing.free_text`): what it takes as an order or a cancel, and
the chatter and questions it leaves to the routes after it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.parsing.free_text import FreeCancel, FreeOrder, asks_own_orders, read_free_text
from bot.parsing.products import ProductMatcher

MATCHER = ProductMatcher([("草莓", ("丹东草莓",)), ("蓝莓", ()), ("智利车厘子", ("车厘子", "樱桃"))])
D = Decimal


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("+1", [(None, D(1), None)]),
        ("＋2", [(None, D(2), None)]),
        ("我也+1 🙏", [(None, D(1), None)]),
        ("加一", [(None, D(1), None)]),
        ("算我一个", [(None, D(1), None)]),  # 个 / 份: one of the product, in its own unit
        ("来俩", [(None, D(2), None)]),
        ("给我来两盒吧", [(None, D(2), "盒")]),
        ("三盒", [(None, D(3), "盒")]),
        ("2份", [(None, D(2), None)]),
        ("接龙+1", [(None, D(1), None)]),
        ("求一份草莓", [("草莓", D(1), None)]),
        ("草莓+1", [("草莓", D(1), None)]),
        ("+1草莓", [("草莓", D(1), None)]),
        ("要2盒草莓", [("草莓", D(2), "盒")]),
        ("我要两盒车厘子", [("智利车厘子", D(2), "盒")]),
        ("车厘子 来3盒", [("智利车厘子", D(3), "盒")]),
        ("草莓我要一份", [("草莓", D(1), None)]),
        ("团长我要两盒草莓,谢谢[抱拳]", [("草莓", D(2), "盒")]),
        ("@小团 草莓x2", [("草莓", D(2), None)]),
        ("草莓2", [("草莓", D(2), None)]),
        ("要草莓", [("草莓", D(1), None)]),
        ("来半盒草莓", [("草莓", D("0.5"), "盒")]),
        ("草莓蓝莓各一盒", [("草莓", D(1), "盒"), ("蓝莓", D(1), "盒")]),
        ("两盒草莓一盒蓝莓", [("草莓", D(2), "盒"), ("蓝莓", D(1), "盒")]),
        ("草莓2盒蓝莓1盒", [("草莓", D(2), "盒"), ("蓝莓", D(1), "盒")]),
    ],
)
def test_an_order_in_words(text: str, items: list[tuple[str | None, Decimal, str | None]]) -> None:
    assert read_free_text(text, MATCHER) == FreeOrder(tuple(items))


@pytest.mark.parametrize(
    "text",
    [
        "我也想要一个这样的孩子",
        "+1 同意",
        "草莓还有吗",
        "我买了两盒草莓",  # past: she bought them
        "我要两盒草莓可以吗",  # a question (the question route answers how to order)
        "草莓",
        "2",
        "两个",
        "一个",
        "扣1",
        "我也要",
        "+1+1",
        "1+1",
        "要不要",
        "我要两盒榴莲",  # no such product
        "帮3栋王阿姨报名车厘子2盒",  # a leader's 代报
        "取消老周的订单",  # a leader's cancel
        "3栋 草莓2盒",
        "我要10000盒草莓",
        "草莓-1",
        "我订了什么",
    ],
)
def test_chatter_and_questions_are_left_alone(text: str) -> None:
    assert read_free_text(text, MATCHER) is None


def test_a_product_no_open_buy_sells_is_no_order_here() -> None:
    assert read_free_text("我要两盒车厘子", MATCHER, {"草莓"}) is None
    assert read_free_text("草莓+1", MATCHER, {"草莓"}) == FreeOrder((("草莓", D(1), None),))


@pytest.mark.parametrize(
    ("text", "cancel"),
    [
        ("不要了", FreeCancel((), explicit=False)),
        ("取消", FreeCancel((), explicit=False)),
        ("我不要了", FreeCancel((), explicit=False)),
        ("取消订单", FreeCancel((), explicit=True)),
        ("草莓不要了", FreeCancel(("草莓",), explicit=True)),
        ("取消草莓", FreeCancel(("草莓",), explicit=True)),
    ],
)
def test_a_cancel_in_words(text: str, cancel: FreeCancel) -> None:
    assert read_free_text(text, MATCHER) == cancel


def test_asking_whether_a_plus_one_counted() -> None:
    assert asks_own_orders("我+1了吗")
    assert asks_own_orders("我刚才+1了没")
    assert not asks_own_orders("+1了")
    assert not asks_own_orders("他+1了吗")


def test_a_reply_to_a_quoted_post_is_read_without_the_quote() -> None:
    quoted = "「张姐：周六丹东草莓团开始接龙啦,39.9元一盒」\n- - - - - - - - - - - - - - -\n"
    assert read_free_text(quoted + "+1", MATCHER) == FreeOrder(((None, D(1), None),))
    assert read_free_text(quoted + "草莓还有吗", MATCHER) is None
