from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.parsing.products import MatchKind, ProductMatcher, fold


@pytest.mark.parametrize(
    ("text", "product", "kind"),
    [
        ("草莓", "草莓", MatchKind.EXACT),
        ("  草莓 ", "草莓", MatchKind.EXACT),
        ("白面", "面粉", MatchKind.ALIAS),
        ("沙糖桔", "砂糖橘", MatchKind.ALIAS),
        ("蓝梅", "蓝莓", MatchKind.FUZZY),
        ("桔子", "橘子", MatchKind.FUZZY),
        ("砂糖桔", "砂糖橘", MatchKind.FUZZY),
        ("百香菓", "百香果", MatchKind.FUZZY),
        ("麦辣鸡腿包", "麦辣鸡腿堡", MatchKind.FUZZY),
        ("新鲜草莓", "草莓", MatchKind.EXACT),
        ("新鲜蓝梅", "蓝莓", MatchKind.FUZZY),
    ],
)
def test_match(matcher: ProductMatcher, text: str, product: str, kind: MatchKind) -> None:
    hit = matcher.match(text)
    assert hit is not None
    assert (hit.product, hit.kind) == (product, kind)


@pytest.mark.parametrize("text", ["芒果", "火龙果", "王阿姨", "J", "gt7", "", "   "])
def test_unknown_is_none(matcher: ProductMatcher, text: str) -> None:
    # 芒果 is one letter from 苹果, but a two-letter name only tolerates known look-alike/sound-alike letters
    assert matcher.match(text) is None


def test_find_all_prefers_longest_and_reports_spans(matcher: ProductMatcher) -> None:
    text = "砂糖橘2斤 橘子1斤 麦辣鸡翅"
    found = matcher.find_all(text)
    assert [(m.product, text[m.start : m.end]) for m in found] == [
        ("砂糖橘", "砂糖橘"),
        ("橘子", "橘子"),
        ("麦辣鸡翅", "麦辣鸡翅"),
    ]


def test_find_all_fuzzy_and_width(matcher: ProductMatcher) -> None:
    found = matcher.find_all("王阿姨蓝梅2盒 桔子")
    assert [(m.product, m.surface, m.kind) for m in found] == [
        ("蓝莓", "蓝梅", MatchKind.FUZZY),
        ("橘子", "桔子", MatchKind.FUZZY),
    ]
    assert matcher.find_all("王阿姨蓝梅2盒", fuzzy=False) == []


def test_units_and_knows(matcher: ProductMatcher) -> None:
    assert matcher.knows("草莓")
    assert not matcher.knows("白面")  # an alias, not a product
    assert matcher.unit_of("草莓") == "盒"
    assert matcher.unit_of("苹果") is None


def test_segment_keeps_catalogue_words(matcher: ProductMatcher) -> None:
    assert "麦辣鸡腿堡" in matcher.segment("我要麦辣鸡腿堡两个")
    assert "沙糖桔" in matcher.segment("来点沙糖桔")


def test_latin_names_fold_case_and_width(tmp_path: Path) -> None:
    m = ProductMatcher([("iPhone", ["苹果手机"])], cache_dir=tmp_path)
    hit = m.match("ＩＰＨＯＮＥ")
    assert hit is not None
    assert hit.product == "iPhone"
    assert m.find_all("要一台iphone")[0].surface == "iphone"


def test_empty_catalogue_knows_nothing(tmp_path: Path) -> None:
    m = ProductMatcher([], cache_dir=tmp_path)
    assert not m
    assert m.match("草莓") is None
    assert m.find_all("草莓2盒") == []
    assert m.fuzzy_in("蓝梅") is None
    assert not list(tmp_path.iterdir())  # nothing to tokenize, so jieba never loaded


@pytest.mark.from_scratch
def test_jieba_cache_goes_to_cache_dir(tmp_path: Path) -> None:
    m = ProductMatcher([("草莓", [])], cache_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()  # lazy
    m.segment("草莓")
    assert (tmp_path / "data" / "jieba.cache").is_file()


# -- shortcuts: each finds what the long way finds ----------

_SCAN_TEXT = st.lists(
    st.sampled_from([*"草莓蓝梅苹果橙子砂糖橘沙桔面粉白新的 　\tAaＡａ1１xX-", "ＩＰＨＯＮＥ", "iphone", "麦辣鸡翅"]),
    max_size=20,
).map("".join)


@settings(max_examples=300)
@given(_SCAN_TEXT)
def test_a_catalogue_without_latin_or_digits_is_scanned_unfolded(matcher: ProductMatcher, text: str) -> None:
    """No name holds a character folding produces: the names are found where they are found in the folded text."""
    assert not matcher._scan_needs_fold
    folding = copy.copy(matcher)
    folding._scan_needs_fold = True
    assert matcher.find_all(text, fuzzy=False) == folding.find_all(text, fuzzy=False)


def test_a_name_with_digits_is_found_in_full_width(tmp_path: Path) -> None:
    m = ProductMatcher([("3号套餐", [])], cache_dir=tmp_path)
    assert m._scan_needs_fold
    assert [(hit.product, hit.surface) for hit in m.find_all("王 ３号套餐1份")] == [("3号套餐", "３号套餐")]


_PHRASE = st.lists(
    st.sampled_from([*"草莓梅霉蓝兰苹萍果芒橙澄子砂沙糖桔橘百香菓麦辣鸡腿包翅面粉白西希瓜新鲜的好", "Ｌ", "y"]),
    min_size=1,
    max_size=8,
)


@settings(max_examples=500)
@given(_PHRASE.map("".join))
def test_the_typo_pretest_passes_every_phrase_holding_a_typo(matcher: ProductMatcher, phrase: str) -> None:
    """`_fuzzy_in_words` asks jieba only about phrases `_may_hold_typo` passes: it may turn away only phrases no part
    of which is a typo of a name (jieba's words are parts of the phrase)."""
    if not matcher._may_hold_typo(phrase):
        parts = {phrase[i:j] for i in range(len(phrase)) for j in range(i + 1, len(phrase) + 1)}
        assert [part for part in parts if matcher.fuzzy(part) is not None] == []


def test_the_typo_pretest_spares_jieba_unrelated_phrases(matcher: ProductMatcher) -> None:
    assert not matcher._may_hold_typo("新的好")
    assert not matcher._may_hold_typo("草芒")  # 草莓 with its second character mistyped as one not confused with it
    assert matcher._may_hold_typo("新鲜蓝梅")  # 蓝梅: a typo of 蓝莓
    assert matcher._may_hold_typo("一箱百香菓")  # shares characters with 百香果
    hit = matcher.fuzzy_in("新鲜蓝梅")
    assert hit is not None
    assert (hit.product, hit.start, hit.end) == ("蓝莓", 2, 4)


_CATALOGUE_WITH_LATIN = [("草莓", []), ("蓝莓", []), ("百香果", []), ("砂糖橘", ["沙糖桔"]), ("Lily同款", ["ly"])]
_TYPO_TEXT = st.lists(
    st.sampled_from([*"草莓梅霉蓝兰苹果橙子砂糖橘桔沙百香菓麦辣鸡腿堡翅面粉白西瓜新的 ", "ＬＩＬＹ", "ly"]), max_size=9
)


@settings(max_examples=500)
@given(_TYPO_TEXT.map("".join), st.sampled_from([_CATALOGUE_WITH_LATIN, [("草莓", []), ("蓝莓", [])]]))
@example("草梅", [("草莓", []), ("蓝莓", [])])  # a typo of a two-character name, at the start
@example("lilyyy同款", _CATALOGUE_WITH_LATIN)  # two letters more than a six-character name
@example("lilxy同款", _CATALOGUE_WITH_LATIN)
def test_typo_shortcuts_answer_as_the_long_way(text: str, catalogue: list[tuple[str, list[str]]]) -> None:
    """`fuzzy` turns away lengths no name takes a typo of, and `_may_hold_typo` looks for pairs only where one can
    start: both answer what comparing with every name and every pair of characters answers."""
    m = ProductMatcher(catalogue)
    key = fold(text.strip())
    ranked = [
        (distance, -len(surface), product)
        for surface, (product, _kind) in m._surfaces.items()
        if text.strip() and len(key) <= 12 and (distance := m._typo_distance(key, surface)) is not None
    ]
    hit = m.fuzzy(text)
    assert (hit.product if hit else None) == (min(ranked)[2] if ranked else None)
    folded = fold(text)
    pairs = any(folded[k : k + 2] in m._typo_pairs for k in range(len(folded) - 1))
    assert m._may_hold_typo(text) == (not m._typo_chars.isdisjoint(folded) or pairs)


def test_opening_and_closing_characters_as_written() -> None:
    m = ProductMatcher(_CATALOGUE_WITH_LATIN)
    assert {"草", "蓝", "百", "砂", "沙", "l", "L", "ｌ", "Ｌ"} <= m.opening_chars()
    assert {"莓", "果", "橘", "桔", "款", "y", "Y", "ｙ", "Ｙ"} <= m.closing_chars()
    assert "莓" not in m.opening_chars()
    assert ProductMatcher([]).opening_chars() == frozenset()
