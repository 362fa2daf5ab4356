"""接龙 text → header, examples, numbered entries (who, items, remark, cancelled, content key) and tail.

The public face of the chain parser: `parse_chain` reads a whole message, `is_chain` is the router's cheap test. The
parts live next door: `lines` (which lines open entries), `entry` (one entry's content, through the one cache),
`items`, `masks`, `fastline`, `quantity`, `products`; `chain_reader` reads successive copies of one chain in time
of their new lines, and `merge` folds them into the lines the group meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bot.parsing.entry import MAX_ENTRY_CHARS, ChainEntry, EntryReader, entry_reader, normalize_key, stands_alone
from bot.parsing.items import Item
from bot.parsing.lines import (
    ALONE_HINT_RE,
    INLINE_FIRST_RE,
    LINE_RE,
    SP,
    after_stamp,
    before_binary,
    blank,
    header_and_examples,
    inline_run,
    is_chain,
    join_block,
    normalize_newlines,
    numbered_parts,
    split_sender_prefix,
)
from bot.parsing.products import ProductMatcher

__all__ = [
    "MAX_ENTRY_CHARS",
    "ChainEntry",
    "Item",
    "ParsedChain",
    "chain_header",
    "is_chain",
    "normalize_key",
    "parse_chain",
]


@dataclass(frozen=True, slots=True)
class ParsedChain:
    header: str
    examples: tuple[str, ...]
    entries: tuple[ChainEntry, ...]
    tail: str
    sender_prefix: str | None


class _InlineList(NamedTuple):
    """A one-line list (newlines lost by a bridge): its line and its markers (num, start, end)."""

    line_no: int
    run: list[tuple[int, int, int]]


class _Layout(NamedTuple):
    """Where a message's entries are, before any is read."""

    sender_prefix: str | None
    lines: list[str]
    numbered: list[tuple[int, int, str]]  # (line index, number, content) of each line that opens an entry
    inline: _InlineList | None


def _layout(text: str) -> _Layout:
    if not isinstance(text, str):
        text = str(text)
    sender_prefix, body = split_sender_prefix(normalize_newlines(text))
    lines = body.split("\n")

    numbered: list[tuple[int, int, str]] = []
    expected = 1
    for idx, opening in enumerate(map(LINE_RE.match, lines)):
        if opening is None:
            continue
        digits, plain_rest, raw_num, sep, rest = opening.groups()
        if digits is not None:  # "12. …" (`PLAIN_ENTRY_RE`): what `numbered` gives, without its work
            num = int(digits)
            if len(digits) <= 3 or num == expected:
                numbered.append((idx, num, plain_rest.rstrip(SP)))
                expected = num + 1
            continue
        hit = numbered_parts(raw_num, sep, rest, expected)
        if hit is None and (sep is None or sep in ":："):  # 2026年10月3日 22:14 1. 张三 2份: a pasted chat log
            hit = after_stamp(lines[idx], expected)
        if hit is not None:
            numbered.append((idx, hit[0], hit[1]))
            expected = hit[0] + 1

    # A list that starts again at 1 after a blank line: what came before was the leader's numbered notes.
    for k in range(len(numbered) - 1, 0, -1):
        if numbered[k][1] == 1 and numbered[k][0] > 0 and blank(lines[numbered[k][0] - 1]):
            numbered = numbered[k:]
            break

    if len(numbered) <= 1 and INLINE_FIRST_RE.search(body):  # a one-line list needs a marker "1." somewhere
        for idx, line in enumerate(lines):
            run = inline_run(line)
            if len(run) >= 2:
                return _Layout(sender_prefix, lines, numbered, _InlineList(idx, run))
    return _Layout(sender_prefix, lines, numbered, None)


def _header(layout: _Layout) -> tuple[str, tuple[str, ...]]:
    lines = layout.lines
    if layout.inline is not None:
        idx, run = layout.inline
        return header_and_examples([*lines[:idx], lines[idx][: run[0][1]]])
    if not layout.numbered:
        return header_and_examples(lines)
    return header_and_examples(lines[: layout.numbered[0][0]])


def chain_header(text: str) -> str:
    """The header `parse_chain` gives, without reading a single entry."""
    return _header(_layout(text))[0]


def parse_chain(text: str, matcher: ProductMatcher | None = None, *, default_product: str | None = None) -> ParsedChain:
    """Split a 接龙 message into header, example lines, entries and tail. Never raises; garbage gives no entries."""
    layout = _layout(text)
    header, examples = _header(layout)
    reader = entry_reader(matcher)
    lines = layout.lines
    if layout.inline is not None:
        idx, run = layout.inline
        line = lines[idx]
        inline = []
        for k, (num, _start, end) in enumerate(run):
            stop = run[k + 1][1] if k + 1 < len(run) else len(line)
            inline.append(reader.entry(num, line[end:stop].strip(), default_product))
        tail = join_block(lines[idx + 1 :])
        return ParsedChain(header, examples, tuple(inline), tail, layout.sender_prefix)
    if not layout.numbered:
        return _unnumbered(layout, reader, default_product) or ParsedChain(
            header, examples, (), "", layout.sender_prefix
        )
    entries, tail = _entries(layout, reader, default_product)
    return ParsedChain(header, examples, entries, tail, layout.sender_prefix)


_ALONE_MAX = 48  # no longer line can match `ALONE_HINT_RE` (40 characters after a few spaces)


def _alone(line: str, reader: EntryReader, default_product: str | None) -> ChainEntry | None:
    """The entry a line makes on its own when it is an order of its own (`entry.stands_alone`), else None."""
    if len(line) > _ALONE_MAX or ALONE_HINT_RE.match(line) is None:
        return None
    raw = line.strip()
    reading = reader.read(raw, default_product)
    return ChainEntry(None, raw, *reading) if stands_alone(raw, reading) else None


def _unnumbered(layout: _Layout, reader: EntryReader, default_product: str | None) -> ParsedChain | None:
    """A list without a single number (王五要3份 / 李四 1份 pasted one a line): its entries from the first order on."""
    lines = layout.lines
    for idx, line in enumerate(lines):
        first = _alone(line, reader, default_product)
        if first is not None:
            header, examples = header_and_examples(lines[:idx])
            entries = [first, *_split(lines[idx + 1 :], reader, default_product)]
            return ParsedChain(header, examples, tuple(entries), "", layout.sender_prefix)
    return None


def _split(continuation: list[str], reader: EntryReader, default_product: str | None) -> list[ChainEntry]:
    """Lines under an entry that are orders of their own, each with the lines under it up to the next one (the entry
    above keeps the lines before the first): the entries they make."""
    entries: list[ChainEntry] = []
    block: list[str] = []
    for line in continuation:
        alone = _alone(line, reader, default_product)
        if alone is not None:
            if entries and block:
                entries[-1] = reader.entry(None, join_block([entries[-1].raw, *block]), default_product)
            entries.append(alone)
            block = []
        elif entries:
            block.append(line)
    if entries and block:
        entries[-1] = reader.entry(None, join_block([entries[-1].raw, *block]), default_product)
    return entries


def _entries(layout: _Layout, reader: EntryReader, default_product: str | None) -> tuple[tuple[ChainEntry, ...], str]:
    """The entries of a list (each with its continuation lines up to a binary one) and the tail below it."""
    lines, numbered = layout.lines, layout.numbered
    entries = []
    tail = ""
    readings, read_new = reader.readings(default_product), reader.read_new
    last = len(numbered) - 1
    for k, (line_no, num, content) in enumerate(numbered):
        stop = numbered[k + 1][0] if k < last else len(lines)
        if stop == line_no + 1 and k < last:
            raw = content.strip()  # join_block([content])
        else:
            continuation = lines[line_no + 1 : stop]
            if k == last:
                last_text = max((j for j, line in enumerate(continuation) if not blank(line)), default=-1)
                for j, line in enumerate(continuation[:last_text]):
                    if blank(line):
                        tail = join_block(continuation[j + 1 :])
                        continuation = continuation[:j]
                        break
            continuation = before_binary(continuation)
            own = _split(continuation, reader, default_product) if continuation else []
            if own and not reader.read(content.strip(), default_product)[1]:
                own = []  # 1. 王阿姨 / 草莓2盒: an entry without items takes them from the line below
            if own:  # lines appended without a number: the entry keeps the lines before the first
                first = own[0].raw.split("\n", 1)[0]
                continuation = continuation[: next(j for j, line in enumerate(continuation) if line.strip() == first)]
            raw = join_block([content, *continuation]) if continuation else content.strip()
            if own:
                reading = readings.get(raw) or read_new(raw, default_product)
                entries.append(ChainEntry(num, raw, *reading))
                entries.extend(own)
                continue
        reading = readings.get(raw) or read_new(raw, default_product)  # the cache's look-up without a call
        entries.append(ChainEntry(num, raw, *reading))
    return tuple(entries), tail
