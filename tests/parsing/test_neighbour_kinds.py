"""接龙 lines as neighbours really write them (issue #16), one test per kind: what the leader's tally must read.

Each kind is written here in several voices of our own; the vectors in tests/fixtures/chains/ measure the same
kinds end to end (`tests/parsing/test_chain_vectors.py`)."""

from __future__ import annotations

import pytest

from bot.parsing.chain import ChainEntry, parse_chain
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
