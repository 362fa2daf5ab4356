from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.parsing.quantity import _QTY_RE, Quantity, QuantityForm, find_quantities, parse_number, parse_quantity


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("3", "3", None),
        ("３", "3", None),
        ("３盒", "3", "盒"),
        ("12份", "12", "份"),
        ("1.5斤", "1.5", "斤"),
        ("1．5斤", "1.5", "斤"),
        ("3 盒", "3", "盒"),
        ("一", "1", None),
        ("两", "2", None),
        ("俩", "2", None),
        ("十", "10", None),
        ("十二", "12", None),
        ("二十", "20", None),
        ("二十五袋", "25", "袋"),
        ("一百零五", "105", None),
        ("两袋", "2", "袋"),
        ("五斤", "5", "斤"),
        ("一斤半", "1.5", "斤"),
        ("1斤半", "1.5", "斤"),
        ("一箱半", "1.5", "箱"),
        ("两个半", "2.5", "个"),
        ("半个", "0.5", "个"),
        ("半斤", "0.5", "斤"),
        ("x3", "3", None),
        ("X3", "3", None),
        ("*2", "2", None),
        ("＊2", "2", None),
        ("×1", "1", None),
        ("x2盒", "2", "盒"),
        ("+1", "1", None),
        ("＋2", "2", None),
        ("1kg", "1", "kg"),
        ("2KG", "2", "kg"),
        ("2公斤", "2", "kg"),
        ("3千克", "3", "kg"),
        ("五千克", "5", "kg"),
        ("500g", "500", "g"),
        ("100克", "100", "g"),
        ("4瓶", "4", "瓶"),
        ("1包", "1", "包"),
        ("2件", "2", "件"),
        ("3只", "3", "只"),
        ("1桶", "1", "桶"),
        ("2提", "2", "提"),
        ("5串", "5", "串"),
        ("2块", "2", "块"),
        ("1把", "1", "把"),
        ("3根", "3", "根"),
    ],
)
def test_parse_quantity_table(text: str, value: str, unit: str | None) -> None:
    assert parse_quantity(text) == Quantity(Decimal(value), unit)


@pytest.mark.parametrize(
    "text", ["", "盒", "草莓", "3栋", "5-1201", "两小时", "5块钱", "一二", "十十", "12:30", "x", "abc3"]
)
def test_parse_quantity_rejects(text: str) -> None:
    assert parse_quantity(text) is None


def test_quantity_is_decimal_exact() -> None:
    q = parse_quantity("0.1斤")
    assert q is not None
    assert q.value + q.value + q.value == Decimal("0.3")


def test_parse_number() -> None:
    assert parse_number("半") == Decimal("0.5")
    assert parse_number("２０") == Decimal(20)
    assert parse_number("") is None
    assert parse_number("abc") is None


def test_find_quantities_in_context() -> None:
    spans = find_quantities("3栋 王阿姨 草莓2盒，蓝莓x2 +1 第3天 两个小时 5块钱")
    forms = [(s.quantity.value, s.quantity.unit, s.form) for s in spans]
    assert (Decimal(2), "盒", QuantityForm.UNIT) in forms
    assert (Decimal(2), None, QuantityForm.MULTIPLY) in forms
    assert (Decimal(1), None, QuantityForm.PLUS) in forms
    # an ordinal, "个小时" and "块钱" are no quantities
    assert all(
        s.form is QuantityForm.BARE or s.quantity.unit is not None or s.form is not QuantityForm.UNIT for s in spans
    )
    assert not any(s.quantity.unit in ("个", "块") for s in spans)
    assert not any(s.quantity.value == 3 and s.form is not QuantityForm.BARE for s in spans)


def test_find_quantities_spans_point_into_text() -> None:
    text = "五斤西瓜，十斤苹果"
    spans = find_quantities(text)
    assert [text[s.start : s.end] for s in spans] == ["五斤", "十斤"]


def test_long_digit_runs_are_not_quantities() -> None:
    assert [s for s in find_quantities("18012345678个") if s.form is QuantityForm.UNIT] == []


# -- the scan's shortcuts read what the plain patterns read ----------

# The sign of x3/+1 and the 半 of 半斤 are matched before the look-behind about the character in front of them; this is
# the pattern with each look-behind in front again, as it was written first.
_REWRITES = [
    ("[xX*×＊✕✖](?<![A-Za-z][xX])", "(?:(?<![A-Za-z])[xX]|[*×＊✕✖])"),
    ("[+＋](?<![0-9A-Za-z][+＋])", "(?<![0-9A-Za-z])[+＋]"),
    ("半(?<![零〇一二两俩三四五六七八九十百千0-9０-９]半)", "(?<![零〇一二两俩三四五六七八九十百千0-9０-９])半"),
]
_old_pattern = _QTY_RE.pattern
for _new_form, _old_form in _REWRITES:
    _old_pattern = _old_pattern.replace(_new_form, _old_form)
_LOOK_BEHIND_FIRST = re.compile(_old_pattern)

_QTY_TEXT = st.lists(
    st.sampled_from([*"xX*×＊✕✖+＋半aZ01２一两十千克斤盒个 \t\u3000.:-", "kg", "小时", "邮"]), max_size=16
).map("".join)


def test_the_look_behind_first_pattern_is_the_old_one() -> None:
    for new_form, old_form in _REWRITES:
        assert _QTY_RE.pattern.count(new_form) == 1
        assert _LOOK_BEHIND_FIRST.pattern.count(old_form) == 1


@settings(max_examples=800)
@given(_QTY_TEXT)
@example("a+1 Z＋2 0+3 +4 ax5 Xx6 *7 a×8 1半斤 一半个 a半盒 半斤")
def test_a_sign_is_matched_before_its_look_behind_to_the_same_effect(text: str) -> None:
    def spans(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str | None, str]]:
        return [(m.span(), m.lastgroup, m.group()) for m in pattern.finditer(text)]

    assert spans(_QTY_RE) == spans(_LOOK_BEHIND_FIRST)


def test_a_narrowed_bare_pattern_only_leaves_bare_counts_out() -> None:
    text = "3栋 王 12 草莓2盒 x3 +1 7"
    everything = find_quantities(text)
    narrowed = find_quantities(text, bare=r"(?<= )[0-9]{1,2}(?![0-9])")
    assert narrowed == [s for s in everything if s.form is not QuantityForm.BARE or text[s.start - 1] == " "]
    assert [text[s.start : s.end] for s in narrowed if s.form is QuantityForm.BARE] == ["12", "7"]
