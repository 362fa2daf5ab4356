"""The items of one entry: its counts with their products, and the catalogue products it names without a count.

`find_items` reads the text after `masks` hid what cannot be an item; `items_of` turns what it found into `Item`s."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from bot.parsing.masks import DELIMITERS, WORD_CHARS
from bot.parsing.products import Match, ProductMatcher
from bot.parsing.quantity import Quantity, QuantityForm, QuantitySpan


@dataclass(frozen=True, slots=True)
class Item:
    product: str  # canonical catalogue name when known, else the text as written ("" when only a quantity was given)
    known: bool
    qty: Decimal
    unit: str | None


_NEWLINE_RE = re.compile("\n")
_DELIMITER_RE = re.compile("[" + re.escape("".join(sorted(DELIMITERS))) + "]")
_NON_WORD_RE = re.compile(f"[^{WORD_CHARS}]")
_BARE_FOLLOWERS = frozenset("\n，,、;；+＋。！!)）")
_FILLER_PREFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订|来|拿|加|共|一共|再)")


def is_word_char(ch: str) -> bool:
    """A CJK ideograph or an ASCII letter: what `WORD_CHARS` holds."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ("a" <= ch.lower() <= "z" and ch.isascii())


class _Product(NamedTuple):
    start: int
    end: int
    name: str
    known: bool
    unit: str | None


Found = tuple[int, int, _Product | None, QuantitySpan | None]  # (start, end, product, quantity) of an item


def find_items(
    text: str,
    work: str,
    first_end: int,
    mentions: list[Match],
    spans: list[QuantitySpan],
    matcher: ProductMatcher | None,
) -> list[Found]:
    """The items of an entry, left to right: its counts with their products, and its products without a count."""
    n = len(text)
    if mentions:
        in_mention = bytearray(n)
        for mention in mentions:
            in_mention[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)
        spans = [q for q in spans if not any(in_mention[q.start : q.end])]
    mention_ends = {m.end: m for m in mentions}

    # Per position: where its line starts (without slicing per quantity).
    line_starts = [0, *(m.end() for m in _NEWLINE_RE.finditer(text))] if first_end < n else [0]

    def line_start(pos: int) -> int:
        return line_starts[bisect.bisect_right(line_starts, pos) - 1] if len(line_starts) > 1 else 0

    def after_spaces_back(pos: int) -> int:
        while pos > 0 and work[pos - 1] in " \t\u3000":
            pos -= 1
        return pos

    # The counts to keep (written out as a loop rather than a test called per count: it runs for every count found).
    quantities: list[QuantitySpan] = []
    for q in spans:
        before = work[q.start - 1] if q.start > 0 else "\n"
        if before.isascii() and before.isalnum():
            continue  # glued to a Latin word or a longer number: a code, not a count
        if q.form is not QuantityForm.BARE:
            quantities.append(q)
            continue
        if q.end - q.start > 2 or before == "第":
            continue
        # Glued to what comes before (no delimiter, so not a space, not a line start): a count only right after a
        # product. 深蹲50, 引体15: a count glued to an unknown word is not an order. Decided first: most bare numbers
        # in text are glued to something, and it is the cheap test.
        if before not in DELIMITERS and before != "各" and q.start not in mention_ends:
            continue
        back = after_spaces_back(q.start)
        if back == line_start(q.start):
            continue  # the first token of a line is an address or a name, not a count
        if back in mention_ends:  # 蓝莓 3, 蓝莓3
            follow = work[q.end : q.end + 1]
            if not follow or not (is_word_char(follow) or follow.isdigit()):
                quantities.append(q)
            continue
        pos = q.end  # else the count must end its phrase: nothing but spaces, then a delimiter or the end
        while pos < n and work[pos] in " \t\u3000":
            pos += 1
        if pos == n or work[pos] in _BARE_FOLLOWERS:
            quantities.append(q)
    if not quantities and not mentions:
        return []  # the common case in text that is not an order: spare what follows

    mention_starts = {m.start: m for m in mentions}
    # Where the first word of the first line ends.
    delimiter = _DELIMITER_RE.search(work, 0, first_end)
    first_delimiter = delimiter.start() if delimiter else first_end
    used_mentions: set[int] = set()
    claimed_until = 0
    claimed = bytearray(n)
    found: list[Found] = []

    def unknown_or_fuzzy(start: int, end: int, from_end: bool) -> _Product | None:
        """An unknown phrase next to a quantity: a typo of a catalogue name, else the phrase itself."""
        phrase = text[start:end]
        if matcher:
            hit = matcher.fuzzy_in(phrase)
            if hit is not None and (hit.end == len(phrase) if from_end else hit.start == 0):
                return _Product(start + hit.start, start + hit.end, hit.product, True, hit.unit)
        filler = _FILLER_PREFIX_RE.match(phrase)
        if filler and filler.end() < len(phrase):
            start += filler.end()
        elif filler:
            return None
        return _Product(start, end, text[start:end], False, None)

    sorted_mention_starts = sorted(mention_starts)
    non_word = [n + 1, n]  # [from, first non-word position at or after it]: none in between

    def glued_after(q: QuantitySpan) -> _Product | None:
        # The first position from q.end on that is not a word character or starts a mention. Quantities come left to
        # right, so one search answers all those inside the same run of word characters: walking it for each of many
        # quantities in a long run would add up to quadratic time.
        if not non_word[0] <= q.end <= non_word[1]:
            found = _NON_WORD_RE.search(work, q.end)
            non_word[:] = [q.end, found.start() if found else n]
        end = non_word[1]
        k = bisect.bisect_left(sorted_mention_starts, q.end)
        if k < len(sorted_mention_starts):
            end = min(end, sorted_mention_starts[k])
        return unknown_or_fuzzy(q.end, end, from_end=False) if end > q.end else None

    for q in quantities:
        product: _Product | None = None
        counted = q.form is QuantityForm.UNIT  # a number with a unit
        lo = max(claimed_until, line_start(q.start))
        back = after_spaces_back(q.start)
        each = _each_before(work, back, lo) if mentions and back > lo and work[back - 1] in _EACH_ENDS else -1
        if each >= 0:
            shared = _shared_by(work, each, lo, mention_ends, used_mentions)
            if shared:  # 苹果、梨各2斤: one count for each product named before 各
                start = shared[0].start
                for m in shared:
                    used_mentions.add(m.start)
                    found.append((start, q.end, _Product(m.start, m.end, m.product, True, m.unit), q))
                claimed_until = q.end
                claimed[start : q.end] = b"\x01" * (q.end - start)
                continue
        if mentions:
            # 1. a known product just before (spaces allowed): 草莓2盒, 蓝莓 3 盒
            m_before = mention_ends.get(back)
            if m_before is None and back > lo and work[back - 1] in _WANTS:  # 草莓要2盒, 香梨来3斤
                m_before = mention_ends.get(after_spaces_back(back - 1))
            if m_before is not None and m_before.start >= lo and m_before.start not in used_mentions:
                used_mentions.add(m_before.start)
                product = _Product(m_before.start, m_before.end, m_before.product, True, m_before.unit)
            # 2. a known product right after a counted unit: 3盒蓝莓, 两袋面粉
            m_after = mention_starts.get(q.end)
            if product is None and counted and m_after is not None and q.end not in used_mentions:
                used_mentions.add(q.end)
                product = _Product(m_after.start, m_after.end, m_after.product, True, m_after.unit)
        # 3. an unknown phrase glued after a Chinese-numeral count: 五斤西瓜, 半个西瓜, 要两袋面粉
        if product is None and counted and not work[q.start].isdigit():
            product = glued_after(q)
        # 4. an unknown phrase glued before: 西瓜果切两盒 (not the first word of the line: 钟予馨2箱 is a name)
        if product is None:
            start = q.start
            while start > lo and is_word_char(work[start - 1]):
                start -= 1
            if start < q.start:
                if start <= first_delimiter:
                    if matcher:
                        hit = matcher.fuzzy_in(text[start : q.start])
                        if hit is not None and hit.end == q.start - start:
                            product = _Product(start + hit.start, start + hit.end, hit.product, True, hit.unit)
                else:
                    product = unknown_or_fuzzy(start, q.start, from_end=True)
        # 5. an unknown phrase glued after any counted unit: 3盒蓝莓
        if product is None and counted:
            product = glued_after(q)
        start = min(q.start, product.start) if product else q.start
        end = max(q.end, product.end) if product else q.end
        claimed_until = max(claimed_until, end)
        if mentions:  # only asked about the start of a mention, below
            claimed[start:end] = b"\x01" * (end - start)
        found.append((start, end, product, q))

    # Known products without a count: one of each, when they stand as a word or end one (王阿姨草莓).
    for mention in mentions:
        if mention.start in used_mentions or claimed[mention.start]:
            continue
        nxt = work[mention.end] if mention.end < n else " "
        prv = work[mention.start - 1] if mention.start > 0 else " "
        if is_word_char(nxt) or nxt.isdigit():
            continue
        if is_word_char(prv) and mention.end - mention.start < 2:
            continue
        known = _Product(mention.start, mention.end, mention.product, True, mention.unit)
        found.append((mention.start, mention.end, known, None))
    found.sort(key=itemgetter(0))
    return found


# What says "each" between the products and their one count: 各2斤, 各来2斤, 都要2盒, 每样1盒, 每种各1盒.
_EACH_RE = re.compile(r"(?:各|都|每样|每种各?)(?:来|要|买|拿|订|是)?[ \t\u3000]*$")
_EACH_ENDS = frozenset("各都样种来要买拿订是")


def _each_before(work: str, pos: int, lo: int) -> int:
    """Where the "each" word that ends at `pos` (spaces allowed) starts, or -1 (asked where `_EACH_ENDS` holds the
    character before `pos`)."""
    m = _EACH_RE.search(work, max(lo, pos - 6), pos)
    return m.start() if m else -1


_WANTS = frozenset("要来买拿订")
_SHARED_JOINS = frozenset(" \t\u3000、,，/+＋&和跟与及还有")


def _shared_by(work: str, each: int, lo: int, mention_ends: dict[int, Match], used: set[int]) -> list[Match]:
    """The products named before the 各 at `each` (草莓、蓝莓各, 牛奶跟酸奶各, 草莓/蓝莓 各), left to right."""
    shared: list[Match] = []
    pos = each
    while pos > lo:
        while pos > lo and work[pos - 1] in " \t\u3000":
            pos -= 1
        mention = mention_ends.get(pos)
        if mention is None or mention.start < lo or mention.start in used:
            break
        shared.append(mention)
        pos = mention.start
        while pos > lo and work[pos - 1] in _SHARED_JOINS:
            pos -= 1
    return shared[::-1]


def apply_edits(found: list[Found], marks: list[tuple[int, int]]) -> list[Found]:
    """The items once the writer's edits are applied: what follows an edit mark replaces what came before it. A
    count without a product takes the product (and unit, when it has none) of the item right before the mark
    (蓝莓1盒 改成2盒, 草莓2→3盒); a product named after the mark replaces its earlier count, or when it was not named
    before, the item right before the mark (草莓1盒 改成车厘子1盒)."""
    items = list(found)
    for k, (mark_start, mark_end) in enumerate(marks):
        stop = marks[k + 1][0] if k + 1 < len(marks) else None
        before = [f for f in items if f[1] <= mark_start]
        after = [f for f in items if f[0] >= mark_end and (stop is None or f[0] < stop)]
        if not before or not after:
            continue
        last = before[-1]
        edited: list[Found] = []
        for start, end, product, quantity in after:
            if product is None and quantity is not None:
                product = last[2]
                if quantity.quantity.unit is None and last[3] is not None and last[3].quantity.unit is not None:
                    unit = last[3].quantity.unit
                    quantity = quantity._replace(quantity=Quantity(quantity.quantity.value, unit))
            edited.append((start, end, product, quantity))
        names = {f[2].name for f in edited if f[2] is not None}
        replaced = [f for f in before if f[2] is not None and f[2].name in names] or [last]
        items = [f for f in items if f not in replaced and f not in after] + edited
        items.sort(key=itemgetter(0))
    return items


def items_of(found: list[Found], matcher: ProductMatcher | None, default_product: str | None) -> tuple[Item, ...]:
    """The items `find_items` found; a count without a product is of the default product, when there is one."""
    default: _Product | None = None
    if default_product:
        canon = matcher.canonical(default_product) if matcher else None
        if canon is not None:
            default = _Product(0, 0, canon.product, True, canon.unit)
        else:
            default = _Product(0, 0, default_product, matcher is None or not matcher, None)

    items: list[Item] = []
    for _start, _end, product, quantity in found:
        if product is None:
            product = default
        qty = quantity.quantity.value if quantity else Decimal(1)
        unit = quantity.quantity.unit if quantity else None
        if product is None:
            items.append(Item("", False, qty, unit))
        else:
            items.append(Item(product.name, product.known, qty, unit or (product.unit if product.known else None)))
    return tuple(items)
