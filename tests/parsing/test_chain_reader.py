"""The incremental reader gives exactly what a full parse gives, while parsing only new lines."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.chain import parse_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.products import ProductMatcher
from tests.parsing.test_merge_properties import NAMES, PRODUCTS

MATCHER = ProductMatcher([("草莓", ("丹东草莓",)), ("蓝莓", ()), ("土鸡蛋", ("鸡蛋",))])
HEADER = "#接龙 周六水果团\n草莓39.9元/盒 今晚8点截单\n例 3栋 王阿姨 草莓1盒"
ODD_LINES = [
    "1.295-909 草莓2盒",
    "8.7",
    "   接着上一行的备注",
    "",
    "3、3栋王姐 蓝莓1盒",
    "5",
    "②何姐 鸡蛋两盒",
    "7.50-9.20",
]


def chain(lines: list[str], tail: str = "") -> str:
    body = "\n".join(f"{i}. {text}" for i, text in enumerate(lines, 1))
    return HEADER + "\n\n" + body + (f"\n\n{tail}" if tail else "")


def test_copies_of_a_growing_chain_parse_once_in_full() -> None:
    reader = ChainReader(MATCHER)
    lines: list[str] = []
    for i in range(60):
        lines.append(f"{i + 1}栋 {NAMES[i % len(NAMES)]}{i} {PRODUCTS[i % 3]}{i % 4 + 1}盒")
        text = chain(lines, tail="明晚6点到货")
        assert reader.read(text) == parse_chain(text, MATCHER)
    assert reader.full_parses <= 2  # the first copy, and the first with two entries


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["plain", "odd", "tail", "prefix", "header"])),
        min_size=1,
        max_size=25,
    )
)
def test_the_reader_always_agrees_with_a_full_parse(steps: list[tuple[int, str]]) -> None:
    reader = ChainReader(MATCHER, default_product="草莓")
    rng = random.Random(len(steps))
    lines: list[str] = []
    for n, (seed, kind) in enumerate(steps):
        if kind == "odd":
            lines.append(ODD_LINES[seed % len(ODD_LINES)])
        else:
            lines.append(f"{seed}栋 {NAMES[seed % len(NAMES)]} {PRODUCTS[seed % 3]}{seed % 5 + 1}盒")
        if rng.random() < 0.2 and len(lines) > 2:
            lines.pop(rng.randrange(len(lines)))  # a racing copy that lacks a line
        text = chain(lines, tail="三点截单" if kind == "tail" else "")
        if kind == "prefix":
            text = "wxid_abc123xyz:\n" + text
        if kind == "header":
            text = text.replace("周六水果团", f"周六水果团{n}")
        assert reader.read(text) == parse_chain(text, MATCHER, default_product="草莓")


def test_garbage_and_odd_shapes_fall_back_safely() -> None:
    reader = ChainReader(MATCHER)
    for text in ["", "\x00\x01", "1. 2. 3.", "#接龙\n\n1. a\n2. b\n   续行\n3. c", "1. a\n2. b\n\n1. c\n2. d"]:
        assert reader.read(text) == parse_chain(text, MATCHER)
