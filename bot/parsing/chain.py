"""接龙 text → header, examples, numbered entries (who, items, remark, cancelled, content key) and tail."""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple, cast

from bot.parsing.products import Match, ProductMatcher, fold
from bot.parsing.quantity import UNITS, QuantityForm, QuantitySpan, find_quantities, normalize_unit, parse_number

__all__ = ["ChainEntry", "Item", "ParsedChain", "is_chain", "normalize_key", "parse_chain"]


@dataclass(frozen=True, slots=True)
class Item:
    product: str  # canonical catalogue name when known, else the text as written ("" when only a quantity was given)
    known: bool
    qty: Decimal
    unit: str | None


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int | None  # the number as written; numbers are re-assigned by copies, so never an identity
    raw: str  # content after "N. ", continuation lines joined with "\n"
    who: str  # participant label as written: name and/or address ("3栋 王阿姨", "295-909")
    items: tuple[Item, ...]
    remark: str
    cancelled: bool
    key: str  # normalized raw: identifies the line by content across copies


@dataclass(frozen=True, slots=True)
class ParsedChain:
    header: str
    examples: tuple[str, ...]
    entries: tuple[ChainEntry, ...]
    tail: str
    sender_prefix: str | None


# ---------------------------------------------------------------------------------------------------------------------
# Lines and numbering

_SP = " \t\u3000"
_SEPARATORS = ".．、,，:：;；)）-_#~～。"
_ENTRY_RE = re.compile(
    r"[ \t\u3000]*(?P<num>[0-9０-９]{1,5}(?![0-9０-９])|[①-⑳])"
    r"(?:[ \t\u3000]*(?P<sep>[.．、,，:：;；)）\-_#~～。]|\ufe0f?\u20e3))?"
    r"(?P<rest>.*)",
    re.DOTALL,
)
# Separators after which a digit means a decimal, a date or a time (8.7, 5.24, 7:20), unless the digits are long.
_DECIMALISH = frozenset(".．,，。")
_RANGEISH = frozenset(":：-_~～")
_INLINE_MARKER_RE = re.compile(r"(?<!\S)(?P<num>[0-9０-９]{1,3})[ \t]*[.．、)）](?=\s|$)")
_SENDER_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{4,63}(?:@chatroom)?:[ \t]*")
_EXAMPLE_RE = re.compile(r"(?:例如|格式如|例|如|格式)(?:[ \t\u3000:：,，.．、\-—]|$)")
_SURE_LINE_RE = re.compile(r"^[ \t\u3000]*[0-9０-９]{1,3}[ \t\u3000]*[.．、,，:：;；)）。](?![0-9０-９])", re.MULTILINE)
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# The plainest entry line, "12. …" (a space after the dot): `_numbered` gives (12, the rest stripped), whatever number
# it expects when the number has up to three digits, and only when it is the expected one beyond.
_PLAIN_ENTRY_RE = re.compile(r"([0-9]{1,5})\.[ \t\u3000]+(.*)")
# What `parse_chain` asks of every line, in one match: `_PLAIN_ENTRY_RE`'s two groups for such a line, else those of
# `_ENTRY_RE` (num, sep, rest), else None (no other line can open an entry). Most lines of a long message that is not
# a list (or the continuation lines of one) then cost no Python work, and no line is matched twice.
_LINE_RE = re.compile(rf"{_PLAIN_ENTRY_RE.pattern}|{_ENTRY_RE.pattern}", re.DOTALL)
# An `_INLINE_MARKER_RE` marker numbered 1, anywhere in a text: without one no line holds a one-line list.
_INLINE_FIRST_RE = re.compile(r"(?<!\S)[0０]{0,2}[1１][ \t]*[.．、)）](?=\s|$)")
_MAX_INLINE_STARTS = 8
# A character nobody types: a C0 or C1 control that is not whitespace (NUL, BEL, ESC, DEL, …). A line holding one is
# binary garbage (a file pasted as text, a bridge that mangled a message), not text under someone's entry.
_BINARY_RE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


_Numbered = tuple[int, int, str]  # (line index, number, content): a plain tuple, made for every list line


def _to_int(num: str) -> int:
    if "①" <= num <= "⑳":
        return ord(num) - ord("①") + 1
    return int(num.translate(_DIGITS))


def _numbered(line: str, expected: int) -> tuple[int, str] | None:
    """(number, content) when `line` opens an entry; `expected` settles the ambiguous shapes (1.295-909 vs 8.7)."""
    m = _ENTRY_RE.match(line)
    if m is None:
        return None
    raw_num, sep, rest = m.group("num", "sep", "rest")
    return _numbered_parts(raw_num, sep, rest, expected)


def _numbered_parts(raw_num: str, sep: str | None, rest: str, expected: int) -> tuple[int, str] | None:
    """`_numbered` of a line from the groups of its `_ENTRY_RE` match."""
    num = int(raw_num) if raw_num.isascii() else _to_int(raw_num)  # the common case without a call
    if len(raw_num) > 3 and num != expected:
        return None  # 2023.6.1; a list past 999 entries only continues one by one
    content = rest.strip(_SP)
    if sep is None and not ("①" <= raw_num <= "⑳"):
        if content:
            return None  # "512 白色": a number then text, no separator → not an entry
        return (num, "") if num == expected else None  # a bare number line
    if rest[:1].isdigit():
        if sep is None or sep in _RANGEISH:
            return None  # 7:20, 5-1201, 3~5
        if sep not in _DECIMALISH:
            return num, content  # 3、3栋王姐
        digit_run = len(rest) - len(rest.lstrip("0123456789０１２３４５６７８９"))
        if digit_run <= 2 or num != expected:
            return None  # 8.7, 5.24早上, 7.50-9.20
    return num, content


def _inline_run(line: str) -> list[tuple[int, int, int]]:
    """Markers (num, start, end) of the longest 1, 2, 3… run inside one line (newlines lost by a bridge)."""
    markers = [(_to_int(m.group("num")), m.start(), m.end()) for m in _INLINE_MARKER_RE.finditer(line)]
    best: list[tuple[int, int, int]] = []
    starts = [k for k, mk in enumerate(markers) if mk[0] == 1][:_MAX_INLINE_STARTS]
    for k in starts:
        run = [markers[k]]
        for mk in markers[k + 1 :]:
            if mk[0] == run[-1][0] + 1:
                run.append(mk)
        if len(run) > len(best):
            best = run
    return best if len(best) >= 2 else []


def _blank(line: str) -> bool:
    return not line.strip()


def _join_block(lines: Sequence[str]) -> str:
    return "\n".join(map(str.strip, lines)).strip()


def _before_binary(continuation: list[str]) -> list[str]:
    """An entry's continuation lines up to the first binary one. The garbage ends the entry, and the lines after it
    up to the next entry are not read as orders either: nothing tells where the damage stops, and a leader checks a
    mangled message by eye rather than trust orders read out of it. (So pasted binary also costs little to parse.)"""
    joined = "\n".join(continuation)  # one scan, not one per line
    binary = _BINARY_RE.search(joined)
    return continuation if binary is None else continuation[: joined.count("\n", 0, binary.start())]


def _header_and_examples(lines: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    header: list[str] = []
    examples: list[str] = []
    block: list[str] | None = None
    for line in lines:
        stripped = line.strip()
        if block is not None:
            if stripped:
                block.append(stripped)
                continue
            examples.append("\n".join(block))
            block = None
        if stripped and _EXAMPLE_RE.match(stripped):
            block = [stripped]
            continue
        if stripped or (header and header[-1]):
            header.append(stripped)
    if block is not None:
        examples.append("\n".join(block))
    return "\n".join(header).strip(), tuple(examples)


# ---------------------------------------------------------------------------------------------------------------------
# Content keys


_INVISIBLE_RE = re.compile("[\u0335\u0336\u0337\u0338\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f]")
_TRAILING_PUNCT = " .,;:!?~。、…·-—_"
_STRIKE_RE = re.compile("[\u0335-\u0338]")


def normalize_key(raw: str) -> str:
    """The content identity of an entry: NFKC (full-width → half-width), no invisible or strike-through marks,
    whitespace folded to one space, trailing punctuation dropped."""
    if not unicodedata.is_normalized("NFKC", raw):
        # NFKC is NFC of NFKD, and so computed. CPython's NFKC composes character by character, slowly for CJK; NFC
        # returns its input at once when nothing in it can compose (its quick check), as in most text after NFKD.
        raw = unicodedata.normalize("NFC", unicodedata.normalize("NFKD", raw))
    text = " ".join(_INVISIBLE_RE.sub("", raw).split())  # str.split() splits at runs of \s (str.isspace())
    if text.startswith("~~") and text.endswith("~~") and len(text) > 4:
        text = text[2:-2].strip()
    return text.rstrip(_TRAILING_PUNCT)


def _unstrike(raw: str) -> tuple[str, bool]:
    """Remove strike-through marks (combining U+0336 etc., ~~…~~); True when the entry looked struck out."""
    struck = False
    text, marks = _STRIKE_RE.subn("", raw)
    if marks:
        visible = len("".join(text.split()))  # neither str.isspace() nor a strike mark
        struck = marks * 2 >= visible
    stripped = text.strip()
    if len(stripped) > 4 and stripped.startswith("~~") and stripped.endswith("~~"):
        struck = True
        text = stripped[2:-2]
    return text, struck


# ---------------------------------------------------------------------------------------------------------------------
# Entry content: who, items, remark, cancelled

_MASK = "\ue000"  # stands in for text that must not be read as a quantity or a product (addresses, phones, URLs)
_NUMERAL = r"(?:[0-9０-９]+|[一二三四五六七八九十两]+)"
_ADDRESS_SUFFIX = r"(?:号楼|栋|幢|座|单元|楼|层|室|号|区|期|弄|排|户|门|组|巷)"
_ADDRESS_RE = re.compile(
    rf"{_NUMERAL}[ \t]*{_ADDRESS_SUFFIX}"
    r"|[0-9０-９A-Za-z]*[0-9０-９](?:[\-－—_/#][0-9０-９A-Za-z]+)+"
    r"|https?://\S+|www\.\S+"
    r"|[0-9]{1,2}[:：][0-9]{2}"
    r"|[0-9]{6,}"
)
# `_ADDRESS_RE` with its run-scanning alternatives starting only where a run of their characters starts. Tried at
# every position inside a long run (aaaa…, １１１１…, 一一一一…) each of those rescans the rest of the run: quadratic.
# Whether one matches depends only on where its run ends (what follows a digit run, a numeral run, an alphanumeric run
# ending in a digit), so inside a run it fails wherever it failed at the run's start; `_address_spans` asks the plain
# pattern only where the scan enters a run mid-way (right after a match). The look-ahead fails at once where no
# alternative can start (most characters of most text): trying its six alternatives one by one there is most of
# what a search for addresses costs in Latin-1 or CJK garbage.
_ADDRESS_SCAN_RE = re.compile(
    r"(?=[0-9０-９一二三四五六七八九十两A-Za-z])(?:"
    rf"(?<![0-9０-９])[0-9０-９]+[ \t]*{_ADDRESS_SUFFIX}"
    rf"|(?<![一二三四五六七八九十两])[一二三四五六七八九十两]+[ \t]*{_ADDRESS_SUFFIX}"
    r"|(?<![0-9０-９A-Za-z])[0-9０-９A-Za-z]*[0-9０-９](?:[\-－—_/#][0-9０-９A-Za-z]+)+"
    r"|https?://\S+|www\.\S+"
    r"|[0-9]{1,2}[:：][0-9]{2}"
    r"|(?<![0-9])[0-9]{6,}"
    r")"
)


def _address_spans(text: str) -> list[tuple[int, int]]:
    """The spans of `_ADDRESS_RE.finditer(text)`, in linear time."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _ADDRESS_RE.match(text, pos) if spans else None  # right after a match: the scan enters runs mid-way
        if m is None:
            m = _ADDRESS_SCAN_RE.search(text, pos)
            if m is None:
                return spans
        spans.append(m.span())
        pos = m.end()


_CANCEL_RE = re.compile(  # the look-ahead only fails fast where no alternative can start
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
_CANCEL_START_RE = re.compile(r"[取不退撤\-－−]")  # where a `_CANCEL_LINES_RE` line can start
# A `_CANCEL_RE` match reads at most 3 characters past its first one (不需要了; -\n1 and its look-ahead).
_CANCEL_REACH = 3
_ADDRESS_TOKEN_RE = re.compile(
    r"[0-9０-９]{3,}"  # a room number or a phone number
    r"|[A-Za-z]?[0-9０-９]+[A-Za-z]?(?:[\-－—_/#][A-Za-z]?[0-9０-９]+[A-Za-z]?)+"  # 295-909, 5-1201, A3-101
    rf"|(?:{_NUMERAL}[ \t]*{_ADDRESS_SUFFIX}[，,、]?)+[0-9０-９]*"  # 6号楼2单元, 1号，101室
)
_FILLER_PREFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订|来|拿|加|共|一共|再)")
_FILLERS = frozenset(("我也要", "我要", "还要", "再要", "再来", "要", "买", "订", "来", "拿", "加", "共", "一共", "再"))
_FILLER_SUFFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订)$")
_FILLER_ENDINGS = ("要", "买", "订", "来")  # what a `_FILLER_SUFFIX_RE` match ends with
_DELIMITERS = frozenset(" \t\u3000\n，,、;；+＋/&。！!？?:：()（）【】[]")
_DELIMITER_RE = re.compile("[" + re.escape("".join(sorted(_DELIMITERS))) + "]")
_NUMERALISH_RE = re.compile("[0-9０-９零〇一二两俩三四五六七八九十百千半]")
_TOKEN_RE = re.compile(r"\S+")
_SPACE_IN_RE = re.compile(r"\s")
_BARE_FOLLOWERS = frozenset("\n，,、;；+＋。！!)）")
_WHO_STRIP = " \t\u3000，,、:：;；+＋-—"
_REMARK_STRIP = " \t\u3000，,、:：;；+＋/"
_SPACE_RUN_RE = re.compile("[ \t\u3000]{2,}")
_CACHE_LIMIT = 50_000


_WORD_CHARS = "\u4e00-\u9fff\u3400-\u4dbfA-Za-z"  # the characters `_is_word_char` takes, as a regex class
_NON_WORD_RE = re.compile(f"[^{_WORD_CHARS}]")


def _is_word_char(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ("a" <= ch.lower() <= "z" and ch.isascii())


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _is_emoji_token(token: str) -> bool:
    return all(not ch.isalnum() and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") for ch in token)


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with every character inside one of `spans` (they may overlap) but a newline replaced by `_MASK`."""
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
        pieces.append("\n".join(_MASK * len(line) for line in part.split("\n")) if "\n" in part else _MASK * len(part))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


class _Product(NamedTuple):
    start: int
    end: int
    name: str
    known: bool
    unit: str | None


class _Parsed(NamedTuple):
    who: str
    items: tuple[Item, ...]
    remark: str
    cancelled: bool
    key: str


def _who_walk(line: str) -> int:
    """End of the participant label in a line without items: addresses, one name, more addresses, `|` joins, emoji."""
    label = line.rstrip()
    if not _SPACE_IN_RE.search(label, len(label) - len(label.lstrip())):
        return len(label)  # one token (or none): the label, whatever it is
    end = 0
    seen_name = False
    join_next = False
    for m in _TOKEN_RE.finditer(line):
        token = m.group(0)
        if _ADDRESS_TOKEN_RE.fullmatch(token.rstrip("，,、")):
            end = m.end()
            continue
        if token in ("|", "｜", "/"):
            join_next = True
            end = m.end()
            continue
        if not seen_name or join_next or (seen_name and _is_emoji_token(token)):
            seen_name = True
            join_next = token.endswith(("|", "｜"))
            end = m.end()
            continue
        break
    return end


def _one_space(m: re.Match[str]) -> str:
    return m.group(0) if "\u3000" not in m.group(0) else " "


def _clean_who(text: str) -> str:
    who = _CANCEL_RE.sub(" ", text) if _CANCEL_START_RE.search(text) else text
    if "\u3000" in who:  # a run of spaces changes only when it holds an ideographic space
        who = _SPACE_RUN_RE.sub(_one_space, who)
    who = who.strip(_WHO_STRIP)
    filler = _FILLER_SUFFIX_RE.search(who) if who.endswith(_FILLER_ENDINGS) else None
    if filler and filler.start() > 0:
        who = who[: filler.start()].rstrip(_WHO_STRIP)
    return who


# ---------------------------------------------------------------------------------------------------------------------
# Lines that cannot hold an item
#
# What the entry parser reads stays inside one line: no address, count or product name spans a newline, and a
# count's look-arounds, its product and a product name's neighbours are all looked for in its own line. So a later
# line (the first holds the label) holds an item only where `_Scans.item_hint` finds something: a character a product
# name opens with, or the start of a count that `_parse_content` can keep — a numeral then maybe spaces then a unit
# (3盒, 两 袋, 半斤), x/*/+ then maybe a space then a digit (x3, +1), a digit right after a delimiter (草莓, 3); a
# bare count glued to anything else is kept only right after a product name. A line without one is remark text
# only, and is masked before the address, product and count scans: most of pasted garbage is such lines, and those
# scans (with the quantities they find and drop) were most of what it cost. Cancellation and edit lines are still
# looked for in the text as written.

_NEWLINE_RE = re.compile("\n")
_HINT_NUMERALS = "0123456789０１２３４５６７８９零〇一二两俩三四五六七八九十百千半"  # where a `_QTY_RE` number ends
_HINT_SIGNS = "xX*×＊✕✖+＋"
_HINT_DELIMITERS = _DELIMITERS - {"\n"}  # a bare count at the start of a line is never kept (its first token)
_SCANS_KEY = ("chain-scans",)


def _char_class(chars: Iterable[str]) -> str:
    return "".join(map(re.escape, sorted(set(chars))))


class _Scans(NamedTuple):
    """How `_parse_content` narrows its scans for one catalogue (or none)."""

    item_hint: re.Pattern[str] | None  # see above; None when every line must be read
    bare: str  # the bare counts `accept` can keep, for `find_quantities`

    @staticmethod
    def build(name_openings: frozenset[str], name_closings: frozenset[str], lines_apart: bool) -> _Scans:
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
        before = _char_class({*_HINT_DELIMITERS, *name_closings})
        bare = rf"(?<![0-9０-９.．A-Za-z])(?<=[{before}])[0-9０-９]{{1,2}}(?![0-9０-９{_WORD_CHARS}])"
        return _Scans(hint, bare)

    @staticmethod
    def for_matcher(matcher: ProductMatcher | None) -> _Scans:
        if matcher is None:
            return _PLAIN_SCANS
        scans = matcher.memo.get(_SCANS_KEY)  # first: it is asked once per entry
        if isinstance(scans, _Scans):
            return scans
        if not matcher:
            return _PLAIN_SCANS
        # A name holding a newline could span lines, one holding the mask could match inside a masked line.
        apart = not any("\n" in surface or _MASK in surface for surface in matcher.surface_products())
        scans = _Scans.build(matcher.opening_chars(), matcher.closing_chars(), apart)
        matcher.memo[_SCANS_KEY] = scans
        return scans


_PLAIN_SCANS = _Scans.build(frozenset(), frozenset(), True)


def _mask_quiet_lines(text: str, start: int, hint: re.Pattern[str]) -> str:
    """`text` with each run of lines from `start` (a line start) on in which `hint` finds nothing replaced by `_MASK`,
    but for the newline that ends the run: the lines that are read keep what is on either side of them."""
    pieces: list[str] = []
    n = len(text)
    done, pos = 0, start
    while pos < n:
        m = hint.search(text, pos)
        line_start = n + 1 if m is None else text.rfind("\n", pos, m.start()) + 1  # 0: the hint is on line `pos`
        if line_start > pos:  # lines pos … line_start - 2 are quiet
            pieces += (text[done:pos], _MASK * (line_start - 1 - pos))
            done = line_start - 1
        line_end = text.find("\n", m.end()) if m is not None else -1
        if line_end < 0:
            break
        pos = line_end + 1
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _cancel_spans(text: str, first_end: int) -> list[tuple[int, int]]:
    """Cancellation: on the first line (which ends at `first_end`), or a later line that says nothing else."""
    spans = []
    if _CANCEL_START_RE.search(text, 0, first_end):  # else no cancel word starts on the first line
        spans = [m.span() for m in _CANCEL_RE.finditer(text, 0, first_end + _CANCEL_REACH) if m.start() < first_end]
    if first_end < len(text) and _CANCEL_START_RE.search(text, first_end):  # else no later line is a cancellation
        spans += [m.span(1) for m in _CANCEL_LINES_RE.finditer(text, first_end + 1)]
    return spans


def _parse_content(raw: str, matcher: ProductMatcher | None, default_product: str | None) -> _Parsed:
    text, struck = _unstrike(raw)
    if not text.strip():
        return _Parsed("", (), "", True, normalize_key(raw))  # an emptied line
    n = len(text)
    first_end = text.find("\n")
    if first_end < 0:
        first_end = n

    cancel_spans = _cancel_spans(text, first_end)
    cancelled = struck or bool(cancel_spans)

    # Later lines that cannot hold an item are only remark: they are not scanned for addresses, products or counts.
    scans = _Scans.for_matcher(matcher)
    hint = scans.item_hint if first_end < n else None
    read = _mask_quiet_lines(text, first_end + 1, hint) if hint is not None else text
    masked_spans = _address_spans(read) + cancel_spans
    if first_end < n and _EDIT_START_RE.search(text, first_end):
        # "张三改成3份" under someone's line is a chat message about another entry, not an order
        masked_spans += [m.span() for m in _EDIT_LINE_RE.finditer(text, first_end)]
    work = _mask(read, masked_spans)

    mentions: list[Match] = matcher.find_all(work, fuzzy=False) if matcher else []
    spans = find_quantities(work, bare=scans.bare) if _NUMERALISH_RE.search(work) else []
    found = _find_items(text, work, first_end, mentions, spans, matcher) if mentions or spans else []
    items = _items(found, matcher, default_product) if found else ()
    taken = [(start, end) for start, end, _product, _quantity in found]

    # Who: the label at the start of the first line, before any item; the rest is the remark.
    who_end = _who_walk(text[: min(found[0][0], first_end) if found else first_end])
    who = _clean_who(text[:who_end])
    taken.append((0, who_end))
    taken.extend(cancel_spans)
    taken.sort()
    pieces: list[str] = []
    pos = 0
    for start, end in taken:
        if start > pos:
            pieces.extend(text[pos:start].split("\n"))
        pos = max(pos, end)
    if pos < n:
        pieces.extend(text[pos:].split("\n"))
    stripped = map(str.strip, pieces, repeat(_REMARK_STRIP))
    remark = " ".join([piece for piece in stripped if piece and piece not in _FILLERS])
    return _Parsed(who, items, remark, cancelled, normalize_key(raw))


_Found = tuple[int, int, _Product | None, QuantitySpan | None]  # (start, end, product, quantity) of an item


def _find_items(
    text: str,
    work: str,
    first_end: int,
    mentions: list[Match],
    spans: list[QuantitySpan],
    matcher: ProductMatcher | None,
) -> list[_Found]:
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
        if before not in _DELIMITERS and q.start not in mention_ends:
            continue
        back = after_spaces_back(q.start)
        if back == line_start(q.start):
            continue  # the first token of a line is an address or a name, not a count
        if back in mention_ends:  # 蓝莓 3, 蓝莓3
            follow = work[q.end : q.end + 1]
            if not follow or not (_is_word_char(follow) or follow.isdigit()):
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
    found: list[_Found] = []

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
        if mentions:
            # 1. a known product just before (spaces allowed): 草莓2盒, 蓝莓 3 盒
            m_before = mention_ends.get(after_spaces_back(q.start))
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
            while start > lo and _is_word_char(work[start - 1]):
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
        if _is_word_char(nxt) or nxt.isdigit():
            continue
        if _is_word_char(prv) and mention.end - mention.start < 2:
            continue
        known = _Product(mention.start, mention.end, mention.product, True, mention.unit)
        found.append((mention.start, mention.end, known, None))
    found.sort(key=itemgetter(0))
    return found


def _items(found: list[_Found], matcher: ProductMatcher | None, default_product: str | None) -> tuple[Item, ...]:
    """The items `_find_items` found; a count without a product is of the default product, when there is one."""
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


# ---------------------------------------------------------------------------------------------------------------------
# Fast path: the common one-line shapes, read by one regular expression
#
#     WHO                       3栋 王阿姨 · 5-1201 · 王燕燕 512
#     WHO QTY UNIT              3栋 王阿姨 2盒            (the default product, if any)
#     WHO PRODUCT QTY UNIT      30栋 邻居12 草莓3盒       (a catalogue name; without a catalogue, a plain phrase)
#
# WHO is address tokens (3栋, 6号楼2单元, 5-1201, 512) around at most one name token (CJK, then maybe digits), the
# tokens joined by single spaces. The alphabet is narrow on purpose, so that `_parse_content` provably reads such a
# line the same way: no character a cancel word, a filler, a quantity, an address mask or a product mention could
# start with sits where it would change the reading (the reasons are next to each set below), and the line is already
# its own key (NFKC-stable, single spaces, no trailing punctuation). Anything else goes to `_parse_content`;
# `tests/parsing/test_fast_path.py` checks both agree.

_FAST_MAX_LEN = 120
_CN_NUMERALS = "零〇一二两俩三四五六七八九十百千"
_SUFFIX_CHARS = "号楼栋幢座单元层室区期弄排户门组巷"  # every character of _ADDRESS_SUFFIX
_UNIT_CHARS = "".join(UNITS)
# Where a token starts (after a space, maybe after a numeral): no unit (12 盒 is a quantity) and no address suffix
# (三 号 is an address).
_OPENING_EXCLUDED = frozenset(_UNIT_CHARS + _SUFFIX_CHARS)
# Anywhere in a name or a product: no 半/第 (半斤, 第3) and no first character of a cancel word (取消 不要了 不需要了
# 退出 撤销 撤单 退单).
_ANYWHERE_EXCLUDED = frozenset("半第取退撤不")
# In a name, which may hold numerals (张三, 十一): no unit or suffix at all (三个, 三号), and none of the fillers that
# would end a label (要 买 订 再来).
_NAME_EXCLUDED = _OPENING_EXCLUDED | _ANYWHERE_EXCLUDED | frozenset("要买订来再")
# In a product: no numeral (草莓三3盒 reads no quantity: the unit form's look-behind).
_PRODUCT_EXCLUDED = _ANYWHERE_EXCLUDED | frozenset(_CN_NUMERALS)
# Without a catalogue the product is the phrase as written; it must not open with a filler (我要, 还要, 拿, 加, 共…).
_PHRASE_OPENING_EXCLUDED = _OPENING_EXCLUDED | frozenset("我还再要买订来拿加共一")
# Where the product scan of `ProductMatcher.find_all` looks outside the product: the address tokens, the spaces, the
# quantity and the unit (folded), the mask. Catalogue names that open with one of these are searched for in the line.
_FAST_ALPHABET = frozenset("0123456789- " + _SUFFIX_CHARS + fold(_UNIT_CHARS) + _MASK)
_FAST_ADDRESS = (
    rf"(?:[0-9]{{1,4}}{_ADDRESS_SUFFIX})+[0-9]{{0,4}}"  # 3栋, 6号楼2单元, 2栋1201
    r"|[0-9]{1,6}(?:-[0-9]{1,6})+"  # 5-1201, 3-2-501
    r"|[0-9]{3,8}"  # 512, a room number
)
_FAST_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
_FAST_ITEMS_LIMIT = 10_000


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


class _FastLine:
    """Reads the common one-line shapes for one catalogue (or none); `parse` gives None for anything else."""

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
        self._items: dict[tuple[str | None, str, str, str | None], tuple[Item, ...]] = {}
        self._defaults: dict[str, tuple[str, bool]] = {}

    @staticmethod
    def for_matcher(matcher: ProductMatcher | None) -> _FastLine | None:
        if matcher is None or not matcher:  # an empty catalogue reads exactly like none
            return _PLAIN_FAST
        fast = matcher.memo.get(_FAST_KEY)
        if fast is None:
            # A name with the mask character in it could match inside a masked address: no fast path then.
            usable = not any(_MASK in surface for surface in matcher.surface_products())
            fast = _FastLine(matcher) if usable else _NO_FAST
            matcher.memo[_FAST_KEY] = fast
        return fast if isinstance(fast, _FastLine) else None

    def parse(self, raw: str, default_product: str | None) -> _Parsed | None:
        hit = self.read(raw, default_product)
        return None if hit is None else _Parsed(hit[0], hit[1], "", False, raw)

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
            if len(self._items) >= _FAST_ITEMS_LIMIT:
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


_FAST_KEY = ("chain-fast-line",)
_NO_FAST = object()
_PLAIN_FAST = _FastLine(None)


@functools.lru_cache(maxsize=_CACHE_LIMIT)
def _parse_content_plain(raw: str, default_product: str | None) -> _Parsed:
    return _parse_content(raw, None, default_product)


def _parse_content_cached(raw: str, matcher: ProductMatcher | None, default_product: str | None) -> _Parsed:
    fast = _FastLine.for_matcher(matcher)
    if fast is not None:
        parsed = fast.parse(raw, default_product)
        if parsed is not None:
            return parsed
    return _parse_content_memo(raw, matcher, default_product)


def _parse_content_memo(raw: str, matcher: ProductMatcher | None, default_product: str | None) -> _Parsed:
    if matcher is None:
        return _parse_content_plain(raw, default_product)
    key = ("chain-entry", raw, default_product)
    hit = matcher.memo.get(key)
    if hit is not None:
        return cast(_Parsed, hit)
    parsed = _parse_content(raw, matcher, default_product)
    if len(matcher.memo) >= _CACHE_LIMIT:
        matcher.memo.clear()
    matcher.memo[key] = parsed
    return parsed


#: WeChat flags a 接龙 entry past ~150 characters as too long. Items are read from at most this much of an entry,
#: so a pasted wall of text costs bounded time and memory (in one unbroken run of Chinese text every item's product
#: could otherwise span the rest of the line: output quadratic in the input); the raw text and the key stay whole.
MAX_ENTRY_CHARS = 1_000


def _entry(seq: int | None, raw: str, matcher: ProductMatcher | None, default_product: str | None) -> ChainEntry:
    if len(raw) > MAX_ENTRY_CHARS:
        parsed = _parse_content_cached(raw[:MAX_ENTRY_CHARS], matcher, default_product)
        return ChainEntry(seq, raw, parsed.who, parsed.items, parsed.remark, parsed.cancelled, normalize_key(raw))
    parsed = _parse_content_cached(raw, matcher, default_product)
    return ChainEntry(seq, raw, parsed.who, parsed.items, parsed.remark, parsed.cancelled, parsed.key)


# ---------------------------------------------------------------------------------------------------------------------
# The chain


def _split_sender_prefix(text: str) -> tuple[str | None, str]:
    newline = text.find("\n")
    if 0 < newline <= 80:
        first = text[:newline]
        if _SENDER_PREFIX_RE.fullmatch(first) and text[newline + 1 :].strip():
            return first.rstrip(" \t").rstrip(":"), text[newline + 1 :]
    return None, text


def parse_chain(text: str, matcher: ProductMatcher | None = None, *, default_product: str | None = None) -> ParsedChain:
    """Split a 接龙 message into header, example lines, entries and tail. Never raises; garbage gives no entries."""
    if not isinstance(text, str):
        text = str(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    sender_prefix, body = _split_sender_prefix(text)
    lines = body.split("\n")

    numbered: list[_Numbered] = []
    expected = 1
    for idx, opening in enumerate(map(_LINE_RE.match, lines)):
        if opening is None:
            continue
        digits, plain_rest, raw_num, sep, rest = opening.groups()
        if digits is not None:  # "12. …" (`_PLAIN_ENTRY_RE`): what `_numbered` gives, without its work
            num = int(digits)
            if len(digits) <= 3 or num == expected:
                numbered.append((idx, num, plain_rest.rstrip(_SP)))
                expected = num + 1
            continue
        hit = _numbered_parts(raw_num, sep, rest, expected)
        if hit is not None:
            numbered.append((idx, hit[0], hit[1]))
            expected = hit[0] + 1

    # A list that starts again at 1 after a blank line: what came before was the leader's numbered notes.
    for k in range(len(numbered) - 1, 0, -1):
        if numbered[k][1] == 1 and numbered[k][0] > 0 and _blank(lines[numbered[k][0] - 1]):
            numbered = numbered[k:]
            break

    if len(numbered) <= 1 and _INLINE_FIRST_RE.search(body):  # a one-line list needs a marker "1." somewhere
        for idx, line in enumerate(lines):
            run = _inline_run(line)
            if len(run) >= 2:
                header, examples = _header_and_examples([*lines[:idx], line[: run[0][1]]])
                entries = []
                for k, (num, _start, end) in enumerate(run):
                    stop = run[k + 1][1] if k + 1 < len(run) else len(line)
                    entries.append(_entry(num, line[end:stop].strip(), matcher, default_product))
                tail = _join_block(lines[idx + 1 :])
                return ParsedChain(header, examples, tuple(entries), tail, sender_prefix)

    if not numbered:
        header, examples = _header_and_examples(lines)
        return ParsedChain(header, examples, (), "", sender_prefix)

    header, examples = _header_and_examples(lines[: numbered[0][0]])
    entries = []
    tail = ""
    fast = _FastLine.for_matcher(matcher)
    last = len(numbered) - 1
    for k, (line_no, num, content) in enumerate(numbered):
        stop = numbered[k + 1][0] if k < last else len(lines)
        if stop == line_no + 1 and k < last:
            raw = content.strip()  # _join_block([content])
        else:
            continuation = lines[line_no + 1 : stop]
            if k == last:
                last_text = max((j for j, line in enumerate(continuation) if not _blank(line)), default=-1)
                for j, line in enumerate(continuation[:last_text]):
                    if _blank(line):
                        tail = _join_block(continuation[j + 1 :])
                        continuation = continuation[:j]
                        break
            continuation = _before_binary(continuation)
            raw = _join_block([content, *continuation]) if continuation else content.strip()
        if len(raw) > MAX_ENTRY_CHARS:
            entries.append(_entry(num, raw, matcher, default_product))
            continue
        read = fast.read(raw, default_product) if fast is not None else None
        if read is not None:
            entries.append(ChainEntry(num, raw, read[0], read[1], "", False, raw))
        else:
            entries.append(ChainEntry(num, raw, *_parse_content_memo(raw, matcher, default_product)))
    return ParsedChain(header, examples, tuple(entries), tail, sender_prefix)


def is_chain(text: str) -> bool:
    """Cheap router test: a `#接龙` tag near the top, or at least two numbered lines (also in a one-line list)."""
    head = text[:3000]
    if "#接龙" in head:
        return True
    count = 0
    for _ in _SURE_LINE_RE.finditer(text):
        count += 1
        if count >= 2:
            return True
    return any(len(_inline_run(line)) >= 2 for line in head.split("\n"))
