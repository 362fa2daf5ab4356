"""The one-line fast path of the chain parser reads exactly what the full entry parser reads, or declines."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.chain import parse_chain
from bot.parsing.entry import parse_content
from bot.parsing.fastline import FastLine
from bot.parsing.products import ProductMatcher
from tests.parsing.conftest import CATALOGUE

# Catalogue names that sit next to the fast path's alphabet: units (包子, 盒马), address suffixes (门钉肉饼), numerals
# (三明治, 一口香), a prefix of another name (橙/橙子, 草莓/草莓干), Latin letters, digits, fillers (加州橙, 要要糖).
_TRICKY: list[tuple[str, list[str]]] = [
    *CATALOGUE,
    ("包子", ["肉包"]),
    ("盒马鲜奶", []),
    ("门钉肉饼", []),
    ("三明治", []),
    ("一口香", []),
    ("草莓干", []),
    ("加州橙", []),
    ("要要糖", []),
    ("鸡蛋", ["土鸡蛋", "蛋"]),
    ("Lily同款", ["ly"]),
]

_NAMES = ["王阿姨", "李", "张三", "李四", "王五", "邻居", "何姐", "孙", "钟予馨", "王燕燕", "小明", "十一", "陈二狗"]
_NAMES += ["宋要", "王买", "吴再来", "取名", "不二", "退哥", "撤", "我", "还行", "加油", "第一", "半仙", "小白面"]
_NAMES += ["陶", "草莓妈", "蓝梅", "Lily", "A3", "七七", "十", "号", "盒子", "包包", "个人", "妈妈", "嘿"]
_ADDRESSES = ["3栋", "12栋", "30栋", "5-1201", "6号楼2单元", "2栋1201", "512", "1号", "101室", "3-2-501", "8幢3层"]
_ADDRESSES += ["三栋", "１２栋", "3 栋", "1201", "12", "7", "123456", "2单元10", "5－1201", "3号楼-1"]
_PRODUCTS = ["草莓", "蓝莓", "苹果", "白面", "面粉", "橙", "橙子", "沙糖桔", "砂糖橘", "百香果", "包子", "肉包"]
_PRODUCTS += ["盒马鲜奶", "门钉肉饼", "三明治", "一口香", "草莓干", "加州橙", "要要糖", "Gt7", "3号套餐", "鸡蛋", "蛋"]
_PRODUCTS += ["Lily同款", "LY", "ly", "ｌｙ", "土鸡蛋", "肉包子"]
_PRODUCTS += ["蓝梅", "桔子", "火龙果", "消毒液", "西瓜", "麦辣鸡翅", "一共", "我要", "拿铁", "我也要草莓", "半"]
_QUANTITIES = ["1", "2", "3", "9", "10", "12", "100", "999", "1000", "12345", "0", "007", "两", "三", "十二", "半"]
_QUANTITIES += ["２", "1.5", "一斤半"]
_UNITS = ["盒", "斤", "份", "个", "袋", "箱", "瓶", "包", "公斤", "千克", "kg", "KG", "Kg", "克", "g", "只", "提", "块"]
_UNITS += ["", "", "个小时", "块钱", "包邮", "根"]
_TAILS = [
    "",
    "",
    "",
    "",
    " 不要酱",
    " 取消",
    " -1",
    " 😀",
    "🍓",
    " +1",
    " x2",
    "，谢谢",
    " 改成3盒",
    "\n蓝莓1盒",
    "。",
    "  ",
]
_SEPARATORS = [" ", " ", " ", " ", "", "  ", "\u3000", "\t", "，", "|"]

_SEP = st.sampled_from(_SEPARATORS)


@st.composite
def lines(draw: st.DrawFn) -> str:
    """A realistic entry line: who (addresses around a name), then maybe a product, a quantity and a unit, a tail."""
    parts = draw(st.lists(st.sampled_from(_ADDRESSES), max_size=2))
    if draw(st.booleans()):
        parts.insert(
            draw(st.integers(0, len(parts))),
            draw(st.sampled_from(_NAMES)) + draw(st.sampled_from(["", "", "1", "12", "9999", "123456"])),
        )
    text = ""
    for part in parts:
        text += (draw(_SEP) if text else "") + part
    shape = draw(st.sampled_from(["who", "qty", "item", "item", "item", "product"]))
    if shape != "who":
        piece = draw(st.sampled_from(_PRODUCTS)) if shape in ("item", "product") else ""
        if shape != "product":
            piece += draw(st.sampled_from(_QUANTITIES)) + draw(st.sampled_from(_UNITS))
        text += (draw(_SEP) if text else "") + piece
    return (text + draw(st.sampled_from(_TAILS))).strip()


@pytest.fixture(scope="module")
def tricky() -> ProductMatcher:
    m = ProductMatcher(_TRICKY, units={"草莓": "盒", "包子": "个"})
    assert FastLine.of(m) is not None
    return m


_EMPTY = ProductMatcher([])
_TRICKY_MATCHER = ProductMatcher(_TRICKY)
# Names that open with a digit or a unit letter: lines holding them go the slow way.
_DIGIT_FIRST = ProductMatcher([*_TRICKY, ("3号套餐", []), ("Gt7", ["gt七"])])


def test_the_fast_path_declines_lines_with_catalogue_names_in_its_alphabet() -> None:
    fast = FastLine.of(_DIGIT_FIRST)
    assert fast is not None
    assert fast.read("3号套餐 王阿姨 2盒", None) is None
    assert fast.read("王阿姨 3号套餐", None) is None
    assert fast.read("王阿姨 GT7", None) is None
    assert fast.read("王阿姨 2盒", None) is not None
    assert FastLine.of(ProductMatcher([("\ue000", [])])) is None
    assert FastLine.of(_EMPTY) is FastLine.of(None)


_DEFAULTS = st.sampled_from([None, "", "草莓", "白面", "榴莲", "橙"])


def _check(matcher: ProductMatcher | None, raw: str, default_product: str | None) -> bool:
    fast = FastLine.of(matcher)
    if fast is None:
        return False
    got = fast.read(raw, default_product)
    if got is None:
        return False
    assert (got[0], got[1], "", False, raw) == parse_content(raw, matcher, default_product), raw
    return True


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(lines(), min_size=1, max_size=20), _DEFAULTS)
def test_fast_path_equals_slow_path(
    matcher: ProductMatcher, tricky: ProductMatcher, raws: list[str], default_product: str | None
) -> None:
    for raw in raws:
        for m in (matcher, tricky, None, _EMPTY, _DIGIT_FIRST):
            _check(m, raw, default_product)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    st.text(
        st.sampled_from(list("草莓蓝梅白面包子三明治王阿姨李张三栋号楼单元室-0123456789 盒斤个份两半kg取消要")),
        max_size=24,
    )
)
def test_fast_path_equals_slow_path_on_any_text(matcher: ProductMatcher, tricky: ProductMatcher, raw: str) -> None:
    for m in (matcher, tricky, None):
        for default_product in (None, "草莓"):
            _check(m, raw, default_product)


def test_fast_path_takes_the_common_shapes(matcher: ProductMatcher) -> None:
    for raw in ["30栋 邻居12 草莓3盒", "3栋 王阿姨 2盒", "5-1201 李", "6号楼2单元 何姐 白面2袋", "王燕燕 512"]:
        for m in (matcher, None):
            assert _check(m, raw, "草莓"), raw
    for raw in ["3栋 王阿姨 2盒", "6号楼2单元 何姐 白面2袋", "李四 肉包2个", "何姐 土鸡蛋12个"]:
        assert _check(_TRICKY_MATCHER, raw, None), raw
    for raw in ["张三 草莓3盒", "张三 包子2个", "张三 鸡蛋2个", "邻居 三明治1个"]:  # 草莓干, a unit, 土鸡蛋, 三
        assert not _check(_TRICKY_MATCHER, raw, None), raw
    for raw in ["3栋王阿姨草莓2盒", "李 草莓", "张三 2", "3栋 王阿姨 草莓2盒 取消", "Lily 草莓2盒", "橙1箱"]:
        assert not _check(matcher, raw, None), raw


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(lines(), min_size=1, max_size=30), _DEFAULTS)
def test_whole_chain_equals_slow_entries(matcher: ProductMatcher, raws: list[str], default_product: str | None) -> None:
    text = "#接龙 草莓团\n\n" + "\n".join(f"{k}. {raw}" for k, raw in enumerate(raws, 1))
    for m in (matcher, None):
        parsed = parse_chain(text, m, default_product=default_product)
        for entry in parsed.entries:
            slow = parse_content(entry.raw, m, default_product)
            assert (entry.who, entry.items, entry.remark, entry.cancelled, entry.key) == tuple(slow)
