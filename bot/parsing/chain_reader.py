"""Reading successive copies of one 接龙 with work proportional to their new lines.

Every copy repeats the whole list, so a bot that parses each copy in full does O(list) work per message. A
`ChainReader` remembers the layout of the chain it last parsed in full (the lines above the list, the lines below
it) and every list line it has read, by its text. A new copy is read in one of three ways:

1. **It extends a recent copy**: it is that copy's text up to the end of its list, then new list lines, then the same
   lines below. One string comparison proves the old part unchanged; only the new lines are looked at, and the
   entries are the old copy's entries plus theirs. This is the common case: each member appends a line to the latest
   list they saw (a racing member to a list one or two messages old).
2. **Same layout, lines changed** (an edit or a cancel in the middle): every list line is looked up by its text, and
   only lines never seen are parsed.
3. **Anything unusual** (a continuation line, a changed header, a blank line inside the list, a line whose reading
   depends on its neighbours): a full `parse_chain`, which also refreshes the layout remembered.

Lines are read with the parser's own line rules (`lines.numbered`, `entry.EntryReader`), so the result is always what
`parse_chain` gives (the tests compare the two on every copy). `read_copy` also says which earlier copy a copy
extends, so the merge can skip the lines it has already folded (`merge.ChainState.fold`).
"""

from __future__ import annotations

import itertools
from collections import deque
from operator import attrgetter
from typing import NamedTuple

from bot.parsing.chain import ParsedChain, parse_chain
from bot.parsing.entry import ChainEntry, entry_reader
from bot.parsing.lines import (
    NEVER,
    PLAIN_ENTRY_RE,
    join_block,
    normalize_newlines,
    numbered,
    opens_entry,
    split_sender_prefix,
)
from bot.parsing.products import ProductMatcher

_RECENT = 8  # copies remembered for extension: a racing member copies a list a few messages old
_key = attrgetter("key")
#: Serial numbers of copies, unique across readers: a merge state that folded copy N knows it by this number alone.
_serials = itertools.count(1)


class Copy(NamedTuple):
    """One chain message as read: the parse, the content keys of its entries, and what it repeats."""

    parsed: ParsedChain
    keys: tuple[str, ...]  # `entry.key` of each entry, in order
    serial: int  # this copy's number, unique in the process
    extends: int | None = None  # the serial of an earlier copy whose entries are this copy's first entries, if any
    repeated: int = 0  # how many entries come from that copy (the rest are new in this copy)


class _Recent(NamedTuple):
    serial: int
    through_list: str  # the copy's body up to the end of its last list line
    entries: tuple[ChainEntry, ...]
    keys: tuple[str, ...]


class ChainReader:
    def __init__(self, matcher: ProductMatcher | None = None, *, default_product: str | None = None) -> None:
        self.matcher = matcher
        self.default_product = default_product
        self._entries = entry_reader(matcher)
        self.full_parses = 0
        self.extended = 0  # copies read as an extension of a recent one (for tests and benchmarks)
        self._known: dict[str, ChainEntry] = {}  # list line text → its entry (single-line, position-independent)
        self._head: list[str] | None = None  # the lines above the list in the last full parse
        self._after: list[str] = []  # the lines below it (a blank line and the tail)
        self._after_text = ""  # the same, as the text that ends a copy ("\n" + lines joined), "" when none
        self._notes_above = False  # numbered lines in the head (a leader's notes): the list must start at 1
        self._last: ParsedChain | None = None
        self._recent: deque[_Recent] = deque(maxlen=_RECENT)

    def read(self, text: str) -> ParsedChain:
        return self.read_copy(text).parsed

    def read_copy(self, text: str) -> Copy:
        if not isinstance(text, str):
            text = str(text)
        text = normalize_newlines(text)
        if self._head is not None:
            prefix, body = split_sender_prefix(text)
            copy = self._extension(prefix, body)
            if copy is None:
                copy = self._same_layout(prefix, body)
            if copy is not None:
                return copy
        return self._full(text)

    # --- 1. an extension of a recent copy -----------------------------------------------------------------------

    def _extension(self, prefix: str | None, body: str) -> Copy | None:
        after = self._after_text
        if after and not body.endswith(after):
            return None
        end = len(body) - len(after)
        for recent in reversed(self._recent):
            old = recent.through_list
            if len(old) > end or not body.startswith(old):
                continue
            if len(old) == end:  # the same list again (a resent or replayed copy)
                return self._copy(prefix, body, end, recent.entries, recent.keys, recent)
            if body[len(old)] != "\n":
                continue  # the old last line goes on: it was edited, not followed
            added: list[ChainEntry] = []
            for line in body[len(old) + 1 : end].split("\n"):
                entry = self._known.get(line) or self._read_line(line)
                if entry is None:
                    return None
                added.append(entry)
            self.extended += 1
            entries = recent.entries + tuple(added)
            return self._copy(prefix, body, end, entries, recent.keys + tuple(map(_key, added)), recent)
        return None

    # --- 2. the same layout, each line looked up ------------------------------------------------------------------

    def _same_layout(self, prefix: str | None, body: str) -> Copy | None:
        head, after = self._head, self._after
        assert head is not None
        lines = body.split("\n")
        end = len(lines) - len(after)
        if end <= len(head) or lines[: len(head)] != head or (after and lines[end:] != after):
            return None
        known = self._known
        for line in lines[len(head) : end]:
            if line not in known and self._read_line(line) is None:
                return None
        entries = tuple(map(known.__getitem__, lines[len(head) : end]))
        if self._notes_above and entries[0].seq != 1:
            return None  # the numbered notes above the list were left out because the list starts again at 1
        return self._copy(prefix, body, len(body) - len(self._after_text), entries, tuple(map(_key, entries)))

    def _copy(
        self,
        prefix: str | None,
        body: str,
        end: int,
        entries: tuple[ChainEntry, ...],
        keys: tuple[str, ...],
        base: _Recent | None = None,
    ) -> Copy | None:
        if len(entries) < 2:
            return None  # one numbered line may be a one-line list: the full parser decides
        last = self._last
        assert last is not None
        serial = next(_serials)
        if base is None or len(base.entries) != len(entries):
            self._recent.append(_Recent(serial, body[:end], entries, keys))
        parsed = ParsedChain(last.header, last.examples, entries, last.tail, prefix)
        if base is None:
            return Copy(parsed, keys, serial)
        return Copy(parsed, keys, serial, base.serial, len(base.entries))

    def _read_line(self, line: str) -> ChainEntry | None:
        """A new list line read as `parse_chain` would; None when its reading depends on its neighbours."""
        plain = PLAIN_ENTRY_RE.match(line)
        if plain is not None and len(plain[1]) <= 3:  # "12. …": what `numbered` gives, as `parse_chain` reads it
            num, content = int(plain[1]), plain[2]
        elif not line or not opens_entry(line):
            return None
        else:
            # Read as if no number were expected there: a line `numbered` accepts so reads the same wherever it
            # stands; one it accepts only as the expected number (2023. …, 8.7 …) is left to the full parser.
            hit = numbered(line, NEVER)
            if hit is None:
                return None
            num, content = hit
        entry = self._entries.entry(num, join_block([content]), self.default_product)
        self._known[line] = entry
        return entry

    # --- 3. a full parse ------------------------------------------------------------------------------------------

    def _full(self, text: str) -> Copy:
        parsed = parse_chain(text, self.matcher, default_product=self.default_product)
        self.full_parses += 1
        copy = Copy(parsed, tuple(map(_key, parsed.entries)), next(_serials))
        self._remember(text, copy)
        return copy

    def _remember(self, text: str, copy: Copy) -> None:
        """Keep the layout of a copy when it is simple: contiguous single-line entries between a head and a tail."""
        parsed = copy.parsed
        self._head, self._after, self._after_text, self._last = None, [], "", parsed
        self._recent.clear()
        entries = parsed.entries
        if len(entries) < 2 or any("\n" in e.raw for e in entries):
            return
        _, body = split_sender_prefix(text)
        lines = body.split("\n")
        n = len(entries)
        for start in range(len(lines) - n + 1):
            if all(self._line_is(lines[start + k], entries[k]) for k in range(n)):
                after = lines[start + n :]
                if after and after[0].strip():
                    return  # a continuation line below the list: not the simple layout
                self._head, self._after = lines[:start], after
                self._notes_above = any(opens_entry(line) for line in self._head)
                self._after_text = "\n" + "\n".join(after) if after else ""
                for k in range(n):
                    self._known[lines[start + k]] = entries[k]
                through_list = "\n".join(lines[: start + n])
                self._recent.append(_Recent(copy.serial, through_list, entries, copy.keys))
                return

    @staticmethod
    def _line_is(line: str, entry: ChainEntry) -> bool:
        if not line or not opens_entry(line):
            return False
        hit = numbered(line, NEVER)
        return hit is not None and hit[0] == entry.seq and join_block([hit[1]]) == entry.raw
