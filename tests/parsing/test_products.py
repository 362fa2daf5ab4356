from __future__ import annotations

from pathlib import Path

import pytest

from bot.parsing.products import MatchKind, ProductMatcher


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


def test_jieba_cache_goes_to_cache_dir(tmp_path: Path) -> None:
    m = ProductMatcher([("草莓", [])], cache_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()  # lazy
    m.segment("草莓")
    assert (tmp_path / "data" / "jieba.cache").is_file()
