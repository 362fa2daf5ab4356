"""The fast path of the entry reader: the common one-line shapes, read by one regular expression.

    WHO                       3栋 王阿姨 · 5-1201 · 王燕燕 512
    WHO QTY UNIT              3栋 王阿姨 2盒            (the default product, if any)
    WHO PRODUCT QTY UNIT      30栋 邻居12 草莓3盒       (a catalogue name; without a catalogue, a plain phrase)

WHO is address tokens (3栋, 6号楼2单元, 5-1201, 512) around at most one name token (CJK, then maybe digits), the
tokens joined by single spaces. The alphabet is narrow on purpose, so that `entry.parse_content` provably reads such a
line the same way: no character a cancel word, a filler, a quantity, an address mask or a product mention could
start with sits where it would change the reading (the reasons are next to each set below), and the line is already
its own key (NFKC-stable, single spaces, no trailing punctuation). Anything else goes to `entry.parse_content`;
`tests/parsing/test_fast_path.py` checks both agree.
"""

from __future__ import annotations

import re

from bot.parsing.items import Item
from bot.parsing.masks import ADDRESS_SUFFIX, MASK
from bot.parsing.products import ProductMatcher, fold
from bot.parsing.quantity import UNITS, normalize_unit, parse_number

_FAST_MAX_LEN = 120
_CN_NUMERALS = "零〇一二两俩三四五六七八九十百千"
_SUFFIX_CHARS = "号楼栋幢座单元层室区期弄排户门组巷"  # every character of ADDRESS_SUFFIX
_UNIT_CHARS = "".join(UNITS)
# Where a token starts (after a space, maybe after a numeral): no unit (12 盒 is a quantity) and no address suffix
# (三 号 is an address).
_OPENING_EXCLUDED = frozenset(_UNIT_CHARS + _SUFFIX_CHARS)
# Anywhere in a name or a product: no 半/第 (半斤, 第3), no first character of a cancel word (取消 不要了 不需要了
# 退出 撤销 撤单 退单), of an edit mark (改成, 换成: `masks.edit_marks`) or 各 (草莓蓝莓各2盒).
_ANYWHERE_EXCLUDED = frozenset("半第取退撤不改换各")
# In a name, which may hold numerals (张三, 十一): no unit or suffix at all (三个, 三号), and none of the fillers that
# would end a label (要 买 订 再来).
_NAME_EXCLUDED = _OPENING_EXCLUDED | _ANYWHERE_EXCLUDED | frozenset("要买订来再")
# In a product: no numeral (草莓三3盒 reads no quantity: the unit form's look-behind).
_PRODUCT_EXCLUDED = _ANYWHERE_EXCLUDED | frozenset(_CN_NUMERALS)
# Without a catalogue the product is the phrase as written; it must not open with a filler (我要, 还要, 拿, 加, 共…).
_PHRASE_OPENING_EXCLUDED = _OPENING_EXCLUDED | frozenset("我还再要买订来拿加共一")
# Where the product scan of `ProductMatcher.find_all` looks outside the product: the address tokens, the spaces, the
# quantity and the unit (folded), the mask. Catalogue names that open with one of these are searched for in the line.
_FAST_ALPHABET = frozenset("0123456789- " + _SUFFIX_CHARS + fold(_UNIT_CHARS) + MASK)
_FAST_ADDRESS = (
    rf"(?:[0-9]{{1,4}}{ADDRESS_SUFFIX})+[0-9]{{0,4}}"  # 3栋, 6号楼2单元, 2栋1201
    r"|[0-9]{1,6}(?:-[0-9]{1,6})+"  # 5-1201, 3-2-501
    r"|[0-9]{3,8}"  # 512, a room number
)
_ITEMS_LIMIT = 10_000
_FAST_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))


def _cjk_class(excluded: frozenset[str]) -> str:
    """A regex class of the CJK Unified Ideographs block without `excluded`."""
    parts: list[str] = []
    start = 0x4E00
    for cp in sorted({ord(ch) for ch in excluded if "\u4e00" <= ch <= "\u9fff"}):
        if cp > start:
            parts.append(f"{chr(start)}-{chr(cp - 1)}" if cp - 1 > start else chr(start))
        start = cp + 1
    if start <= 0x9FFF:
        parts.append(f"{chr(start)}-{chr(0x9FFF)}" if start < 0x9FFF else chr(start))
    return "[" + "".join(parts) + "]"


class FastLine:
    """Reads the common one-line shapes for one catalogue (or none); `read` gives None for anything else."""

    __slots__ = ("_defaults", "_items", "_matcher", "_products", "_regex", "_unsafe")

    def __init__(self, matcher: ProductMatcher | None) -> None:
        self._matcher = matcher
        self._products: dict[str, str] = {}
        self._unsafe: re.Pattern[str] | None = None
        if matcher is None:
            name_chars = _cjk_class(_NAME_EXCLUDED)
            product = _cjk_class(_PHRASE_OPENING_EXCLUDED | _PRODUCT_EXCLUDED) + _cjk_class(_PRODUCT_EXCLUDED) + "*"
        else:
            surfaces = matcher.surface_products()
            first_chars = frozenset(surface[0] for surface in surfaces)
            name_chars = _cjk_class(_NAME_EXCLUDED | first_chars)
            for surface, canonical in surfaces.items():
                if (
                    surface[0] not in _OPENING_EXCLUDED
                    and all("\u4e00" <= ch <= "\u9fff" and ch not in _PRODUCT_EXCLUDED for ch in surface)
                    and not any(other != surface and other.startswith(surface) for other in surfaces)
                ):
                    self._products[surface] = canonical  # CJK only: the text as written is its folded form
            names = sorted(self._products, key=len, reverse=True)
            product = "(?:" + "|".join(map(re.escape, names)) + ")" if names else "(?!)"
            unsafe = sorted((surface for surface in surfaces if surface[0] in _FAST_ALPHABET), key=len, reverse=True)
            if unsafe:  # IGNORECASE: the only letters of the fast alphabet are the units kg/KG/Kg/g
                self._unsafe = re.compile("|".join(map(re.escape, unsafe)), re.IGNORECASE)
        name = f"{name_chars}+[0-9]{{0,6}}"
        who = rf"(?:(?:{_FAST_ADDRESS}) )*{name}(?: (?:{_FAST_ADDRESS}))*|(?:{_FAST_ADDRESS})(?: (?:{_FAST_ADDRESS}))*"
        self._regex = re.compile(rf"(?P<who>{who})(?: (?P<p>{product})?(?P<q>[0-9]{{1,3}})(?P<u>{_FAST_UNIT}))?")
        self._defaults: dict[str, tuple[str, bool]] = {}
        # The item of each (product, count, unit, default product) written: a list uses a few, on every line. Values,
        # not readings: the entry reader's cache is the one place a line's reading is kept.
        self._items: dict[tuple[str | None, str, str, str | None], tuple[Item, ...]] = {}

    @staticmethod
    def of(matcher: ProductMatcher | None) -> FastLine | None:
        """The fast reader for a catalogue (built anew: the entry reader keeps it), or None when there is none."""
        if matcher is None or not matcher:  # an empty catalogue reads exactly like none
            return PLAIN_FAST
        # A name with the mask character in it could match inside a masked address: no fast path then.
        if any(MASK in surface for surface in matcher.surface_products()):
            return None
        return FastLine(matcher)

    def read(self, raw: str, default_product: str | None) -> tuple[str, tuple[Item, ...]] | None:
        """(who, items) of a line in a fast shape (its remark is "", it is not cancelled, its key is itself)."""
        if len(raw) > _FAST_MAX_LEN:
            return None
        m = self._regex.fullmatch(raw)
        if m is None or (self._unsafe is not None and self._unsafe.search(raw)):
            return None
        who, product, qty, unit = m.groups()
        if qty is None:
            return who, ()
        key = (product, qty, unit, default_product)
        items = self._items.get(key)
        if items is None:
            items = (self._item(product, qty, unit, default_product),)
            if len(self._items) >= _ITEMS_LIMIT:
                self._items.clear()
            self._items[key] = items
        return who, items

    def _item(self, product: str | None, qty: str, unit_text: str, default_product: str | None) -> Item:
        value = parse_number(qty)
        unit = normalize_unit(unit_text)
        assert value is not None  # [0-9]{1,3}
        assert unit is not None  # a unit spelling
        if product is not None:
            if self._matcher is None:
                return Item(product, False, value, unit)
            return Item(self._products[product], True, value, unit)
        if not default_product:
            return Item("", False, value, unit)
        name, known = self._default(default_product)
        return Item(name, known, value, unit)

    def _default(self, default_product: str) -> tuple[str, bool]:
        hit = self._defaults.get(default_product)
        if hit is None:
            canon = self._matcher.canonical(default_product) if self._matcher else None
            hit = (canon.product, True) if canon is not None else (default_product, self._matcher is None)
            self._defaults[default_product] = hit
        return hit


PLAIN_FAST = FastLine(None)
