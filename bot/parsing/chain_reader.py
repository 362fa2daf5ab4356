"""Reading successive copies of one 接龙 with work proportional to their new lines.

Every copy repeats the whole list, so a bot that parses each copy in full does O(list) work per message. A
`ChainReader` remembers the line texts of the chain it last parsed in full; for the next copy it checks the header
and tail are the same lines, looks every list line up by its text, and parses only lines it has not seen — with the
parser's own line rules (`chain._numbered`, `chain._entry`), so the result is what `parse_chain` would give. Anything
unusual (a continuation line, a changed header, a blank line inside the list, a line whose reading depends on its
neighbours) falls back to a full `parse_chain`, which also refreshes what the reader remembers.
"""

from __future__ import annotations

from bot.parsing.chain import (
    _SP,
    ChainEntry,
    ParsedChain,
    _entry,
    _join_block,
    _numbered,
    _split_sender_prefix,
    parse_chain,
)
from bot.parsing.products import ProductMatcher

_NEVER = -1  # an impossible "expected number": a line accepted with it reads the same in any position


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")


def _opens_entry(line: str) -> bool:
    first = line.lstrip(_SP)[:1]
    return first.isdigit() or "①" <= first <= "⑳"


class ChainReader:
    def __init__(self, matcher: ProductMatcher | None = None, *, default_product: str | None = None) -> None:
        self.matcher = matcher
        self.default_product = default_product
        self.full_parses = 0
        self._known: dict[str, ChainEntry] = {}  # list line text → its entry (single-line, position-independent)
        self._head: list[str] | None = None  # the lines above the list in the last full parse
        self._after: list[str] = []  # the lines below it (a blank line and the tail)
        self._last: ParsedChain | None = None

    def read(self, text: str) -> ParsedChain:
        if not isinstance(text, str):
            text = str(text)
        text = _normalize(text)
        if self._head is not None:
            fast = self._fast(text)
            if fast is not None:
                return fast
        return self._full(text)

    def _fast(self, text: str) -> ParsedChain | None:
        assert self._head is not None
        assert self._last is not None
        prefix, body = _split_sender_prefix(text)
        lines = body.split("\n")
        head, after = self._head, self._after
        end = len(lines) - len(after)
        if end <= len(head) or lines[: len(head)] != head or (after and lines[end:] != after):
            return None
        entries: list[ChainEntry] = []
        expected = 1
        for line in lines[len(head) : end]:
            entry = self._known.get(line)
            if entry is None:
                entry = self._read_line(line, expected)
                if entry is None:
                    return None
            entries.append(entry)
            expected = (entry.seq or 0) + 1
        if len(entries) < 2:
            return None  # one numbered line may be a one-line list: the full parser decides
        last = self._last
        return ParsedChain(last.header, last.examples, tuple(entries), last.tail, prefix)

    def _read_line(self, line: str, expected: int) -> ChainEntry | None:
        """A new list line read as `parse_chain` would; None when its reading depends on its neighbours."""
        if not line or not _opens_entry(line):
            return None
        hit = _numbered(line, expected)
        if hit is None or _numbered(line, _NEVER) != hit:
            return None
        entry = _entry(hit[0], _join_block([hit[1]]), self.matcher, self.default_product)
        self._known[line] = entry
        return entry

    def _full(self, text: str) -> ParsedChain:
        parsed = parse_chain(text, self.matcher, default_product=self.default_product)
        self.full_parses += 1
        self._remember(text, parsed)
        return parsed

    def _remember(self, text: str, parsed: ParsedChain) -> None:
        """Keep the layout of `parsed` when it is simple: contiguous single-line entries between a head and a tail."""
        self._head, self._after, self._last = None, [], parsed
        entries = parsed.entries
        if len(entries) < 2 or any("\n" in e.raw for e in entries):
            return
        _, body = _split_sender_prefix(text)
        lines = body.split("\n")
        n = len(entries)
        for start in range(len(lines) - n + 1):
            if all(self._line_is(lines[start + k], entries[k]) for k in range(n)):
                after = lines[start + n :]
                if after and after[0].strip():
                    return  # a continuation line below the list: not the simple layout
                self._head, self._after = lines[:start], after
                for k in range(n):
                    self._known[lines[start + k]] = entries[k]
                return

    @staticmethod
    def _line_is(line: str, entry: ChainEntry) -> bool:
        if not line or not _opens_entry(line):
            return False
        hit = _numbered(line, _NEVER)
        return hit is not None and hit[0] == entry.seq and _join_block([hit[1]]) == entry.raw
