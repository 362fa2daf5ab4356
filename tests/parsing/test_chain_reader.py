"""The incremental reader gives exactly what a full parse gives, while parsing only new lines."""

from __future__ import annotations

import random

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import parse_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ChainState, LineState, Seen
from bot.parsing.products import ProductMatcher
from tests.parsing.test_fast_path import lines
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


def _label(sender: int) -> str:
    return f"{sender + 1}栋 {NAMES[sender]}"


def _snapshot(state: ChainState) -> dict[str, tuple[str, str | None]]:
    return {key: (line.status, line.author) for key, line in state.lines.items()}


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["join", "join", "race", "edit", "cancel", "resend", "restart"]), st.integers(0, 99)),
        min_size=1,
        max_size=30,
    )
)
@example(  # a restart after an owner's line was put back by someone else's copy
    [("join", 83), ("race", 63), ("join", 0), ("join", 0), ("race", 50), ("join", 1), ("race", 2), ("restart", 0)]
    + [("join", 0)]
)
@example(  # two edits back in one copy: both paths give them in the copy's order
    [("join", 2), ("join", 66), ("join", 91), ("race", 1), ("join", 0), ("join", 16), ("race", 14), ("join", 0)]
)
def test_folding_copies_as_read_gives_what_a_full_parse_and_merge_give(steps: list[tuple[str, int]]) -> None:
    """The engine (reader + `fold`, which looks only at the lines a copy adds to one already folded) against a full
    parse and merge of every copy: the same changes, message by message, through joins, racing copies of older
    lists, edits, cancels, resent copies, and a state rebuilt from the store while the reader remembers its copies."""
    reader = ChainReader(MATCHER)
    engine, full = ChainState(), ChainState()
    copies: list[list[str]] = [[]]
    for kind, seed in steps:
        sender = seed % len(NAMES)
        latest = copies[-1]
        mine = [k for k, text in enumerate(latest) if text.startswith(_label(sender) + " ") and text.endswith("盒")]
        fresh_line = f"{_label(sender)} {PRODUCTS[seed % 3]}{seed % 7 + 1}盒"
        if kind == "restart":  # a failed write: the state comes back from the store, the reader keeps its copies
            # both: what the store does not keep (when a line was put back, and by whose copy) is lost to either path
            engine, full = (
                ChainState.of(LineState(ln.key, ln.who, ln.author, ln.status) for ln in state.lines.values())
                for state in (engine, full)
            )
            continue
        if kind == "race":
            lines = [*copies[max(0, len(copies) - 2 - seed % 3)], fresh_line]
        elif kind == "edit" and mine:
            old = latest[mine[-1]]
            lines = [*latest[: mine[-1]], f"{old[:-2]}{int(old[-2]) % 7 + 2}盒", *latest[mine[-1] + 1 :]]
        elif kind == "cancel" and mine:
            lines = [*latest[: mine[-1]], f"{_label(sender)} 不要了", *latest[mine[-1] + 1 :]]
        elif kind == "resend":
            lines = copies[seed % len(copies)]
        else:
            lines = [*latest, fresh_line]
        text = chain(lines)
        copy = reader.read_copy(text)
        parsed = parse_chain(text, MATCHER)
        assert copy.parsed == parsed
        assert copy.keys == tuple(e.key for e in parsed.entries)
        ours = engine.fold(copy, f"wx_{sender}", NAMES[sender])
        theirs = full.apply([Seen(e) for e in parsed.entries], f"wx_{sender}", NAMES[sender])
        assert [(c.kind, c.line.key) for c in ours] == [(c.kind, c.line.key) for c in theirs]
        assert _snapshot(engine) == _snapshot(full)
        copies.append(lines)


def test_a_growing_chain_is_read_by_extension_and_folded_line_by_line() -> None:
    reader, state = ChainReader(MATCHER), ChainState()
    lines: list[str] = []
    looked_at = []
    for i in range(40):
        lines.append(f"{i + 1}栋 {NAMES[i % len(NAMES)]}{i} {PRODUCTS[i % 3]}{i % 4 + 1}盒")
        copy = reader.read_copy(chain(lines, tail="明晚6点到货"))
        if copy.extends in state.folded:
            looked_at.append(len(copy.keys) - copy.repeated)
        assert [c.kind for c in state.fold(copy, f"wx_{i}", NAMES[i % len(NAMES)])] == ["created"]
    assert reader.full_parses <= 2
    assert reader.extended >= 37
    assert len(looked_at) >= 37
    assert set(looked_at) == {1}  # each copy's one new line, however long the list
    assert len(state.active()) == 40


def test_a_copy_extending_one_the_state_never_folded_is_looked_at_in_full() -> None:
    reader = ChainReader(MATCHER)
    lines = [f"{i + 1}栋 {NAMES[i]} 草莓1盒" for i in range(3)]
    reader.read_copy(chain(lines))
    reader.read_copy(chain(lines[:2]))  # read for another state (or before a failed write), never folded here
    state = ChainState()
    copy = reader.read_copy(chain([*lines, "9栋 周老师 蓝莓2盒"]))
    assert copy.extends is not None
    assert [c.line.who for c in state.fold(copy, "wx_9", "周老师")] == [
        "1栋 王阿姨",
        "2栋 李姐",
        "3栋 何姐",
        "9栋 周老师",
    ]


def test_numbered_notes_above_the_list_are_read_as_a_full_parse_would() -> None:
    """A leader's numbered notes, a blank line, then the list from 1: the notes are left out only while the list
    starts again at 1, so a copy whose first line lost its number 1 is not read with the remembered layout."""
    head = "#接龙 周六水果团\n1. 周五晚8点截单\n2. 周六下午自提\n\n"
    reader = ChainReader(MATCHER)
    first = head + "1. 3栋 王阿姨 草莓1盒\n2. 5-1201 李姐 蓝莓2盒"
    assert reader.read(first) == parse_chain(first, MATCHER)
    renumbered = head + "3. 3栋 王阿姨 草莓1盒\n4. 5-1201 李姐 蓝莓2盒"
    assert reader.read(renumbered) == parse_chain(renumbered, MATCHER)


_ANY_LINE = st.one_of(
    lines(),
    st.text(st.sampled_from([*"0123456789１①.、:：-)。 \t草莓盒王李栋号取消~\u0336\x00", "\r", "\u2028"]), max_size=12),
    st.sampled_from(ODD_LINES),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["append", "append", "edit", "drop", "resend", "blank", "tail"]), _ANY_LINE),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([None, "草莓"]),
)
def test_the_reader_agrees_with_a_full_parse_on_any_lines(steps: list[tuple[str, str]], default: str | None) -> None:
    """Copies of a list of arbitrary lines (numbered or not, odd separators, binary, CR and U+2028 inside, blank
    lines, a tail), each changed from the last one: the reader gives exactly what a full parse gives."""
    reader = ChainReader(MATCHER, default_product=default)
    rng = random.Random(len(steps))
    body: list[str] = []
    copies: list[str] = []
    for kind, line in steps:
        if kind == "edit" and body:
            body[rng.randrange(len(body))] = f"{rng.randrange(1, 30)}. {line}"
        elif kind == "drop" and body:
            body.pop(rng.randrange(len(body)))
        elif kind == "blank":
            body.append("")
        elif kind == "resend" and copies:
            text = copies[rng.randrange(len(copies))]
            assert reader.read(text) == parse_chain(text, MATCHER, default_product=default)
            continue
        else:
            body.append(f"{len(body) + 1}. {line}" if rng.random() < 0.8 else line)
        text = HEADER + "\n\n" + "\n".join(body) + ("\n\n三点截单" if kind == "tail" else "")
        copies.append(text)
        assert reader.read(text) == parse_chain(text, MATCHER, default_product=default)
