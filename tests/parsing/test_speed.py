"""Big and garbage inputs never raise. Their timing is in `benchmarks/parse_speed.py` (no timed assertions here)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.chain import _ADDRESS_RE, ChainEntry, _address_spans, parse_chain
from bot.parsing.products import ProductMatcher


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


def _reading(entry: ChainEntry) -> list[object]:
    items = [[item.product, item.known, str(item.qty), item.unit] for item in entry.items]
    return [entry.seq, entry.raw, entry.who, items, entry.remark, entry.cancelled, entry.key]


@pytest.mark.parametrize(
    ("with_catalogue", "default_product", "counts", "digest"),
    [
        (True, None, (144, 118, 14), "3a85ac538e4a68ab4fc268c4b28909683000d84a8fa3932aa85f02c92430832c"),
        (True, "草莓", (144, 118, 14), "edb2c5912337cd33918612ad5fe2e1a8b8c78579ed6f4cbd2278054f292e2c67"),
        (False, None, (144, 117, 14), "989fd5cbee149843f37c1ae1ee06de6f1096de98ca512bf72120f0313eba8963"),
    ],
)
def test_garbage_is_read_as_before(
    matcher: ProductMatcher,
    with_catalogue: bool,
    default_product: str | None,
    counts: tuple[int, int, int],
    digest: str,
) -> None:
    """Garbage lines that open like entries are read in full (who, items, remark, key), not rejected. This pins what
    is read from the first 1,000 garbage lines, so that making the entry parser faster cannot change a reading
    unnoticed. After a deliberate change to how entries are read, check the new readings and update the digests.

    Last deliberate change: binary garbage ends an entry (`chain._before_binary`). The readings are those of the
    parser before it with each entry cut at its first binary continuation line: the same 144 entries, fewer items
    read out of garbage (277 → 118 with the catalogue, 272 → 117 without), and 4 more cancelled: 2 entry lines that
    were empty and now stay empty (an emptied entry, as `12.` alone), 2 now mostly struck through (U+0336) once the
    garbage no longer dilutes them."""
    parsed = parse_chain(garbage_lines(1_000), matcher if with_catalogue else None, default_product=default_product)
    entries = parsed.entries
    assert (len(entries), sum(len(e.items) for e in entries), sum(e.cancelled for e in entries)) == counts
    readings = json.dumps([_reading(entry) for entry in entries])
    assert hashlib.sha256(readings.encode()).hexdigest() == digest


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
    assert _address_spans(text) == [m.span() for m in _ADDRESS_RE.finditer(text)]


_ADDRESS_ALPHABET = st.sampled_from(
    list("0123456789０１２一二三两十abxAB-－—_/#:： \t栋号楼单元室")
    + ["http://", "www.", "12:34", "３栋", "a1-", "号楼"]
)


@settings(max_examples=500)
@given(st.lists(_ADDRESS_ALPHABET, max_size=30).map("".join))
def test_the_linear_address_scan_equals_the_pattern(text: str) -> None:
    assert _address_spans(text) == [m.span() for m in _ADDRESS_RE.finditer(text)]


def test_a_wall_of_text_in_one_entry_stays_bounded() -> None:
    """In one unbroken run of Chinese text every item's product could span the rest of the line: read items from a
    bounded prefix, so a 100,000-character paste cannot exhaust memory (it took 3 GB before the bound)."""
    from bot.parsing.chain import MAX_ENTRY_CHARS, parse_chain

    text = "1. " + "栋半盒" * 33_333
    (entry,) = parse_chain(text).entries
    assert len(entry.raw) == 99_999  # the raw text and its key stay whole
    assert entry.key == entry.raw
    assert sum(len(item.product) for item in entry.items) < MAX_ENTRY_CHARS * len(entry.items)
    assert sum(len(item.product) for item in entry.items) < 1_000_000
