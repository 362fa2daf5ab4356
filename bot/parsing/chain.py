"""接龙 text → header, examples, numbered entries (who, items, remark, cancelled, content key) and tail."""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, cast

from bot.parsing.products import Match, ProductMatcher
from bot.parsing.quantity import QuantityForm, QuantitySpan, find_quantities

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
_MAX_INLINE_STARTS = 8


class _Numbered(NamedTuple):
    line: int
    num: int
    content: str


def _to_int(num: str) -> int:
    if "①" <= num <= "⑳":
        return ord(num) - ord("①") + 1
    return int(num.translate(_DIGITS))


def _numbered(line: str, expected: int) -> tuple[int, str] | None:
    """(number, content) when `line` opens an entry; `expected` settles the ambiguous shapes (1.295-909 vs 8.7)."""
    m = _ENTRY_RE.match(line)
    if m is None:
        return None
    raw_num, sep, rest = m.group("num"), m.group("sep"), m.group("rest")
    num = _to_int(raw_num)
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
    return "\n".join(line.strip() for line in lines).strip()


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
_WS_RE = re.compile(r"\s+")
_TRAILING_PUNCT = " .,;:!?~。、…·-—_"
_STRIKE_CHARS = frozenset("\u0335\u0336\u0337\u0338")
_STRIKE_RE = re.compile("[\u0335-\u0338]")


def normalize_key(raw: str) -> str:
    """The content identity of an entry: NFKC (full-width → half-width), no invisible or strike-through marks,
    whitespace folded to one space, trailing punctuation dropped."""
    if not unicodedata.is_normalized("NFKC", raw):
        raw = unicodedata.normalize("NFKC", raw)
    text = _INVISIBLE_RE.sub("", raw)
    text = _WS_RE.sub(" ", text).strip()
    if text.startswith("~~") and text.endswith("~~") and len(text) > 4:
        text = text[2:-2].strip()
    return text.rstrip(_TRAILING_PUNCT)


def _unstrike(raw: str) -> tuple[str, bool]:
    """Remove strike-through marks (combining U+0336 etc., ~~…~~); True when the entry looked struck out."""
    text = raw
    struck = False
    marks = len(_STRIKE_RE.findall(raw)) if _STRIKE_RE.search(raw) else 0
    if marks:
        visible = sum(1 for ch in raw if not ch.isspace() and ch not in _STRIKE_CHARS)
        struck = marks * 2 >= visible
        text = "".join(ch for ch in raw if ch not in _STRIKE_CHARS)
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
_CANCEL_RE = re.compile(r"取消|不要了|不需要了|退出|撤销|撤单|退单|(?<![0-9A-Za-z\-－])[-－−]\s?1(?![0-9.])")
_EDIT_LINE_RE = re.compile(r"^.*(?:改成|改为|改一下|修改|不要了|取消).*$", re.MULTILINE)
_CANCEL_LINE_RE = re.compile(r"(?:取消|不要了|不需要了|退出|撤销|撤单|退单|[-－−]\s?1)[。.!！~～ ]*")
_ADDRESS_TOKEN_RE = re.compile(
    r"[0-9０-９]{3,}"  # a room number or a phone number
    r"|[A-Za-z]?[0-9０-９]+[A-Za-z]?(?:[\-－—_/#][A-Za-z]?[0-9０-９]+[A-Za-z]?)+"  # 295-909, 5-1201, A3-101
    rf"|(?:{_NUMERAL}[ \t]*{_ADDRESS_SUFFIX}[，,、]?)+[0-9０-９]*"  # 6号楼2单元, 1号，101室
)
_FILLER_PREFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订|来|拿|加|共|一共|再)")
_FILLER_ONLY_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订|来|拿|加|共|一共|再)")
_FILLER_SUFFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订)$")
_DELIMITERS = frozenset(" \t\u3000\n，,、;；+＋/&。！!？?:：()（）【】[]")
_DELIMITER_RE = re.compile("[" + re.escape("".join(sorted(_DELIMITERS))) + "]")
_NUMERALISH_RE = re.compile("[0-9０-９零〇一二两俩三四五六七八九十百千半]")
_TOKEN_RE = re.compile(r"\S+")
_BARE_FOLLOWERS = frozenset("\n，,、;；+＋。！!)）")
_WHO_STRIP = " \t\u3000，,、:：;；+＋-—"
_REMARK_STRIP = " \t\u3000，,、:：;；+＋/"
_CACHE_LIMIT = 50_000


def _is_word_char(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ("a" <= ch.lower() <= "z" and ch.isascii())


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _is_emoji_token(token: str) -> bool:
    return all(not ch.isalnum() and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") for ch in token)


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = _MASK
    return "".join(chars)


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


def _clean_who(text: str) -> str:
    who = _CANCEL_RE.sub(" ", text)
    who = re.sub(r"[ \t\u3000]{2,}", lambda m: m.group(0) if "\u3000" not in m.group(0) else " ", who)
    who = who.strip(_WHO_STRIP)
    filler = _FILLER_SUFFIX_RE.search(who)
    if filler and filler.start() > 0:
        who = who[: filler.start()].rstrip(_WHO_STRIP)
    return who


def _parse_content(raw: str, matcher: ProductMatcher | None, default_product: str | None) -> _Parsed:
    text, struck = _unstrike(raw)
    if not text.strip():
        return _Parsed("", (), "", True, normalize_key(raw))  # an emptied line
    n = len(text)
    first_end = text.find("\n")
    if first_end < 0:
        first_end = n

    # Cancellation: on the first line, or a later line that says nothing else.
    cancel_spans: list[tuple[int, int]] = []
    for m in _CANCEL_RE.finditer(text):
        if m.start() < first_end:
            cancel_spans.append(m.span())
    if first_end < n:
        pos = first_end + 1
        for line in text[first_end + 1 :].split("\n"):
            stripped = line.strip()
            if stripped and _CANCEL_LINE_RE.fullmatch(stripped):
                offset = pos + line.index(stripped)
                cancel_spans.append((offset, offset + len(stripped)))
            pos += len(line) + 1
    cancelled = struck or bool(cancel_spans)

    masked_spans = [m.span() for m in _ADDRESS_RE.finditer(text)] + cancel_spans
    if first_end < n:  # "张三改成3份" under someone's line is a chat message about another entry, not an order
        masked_spans += [m.span() for m in _EDIT_LINE_RE.finditer(text, first_end)]
    work = _mask(text, masked_spans)

    mentions: list[Match] = matcher.find_all(work, fuzzy=False) if matcher else []
    spans = find_quantities(work) if _NUMERALISH_RE.search(work) else []
    if mentions:
        in_mention = bytearray(n)
        for mention in mentions:
            in_mention[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)
        spans = [q for q in spans if not any(in_mention[q.start : q.end])]
    mention_ends = {m.end: m for m in mentions}
    mention_starts = {m.start: m for m in mentions}

    # Per position: where its line starts, and where the first word of that line ends (without slicing per quantity).
    line_starts = [0]
    newline = text.find("\n")
    while newline >= 0:
        line_starts.append(newline + 1)
        newline = text.find("\n", newline + 1)

    def line_start(pos: int) -> int:
        return line_starts[bisect.bisect_right(line_starts, pos) - 1]

    delimiter = _DELIMITER_RE.search(work, 0, first_end)
    first_delimiter = delimiter.start() if delimiter else first_end

    def after_spaces_back(pos: int) -> int:
        while pos > 0 and work[pos - 1] in " \t\u3000":
            pos -= 1
        return pos

    def next_visible(pos: int) -> str:
        while pos < n and work[pos] in " \t\u3000":
            pos += 1
        return work[pos] if pos < n else ""

    def accept(q: QuantitySpan) -> bool:
        before = work[q.start - 1] if q.start > 0 else "\n"
        if q.form is not QuantityForm.BARE:
            return not (before.isascii() and before.isalnum())
        if q.end - q.start > 2 or before == "第" or (before.isascii() and before.isalnum()):
            return False
        if after_spaces_back(q.start) == line_start(q.start):
            return False  # the first token of a line is an address or a name, not a count
        if after_spaces_back(q.start) in mention_ends:  # 蓝莓 3, 蓝莓3
            follow = work[q.end : q.end + 1]
            return not follow or not (_is_word_char(follow) or follow.isdigit())
        if before not in _DELIMITERS:
            return False  # 深蹲50, 引体15: a count glued to an unknown word is not an order
        follow = next_visible(q.end)
        return not follow or follow in _BARE_FOLLOWERS

    quantities = [q for q in spans if accept(q)]

    used_mentions: set[int] = set()
    claimed_until = 0
    claimed = bytearray(n)
    found: list[tuple[int, int, _Product | None, QuantitySpan | None]] = []  # (start, end, product, quantity)

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

    def glued_after(q: QuantitySpan) -> _Product | None:
        end = q.end
        while end < n and _is_word_char(work[end]) and end not in mention_starts:
            end += 1
        return unknown_or_fuzzy(q.end, end, from_end=False) if end > q.end else None

    for q in quantities:
        product: _Product | None = None
        lo = max(claimed_until, line_start(q.start))
        # 1. a known product just before (spaces allowed): 草莓2盒, 蓝莓 3 盒
        m_before = mention_ends.get(after_spaces_back(q.start))
        if m_before is not None and m_before.start >= lo and m_before.start not in used_mentions:
            used_mentions.add(m_before.start)
            product = _Product(m_before.start, m_before.end, m_before.product, True, m_before.unit)
        # 2. a known product right after a counted unit: 3盒蓝莓, 两袋面粉
        m_after = mention_starts.get(q.end)
        if product is None and q.form is QuantityForm.UNIT and m_after is not None and q.end not in used_mentions:
            used_mentions.add(q.end)
            product = _Product(m_after.start, m_after.end, m_after.product, True, m_after.unit)
        # 3. an unknown phrase glued after a Chinese-numeral count: 五斤西瓜, 半个西瓜, 要两袋面粉
        if product is None and q.form is QuantityForm.UNIT and not work[q.start].isdigit():
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
        if product is None and q.form is QuantityForm.UNIT:
            product = glued_after(q)
        start = min(q.start, product.start) if product else q.start
        end = max(q.end, product.end) if product else q.end
        claimed_until = max(claimed_until, end)
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
    found.sort(key=lambda f: f[0])

    default: _Product | None = None
    if default_product:
        canon = matcher.canonical(default_product) if matcher else None
        if canon is not None:
            default = _Product(0, 0, canon.product, True, canon.unit)
        else:
            default = _Product(0, 0, default_product, matcher is None or not matcher, None)

    items: list[Item] = []
    taken: list[tuple[int, int]] = []
    for start, end, product, quantity in found:
        taken.append((start, end))
        if product is None:
            product = default
        qty = quantity.quantity.value if quantity else Decimal(1)
        unit = quantity.quantity.unit if quantity else None
        if product is None:
            items.append(Item("", False, qty, unit))
        else:
            items.append(Item(product.name, product.known, qty, unit or (product.unit if product.known else None)))

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
    remark = " ".join(
        piece for piece in (p.strip(_REMARK_STRIP) for p in pieces) if piece and not _FILLER_ONLY_RE.fullmatch(piece)
    )
    return _Parsed(who, tuple(items), remark, cancelled, normalize_key(raw))


@functools.lru_cache(maxsize=_CACHE_LIMIT)
def _parse_content_plain(raw: str, default_product: str | None) -> _Parsed:
    return _parse_content(raw, None, default_product)


def _parse_content_cached(raw: str, matcher: ProductMatcher | None, default_product: str | None) -> _Parsed:
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


def _entry(seq: int | None, raw: str, matcher: ProductMatcher | None, default_product: str | None) -> ChainEntry:
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
    for idx, line in enumerate(lines):
        if not line or not (line.lstrip(_SP)[:1].isdigit() or "①" <= line.lstrip(_SP)[:1] <= "⑳"):
            continue
        expected = numbered[-1].num + 1 if numbered else 1
        hit = _numbered(line, expected)
        if hit is not None:
            numbered.append(_Numbered(idx, hit[0], hit[1]))

    # A list that starts again at 1 after a blank line: what came before was the leader's numbered notes.
    for k in range(len(numbered) - 1, 0, -1):
        if numbered[k].num == 1 and numbered[k].line > 0 and _blank(lines[numbered[k].line - 1]):
            numbered = numbered[k:]
            break

    if len(numbered) <= 1:
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

    header, examples = _header_and_examples(lines[: numbered[0].line])
    entries = []
    tail = ""
    for k, item in enumerate(numbered):
        stop = numbered[k + 1].line if k + 1 < len(numbered) else len(lines)
        continuation = lines[item.line + 1 : stop]
        if k + 1 == len(numbered):
            last_text = max((j for j, line in enumerate(continuation) if not _blank(line)), default=-1)
            for j, line in enumerate(continuation[:last_text]):
                if _blank(line):
                    tail = _join_block(continuation[j + 1 :])
                    continuation = continuation[:j]
                    break
        raw = _join_block([item.content, *continuation])
        entries.append(_entry(item.num, raw, matcher, default_product))
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
