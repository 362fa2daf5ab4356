"""Binary garbage under an entry: it ends the entry, and what follows it up to the next entry is not read as orders."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import ChainEntry, parse_chain
from bot.parsing.products import ProductMatcher
from tests.parsing.test_fast_path import lines

_JUNK = "\x00\x01PK\x03\x04\x14\x00\x08\x00\x7f\x9b"  # the start of a zip file read as Latin-1


def _reading(entry: ChainEntry) -> tuple[object, ...]:
    items = tuple((item.product, item.known, str(item.qty), item.unit) for item in entry.items)
    return entry.seq, entry.raw, entry.who, items, entry.remark, entry.cancelled, entry.key


def test_binary_garbage_ends_an_entry(matcher: ProductMatcher) -> None:
    text = f"#接龙 草莓团\n1. 3栋 王阿姨 草莓2盒\n{_JUNK}\n蓝莓1盒 取消\n2. 李四 蓝莓2盒\n3. 赵 草莓1盒"
    entries = parse_chain(text, matcher).entries
    assert [e.seq for e in entries] == [1, 2, 3]
    first = entries[0]
    # Neither the garbage nor the line after it is the first entry's: no 蓝莓 and no cancellation read out of them.
    assert (first.raw, first.who, first.remark, first.cancelled) == ("3栋 王阿姨 草莓2盒", "3栋 王阿姨", "", False)
    assert [(i.product, str(i.qty), i.unit) for i in first.items] == [("草莓", "2", "盒")]
    clean = parse_chain("#接龙 草莓团\n1. 3栋 王阿姨 草莓2盒\n2. 李四 蓝莓2盒\n3. 赵 草莓1盒", matcher).entries
    assert [_reading(e) for e in entries] == [_reading(e) for e in clean]


def test_text_under_an_entry_still_belongs_to_it(matcher: ProductMatcher) -> None:
    """Only binary lines end an entry: a person's second line, a remark, a line of emoji all join it as before."""
    text = "#接龙\n1. 3栋 王阿姨\n草莓2盒\n不要太熟 🍓\n2. 李四 蓝莓2盒"
    first = parse_chain(text, matcher).entries[0]
    assert first.raw == "3栋 王阿姨\n草莓2盒\n不要太熟 🍓"
    assert [(i.product, str(i.qty)) for i in first.items] == [("草莓", "2")]
    assert first.remark == "不要太熟 🍓"


def test_binary_lines_before_the_damage_keep_what_came_before(matcher: ProductMatcher) -> None:
    text = f"#接龙\n1. 王阿姨\n草莓2盒\n{_JUNK}\n蓝莓1盒\n2. 李四 蓝莓2盒"
    first = parse_chain(text, matcher).entries[0]
    assert first.raw == "王阿姨\n草莓2盒"
    assert [(i.product, str(i.qty)) for i in first.items] == [("草莓", "2")]


@pytest.mark.parametrize("space", ["\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u3000"])
def test_whitespace_controls_are_text(matcher: ProductMatcher, space: str) -> None:
    """Tab, vertical tab, form feed, the separators and NEL are whitespace (str.isspace), as pasted from documents."""
    text = f"#接龙\n1. 王阿姨\n草莓2盒{space}备注\n2. 李四 蓝莓2盒"
    first = parse_chain(text, matcher).entries[0]
    assert first.raw == f"王阿姨\n草莓2盒{space}备注"
    assert [(i.product, str(i.qty)) for i in first.items] == [("草莓", "2")]


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x08", "\x1b", "\x7f", "\x80", "\x84", "\x86", "\x9f"])
def test_every_control_that_is_not_whitespace_is_binary(matcher: ProductMatcher, control: str) -> None:
    text = f"#接龙\n1. 王阿姨\n草莓2盒{control}\n蓝莓1盒\n2. 李四 蓝莓2盒"
    assert parse_chain(text, matcher).entries[0].raw == "王阿姨"


def test_an_entry_line_is_read_whatever_it_holds(matcher: ProductMatcher) -> None:
    """The rule is about the lines under an entry: a numbered line is an entry, read in full, binary or not."""
    first = parse_chain(f"#接龙\n1. 王阿姨 草莓2盒 {_JUNK}\n2. 李四 蓝莓2盒", matcher).entries[0]
    assert first.raw == f"王阿姨 草莓2盒 {_JUNK}"
    assert [(i.product, str(i.qty)) for i in first.items] == [("草莓", "2")]


def test_an_empty_entry_over_garbage_is_empty(matcher: ProductMatcher) -> None:
    """`12.` with nothing after it reads as an emptied (cancelled) entry; garbage under it does not fill it."""
    under_garbage = parse_chain(f"#接龙\n1. 王阿姨 草莓2盒\n2.\n{_JUNK}\n3. 赵 草莓1盒", matcher).entries[1]
    alone = parse_chain("#接龙\n1. 王阿姨 草莓2盒\n2.\n3. 赵 草莓1盒", matcher).entries[1]
    assert _reading(under_garbage) == _reading(alone) == (2, "", "", (), "", True, "")


def test_the_tail_below_the_list_is_kept(matcher: ProductMatcher) -> None:
    parsed = parse_chain(f"#接龙\n1. 王阿姨 草莓2盒\n2. 李四 蓝莓2盒\n{_JUNK}\n蓝莓1盒\n\n周五自提", matcher)
    assert parsed.entries[-1].raw == "李四 蓝莓2盒"
    assert parsed.tail == "周五自提"


_BINARY = st.sampled_from([*"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x1a\x1b\x7f\x80\x81\x84\x86\x90\x9f"])
# A line under an entry that cannot open one: it starts with a letter or a mark, never a digit, ①-⑳ or a space.
_UNDER = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\u2028\u2029"), max_size=30)
_UNDER_LINE = st.tuples(st.sampled_from("a草~!é😀"), _UNDER).map("".join)


@st.composite
def _garbage(draw: st.DrawFn) -> list[str]:
    """A binary line (anywhere in it a control that is not whitespace), then any lines that open no entry."""
    head, tail = draw(_UNDER_LINE), draw(_UNDER)
    first = draw(st.sampled_from(["", "~"])) + head + draw(_BINARY) + tail
    return [first, *draw(st.lists(_UNDER_LINE, max_size=4))]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(lines(), min_size=2, max_size=8), st.data())
def test_garbage_under_entries_changes_no_order(matcher: ProductMatcher, raws: list[str], data: st.DataObject) -> None:
    """Whatever binary garbage (and whatever follows it) sits under the entries of a list, every entry reads as it
    reads without it: garbage can neither add an order nor change or cancel one."""
    clean: list[str] = ["#接龙 草莓团", ""]
    dirty: list[str] = ["#接龙 草莓团", ""]
    for k, raw in enumerate(raws, 1):
        clean.append(f"{k}. {raw}")
        dirty.append(f"{k}. {raw}")
        if k < len(raws) and data.draw(st.booleans()):  # not under the last: the lines below a list are its tail
            dirty.extend(data.draw(_garbage()))
    for m in (matcher, None):
        want = parse_chain("\n".join(clean), m)
        got = parse_chain("\n".join(dirty), m)
        assert [_reading(e) for e in got.entries] == [_reading(e) for e in want.entries]
        assert (got.header, got.tail) == (want.header, want.tail)
