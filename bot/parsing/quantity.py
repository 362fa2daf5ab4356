"""Quantity text (Arabic, full-width or Chinese numerals, x3 / *2 / +1, units) → exact number + unit."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "BARE_COUNT",
    "UNITS",
    "Quantity",
    "QuantityForm",
    "QuantitySpan",
    "find_quantities",
    "normalize_unit",
    "parse_number",
    "parse_quantity",
]

# Units as people write them; the longest spellings first so that 公斤 wins over 斤 and kg over g.
UNITS: tuple[str, ...] = (
    "公斤",
    "千克",
    "kg",
    "KG",
    "Kg",
    "克",
    "g",
    "份",
    "盒",
    "斤",
    "箱",
    "个",
    "袋",
    "瓶",
    "包",
    "件",
    "只",
    "桶",
    "提",
    "串",
    "块",
    "把",
    "根",
)
_UNIT_ALIASES = {"公斤": "kg", "千克": "kg", "KG": "kg", "Kg": "kg", "克": "g"}

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_POWERS = {"十": 10, "百": 100, "千": 1000}
_HALF = Decimal("0.5")
_MAX_ARABIC_DIGITS = 5  # a longer digit run before a unit is a phone number or an id, not an order

_NUM = r"(?:[0-9０-９]+(?:[.．][0-9０-９]+)?|(?:[零〇一二两俩三四五六七八九十百]|千(?!克))+)"
# A unit must not be the start of a longer word that means something else (个小时, 块钱, 包邮, 件套, 提前…).
_UNIT = (
    r"(?:公斤|千克|(?:kg|KG|Kg)(?![A-Za-z])|克(?!力)|g(?![A-Za-z])|份|盒|斤|箱"
    r"|个(?!小时|多小时|钟头|月|星期|礼拜|人|半小时)|袋|瓶|包(?!邮)|件(?!套|事)|只(?!要|有|是|能)"
    r"|桶|提(?!前|醒|供|交|示)|串|块(?!钱)|把|根)"
)
_SP = r"[ \t\u3000]*"
# A bare integer; whether it is a quantity depends on where it stands (the caller decides).
BARE_COUNT = r"(?<![0-9０-９.．])[0-9０-９]+"
_QTY_FORMS = (
    # Fail fast where no quantity can start (most of a line): the alternatives below are costly to try one by one.
    r"(?=[0-9０-９零〇一二两俩三四五六七八九十百千半xX*×＊✕✖+＋])(?:"
    # The sign (or 半) of the next three forms is matched before the look-behind about the character in front of it,
    # `c(?<!Xc)` rather than `(?<!X)c`: the same test, but most candidates fail on the cheap one.
    # x3, X3, *2, ×1, ＊2, optionally with a unit: "草莓x2盒"
    rf"(?P<M>[xX*×＊✕✖](?<![A-Za-z][xX])[ \t]?(?P<mnum>[0-9０-９]{{1,{_MAX_ARABIC_DIGITS}}}(?![0-9０-９]))"
    rf"(?:{_SP}(?P<munit>{_UNIT})|(?![\u4e00-\u9fff])))"
    # +1, ＋2
    r"|(?P<P>[+＋](?<![0-9A-Za-z][+＋])[ \t]?(?P<pnum>[0-9０-９]{1,3}(?![0-9０-９.．:：\-]))"
    rf"(?:{_SP}(?P<punit>{_UNIT})|(?![\u4e00-\u9fff])))"
    # 半斤, 半个
    rf"|(?P<H>半(?<![零〇一二两俩三四五六七八九十百千0-9０-９]半)(?P<hunit>{_UNIT}))"
    # 3盒, 两袋, 一斤半, 1.5 kg
    rf"|(?P<U>(?<![0-9０-９.．零〇一二两俩三四五六七八九十百千])(?P<num>{_NUM}){_SP}(?P<unit>{_UNIT})(?P<half>半)?)"
    r"|(?P<B>"  # the bare count pattern goes here (`_qty_re`)
)


def _qty_re(bare: str) -> re.Pattern[str]:
    return re.compile(f"{_QTY_FORMS}{bare}))")


_QTY_RE = _qty_re(BARE_COUNT)
_narrowed_qty_re = functools.lru_cache(maxsize=32)(_qty_re)  # callers pass a few narrower bare patterns, over and over
_MEMO_LIMIT = 10_000
_ARABIC_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SMALL_INTS = {str(i): Decimal(i) for i in range(1000)}
_WHOLE_BARE_RE = re.compile(r"[+＋]?[ \t]*([0-9０-９]+(?:[.．][0-9０-９]+)?|[零〇一二两俩三四五六七八九十百千]+)")


class QuantityForm(StrEnum):
    UNIT = "unit"  # a number with a unit: 3盒, 一斤半, 半个
    MULTIPLY = "multiply"  # x3, *2, ×1
    PLUS = "plus"  # +1
    BARE = "bare"  # a bare integer, a quantity only in the right place


@dataclass(frozen=True, slots=True)
class Quantity:
    value: Decimal
    unit: str | None = None


class QuantitySpan(NamedTuple):
    """A quantity found inside a longer text, with the [start, end) it covers (a tuple: made per match, cheaply)."""

    start: int
    end: int
    quantity: Quantity
    form: QuantityForm


def normalize_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    return _UNIT_ALIASES.get(unit, unit)


def _chinese_to_int(text: str) -> int | None:
    """十二 → 12, 二十 → 20, 一百零五 → 105, 两 → 2; None when it is not a well-formed numeral."""
    if len(text) > 12 or any(ch not in _CN_DIGITS and ch not in _CN_POWERS for ch in text):
        return None
    if all(ch in _CN_DIGITS for ch in text):
        if len(text) == 1:
            return _CN_DIGITS[text]
        return None  # "一二" is not a number people write for a quantity
    total = 0
    current: int | None = None
    last_power = 10_000
    for ch in text:
        if ch in _CN_DIGITS:
            if current is not None and current != 0:
                return None
            current = _CN_DIGITS[ch]
        else:
            power = _CN_POWERS[ch]
            if power >= last_power:
                return None
            total += (1 if current is None else current) * power
            current = None
            last_power = power
    if current is not None:
        total += current
    return total


def parse_number(text: str) -> Decimal | None:
    """Arabic (also full-width) or Chinese numeral → Decimal; 半 alone is 0.5."""
    text = text.strip()
    if not text:
        return None
    if text == "半":
        return _HALF
    half = Decimal(0)
    if len(text) > 1 and text.endswith("半"):
        text, half = text[:-1], _HALF
    ascii_text = text.translate(_FULLWIDTH_DIGITS)
    small = _SMALL_INTS.get(ascii_text)
    if small is not None:
        return small + half if half else small
    if ascii_text[0].isascii() and ascii_text[0].isdigit():
        if not _ARABIC_RE.fullmatch(ascii_text):
            return None
        try:
            return Decimal(ascii_text) + half
        except InvalidOperation:  # pragma: no cover - the pattern above only lets valid literals through
            return None
    value = _chinese_to_int(text)
    return None if value is None else Decimal(value) + half


def _span_quantity(m: re.Match[str]) -> tuple[Quantity, QuantityForm] | None:
    kind = m.lastgroup
    unit: str | None
    if kind == "B":
        value, unit, form = parse_number(m.group("B")), None, QuantityForm.BARE
    elif kind == "U":
        num = m.group("num")
        if num[0].isdigit() and len(num.replace("．", ".").split(".")[0]) > _MAX_ARABIC_DIGITS:
            return None
        value = parse_number(num)
        if value is not None and m.group("half"):
            value += _HALF
        unit, form = m.group("unit"), QuantityForm.UNIT
    elif kind == "M":
        value, unit, form = parse_number(m.group("mnum")), m.group("munit"), QuantityForm.MULTIPLY
    elif kind == "P":
        value, unit, form = parse_number(m.group("pnum")), m.group("punit"), QuantityForm.PLUS
    else:
        value, unit, form = _HALF, m.group("hunit"), QuantityForm.UNIT
    if value is None:
        return None
    return Quantity(value, _UNIT_ALIASES.get(unit, unit) if unit else None), form


# The same few spellings ("2盒", "x2", "一斤半") recur on every line: remember what they mean. Pure memoization.
_SPAN_MEMO: dict[tuple[str | None, str], tuple[Quantity, QuantityForm] | None] = {}


def find_quantities(text: str, *, bare: str = BARE_COUNT) -> list[QuantitySpan]:
    """Every quantity-looking span in `text`, left to right, not overlapping.

    Ordinals (第3天) are skipped; BARE spans are only candidates: the item parser keeps them when they stand where a
    quantity stands (after a product, at the end of a line), never inside an address or a phone number. A caller
    that knows where it would drop them passes `bare`, a narrower pattern than `BARE_COUNT` (where it matches,
    `BARE_COUNT` matches the same digits): the spans are then the same but for the BARE ones it leaves out, which
    then cost nothing. Nothing else is found differently, as no other form can start inside a run of digits.
    """
    spans: list[QuantitySpan] = []
    memo = _SPAN_MEMO
    for m in (_QTY_RE if bare == BARE_COUNT else _narrowed_qty_re(bare)).finditer(text):
        start = m.start()
        if start > 0 and text[start - 1] == "第":
            continue
        memo_key = (m.lastgroup, m.group())
        if memo_key in memo:
            parsed = memo[memo_key]
        else:
            parsed = _span_quantity(m)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[memo_key] = parsed
        if parsed is None:
            continue
        quantity, form = parsed
        spans.append(QuantitySpan(start, m.end(), quantity, form))
    return spans


def parse_quantity(text: str) -> Quantity | None:
    """A text that is only a quantity (`3盒`, `一斤半`, `x3`, `+1`, `２`, `半个`) → Quantity; anything else → None."""
    stripped = text.strip(" \t\u3000")
    if not stripped or len(stripped) > 40:
        return None
    for m in _QTY_RE.finditer(stripped):
        if m.start() == 0 and m.end() == len(stripped):
            parsed = _span_quantity(m)
            return parsed[0] if parsed else None
        break
    whole = _WHOLE_BARE_RE.fullmatch(stripped)
    if whole:
        value = parse_number(whole.group(1))
        return None if value is None else Quantity(value, None)
    return None
