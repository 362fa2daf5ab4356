"""Big and garbage inputs: they never raise, and garbage orders nothing nor changes an entry around it. Their timing
is in `benchmarks/parse_speed.py` (no timed assertions here)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import MAX_ENTRY_CHARS, ChainEntry, parse_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.masks import ADDRESS_RE, address_spans
from bot.parsing.products import ProductMatcher
from tests.parsing.test_fast_path import lines


def realistic_chain(lines: int = 10_000) -> str:
    return "#接龙 草莓团\n\n" + "\n".join(f"{i}. {i % 30 + 1}栋 邻居{i} 草莓{i % 3 + 1}盒" for i in range(1, lines + 1))


_ENTRYISH = "草莓栋号盒斤半x+-12３一 ~\u0336"


def garbage_lines(lines: int = 10_000, seed: int = 7) -> str:
    """Binary-ish lines: random bytes read as Latin-1, random BMP text, and lines that open like entries."""
    rng = random.Random(seed)
    out: list[str] = []
    for k in range(lines):
        size = rng.randrange(0, 40)
        kind = k % 3
        if kind == 0:
            line = bytes(rng.randrange(256) for _ in range(size)).decode("latin-1")
        elif kind == 1:
            line = "".join(
                chr(rng.choice((rng.randrange(0x20, 0x3000), rng.randrange(0x4E00, 0xA000)))) for _ in range(size)
            )
        else:
            opening = f"{rng.randrange(1, 2000)}{rng.choice('.、)) ')}"
            line = opening + "".join(rng.choice(_ENTRYISH) for _ in range(size))
        out.append(line)
    return "\n".join(out)


def long_line(chars: int = 100_000) -> str:
    """One entry line of realistic order text, `chars` characters long."""
    unit = "3栋 王阿姨 草莓2盒 蓝莓x1 5-1201 李 苹果一斤半 +1 "
    return "1. " + (unit * (chars // len(unit) + 1))[: chars - 3]


@pytest.mark.parametrize(
    "text",
    [
        realistic_chain(),
        garbage_lines(),
        long_line(),
        "1. " + "a" * 100_000,
        "1. " + "１" * 100_000,
        "1. " + "一" * 100_000,
        "1. " + "x1 " * 33_000,
        "a1-" * 33_000,
        "\x00\x01\x02\xff" * 25_000,
        "\n".join("1. " + "\u0336" * 10 for _ in range(10_000)),
    ],
    ids=["realistic", "garbage", "long-line", "letters", "full-width", "numerals", "x1", "a1-", "binary", "struck"],
)
def test_big_inputs_never_raise(matcher: ProductMatcher, text: str) -> None:
    parse_chain(text, matcher)
    parse_chain(text, matcher, default_product="草莓")
    parse_chain(text)


def _reading(entry: ChainEntry) -> tuple[object, ...]:
    items = tuple((item.product, item.known, str(item.qty), item.unit) for item in entry.items)
    return entry.seq, entry.raw, entry.who, items, entry.remark, entry.cancelled, entry.key


# Binary junk as a bridge delivers it: control characters and Latin-1 bytes, within one line (no CR, LF, NEL).
_JUNK = st.lists(st.integers(0, 255).filter(lambda b: b not in (0x0A, 0x0D, 0x85)), min_size=1, max_size=30).map(
    lambda bs: "\x00" + bytes(bs).decode("latin-1")
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(lines(), st.lists(_JUNK, max_size=3)), min_size=2, max_size=12), st.booleans())
def test_binary_garbage_under_entries_changes_nothing_a_leader_sees(
    matcher: ProductMatcher, rows: list[tuple[str, list[str]]], with_default: bool
) -> None:
    """Binary lines pasted under entries end them: every entry reads as in the list without the garbage."""
    rows = [(line, junk) for line, junk in rows if line.strip() and "\n" not in line]
    if len(rows) < 2:
        return
    clean = "#接龙 草莓团\n" + "\n".join(f"{k}. {line}" for k, (line, _junk) in enumerate(rows, 1))
    dirty = "#接龙 草莓团\n" + "\n".join("\n".join([f"{k}. {line}", *junk]) for k, (line, junk) in enumerate(rows, 1))
    default = "草莓" if with_default else None
    want = [_reading(e) for e in parse_chain(clean, matcher, default_product=default).entries]
    assert [_reading(e) for e in parse_chain(dirty, matcher, default_product=default).entries] == want


def test_garbage_reads_the_same_copy_by_copy_as_in_full(matcher: ProductMatcher) -> None:
    """Garbage as successive copies (each the last plus 50 lines), through the bot's reader: what a full parse gives."""
    garbage = garbage_lines(1_000).split("\n")
    reader = ChainReader(matcher, default_product="草莓")
    for end in range(50, len(garbage) + 1, 50):
        text = "#接龙 草莓团\n\n" + "\n".join(garbage[:end])
        assert reader.read(text) == parse_chain(text, matcher, default_product="草莓")


def test_a_pasted_file_orders_nothing(matcher: ProductMatcher) -> None:
    """A binary file pasted into the group (its bytes read as text, no list in it): no entry, so no order."""
    for seed in range(20):
        rng = random.Random(seed)
        junk = bytes(rng.randrange(256) for _ in range(4000)).decode("latin-1")
        text = "".join(ch for ch in junk if not ch.isdigit())  # no line can open an entry
        assert parse_chain(text, matcher, default_product="草莓").entries == ()


def test_the_realistic_chain_reads_every_line(matcher: ProductMatcher) -> None:
    parsed = parse_chain(realistic_chain(), matcher)
    assert len(parsed.entries) == 10_000
    last = parsed.entries[-1]
    assert (last.seq, last.who, last.remark, last.cancelled) == (10_000, "11栋 邻居10000", "", False)
    assert [(i.product, i.known, str(i.qty), i.unit) for i in last.items] == [("草莓", True, "2", "盒")]


@pytest.mark.parametrize(
    "text",
    ["a" * 5000, "１" * 5000, "一" * 5000, "12:34" + "5" * 3000 + "栋", "ab5-12 12:345栋 a1b2-c3 ５栋 www.x 1234567"],
)
def test_the_linear_address_scan_finds_what_the_pattern_finds(text: str) -> None:
    assert address_spans(text) == [m.span() for m in ADDRESS_RE.finditer(text)]


_ADDRESS_ALPHABET = st.sampled_from(
    list("0123456789０１２一二三两十abxAB-－—_/#:： \t栋号楼单元室")
    + ["http://", "www.", "12:34", "３栋", "a1-", "号楼"]
)


@settings(max_examples=500)
@given(st.lists(_ADDRESS_ALPHABET, max_size=30).map("".join))
def test_the_linear_address_scan_equals_the_pattern(text: str) -> None:
    assert address_spans(text) == [m.span() for m in ADDRESS_RE.finditer(text)]


def test_a_wall_of_text_in_one_entry_stays_bounded() -> None:
    """In one unbroken run of Chinese text every item's product could span the rest of the line: read items from a
    bounded prefix, so a 100,000-character paste cannot exhaust memory (it took 3 GB before the bound)."""
    text = "1. " + "栋半盒" * 33_333
    (entry,) = parse_chain(text).entries
    assert len(entry.raw) == 99_999  # the raw text and its key stay whole
    assert entry.key == entry.raw
    assert sum(len(item.product) for item in entry.items) < MAX_ENTRY_CHARS * len(entry.items)
    assert sum(len(item.product) for item in entry.items) < 1_000_000
