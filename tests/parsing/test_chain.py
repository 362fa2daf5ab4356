from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import ChainEntry, Item, is_chain, normalize_key, parse_chain
from bot.parsing.entry import unstrike
from bot.parsing.masks import MASK, mask
from bot.parsing.products import ProductMatcher


def one(text: str, matcher: ProductMatcher | None = None, default_product: str | None = None) -> ChainEntry:
    parsed = parse_chain(f"#接龙\n\n1. {text}", matcher, default_product=default_product)
    assert len(parsed.entries) == 1
    return parsed.entries[0]


def items(entry: ChainEntry) -> list[tuple[str, bool, str, str | None]]:
    return [(i.product, i.known, str(i.qty), i.unit) for i in entry.items]


# -- who / items / remark ----------


@pytest.mark.parametrize(
    ("text", "who", "expected", "remark"),
    [
        ("3栋 王阿姨 草莓2盒", "3栋 王阿姨", [("草莓", True, "2", "盒")], ""),
        ("5-1201 李 蓝莓1盒 苹果2斤", "5-1201 李", [("蓝莓", True, "1", "盒"), ("苹果", True, "2", "斤")], ""),
        ("6号楼2单元 何姐 3盒蓝莓", "6号楼2单元 何姐", [("蓝莓", True, "3", "盒")], ""),
        ("1号，101室 冯 苹果一斤半", "1号，101室 冯", [("苹果", True, "1.5", "斤")], ""),
        ("295-909 五斤西瓜，十斤苹果", "295-909", [("西瓜", True, "5", "斤"), ("苹果", True, "10", "斤")], ""),
        ("王霞 要两袋面粉", "王霞", [("面粉", True, "2", "袋")], ""),
        ("王霞要两袋白面", "王霞", [("面粉", True, "2", "袋")], ""),
        ("张姐 牛排2份,面包1袋", "张姐", [("牛排", True, "2", "份"), ("面包", True, "1", "袋")], ""),
        ("张姐 橙子1箱+蓝莓2盒", "张姐", [("橙子", True, "1", "箱"), ("蓝莓", True, "2", "盒")], ""),
        ("孙 草莓*2 蓝莓×1", "孙", [("草莓", True, "2", "盒"), ("蓝莓", True, "1", None)], ""),
        ("周 蓝莓 3 盒", "周", [("蓝莓", True, "3", "盒")], ""),
        ("吴 草莓 3", "吴", [("草莓", True, "3", "盒")], ""),
        ("李 草莓", "李", [("草莓", True, "1", "盒")], ""),
        ("王阿姨 蓝梅x2", "王阿姨", [("蓝莓", True, "2", None)], ""),
        ("王阿姨蓝梅2盒", "王阿姨", [("蓝莓", True, "2", "盒")], ""),
        ("3栋王阿姨草莓2盒", "3栋王阿姨", [("草莓", True, "2", "盒")], ""),
        ("赵 桔子3斤 沙糖桔2斤", "赵", [("橘子", True, "3", "斤"), ("砂糖橘", True, "2", "斤")], ""),
        ("钱 火龙果2个", "钱", [("火龙果", False, "2", "个")], ""),
        ("陈 13800138000 草莓2盒 白色 送货", "陈 13800138000", [("草莓", True, "2", "盒")], "白色 送货"),
        ("何 草莓2盒 不要酱", "何", [("草莓", True, "2", "盒")], "不要酱"),
        ("295-909 6份", "295-909", [("", False, "6", "份")], ""),
        ("3栋 王阿姨 2盒", "3栋 王阿姨", [("", False, "2", "盒")], ""),
        ("李四 +1", "李四", [("", False, "1", None)], ""),
        ("王燕燕 512 白色", "王燕燕 512", [], "白色"),
        ("A3-101 Lily 草莓２盒", "A3-101 Lily", [("草莓", True, "2", "盒")], ""),
        ("王阿姨\n草莓2盒\n蓝莓1盒", "王阿姨", [("草莓", True, "2", "盒"), ("蓝莓", True, "1", "盒")], ""),
    ],
)
def test_entry_shapes(
    matcher: ProductMatcher, text: str, who: str, expected: list[tuple[str, bool, str, str | None]], remark: str
) -> None:
    entry = one(text, matcher)
    assert entry.who == who
    assert items(entry) == expected
    assert entry.remark == remark
    assert not entry.cancelled


def test_without_matcher_items_are_unknown_shapes() -> None:
    entry = one("3栋 王阿姨 草莓2盒 蓝莓x1")
    assert entry.who == "3栋 王阿姨"
    assert items(entry) == [("草莓", False, "2", "盒"), ("蓝莓", False, "1", None)]
    assert items(one("尘 消毒液两瓶")) == [("消毒液", False, "2", "瓶")]
    assert items(one("钟予馨2箱")) == [("", False, "2", "箱")]
    assert one("钟予馨2箱").who == "钟予馨"


@pytest.mark.parametrize("text", ["3栋 王阿姨 2盒", "王霞 1箱", "李四 +1", "张三 2"])
def test_default_product_fills_quantity_only_lines(matcher: ProductMatcher, text: str) -> None:
    entry = one(text, matcher, default_product="草莓")
    assert len(entry.items) == 1
    assert entry.items[0].product == "草莓"
    assert entry.items[0].known


def test_default_product_without_matcher() -> None:
    entry = one("王霞 1箱", default_product="百香果")
    assert entry.items == (Item("百香果", True, Decimal(1), "箱"),)


@pytest.mark.parametrize(
    "text",
    [
        "3栋 王阿姨",
        "5-1201 李",
        "6号楼2单元 何姐",
        "1号，101室 张",
        "295-909",
        "张三18012345678，1号，101室",
        "王阿姨 13800138000",
        "倪彩霞 gt7",
        "打卡第3天",
        "7:20-8:35 洗漱",
        "7.50-9.20 早餐",
        "5.24早上送货",
        "两小时羽毛球",
        "5块钱",
        "http://t.csdn.cn/XjFbY",
    ],
)
def test_addresses_phones_times_are_not_quantities(text: str) -> None:
    assert one(text).items == ()


# -- cancellation ----------


@pytest.mark.parametrize(
    "text",
    [
        "3栋 王阿姨 草莓2盒 取消",
        "3栋 王阿姨 不要了",
        "3栋 王阿姨 -1",
        "3栋 王阿姨 退出",
        "~~3栋 王阿姨 草莓2盒~~",
        "3̶栋̶ ̶王̶阿̶姨̶ ̶草̶莓̶2̶盒̶",
        "3栋 王阿姨\n取消",
    ],
)
def test_cancelled_keeps_who(matcher: ProductMatcher, text: str) -> None:
    entry = one(text, matcher)
    assert entry.cancelled
    assert entry.who == "3栋 王阿姨"


def test_struck_line_has_the_key_of_the_line_it_strikes() -> None:
    assert one("~~3栋 王阿姨 草莓2盒~~").key == one("3栋 王阿姨 草莓2盒").key
    assert one("3̶栋̶ ̶王̶阿̶姨̶ ̶草̶莓̶2̶盒̶").key == one("3栋 王阿姨 草莓2盒").key


@pytest.mark.parametrize(
    ("raw", "struck"),
    [
        ("王\u0336阿\u0336姨\u0336", True),  # as many marks as visible characters
        ("王阿\u0336姨\u0336 草莓", False),
        ("王阿\u0336姨\u0336 草", True),  # half the visible characters, spaces not counted
        ("王\u0336\x1c\x1d\x85\xa0\u3000\u2028", True),  # every str.isspace() character is a space here
        ("王阿姨\u0336\u0335\u0337\u0338", True),  # all four marks count
    ],
)
def test_struck_out_means_marks_on_half_the_visible_characters(raw: str, struck: bool) -> None:
    assert unstrike(raw)[1] is struck


def test_emptied_entry_is_cancelled() -> None:
    parsed = parse_chain("1.\n2. 王阿姨 2盒")
    assert parsed.entries[0].raw == ""
    assert parsed.entries[0].cancelled
    assert not parsed.entries[1].cancelled


@pytest.mark.parametrize("text", ["5-1 王 草莓1盒", "王 不要酱", "王 草莓2盒 要新鲜的", "295-1 2份"])
def test_not_cancelled(text: str) -> None:
    assert not one(text).cancelled


# -- numbering ----------


@pytest.mark.parametrize("sep", [".", "、", ")", "）", "．", ":", "：", ",", "，", ";", "；", "-", "_", "#", "~", "。"])
@pytest.mark.parametrize("space", ["", " ", "  "])
def test_separators(sep: str, space: str) -> None:
    parsed = parse_chain(f"#接龙\n1{sep}{space}张三 2份\n2{sep}{space}李四 1份\n10{sep}{space}王五 3份")
    assert [(e.seq, e.who) for e in parsed.entries] == [(1, "张三"), (2, "李四"), (10, "王五")]


def test_full_width_and_circled_numbers() -> None:
    parsed = parse_chain("１２．张三 2份\n①李四 1份\n1️⃣ 王五")
    assert [(e.seq, e.raw) for e in parsed.entries] == [(12, "张三 2份"), (1, "李四 1份"), (1, "王五")]


def test_gaps_and_repeats_are_kept() -> None:
    parsed = parse_chain("#接龙\n1. a\n2. b\n2. c\n5. d")
    assert [(e.seq, e.raw) for e in parsed.entries] == [(1, "a"), (2, "b"), (2, "c"), (5, "d")]


def test_no_space_after_number_with_digits_is_an_entry_in_sequence() -> None:
    parsed = parse_chain("#接龙\n\n1.295-909 6份\n2.295-910 8份")
    assert [(e.seq, e.who) for e in parsed.entries] == [(1, "295-909"), (2, "295-910")]


@pytest.mark.parametrize(
    "header_line", ["8.7", "5.24早上送货", "7.50-9.20", "12:30截单", "2023.6.1", "1.5斤一份", "3-5个工作日"]
)
def test_decimal_date_and_time_lines_are_not_entries(header_line: str) -> None:
    parsed = parse_chain(f"#接龙\n{header_line}\n\n1. 张三 2份")
    assert header_line in parsed.header
    assert [e.seq for e in parsed.entries] == [1]


def test_numbers_past_999_continue_the_list() -> None:
    text = "\n".join(f"{i}. 人{i} 1份" for i in range(995, 1003))
    parsed = parse_chain(text)
    assert [e.seq for e in parsed.entries] == list(range(995, 1003))


def test_leader_notes_numbered_before_the_list() -> None:
    parsed = parse_chain("#接龙 草莓团\n1、每人限购2盒\n2、三点截单\n\n1. 王阿姨 2盒\n2. 李 1盒")
    assert "1、每人限购2盒" in parsed.header
    assert [e.who for e in parsed.entries] == ["王阿姨", "李"]


def test_continuation_and_tail() -> None:
    parsed = parse_chain("#接龙\n\n1. 王阿姨\n   草莓2盒\n2. 李\n\n三点截单\n明天到货")
    assert [e.raw for e in parsed.entries] == ["王阿姨\n草莓2盒", "李"]
    assert parsed.tail == "三点截单\n明天到货"


def test_blank_line_inside_an_entry_that_is_not_the_last() -> None:
    parsed = parse_chain("1. 王\n\n备注一句\n2. 李")
    assert parsed.entries[0].raw == "王\n\n备注一句"
    assert parsed.tail == ""


# -- single-line chains (newlines lost) ----------


def test_single_line_with_empty_first_entry() -> None:
    parsed = parse_chain("1. 2. 倪彩霞 gt7 3. 莓心 4. 王燕燕 512 白色")
    assert [(e.seq, e.raw) for e in parsed.entries] == [(1, ""), (2, "倪彩霞 gt7"), (3, "莓心"), (4, "王燕燕 512 白色")]


def test_single_line_title_with_number_dot() -> None:
    parsed = parse_chain("#接龙 3. 周年庆 1. 门店＋型号 2. 金源北路GT7蓝 倪彩霞")
    assert parsed.header == "#接龙 3. 周年庆"
    assert [e.seq for e in parsed.entries] == [1, 2]


def test_single_entry_line_with_numbers_inside_is_not_split() -> None:
    parsed = parse_chain("#接龙\n1. 王阿姨 草莓2盒 5.20 到")
    assert [e.raw for e in parsed.entries] == ["王阿姨 草莓2盒 5.20 到"]


# -- header, examples, transport prefix ----------


def test_bot_mention_header_examples_and_prefix() -> None:
    text = (
        "wxid_abcdef123:\n@团购助手 #接龙 草莓团\n例：3栋 王阿姨 草莓2盒\n格式如 楼号-房号 数量\n\n"
        "1. 3栋 王阿姨 草莓2盒\n2. 5-1201 李 1盒"
    )
    parsed = parse_chain(text)
    assert parsed.sender_prefix == "wxid_abcdef123"
    assert parsed.header == "@团购助手 #接龙 草莓团"
    assert parsed.examples == ("例：3栋 王阿姨 草莓2盒\n格式如 楼号-房号 数量",)
    assert len(parsed.entries) == 2


def test_no_header_and_no_entries() -> None:
    assert parse_chain("") == parse_chain("")
    parsed = parse_chain("今天天气不错")
    assert parsed.entries == ()
    assert parsed.header == "今天天气不错"


def test_is_chain() -> None:
    assert is_chain("#接龙\n草莓团")
    assert is_chain("1. 张三\n2. 李四")
    assert is_chain("1. 2. 倪彩霞 3. 莓心")
    assert not is_chain("今天8.7号，12:30到")
    assert not is_chain("1. 只有一行")


# -- keys ----------


def test_key_normalization() -> None:
    assert normalize_key("  3栋　王阿姨   草莓２盒。 ") == "3栋 王阿姨 草莓2盒"
    assert normalize_key("ＡＢＣ\t1盒！！") == "ABC 1盒"
    assert normalize_key("Carrie🌿\ufe0f 1份") == normalize_key("Carrie🌿 1份")


def test_keys_fold_every_whitespace_character() -> None:
    """Runs of str.isspace() characters (exactly what \\s matches in a str pattern) become one space."""
    spaces = [chr(cp) for cp in range(0x10000) if chr(cp).isspace()]  # none lies beyond the BMP
    assert spaces == [chr(cp) for cp in range(0x10000) if re.fullmatch(r"\s", chr(cp))]
    for space in spaces:
        assert normalize_key(f"{space}王{space}{space}草莓{space}") == "王 草莓"


_MASKED_TEXT = st.text(st.sampled_from(list("王3栋\n 草莓-1\u3000")), max_size=30)
_SPANS = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)).map(sorted), max_size=5)


@settings(max_examples=300)
@given(_MASKED_TEXT, _SPANS)
def test_masking_hides_every_character_of_the_spans_but_newlines(text: str, spans: list[list[int]]) -> None:
    spans_in = [(min(start, len(text)), min(end, len(text))) for start, end in spans]  # they may overlap
    hidden = {k for start, end in spans_in for k in range(start, end)}
    expected = "".join(MASK if k in hidden and ch != "\n" else ch for k, ch in enumerate(text))
    assert mask(text, spans_in) == expected


# -- robustness ----------


def test_ten_thousand_lines(matcher: ProductMatcher) -> None:
    text = "#接龙 草莓团\n\n" + "\n".join(
        f"{i}. {i % 40 + 1}栋 王{i} 草莓{i % 9 + 1}盒 蓝莓1盒" for i in range(1, 10_001)
    )
    parsed = parse_chain(text, matcher)
    assert len(parsed.entries) == 10_000
    assert parsed.entries[-1].seq == 10_000
    assert items(parsed.entries[-1]) == [("草莓", True, "2", "盒"), ("蓝莓", True, "1", "盒")]


@pytest.mark.parametrize(
    "text",
    [
        "我" * 100_000,
        "1. " + "草莓2盒" * 15_000,
        "1. 2. " + "1 " * 50_000,
        "1. " + "1" * 100_000,
        "\n" * 100_000,
        "1. a" + "\n" * 50_000 + "tail",
        "".join(chr(c) for c in range(0, 0x3000)) * 3,
    ],
)
def test_huge_and_odd_inputs(matcher: ProductMatcher, text: str) -> None:
    parse_chain(text, matcher)
    parse_chain(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_never_raises(text: str) -> None:
    parsed = parse_chain(text)
    for entry in parsed.entries:
        assert entry.key == normalize_key(entry.raw)


_LINE_ALPHABET = st.sampled_from(list("草莓蓝梅王阿姨栋号室单元斤盒份个两三十半xX*+-，、 ABCab0123456789"))
_CONTENT = st.text(_LINE_ALPHABET, min_size=1, max_size=30).filter(lambda s: s.strip() != "")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.text(st.sampled_from(list("草莓王阿姨3栋-1201 盒份两ABCx+2")), max_size=40))
def test_parse_chain_with_matcher_never_raises(matcher: ProductMatcher, text: str) -> None:
    parse_chain(f"#接龙\n1. {text}\n2. {text[::-1]}", matcher)


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@settings(max_examples=200)
@given(_CONTENT, st.lists(st.sampled_from([" ", "  ", "\u3000", "\t", " \u3000 "]), min_size=1, max_size=5))
def test_key_stable_under_whitespace_and_width(content: str, spaces: list[str]) -> None:
    words = content.split()
    spaced = "".join(word + spaces[k % len(spaces)] for k, word in enumerate(words))
    wide = "".join(_FULL_WIDTH.get(ch, ch) for ch in " ".join(words))
    assert normalize_key(spaced) == normalize_key(" ".join(words)) == normalize_key(wide)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_CONTENT, min_size=1, max_size=8), st.lists(_CONTENT, min_size=1, max_size=5))
def test_keys_do_not_change_when_entries_are_appended(first: list[str], more: list[str]) -> None:
    def chain(contents: list[str]) -> str:
        return "#接龙 草莓团\n\n" + "\n".join(f"{k}. {c}" for k, c in enumerate(contents, 1))

    before = parse_chain(chain(first)).entries
    after = parse_chain(chain(first + more)).entries
    assert [e.key for e in after[: len(before)]] == [e.key for e in before]
    assert [e.who for e in after[: len(before)]] == [e.who for e in before]
