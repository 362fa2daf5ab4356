"""The lines of a 接龙 message: which open a numbered entry (and with what number), the header and example lines
above the list, a one-line list, binary garbage, the sender prefix a bridge adds. Nothing here reads an entry's
content (`entry`), and nothing keeps state."""

from __future__ import annotations

import re
from collections.abc import Sequence

SP = " \t\u3000"
_ENTRY_RE = re.compile(
    r"[ \t\u3000]*(?P<num>[0-9０-９]{1,5}(?![0-9０-９])|[①-⑳])"
    r"(?:[ \t\u3000]*(?P<sep>[.．、,，:：;；)）\-_#~～。]|\ufe0f?\u20e3))?"
    r"(?P<rest>.*)",
    re.DOTALL,
)
# Separators after which a digit means a decimal, a date or a time (8.7, 5.24, 7:20), unless the digits are long.
_DECIMALISH = frozenset(".．,，。")
_RANGEISH = frozenset(":：-_~～")
# What follows "N." when the digits after the dot open a room, not a decimal: 1.7-302赵哥, 4.2-1101李, 1.3栋502,
# 13.13-203 (a building-room pair or a building, then not a unit: 1.5-2斤 is a range of weights).
_NOT_A_ROOM_AFTER = r"[ \t]*(?:斤|个|盒|箱|kg|g|克|公斤|份|元|块|点|号|天|日|月|年|%)"
_ROOM_AFTER_DOT_RE = re.compile(
    rf"[0-9０-９]{{1,3}}(?:(?:[\-－—_][0-9０-９]{{1,5}})+(?![0-9０-９.．]|{_NOT_A_ROOM_AFTER})"
    r"|[ \t]*(?:号楼|栋|幢|座|单元))"
)
_INLINE_MARKER_RE = re.compile(r"(?<!\S)(?P<num>[0-9０-９]{1,3})[ \t]*[.．、)）](?=\s|$)")
_SENDER_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{4,63}(?:@chatroom)?:[ \t]*")
_EXAMPLE_RE = re.compile(r"(?:例如|格式如|例|如|格式)(?:[ \t\u3000:：,，.．、\-—]|$)")
_SURE_LINE_RE = re.compile(r"^[ \t\u3000]*[0-9０-９]{1,3}[ \t\u3000]*[.．、,，:：;；)）。](?![0-9０-９])", re.MULTILINE)
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# A chat log's stamp before a pasted line: `2026年10月3日 22:14 1. 张三 2份`, `22:15 收到`.
_STAMP_RE = re.compile(
    r"[ \t\u3000]*(?:[0-9]{4}[年/\-.][0-9]{1,2}[月/\-.][0-9]{1,2}日?[ \t\u3000]*)?"
    r"[0-9]{1,2}[:：][0-9]{2}(?:[:：][0-9]{2})?[ \t\u3000]+(?=\S)"
)
_COUNT_UNITS = "盒|斤|箱|个|袋|瓶|包|件|只|桶|提|串|块|把|根|份|公斤|千克|kg|KG|克|g"
# A line under an entry that may be an order of its own (小刘 9栋 脐橙2箱, 王五要3份, 赵六+1, 孙七x2): short, opening
# with a name or an address (not a mark, a bracket or a colon line) and holding a count. Only such lines are read to
# decide (`entry.stands_alone`): most lines under an entry are remarks and chat.
ALONE_HINT_RE = re.compile(
    r"[ \t\u3000]*(?=[^\n]{2,40}$)(?![^\n]*[:：])(?!例|格式)"  # not a colon line (备注：…), not an example
    r"(?:[0-9０-９]{1,4}(?:(?:[\-－—_][0-9０-９]{1,5})+|[ \t]*(?:栋|号楼|幢|单元)[0-9０-９]*)"  # 9-301 老吴, 9栋 小刘
    r"[ \t\u3000]*[^\s0-9０-９\-－—_]"
    r"|[^\s0-9０-９#＃\[【(（@\-—*~+＋xX×.。,，、)）])"
    rf"[^\n]*?(?:[0-9０-９一二两三四五六七八九十半][ \t\u3000]*(?:{_COUNT_UNITS})"
    r"|[xX×*＊+＋][ \t]?[0-9０-９]|[ \t\u3000][0-9０-９]{1,2}[ \t\u3000]*$)"
)
# The plainest entry line, "12. …" (a space after the dot): `numbered` gives (12, the rest stripped), whatever number
# it expects when the number has up to three digits, and only when it is the expected one beyond.
PLAIN_ENTRY_RE = re.compile(r"([0-9]{1,5})\.[ \t\u3000]+(.*)")
# What `parse_chain` asks of every line, in one match: `PLAIN_ENTRY_RE`'s two groups for such a line, else those of
# `_ENTRY_RE` (num, sep, rest), else None (no other line can open an entry). Most lines of a long message that is not
# a list (or the continuation lines of one) then cost no Python work, and no line is matched twice.
LINE_RE = re.compile(rf"{PLAIN_ENTRY_RE.pattern}|{_ENTRY_RE.pattern}", re.DOTALL)
# An `_INLINE_MARKER_RE` marker numbered 1, anywhere in a text: without one no line holds a one-line list.
INLINE_FIRST_RE = re.compile(r"(?<!\S)[0０]{0,2}[1１][ \t]*[.．、)）](?=\s|$)")
_MAX_INLINE_STARTS = 8
# A character nobody types: a C0 or C1 control that is not whitespace (NUL, BEL, ESC, DEL, …). A line holding one is
# binary garbage (a file pasted as text, a bridge that mangled a message), not text under someone's entry.
_BINARY_RE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _to_int(num: str) -> int:
    if "①" <= num <= "⑳":
        return ord(num) - ord("①") + 1
    return int(num.translate(_DIGITS))


def numbered(line: str, expected: int) -> tuple[int, str] | None:
    """(number, content) when `line` opens an entry; `expected` settles the ambiguous shapes (1.295-909 vs 8.7)."""
    m = _ENTRY_RE.match(line)
    if m is None:
        return None
    raw_num, sep, rest = m.group("num", "sep", "rest")
    return numbered_parts(raw_num, sep, rest, expected)


def numbered_parts(raw_num: str, sep: str | None, rest: str, expected: int) -> tuple[int, str] | None:
    """`numbered` of a line from the groups of its `_ENTRY_RE` match."""
    num = int(raw_num) if raw_num.isascii() else _to_int(raw_num)  # the common case without a call
    if len(raw_num) > 3 and num != expected:
        return None  # 2023.6.1; a list past 999 entries only continues one by one
    content = rest.strip(SP)
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
        if num != expected:
            return None  # 8.7, 5.24早上, 2023.6.1
        if digit_run <= 2 and not _ROOM_AFTER_DOT_RE.match(rest):
            return None  # 8.7, 5.24早上, 7.50-9.20
    return num, content


def after_stamp(line: str, expected: int) -> tuple[int, str] | None:
    """`numbered` of a line once a chat log's time stamp before it is dropped (None without a stamp)."""
    stamp = _STAMP_RE.match(line)
    return numbered(line[stamp.end() :], expected) if stamp else None


def inline_run(line: str) -> list[tuple[int, int, int]]:
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


def blank(line: str) -> bool:
    return not line.strip()


def join_block(lines: Sequence[str]) -> str:
    return "\n".join(map(str.strip, lines)).strip()


def before_binary(continuation: list[str]) -> list[str]:
    """An entry's continuation lines up to the first binary one. The garbage ends the entry, and the lines after it
    up to the next entry are not read as orders either: nothing tells where the damage stops, and a leader checks a
    mangled message by eye rather than trust orders read out of it. (So pasted binary also costs little to parse.)"""
    joined = "\n".join(continuation)  # one scan, not one per line
    binary = _BINARY_RE.search(joined)
    return continuation if binary is None else continuation[: joined.count("\n", 0, binary.start())]


def header_and_examples(lines: Sequence[str]) -> tuple[str, tuple[str, ...]]:
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


NEVER = -1  # an impossible "expected number": a line `numbered` accepts with it reads the same in any position


def opens_entry(line: str) -> bool:
    """Can the line open an entry at all (a digit or ①…⑳ first, after spaces)? A cheap test before `numbered`."""
    first = line.lstrip(SP)[:1]
    return first.isdigit() or "①" <= first <= "⑳"


def normalize_newlines(text: str) -> str:
    """\r\n, \r, U+2028 and U+2029 as \n (each replace only when present: a copy is read in time of its new lines)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return text


def split_sender_prefix(text: str) -> tuple[str | None, str]:
    """(`wxid_…` a bridge put on its own first line, the rest) — or (None, text)."""
    newline = text.find("\n")
    if 0 < newline <= 80:
        first = text[:newline]
        if _SENDER_PREFIX_RE.fullmatch(first) and text[newline + 1 :].strip():
            return first.rstrip(" \t").rstrip(":"), text[newline + 1 :]
    return None, text


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
    return any(len(inline_run(line)) >= 2 for line in head.split("\n"))
