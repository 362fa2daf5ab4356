"""接龙 lines as neighbours really write them (issue #16), one test per kind: what the leader's tally must read.

Each kind is written here in several voices of our own; the vectors in tests/fixtures/chains/ measure the same
kinds end to end (`tests/parsing/test_chain_vectors.py`)."""

from __future__ import annotations

import pytest

from bot.parsing.chain import ChainEntry, parse_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.products import ProductMatcher

_CATALOGUE = [
    ("草莓", ("丹东草莓",)),
    ("蓝莓", ()),
    ("车厘子", ("樱桃",)),
    ("脐橙", ("橙子",)),
    ("苹果", ()),
    ("梨", ("香梨",)),
    ("牛奶", ("纯牛奶",)),
    ("酸奶", ()),
    ("鸡蛋", ()),
    ("五花肉", ()),
    ("排骨", ()),
]


@pytest.fixture(scope="module")
def fruit() -> ProductMatcher:
    return ProductMatcher(list(_CATALOGUE))


Tally = list[tuple[str, list[tuple[str, str, str | None]]]]


def tally(entries: tuple[ChainEntry, ...]) -> Tally:
    return [(e.who, [(i.product, str(i.qty), i.unit) for i in e.items]) for e in entries]


def read(text: str, matcher: ProductMatcher, default_product: str | None = None) -> Tally:
    return tally(parse_chain(text, matcher, default_product=default_product).entries)


# --- no spaces between number, label and item ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "want"),
    [
        (
            ["1.7-302赵哥蓝莓2盒", "2.8-1101小王草莓1盒", "3.赵哥7-302蓝莓1盒"],
            [
                ("7-302赵哥", [("蓝莓", "2", "盒")]),
                ("8-1101小王", [("草莓", "1", "盒")]),
                ("赵哥7-302", [("蓝莓", "1", "盒")]),
            ],
        ),
        (  # a room number that starts like a decimal right after the entry number
            ["1.7-302 赵哥 蓝莓1盒", "2.2-1101李 草莓2盒", "3.3-301孙 蓝莓1盒"],
            [
                ("7-302 赵哥", [("蓝莓", "1", "盒")]),
                ("2-1101李", [("草莓", "2", "盒")]),
                ("3-301孙", [("蓝莓", "1", "盒")]),
            ],
        ),
        (
            ["1.3栋王姐草莓2盒", "2.5栋李姐蓝莓1盒"],
            [("3栋王姐", [("草莓", "2", "盒")]), ("5栋李姐", [("蓝莓", "1", "盒")])],
        ),
        (
            ["1.5-1201李姐牛奶两箱", "2.3-1-502小林车厘子2盒"],
            [("5-1201李姐", [("牛奶", "2", "箱")]), ("3-1-502小林", [("车厘子", "2", "盒")])],
        ),
    ],
)
def test_no_spaces_between_number_label_and_item(fruit: ProductMatcher, lines: list[str], want: Tally) -> None:
    assert read("#接龙 水果团\n\n" + "\n".join(lines), fruit) == want


def test_a_two_digit_entry_number_glued_to_a_room(fruit: ProductMatcher) -> None:
    lines = [f"{i}. {i}-101 邻居{i} 苹果1斤" for i in range(1, 10)]
    lines += ["10.11-1101 老张 脐橙1箱", "11.13-203 王 香梨5斤", "12.12-1201小周苹果2斤"]
    got = read("#接龙\n\n" + "\n".join(lines), fruit)
    assert got[9:] == [
        ("11-1101 老张", [("脐橙", "1", "箱")]),
        ("13-203 王", [("梨", "5", "斤")]),
        ("12-1201小周", [("苹果", "2", "斤")]),
    ]


@pytest.mark.parametrize("line", ["1.5-2斤一份", "7.50-9.20", "3.5-6个工作日", "2.6栋"])
def test_decimals_and_ranges_out_of_sequence_are_not_entries(fruit: ProductMatcher, line: str) -> None:
    parsed = parse_chain(f"#接龙\n{line}\n\n1. 张三 草莓1盒", fruit)
    assert line in parsed.header
    assert [e.seq for e in parsed.entries] == [1]


# --- a label split by commas; emoji and nicknames inside a label ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "who", "items"),
    [
        ("孙姐，9-1101，草莓2盒", "孙姐，9-1101", [("草莓", "2", "盒")]),
        ("9-1101，孙姐，蓝莓1盒，谢谢", "9-1101，孙姐", [("蓝莓", "1", "盒")]),
        ("孙姐,9栋1101,苹果5斤", "孙姐,9栋1101", [("苹果", "5", "斤")]),
        ("6-5 🐶 汪汪 牛奶1箱", "6-5 🐶 汪汪", [("牛奶", "1", "箱")]),
        ("8-801 🌈 彩虹 车厘子2盒", "8-801 🌈 彩虹", [("车厘子", "2", "盒")]),
        ("6-5🐶汪汪 草莓2盒", "6-5🐶汪汪", [("草莓", "2", "盒")]),
        ("🐱咪咪妈 2-301 鸡蛋2盒", "🐱咪咪妈 2-301", [("鸡蛋", "2", "盒")]),
        ("5-502 ❄️小雪❄️ 车厘子2盒", "5-502 ❄️小雪❄️", [("车厘子", "2", "盒")]),
        ("3栋502 王姐💐 蓝莓1盒", "3栋502 王姐💐", [("蓝莓", "1", "盒")]),
        ("王姐 🍓 要大的", "王姐 🍓", []),  # after the name, an emoji joins the label but the words after it do not
    ],
)
def test_labels_with_commas_emoji_and_nicknames(
    fruit: ProductMatcher, line: str, who: str, items: list[tuple[str, str, str | None]]
) -> None:
    assert read(f"#接龙\n\n1. 3栋 李 草莓1盒\n2. {line}", fruit)[1] == (who, items)


def test_what_follows_an_emoji_is_a_nickname_only_when_it_reads_like_one(fruit: ProductMatcher) -> None:
    assert read("#接龙\n\n1. 3栋 李 草莓1盒\n2. 💯 http://t.cn/aIG5T", fruit)[1] == ("💯", [])


# --- one quantity for several products -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "items"),
    [
        ("苹果、梨各2斤", [("苹果", "2", "斤"), ("梨", "2", "斤")]),
        ("苹果梨各5斤", [("苹果", "5", "斤"), ("梨", "5", "斤")]),
        ("草莓和蓝莓各两盒", [("草莓", "2", "盒"), ("蓝莓", "2", "盒")]),
        ("草莓+蓝莓 各2盒", [("草莓", "2", "盒"), ("蓝莓", "2", "盒")]),
        ("草莓/蓝莓各1盒", [("草莓", "1", "盒"), ("蓝莓", "1", "盒")]),
        ("牛奶跟酸奶各一箱 鸡蛋2盒", [("牛奶", "1", "箱"), ("酸奶", "1", "箱"), ("鸡蛋", "2", "盒")]),
        ("草莓、蓝莓、车厘子各1盒", [("草莓", "1", "盒"), ("蓝莓", "1", "盒"), ("车厘子", "1", "盒")]),
        ("五花肉、排骨各2", [("五花肉", "2", None), ("排骨", "2", None)]),  # a bare count: each product's own unit
        ("牛奶1箱 草莓与蓝莓各 3盒", [("牛奶", "1", "箱"), ("草莓", "3", "盒"), ("蓝莓", "3", "盒")]),
        ("苹果和梨 各来2斤", [("苹果", "2", "斤"), ("梨", "2", "斤")]),
        ("草莓、蓝莓都要2盒", [("草莓", "2", "盒"), ("蓝莓", "2", "盒")]),
        ("草莓蓝莓每样1盒", [("草莓", "1", "盒"), ("蓝莓", "1", "盒")]),
        ("牛奶 酸奶 每种各1箱", [("牛奶", "1", "箱"), ("酸奶", "1", "箱")]),
    ],
)
def test_one_quantity_for_several_products(
    fruit: ProductMatcher, line: str, items: list[tuple[str, str, str | None]]
) -> None:
    assert read(f"#接龙\n\n1. 3栋 李 草莓1盒\n2. 5-1201 王姐 {line}", fruit)[1] == ("5-1201 王姐", items)


# --- an author's edit written into the line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "items"),
    [
        ("蓝莓1盒 改成2盒", [("蓝莓", "2", "盒")]),
        ("苹果5斤 改为10斤", [("苹果", "10", "斤")]),
        ("草莓2→3盒", [("草莓", "3", "盒")]),
        ("鸡蛋2盒→3盒", [("鸡蛋", "3", "盒")]),
        ("牛奶2箱（改1箱）", [("牛奶", "1", "箱")]),
        ("牛奶1箱 改成2", [("牛奶", "2", "箱")]),  # the count after the mark keeps the unit before it
        ("草莓1盒 改成车厘子1盒", [("车厘子", "1", "盒")]),  # another product replaces the item before the mark
        ("牛奶1箱 鸡蛋2盒 鸡蛋改成3盒", [("牛奶", "1", "箱"), ("鸡蛋", "3", "盒")]),
        ("苹果 5斤 -> 8斤", [("苹果", "8", "斤")]),
    ],
)
def test_the_writers_edit_replaces_the_figure_before_it(
    fruit: ProductMatcher, line: str, items: list[tuple[str, str, str | None]]
) -> None:
    assert read(f"#接龙\n\n1. 3栋 李 草莓1盒\n2. 7-302 赵哥 {line}", fruit)[1] == ("7-302 赵哥", items)


def test_talk_of_changing_plans_is_not_an_edit(fruit: ProductMatcher) -> None:
    assert read("#接龙\n\n1. 3栋 李 草莓1盒\n2. 7-302 赵哥 改天再说 蓝莓1盒", fruit)[1] == (
        "7-302 赵哥",
        [("蓝莓", "1", "盒")],
    )


# --- a line appended without a number; dirty pasted lists ----------------------------------------------------------

_HEAD = "#接龙 周六水果团\n周五晚8点截单\n例：3栋502 王姐 草莓1盒\n\n"


def test_a_line_appended_without_a_number_is_an_entry_of_its_own(fruit: ProductMatcher) -> None:
    text = _HEAD + "1. 3栋502 王姐 草莓2盒\n2. 12栋 张哥 车厘子1盒\n小刘 9栋 脐橙2箱"
    assert read(text, fruit) == [
        ("3栋502 王姐", [("草莓", "2", "盒")]),
        ("12栋 张哥", [("车厘子", "1", "盒")]),
        ("小刘 9栋", [("脐橙", "2", "箱")]),
    ]
    numbered = read(_HEAD + "1. 3栋502 王姐 草莓2盒\n2. 12栋 张哥 车厘子1盒\n3. 小刘 9栋 脐橙2箱", fruit)
    assert numbered == read(text, fruit)  # the next copier numbers it: the same entry
    keys = [e.key for e in parse_chain(text, fruit).entries]
    assert keys[2] == parse_chain(_HEAD + "1. 小刘 9栋 脐橙2箱\n2. 李 草莓1盒", fruit).entries[0].key


@pytest.mark.parametrize(
    "under",
    [
        "送到家门口 谢谢",  # a remark
        "要大一点的",
        "另外帮邻居带1盒",  # a sentence, not a name
        "备注：2盒要熟的",  # a colon line
        "草莓 改成3盒",  # an edit of the line above
        "取消",
    ],
)
def test_what_stays_with_the_entry_above(fruit: ProductMatcher, under: str) -> None:
    entries = parse_chain(_HEAD + f"1. 3栋502 王姐 草莓2盒\n{under}\n2. 李 蓝莓1盒", fruit).entries
    assert [e.seq for e in entries] == [1, 2]
    assert under in entries[0].raw


def test_an_entry_without_items_takes_them_from_the_line_below() -> None:
    entries = parse_chain("#接龙\n\n1. 王阿姨\n小刘 草莓2盒\n2. 李 蓝莓1盒").entries
    assert [e.raw for e in entries] == ["王阿姨\n小刘 草莓2盒", "李 蓝莓1盒"]


@pytest.mark.parametrize(
    ("pasted", "want"),
    [
        (
            ["王五要3份", "赵六+1", "孙七x2", "收到", "[强]", "周八 x2", "吴九 +2"],
            [("王五", "3", "份"), ("赵六", "1", None), ("孙七", "2", None), ("周八", "2", None), ("吴九", "2", None)],
        ),
        (
            ["琳琳要2盒", "陈+1", "👌", "好的谢谢", "老吴 2"],
            [("琳琳", "2", "盒"), ("陈", "1", None), ("老吴", "2", None)],
        ),
    ],
)
def test_dirty_pasted_lines_under_numbered_ones_for_a_one_product_buy(
    fruit: ProductMatcher, pasted: list[str], want: list[tuple[str, str, str | None]]
) -> None:
    text = "#接龙 丹东草莓团\n\n1. 王姐 2盒\n2. 李姐 1盒\n" + "\n".join(pasted)
    got = read(text, fruit, default_product="草莓")
    assert got[:2] == [("王姐", [("草莓", "2", "盒")]), ("李姐", [("草莓", "1", "盒")])]
    assert got[2:] == [(who, [("草莓", qty, unit)]) for who, qty, unit in want]


def test_dirty_pasted_lines_naming_their_products(fruit: ProductMatcher) -> None:
    text = _HEAD + "1. 3-1001 黄姐 脐橙1箱\n马老师要香梨3斤\n丁丁 脐橙+1\n花花 苹果x5\n张哥要车厘子1盒"
    assert read(text, fruit)[1:] == [
        ("马老师", [("梨", "3", "斤")]),
        ("丁丁", [("脐橙", "1", None)]),  # no unit written: the catalogue's (none in this one)
        ("花花", [("苹果", "5", None)]),
        ("张哥", [("车厘子", "1", "盒")]),
    ]


def test_a_list_without_numbers(fruit: ProductMatcher) -> None:
    parsed = parse_chain("#接龙 草莓团\n张三改成3份\n李四不要了\n王五 2盒\n赵六 蓝莓1盒\n谢谢团长", fruit)
    assert tally(parsed.entries) == [("王五", [("", "2", "盒")]), ("赵六", [("蓝莓", "1", "盒")])]
    assert parsed.header == "#接龙 草莓团\n张三改成3份\n李四不要了"


def test_a_pasted_chat_log_with_time_stamps(fruit: ProductMatcher) -> None:
    text = "2026年10月3日 22:14 1. 张三 草莓2盒\n22:15 收到\n👌\n李四 蓝莓1盒\n22:16 2. 王五 草莓1盒"
    assert read(text, fruit) == [
        ("张三", [("草莓", "2", "盒")]),
        ("李四", [("蓝莓", "1", "盒")]),
        ("王五", [("草莓", "1", "盒")]),
    ]


def test_i_is_the_writer(fruit: ProductMatcher) -> None:
    assert read("我要2盒\n李四 3盒", fruit, default_product="草莓") == [
        ("我", [("草莓", "2", "盒")]),
        ("李四", [("草莓", "3", "盒")]),
    ]


@pytest.mark.parametrize(
    ("line", "items"),
    [
        ("草莓要2盒", [("草莓", "2", "盒")]),
        ("香梨来3斤", [("梨", "3", "斤")]),
        ("草莓 要 2盒", [("草莓", "2", "盒")]),
    ],
)
def test_a_want_word_between_product_and_count(
    fruit: ProductMatcher, line: str, items: list[tuple[str, str, str | None]]
) -> None:
    assert read(f"#接龙\n\n1. 3栋 李 草莓1盒\n2. 王姐 {line}", fruit)[1] == ("王姐", items)


@pytest.mark.parametrize(
    ("under", "who"),
    [
        ("  小刘 9栋 脐橙2箱", "小刘 9栋"),
        ("9栋 小刘 脐橙2箱", "9栋 小刘"),
        ("2号楼 李姐 脐橙2箱", "2号楼 李姐"),
        ("Amy 5-1201 脐橙2箱", "Amy 5-1201"),
        ("小刘9栋脐橙2箱", "小刘9栋"),
        ("🐱咪咪 脐橙2箱", "🐱咪咪"),
    ],
)
def test_appended_lines_in_many_voices(fruit: ProductMatcher, under: str, who: str) -> None:
    got = read(_HEAD + f"1. 3栋502 王姐 草莓2盒\n{under}", fruit)
    assert got == [("3栋502 王姐", [("草莓", "2", "盒")]), (who, [("脐橙", "2", "箱")])]


def test_an_example_line_is_not_an_order(fruit: ProductMatcher) -> None:
    assert read("#接龙 草莓团\n例 3栋 王姐 草莓1盒\n王五 2盒", fruit) == [("王五", [("", "2", "盒")])]


def test_copies_with_an_unnumbered_line_read_incrementally_as_in_full(fruit: ProductMatcher) -> None:
    reader = ChainReader(fruit)
    lines = ["1. 3栋502 王姐 草莓2盒", "2. 12栋 张哥 车厘子1盒"]
    copies = [lines, [*lines, "小刘 9栋 脐橙2箱"], [*lines, "3. 小刘 9栋 脐橙2箱", "4. 8-2-301 小陈 草莓1盒"]]
    for copy in copies:
        text = _HEAD + "\n".join(copy)
        assert reader.read(text) == parse_chain(text, fruit)
    assert [e.who for e in reader.read(_HEAD + "\n".join(copies[1])).entries] == [
        "3栋502 王姐",
        "12栋 张哥",
        "小刘 9栋",
    ]
