"""What must not be read as an item in an entry's text: addresses, phone numbers, URLs, times, cancellations, edit
notes, and later lines that cannot hold an item. `mask` hides them behind `MASK` before the product and count scans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bot.parsing.products import ProductMatcher
from bot.parsing.quantity import UNITS

MASK = "\ue000"  # stands in for text that must not be read as a quantity or a product (addresses, phones, URLs)
NUMERAL = r"(?:[0-9０-９]+|[一二三四五六七八九十两]+)"
ADDRESS_SUFFIX = r"(?:号楼|栋|幢|座|单元|楼|层|室|号|区|期|弄|排|户|门|组|巷)"
ADDRESS_RE = re.compile(
    rf"{NUMERAL}[ \t]*{ADDRESS_SUFFIX}"
    r"|[0-9０-９A-Za-z]*[0-9０-９](?:[\-－—_/#][0-9０-９A-Za-z]+)+"
    r"|https?://\S+|www\.\S+"
    r"|[0-9]{1,2}[:：][0-9]{2}"
    r"|[0-9]{6,}"
)
# `ADDRESS_RE` with its run-scanning alternatives starting only where a run of their characters starts. Tried at
# every position inside a long run (aaaa…, １１１１…, 一一一一…) each of those rescans the rest of the run: quadratic.
# Whether one matches depends only on where its run ends (what follows a digit run, a numeral run, an alphanumeric run
# ending in a digit), so inside a run it fails wherever it failed at the run's start; `address_spans` asks the plain
# pattern only where the scan enters a run mid-way (right after a match). The look-ahead fails at once where no
# alternative can start (most characters of most text): trying its six alternatives one by one there is most of
# what a search for addresses costs in Latin-1 or CJK garbage.
_ADDRESS_SCAN_RE = re.compile(
    r"(?=[0-9０-９一二三四五六七八九十两A-Za-z])(?:"
    rf"(?<![0-9０-９])[0-9０-９]+[ \t]*{ADDRESS_SUFFIX}"
    rf"|(?<![一二三四五六七八九十两])[一二三四五六七八九十两]+[ \t]*{ADDRESS_SUFFIX}"
    r"|(?<![0-9０-９A-Za-z])[0-9０-９A-Za-z]*[0-9０-９](?:[\-－—_/#][0-9０-９A-Za-z]+)+"
    r"|https?://\S+|www\.\S+"
    r"|[0-9]{1,2}[:：][0-9]{2}"
    r"|(?<![0-9])[0-9]{6,}"
    r")"
)


def address_spans(text: str) -> list[tuple[int, int]]:
    """The spans of `ADDRESS_RE.finditer(text)`, in linear time."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = ADDRESS_RE.match(text, pos) if spans else None  # right after a match: the scan enters runs mid-way
        if m is None:
            m = _ADDRESS_SCAN_RE.search(text, pos)
            if m is None:
                return spans
        spans.append(m.span())
        pos = m.end()


CANCEL_RE = re.compile(  # the look-ahead only fails fast where no alternative can start
    r"(?=[取不退撤\-－−])(?:取消|不要了|不需要了|退出|撤销|撤单|退单|(?<![0-9A-Za-z\-－])[-－−]\s?1(?![0-9.]))"
)
_EDIT_LINE_RE = re.compile(r"^.*(?:改成|改为|改一下|修改|不要了|取消).*$", re.MULTILINE)
_EDIT_START_RE = re.compile(r"[改修不取]")  # where an `_EDIT_LINE_RE` keyword can start
# A line that says nothing but a cancellation, `(?:取消|…|[-－−]\s?1)[。.!！~～ ]*` once stripped: group 1 is the
# stripped line (str.strip and \s agree on what is whitespace). One scan finds them all, a line at a time.
_CANCEL_LINES_RE = re.compile(
    r"^[^\S\n]*((?:取消|不要了|不需要了|退出|撤销|撤单|退单|[-－−][^\S\n]?1)(?:[。.!！~～ ]*[。.!！~～])?)[^\S\n]*$",
    re.MULTILINE,
)
CANCEL_START_RE = re.compile(r"[取不退撤\-－−]")  # where a `_CANCEL_LINES_RE` line can start
# A `CANCEL_RE` match reads at most 3 characters past its first one (不需要了; -\n1 and its look-ahead).
_CANCEL_REACH = 3
# What ends a word: a count or a product stands between two of these (`items`, and the line hints below).
DELIMITERS = frozenset(" \t\u3000\n，,、;；+＋/&。！!？?:：()（）【】[]")

WORD_CHARS = "\u4e00-\u9fff\u3400-\u4dbfA-Za-z"  # the characters `items.is_word_char` takes, as a regex class


def mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with every character inside one of `spans` (they may overlap) but a newline replaced by `MASK`."""
    if not spans:
        return text
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        pieces.append(text[pos:start])
        part = text[start:end]
        pieces.append("\n".join(MASK * len(line) for line in part.split("\n")) if "\n" in part else MASK * len(part))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


# ---------------------------------------------------------------------------------------------------------------------
# Lines that cannot hold an item
#
# What the entry parser reads stays inside one line: no address, count or product name spans a newline, and a
# count's look-arounds, its product and a product name's neighbours are all looked for in its own line. So a later
# line (the first holds the label) holds an item only where `Scans.item_hint` finds something: a character a product
# name opens with, or the start of a count that `entry.parse_content` can keep — a numeral then maybe spaces then a unit
# (3盒, 两 袋, 半斤), x/*/+ then maybe a space then a digit (x3, +1), a digit right after a delimiter (草莓, 3); a
# bare count glued to anything else is kept only right after a product name. A line without one is remark text
# only, and is masked before the address, product and count scans: most of pasted garbage is such lines, and those
# scans (with the quantities they find and drop) were most of what it cost. Cancellation and edit lines are still
# looked for in the text as written.

_HINT_NUMERALS = "0123456789０１２３４５６７８９零〇一二两俩三四五六七八九十百千半"  # where a `_QTY_RE` number ends
_HINT_SIGNS = "xX*×＊✕✖+＋"
_HINT_DELIMITERS = DELIMITERS - {"\n"}  # a bare count at the start of a line is never kept (its first token)


def _char_class(chars: Iterable[str]) -> str:
    return "".join(map(re.escape, sorted(set(chars))))


class Scans(NamedTuple):
    """How `entry.parse_content` narrows its scans for one catalogue (or none)."""

    item_hint: re.Pattern[str] | None  # see above; None when every line must be read
    bare: str  # the bare counts `accept` can keep, for `find_quantities`

    @staticmethod
    def build(name_openings: frozenset[str], name_closings: frozenset[str], lines_apart: bool) -> Scans:
        alternatives = [
            rf"(?<=[{_char_class(_HINT_NUMERALS)}])[ \t\u3000]*[{_char_class(unit[0] for unit in UNITS)}]",
            rf"(?<=[{_char_class(_HINT_SIGNS)}])[ \t]?[0-9０-９]",
            rf"(?<=[{_char_class(_HINT_DELIMITERS)}])[0-9０-９]",
        ]
        if name_openings:
            alternatives.append(rf"(?<=[{_char_class(name_openings)}])")
        # One character class first: the regex engine skips to where it matches without trying the alternatives.
        openings = _char_class({*_HINT_NUMERALS, *_HINT_SIGNS, *_HINT_DELIMITERS, *name_openings})
        hint = re.compile(rf"[{openings}](?:{'|'.join(alternatives)})") if lines_apart else None
        # `accept` keeps a bare count of one or two digits, not glued to an ASCII letter or digit before it, right
        # after a delimiter or a product name, and not glued to a word character after it: the others need not be
        # found at all (in garbage they are most of what the quantity scan finds).
        before = _char_class({*_HINT_DELIMITERS, *name_closings, "各"})  # 草莓蓝莓各2
        bare = rf"(?<![0-9０-９.．A-Za-z])(?<=[{before}])[0-9０-９]{{1,2}}(?![0-9０-９{WORD_CHARS}])"
        return Scans(hint, bare)

    @staticmethod
    def of(matcher: ProductMatcher | None) -> Scans:
        """The scans for a catalogue (built anew: the entry reader keeps them, one per catalogue)."""
        if matcher is None or not matcher:
            return PLAIN_SCANS
        # A name holding a newline could span lines, one holding the mask could match inside a masked line.
        apart = not any("\n" in surface or MASK in surface for surface in matcher.surface_products())
        return Scans.build(matcher.opening_chars(), matcher.closing_chars(), apart)


PLAIN_SCANS = Scans.build(frozenset(), frozenset(), True)


def mask_quiet_lines(text: str, start: int, hint: re.Pattern[str]) -> str:
    """`text` with each run of lines from `start` (a line start) on in which `hint` finds nothing replaced by `MASK`,
    but for the newline that ends the run: the lines that are read keep what is on either side of them."""
    pieces: list[str] = []
    n = len(text)
    done, pos = 0, start
    while pos < n:
        m = hint.search(text, pos)
        line_start = n + 1 if m is None else text.rfind("\n", pos, m.start()) + 1  # 0: the hint is on line `pos`
        if line_start > pos:  # lines pos … line_start - 2 are quiet
            pieces += (text[done:pos], MASK * (line_start - 1 - pos))
            done = line_start - 1
        line_end = text.find("\n", m.end()) if m is not None else -1
        if line_end < 0:
            break
        pos = line_end + 1
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def cancel_spans(text: str, first_end: int) -> list[tuple[int, int]]:
    """Cancellation: on the first line (which ends at `first_end`), or a later line that says nothing else."""
    spans = []
    if CANCEL_START_RE.search(text, 0, first_end):  # else no cancel word starts on the first line
        spans = [m.span() for m in CANCEL_RE.finditer(text, 0, first_end + _CANCEL_REACH) if m.start() < first_end]
    if first_end < len(text) and CANCEL_START_RE.search(text, first_end):  # else no later line is a cancellation
        spans += [m.span(1) for m in _CANCEL_LINES_RE.finditer(text, first_end + 1)]
    return spans


# The writer's own edit inside their line: 蓝莓1盒 改成2盒, 苹果5斤 改为10斤, 草莓2→3盒, 牛奶2箱（改1箱）. What follows
# the mark replaces what came before it (`items.apply_edits`).
_EDIT_MARK_RE = re.compile(
    r"(?:改成|改为|改到|改做|换成|更改为|修改为|修改成)[ \t\u3000:：]*"
    r"|修?改(?=[ \t\u3000]*[0-9０-９一二两三四五六七八九十半])"
    r"|[ \t\u3000]*(?:→|->|－>|—>|=>|⟶|➡️?|➔)[ \t\u3000]*"
)


_EDIT_MARK_START_RE = re.compile("[改换>→⟶➡➔]")  # where an `_EDIT_MARK_RE` mark can be


def edit_marks(text: str, first_end: int) -> list[tuple[int, int]]:
    """The spans of the writer's edit marks on the first line (which ends at `first_end`)."""
    if _EDIT_MARK_START_RE.search(text, 0, first_end) is None:
        return []  # the common case, without the full scan
    return [m.span() for m in _EDIT_MARK_RE.finditer(text, 0, first_end)]


def edit_spans(text: str, first_end: int) -> list[tuple[int, int]]:
    """Later lines (after `first_end`) that speak of an edit: "张三改成3份" under someone's line is a chat message
    about another entry, not an order."""
    if first_end < len(text) and _EDIT_START_RE.search(text, first_end):
        return [m.span() for m in _EDIT_LINE_RE.finditer(text, first_end)]
    return []
