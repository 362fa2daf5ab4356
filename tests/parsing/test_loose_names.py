"""Loose product names (bot/parsing/loose_names.py): plain head words, pinyin and English, as neighbours ask.

They come only with `find_all(loose=True)` (the question reader); chain parsing keeps to names, aliases and typos.
"""

from __future__ import annotations

import pytest

from bot.parsing.products import Match, MatchKind, ProductMatcher
from bot.parsing.question import QuestionReader

# The catalogue of benchmarks/data/questions_config.yaml: two egg products, so `蛋` alone names neither.
CATALOGUE = [
    ("草莓", ("丹东草莓", "99草莓", "红颜草莓")),
    ("砂糖橘", ("沙糖桔", "砂糖桔", "沙糖橘")),
    ("土鸡蛋", ("鸡蛋", "草鸡蛋")),
    ("五常大米", ("大米", "稻花香")),
    ("车厘子", ("樱桃", "大樱桃", "智利车厘子")),
    ("酸奶", ("老酸奶", "酸牛奶")),
    ("鸭蛋", ("海鸭蛋", "咸鸭蛋", "红心鸭蛋")),
    ("苹果", ("红富士", "烟台苹果", "冰糖心")),
    ("大闸蟹", ("螃蟹", "阳澄湖大闸蟹", "毛蟹")),
    ("牛肉", ("黄牛肉", "牛腱子", "牛腱")),
]


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> ProductMatcher:
    m = ProductMatcher(CATALOGUE, cache_dir=tmp_path_factory.mktemp("jieba"))
    m.warm_up()
    return m


@pytest.fixture(scope="module")
def reader(matcher: ProductMatcher) -> QuestionReader:
    r = QuestionReader(matcher)
    r.warm_up()
    return r


def _found(matcher: ProductMatcher, text: str) -> list[tuple[str, str, MatchKind]]:
    return [(m.product, m.surface, m.kind) for m in matcher.find_all(text, loose=True)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # plain head words, each a jieba word of its own, pointing at one product
        ("蟹还有吗", [("大闸蟹", "蟹", MatchKind.HEAD)]),
        ("米还有吗", [("五常大米", "米", MatchKind.HEAD)]),
        ("橘子多少钱", [("砂糖橘", "橘子", MatchKind.HEAD)]),
        ("桔子多少钱", [("砂糖橘", "桔子", MatchKind.HEAD)]),
        ("奶多少钱", [("酸奶", "奶", MatchKind.HEAD)]),
        ("肉还有吗", [("牛肉", "肉", MatchKind.HEAD)]),
        ("螃蟹的还有吗", [("大闸蟹", "螃蟹", MatchKind.ALIAS)]),  # an alias stays an alias
        # pinyin: whole, spaced, run together, inside a pinyin sentence
        ("caomei duoshao qian", [("草莓", "caomei", MatchKind.PINYIN)]),
        ("cao mei hai you ma", [("草莓", "cao mei", MatchKind.PINYIN)]),
        ("caomeihaiyouma", [("草莓", "caomei", MatchKind.PINYIN)]),
        ("Chelizi", [("车厘子", "Chelizi", MatchKind.PINYIN)]),
        ("dazhaxie", [("大闸蟹", "dazhaxie", MatchKind.PINYIN)]),
        ("suannai还有吗", [("酸奶", "suannai", MatchKind.PINYIN)]),
        ("pingguo", [("苹果", "pingguo", MatchKind.PINYIN)]),
        ("ya dan", [("鸭蛋", "ya dan", MatchKind.PINYIN)]),
        ("niurou", [("牛肉", "niurou", MatchKind.PINYIN)]),
        ("dami", [("五常大米", "dami", MatchKind.PINYIN)]),
        # English, plurals, two-word names
        ("how much is the strawberry", [("草莓", "strawberry", MatchKind.ENGLISH)]),
        ("Strawberries?", [("草莓", "Strawberries", MatchKind.ENGLISH)]),
        ("cherries", [("车厘子", "cherries", MatchKind.ENGLISH)]),
        ("apples", [("苹果", "apples", MatchKind.ENGLISH)]),
        ("crabs", [("大闸蟹", "crabs", MatchKind.ENGLISH)]),
        ("hairy crab", [("大闸蟹", "hairy crab", MatchKind.ENGLISH)]),
        ("yoghurt", [("酸奶", "yoghurt", MatchKind.ENGLISH)]),
        ("beef", [("牛肉", "beef", MatchKind.ENGLISH)]),
        ("rice", [("五常大米", "rice", MatchKind.ENGLISH)]),
        ("eggs", [("土鸡蛋", "eggs", MatchKind.ENGLISH)]),  # 鸡蛋 is an alias: plainly *the* egg
        ("duck eggs", [("鸭蛋", "duck eggs", MatchKind.ENGLISH)]),
        ("tangerines", [("砂糖橘", "tangerines", MatchKind.ENGLISH)]),
        ("orange", [("砂糖橘", "orange", MatchKind.ENGLISH)]),  # no 橙 on sale: the 橘 it falls back to
    ],
)
def test_loose_names_found(matcher: ProductMatcher, text: str, found: list[tuple[str, str, MatchKind]]) -> None:
    assert _found(matcher, text) == found
    assert [m.loose for m in matcher.find_all(text, loose=True)] == [kind != MatchKind.ALIAS for _, _, kind in found]


@pytest.mark.parametrize(
    "text",
    [
        "蛋还有吗",  # 土鸡蛋 or 鸭蛋: ambiguous, no guess
        "玉米有吗",  # a different food ending in 米
        "米饭",
        "小米手机",
        "米线有吗",
        "米粒妈妈",  # a label
        "蟹黄有吗",
        "蛋糕有吗",
        "肉松有吗",
        "身高1米7",  # a unit after a digit
        "xie xie",  # one syllable (谢/蟹) is never read as a product
        "adamin",  # `dami` only on syllable boundaries: a|da|min
    ],
)
def test_false_friends_name_nothing(matcher: ProductMatcher, text: str) -> None:
    assert _found(matcher, text) == []


def test_chain_parsing_never_gets_loose_names(matcher: ProductMatcher) -> None:
    """`find_all` without `loose` (what chain lines use) is as before: a plain 米 or 蟹 is no product there."""
    assert matcher.find_all("3栋 米粒妈妈 蟹2只 caomei 1盒") == []
    assert matcher.find_all("3栋 王阿姨 草莓2盒") == [Match("草莓", "草莓", MatchKind.EXACT, 7, 9)]


def test_a_name_wins_over_a_loose_name_on_the_same_letters(matcher: ProductMatcher) -> None:
    assert _found(matcher, "大米和蟹") == [
        ("五常大米", "大米", MatchKind.ALIAS),
        ("大闸蟹", "蟹", MatchKind.HEAD),
    ]


@pytest.mark.parametrize(
    ("catalogue", "text", "found"),
    [
        # derived from any catalogue: an orange on sale takes `orange` and 橙子; the mandarin keeps 橘子
        ([("脐橙", ()), ("砂糖橘", ())], "orange多少钱", [("脐橙", "orange", MatchKind.ENGLISH)]),
        ([("脐橙", ()), ("砂糖橘", ())], "橙子还有吗", [("脐橙", "橙子", MatchKind.HEAD)]),
        ([("脐橙", ()), ("砂糖橘", ())], "mandarins", [("砂糖橘", "mandarins", MatchKind.ENGLISH)]),
        ([("脐橙", ()), ("砂糖橘", ())], "qicheng", [("脐橙", "qicheng", MatchKind.PINYIN)]),
        # two oranges: neither `orange` nor 橙子, and `orange` does not fall through to some 橘
        ([("脐橙", ()), ("血橙", ()), ("砂糖橘", ())], "orange", []),
        ([("脐橙", ()), ("血橙", ())], "橙子还有吗", []),
        # the last two characters when they are a word: 鸡蛋 of 土鸡蛋, 鸭蛋 of 咸鸭蛋 (no aliases given)
        ([("土鸡蛋", ()), ("咸鸭蛋", ())], "鸡蛋还有吗", [("土鸡蛋", "鸡蛋", MatchKind.HEAD)]),
        ([("土鸡蛋", ()), ("咸鸭蛋", ())], "鸭蛋还有吗", [("咸鸭蛋", "鸭蛋", MatchKind.HEAD)]),
        ([("土鸡蛋", ()), ("咸鸭蛋", ())], "蛋还有吗", []),
        ([("土鸡蛋", ()), ("咸鸭蛋", ())], "jidan", [("土鸡蛋", "jidan", MatchKind.PINYIN)]),
        # different foods: yogurt is no milk, a cherry no peach, squid no fish
        ([("酸牛奶", ()), ("樱桃", ()), ("鱿鱼", ())], "牛奶还有吗", []),
        ([("酸牛奶", ()), ("樱桃", ()), ("鱿鱼", ())], "奶还有吗", [("酸牛奶", "奶", MatchKind.HEAD)]),
        ([("酸牛奶", ()), ("樱桃", ()), ("鱿鱼", ())], "桃子还有吗", []),
        ([("酸牛奶", ()), ("樱桃", ()), ("鱿鱼", ())], "鱼还有吗", []),
        # a catalogue with no crab matches no crab
        ([("草莓", ())], "crab", []),
    ],
)
def test_any_catalogue(
    catalogue: list[tuple[str, tuple[str, ...]]], text: str, found: list[tuple[str, str, MatchKind]]
) -> None:
    assert _found(ProductMatcher(catalogue), text) == found


@pytest.mark.parametrize(
    ("text", "question", "intent", "product"),
    [
        ("螃蟹还有吗", True, "stock", "大闸蟹"),
        ("蟹还有吗", True, "stock", "大闸蟹"),
        ("米还有吗", True, "stock", "五常大米"),
        ("桔子多少钱", True, "price", "砂糖橘"),
        ("caomei duoshao qian", True, "price", "草莓"),
        ("caomei hai you ma", True, "stock", "草莓"),
        ("玉米有吗", False, "stock", None),
        ("蛋还有吗", True, "stock", None),  # the group's current buy, not a guess between the two eggs
    ],
)
def test_question_reader(reader: QuestionReader, text: str, question: bool, intent: str, product: str | None) -> None:
    u = reader.understand(text)
    assert (u.question, u.intent, u.product) == (question, intent, product)


def test_question_reader_english_product(reader: QuestionReader) -> None:
    # The intent rules and model read Chinese; the product is still the right one for whoever reads it.
    assert reader.understand("how much is the strawberry").product == "草莓"
