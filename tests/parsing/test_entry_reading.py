"""How one entry is read, as a leader sees it: who, items, remark, cancellation, and which lines open entries."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import ChainEntry, normalize_key, parse_chain
from bot.parsing.products import ProductMatcher
from tests.parsing.test_fast_path import lines

_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def _second(raw: str, matcher: ProductMatcher | None, default_product: str | None = None) -> ChainEntry:
    """The reading of `raw` as the second entry of a list (after a plain first one)."""
    entries = parse_chain(f"#接龙\n1. 3栋 李 草莓1盒\n2. {raw}", matcher, default_product=default_product).entries
    assert len(entries) == 2
    return entries[1]


def _items(entry: ChainEntry) -> list[tuple[str, str, str | None]]:
    return [(item.product, str(item.qty), item.unit) for item in entry.items]


@pytest.mark.parametrize(
    ("raw", "who", "items", "remark"),
    [
        ("3栋 王阿姨 草莓2盒\n送到门口 谢谢", "3栋 王阿姨", [("草莓", "2", "盒")], "送到门口 谢谢"),
        ("王阿姨我要 草莓2盒", "王阿姨", [("草莓", "2", "盒")], ""),  # a filler is not part of the name
        ("王阿姨 13800138000 草莓2盒", "王阿姨 13800138000", [("草莓", "2", "盒")], ""),  # a phone is not a count
        ("王阿姨 12:30 到", "王阿姨", [], "12:30 到"),  # a time is not a count
        ("王阿姨 3盒蓝莓", "王阿姨", [("蓝莓", "3", "盒")], ""),
        ("王阿姨 五斤西瓜", "王阿姨", [("西瓜", "5", "斤")], ""),
        ("王阿姨 草莓 3", "王阿姨", [("草莓", "3", "盒")], ""),  # the catalogue's unit
        ("深蹲50", "深蹲50", [], ""),  # a count glued to an unknown word is not an order
        ("王阿姨 草莓2盒\n张三改成3份", "王阿姨", [("草莓", "2", "盒")], "张三改成3份"),  # talk of another entry
        ("王阿姨\n 12", "王阿姨", [], "12"),  # a bare number opening a later line is an address, not a count
    ],
)
def test_who_items_and_remark(matcher: ProductMatcher, raw: str, who: str, items: list[object], remark: str) -> None:
    entry = _second(raw, matcher)
    assert (entry.who, _items(entry), entry.remark, entry.cancelled) == (who, items, remark, False)


def test_a_count_without_a_product_is_of_the_default_product(matcher: ProductMatcher) -> None:
    assert _items(_second("5-1201 李姐 两盒", matcher)) == [("", "2", "盒")]
    assert _items(_second("5-1201 李姐 两盒", matcher, "草莓")) == [("草莓", "2", "盒")]
    assert _items(_second("5-1201 李姐 两盒", None, "榴莲")) == [("榴莲", "2", "盒")]


@pytest.mark.parametrize(
    ("raw", "cancelled"),
    [
        ("3栋 王阿姨 取消", True),
        ("王阿姨 不要了", True),
        ("王阿姨 -1", True),
        ("王阿姨 -12", False),  # not a cancellation: a number
        ("3栋 王阿姨 草莓2盒\n取消", True),  # a later line that says only that
        ("3栋 王阿姨 草莓2盒\n取消2盒 蓝莓", False),  # a later line that says more is a remark
        ("~~3栋 王阿姨 草莓2盒~~", True),  # struck through
        ("3\u0336栋\u0336 \u0336王\u0336阿\u0336姨\u0336", True),
        ("3栋 王阿姨 草莓2盒", False),
    ],
)
def test_cancellations(matcher: ProductMatcher, raw: str, cancelled: bool) -> None:
    assert _second(raw, matcher).cancelled is cancelled


@pytest.mark.parametrize(
    ("line", "seq"),
    [
        ("2.295-909 草莓2盒", 2),  # the expected number, then an address
        ("3、3栋王姐 蓝莓1盒", 3),
        ("②何姐 鸡蛋两盒", 2),
        ("12) 王阿姨", 12),
        ("8.7", None),  # a decimal
        ("7:20 到", None),  # a time
        ("5-1201 王阿姨", None),  # an address
        ("512 白色", None),  # a number then text, no separator
        ("2023.6.1 通知", None),  # a date
    ],
)
def test_which_lines_open_an_entry(line: str, seq: int | None) -> None:
    entries = parse_chain(f"#接龙 草莓团\n\n1. 王阿姨 草莓1盒\n{line}\n").entries
    assert [e.seq for e in entries[1:]] == ([seq] if seq is not None else [])
    if seq is None:  # the line is read as the first entry's continuation, not as an entry of its own
        assert line in entries[0].raw


_CHATTER = st.lists(
    st.sampled_from(["送到", "谢谢", "麻烦", "放在", "快递柜", "旁边", "早点", "好的", "🍓", " ", "，", "！", "辛苦"]),
    min_size=1,
    max_size=8,
).map("".join)


@_SETTINGS
@given(lines(), _CHATTER, st.sampled_from([None, "草莓"]))
def test_a_remark_line_under_an_entry_changes_neither_its_items_nor_its_writer(
    matcher: ProductMatcher, line: str, chatter: str, default_product: str | None
) -> None:
    if not chatter.strip() or not line.strip() or "\n" in line:
        return
    alone = _second(line, matcher, default_product)
    with_remark = _second(f"{line}\n{chatter}", matcher, default_product)
    assert (with_remark.who, with_remark.items, with_remark.cancelled) == (alone.who, alone.items, alone.cancelled)
    assert chatter.strip(" ，！") in with_remark.remark


_FULL_WIDTH = str.maketrans("0123456789 ", "０１２３４５６７８９\u3000")


@_SETTINGS
@given(lines())
def test_keys_ignore_width_spacing_invisible_marks_and_trailing_punctuation(line: str) -> None:
    """A line copied through phones that widen digits, add zero-width marks or a full stop stays the same line."""
    key = normalize_key(line)
    assert normalize_key(key) == key
    assert normalize_key(line.translate(_FULL_WIDTH)) == key
    assert normalize_key(line.replace(" ", "\u200b ", 1) + "。") == key
    assert normalize_key("  ".join(line.split(" "))) == key
    assert unicodedata.is_normalized("NFKC", key)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_any_text_keys_as_its_plain_form(text: str) -> None:
    """Full-width letters, ligatures, composed or decomposed accents: the same line as its plain (NFKC) form."""
    assert normalize_key(text) == normalize_key(unicodedata.normalize("NFKC", text))
