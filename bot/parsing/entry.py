"""One entry of a 接龙: who wrote it, its items, its remark, whether it cancels, and its content key — read through
one cache (`EntryReader`), so the same line is read once however many copies repeat it."""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass
from itertools import repeat

from bot.parsing.fastline import FastLine
from bot.parsing.items import Item, apply_edits, find_items, items_of
from bot.parsing.masks import (
    ADDRESS_SUFFIX,
    CANCEL_RE,
    CANCEL_START_RE,
    NUMERAL,
    Scans,
    address_spans,
    cancel_spans,
    edit_marks,
    edit_spans,
    mask,
    mask_quiet_lines,
)
from bot.parsing.products import Match, ProductMatcher
from bot.parsing.quantity import find_quantities


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int | None  # the number as written; numbers are re-assigned by copies, so never an identity
    raw: str  # content after "N. ", continuation lines joined with "\n"
    who: str  # participant label as written: name and/or address ("3栋 王阿姨", "295-909")
    items: tuple[Item, ...]
    remark: str
    cancelled: bool
    key: str  # normalized raw: identifies the line by content across copies


#: What an entry's content says, whatever its number: `ChainEntry`'s fields without `seq` and `raw` — (who, items,
#: remark, cancelled, key). A plain tuple: one is made for every new line of every copy.
Reading = tuple[str, tuple[Item, ...], str, bool, str]


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


def unstrike(raw: str) -> tuple[str, bool]:
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
# Who and the remark

_ADDRESS_TOKEN_RE = re.compile(
    r"[0-9０-９]{3,}"  # a room number or a phone number
    r"|[A-Za-z]?[0-9０-９]+[A-Za-z]?(?:[\-－—_/#][A-Za-z]?[0-9０-９]+[A-Za-z]?)+"  # 295-909, 5-1201, A3-101
    rf"|(?:{NUMERAL}[ \t]*{ADDRESS_SUFFIX}[，,、]?)+[0-9０-９]*"  # 6号楼2单元, 1号，101室
)
_FILLERS = frozenset(("我也要", "我要", "还要", "再要", "再来", "要", "买", "订", "来", "拿", "加", "共", "一共", "再"))
_FILLER_SUFFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订)$")
_FILLER_ENDINGS = ("要", "买", "订", "来")  # what a `_FILLER_SUFFIX_RE` match ends with
_NUMERALISH_RE = re.compile("[0-9０-９零〇一二两俩三四五六七八九十百千半]")
_TOKEN_RE = re.compile(r"\S+")
_SPACE_IN_RE = re.compile(r"\s")
_WHO_STRIP = " \t\u3000，,、:：;；+＋-—"
_REMARK_STRIP = " \t\u3000，,、:：;；+＋/"
_SPACE_RUN_RE = re.compile("[ \t\u3000]{2,}")
_NICKNAME_RE = re.compile(r"[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]{0,11}")


def _is_emoji_token(token: str) -> bool:
    return all(not ch.isalnum() and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") for ch in token)


def _who_walk(line: str) -> int:
    """End of the participant label in a line without items: addresses, one name, more addresses, `|` joins, emoji."""
    label = line.rstrip()
    if not _SPACE_IN_RE.search(label, len(label) - len(label.lstrip())):
        return len(label)  # one token (or none): the label, whatever it is
    end = 0
    seen_name = False
    join_next = False
    after_emoji = False
    for m in _TOKEN_RE.finditer(line):
        token = m.group(0)
        if after_emoji and not _NICKNAME_RE.fullmatch(token):
            break  # 💯 http://…: what follows an emoji is a nickname only when it reads like one
        after_emoji = False
        if _ADDRESS_TOKEN_RE.fullmatch(token.rstrip("，,、")):
            end = m.end()
            continue
        if token in ("|", "｜", "/"):
            join_next = True
            end = m.end()
            continue
        if not seen_name and _is_emoji_token(token):
            end = m.end()  # an emoji before the name (6-5 🐶 汪汪) is part of the label, not the name itself
            after_emoji = True
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
    who = CANCEL_RE.sub(" ", text) if CANCEL_START_RE.search(text) else text
    if "\u3000" in who:  # a run of spaces changes only when it holds an ideographic space
        who = _SPACE_RUN_RE.sub(_one_space, who)
    who = who.strip(_WHO_STRIP)
    filler = _FILLER_SUFFIX_RE.search(who) if who.endswith(_FILLER_ENDINGS) else None
    if filler and filler.start() > 0:
        who = who[: filler.start()].rstrip(_WHO_STRIP)
    elif filler and who in ("我要", "我也要"):
        who = "我"  # the writer themselves: who that is, only the message's sender says
    return who


def parse_content(
    raw: str, matcher: ProductMatcher | None, default_product: str | None, scans: Scans | None = None
) -> Reading:
    """The full reading of an entry's content (`scans`: the catalogue's, built here when not given)."""
    text, struck = unstrike(raw)
    if not text.strip():
        return "", (), "", True, normalize_key(raw)  # an emptied line
    n = len(text)
    first_end = text.find("\n")
    if first_end < 0:
        first_end = n

    spans_cancelled = cancel_spans(text, first_end)
    cancelled = struck or bool(spans_cancelled)

    # Later lines that cannot hold an item are only remark: they are not scanned for addresses, products or counts.
    if scans is None:
        scans = Scans.of(matcher)
    hint = scans.item_hint if first_end < n else None
    read = mask_quiet_lines(text, first_end + 1, hint) if hint is not None else text
    marks = edit_marks(text, first_end)
    work = mask(read, address_spans(read) + spans_cancelled + edit_spans(text, first_end) + marks)
    for _start, end in marks:  # a mark ends like a space: 改成2 is a count after it
        work = f"{work[: end - 1]} {work[end:]}"

    mentions: list[Match] = matcher.find_all(work, fuzzy=False) if matcher else []
    spans = find_quantities(work, bare=scans.bare) if _NUMERALISH_RE.search(work) else []
    found = find_items(text, work, first_end, mentions, spans, matcher) if mentions or spans else []
    taken = [(start, end) for start, end, _product, _quantity in found]  # an edited count is not a remark either
    if marks and found:
        found = apply_edits(found, marks)
    items = items_of(found, matcher, default_product) if found else ()

    # Who: the label at the start of the first line, before any item; the rest is the remark.
    label_end = min(found[0][0], first_end) if found else first_end
    if marks:
        label_end = min(label_end, marks[0][0])  # 张三改成3份: the label ends where the edit starts
    who_end = _who_walk(text[:label_end])
    who = _clean_who(text[:who_end])
    taken.append((0, who_end))
    taken.extend(spans_cancelled)
    taken.extend(marks)
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
    return who, items, remark, cancelled, normalize_key(raw)


_NOT_A_NAME_RE = re.compile(r"[^\u4e00-\u9fff\u3400-\u4dbf]+")
_NOT_IN_A_LABEL_RE = re.compile(r"[.。)）(（~～+＋*＊×=<>\[\]【】]")
_MAX_ALONE_NAME = 5  # CJK characters of a name (马老师, 🐱咪咪妈): a longer phrase is a sentence (另外帮邻居带1盒)


def stands_alone(line: str, reading: Reading) -> bool:
    """Is a line under an entry (or in a list without numbers) an order of its own, not more of the entry above?
    It names someone (a short name and/or an address) before a count, cancels nothing and edits nothing: an unnumbered
    line someone appended (小刘 9栋 脐橙2箱), or a pasted one (王五要3份, 赵六+1, 孙七x2)."""
    who, items, _remark, cancelled, _key = reading
    if not who or not items or cancelled or edit_marks(line, len(line)) or _NOT_IN_A_LABEL_RE.search(who):
        return False
    name = _NOT_A_NAME_RE.sub("", _ADDRESS_TOKEN_RE.sub("", who))
    return len(name) <= _MAX_ALONE_NAME


# ---------------------------------------------------------------------------------------------------------------------
# The one way an entry is read

#: WeChat flags a 接龙 entry past ~150 characters as too long. Items are read from at most this much of an entry,
#: so a pasted wall of text costs bounded time and memory (in one unbroken run of Chinese text every item's product
#: could otherwise span the rest of the line: output quadratic in the input); the raw text and the key stay whole.
MAX_ENTRY_CHARS = 1_000
_CACHE_LIMIT = 50_000  # readings kept per catalogue; the cache is emptied when full


class EntryReader:
    """Reads entry contents against one catalogue (or none), each content once: the only cache of readings.

    A content seen before is a dictionary look-up. A new one is read by the one-line fast path when its shape is one
    of the common ones (`fastline`), else by `parse_content`; both give the same reading (`tests/parsing/
    test_fast_path.py`). Get the reader of a catalogue with `entry_reader`, so every parse of its chains shares it."""

    __slots__ = ("_fast", "_readings", "_scans", "_size", "matcher")

    def __init__(self, matcher: ProductMatcher | None) -> None:
        self.matcher = matcher if matcher else None  # an empty catalogue reads exactly like none
        self._fast = FastLine.of(self.matcher)
        self._scans = Scans.of(self.matcher)
        self._readings: dict[str | None, dict[str, Reading]] = {}  # default product → content → reading
        self._size = 0

    def readings(self, default_product: str | None) -> dict[str, Reading]:
        """The cache itself for one default product (content → reading), to look up before calling `read`."""
        readings = self._readings.get(default_product)
        if readings is None:
            readings = self._readings[default_product] = {}
        return readings

    def read(self, raw: str, default_product: str | None = None) -> Reading:
        """The reading of an entry's content `raw` (stripped, continuation lines joined with "\\n")."""
        readings = self._readings.get(default_product) or self.readings(default_product)
        return readings.get(raw) or self.read_new(raw, default_product)

    def read_new(self, raw: str, default_product: str | None) -> Reading:
        """`read` of a content not in the cache (`readings` said so): read it and keep it."""
        fast = self._fast.read(raw, default_product) if self._fast is not None else None  # None past 120 characters
        if fast is not None:
            reading: Reading = (fast[0], fast[1], "", False, raw)
        elif len(raw) > MAX_ENTRY_CHARS:
            who, items, remark, cancelled, _key = self._read(raw[:MAX_ENTRY_CHARS], default_product)
            reading = who, items, remark, cancelled, normalize_key(raw)
        else:
            reading = parse_content(raw, self.matcher, default_product, self._scans)
        if self._size >= _CACHE_LIMIT:
            self.forget()
        readings = self._readings.get(default_product)
        if readings is None:
            readings = self._readings[default_product] = {}
        readings[raw] = reading
        self._size += 1
        return reading

    def entry(self, seq: int | None, raw: str, default_product: str | None = None) -> ChainEntry:
        return ChainEntry(seq, raw, *self.read(raw, default_product))

    def forget(self) -> None:
        """Forget every reading (a benchmark's first parse; what is built per catalogue stays)."""
        self._readings.clear()
        self._size = 0

    def _read(self, raw: str, default_product: str | None) -> Reading:
        """The one-line fast path when the shape is one of its own, else the full reading."""
        fast = self._fast.read(raw, default_product) if self._fast is not None else None
        if fast is not None:
            return fast[0], fast[1], "", False, raw
        return parse_content(raw, self.matcher, default_product, self._scans)


_PLAIN = EntryReader(None)
_READERS: weakref.WeakKeyDictionary[ProductMatcher, EntryReader] = weakref.WeakKeyDictionary()


def entry_reader(matcher: ProductMatcher | None) -> EntryReader:
    """The entry reader of a catalogue: one per matcher, alive as long as the matcher is."""
    if matcher is None or not matcher:
        return _PLAIN
    reader = _READERS.get(matcher)
    if reader is None:
        reader = _READERS[matcher] = EntryReader(matcher)
    return reader
