"""Merging 接龙 copies: the pure rules that turn a sequence of chain messages into the lines the group meant.

Every member re-sends the whole list, so a line is identified by its content (`ChainEntry.key`) and its author,
never by its number. The rules (DESIGN.md, "Chain semantics"):
- a line already seen changes nothing; a line missing from a later copy is not a cancellation;
- a new line belongs to the sender of the first message holding it — except lines a copy carries from messages the
  bot never saw (healed lines): only the sender's own lines are theirs, the rest keep an unknown author;
- a member's new line replaces their own earlier line when their copy no longer holds it (an edit);
- `取消` / `不要了` / `-1`, or a member emptying their own line, cancels;
- a member's second new line is a second entry.
The state is small and explicit, so the handler can keep it in memory per chain and persist each change.

`fold` takes a copy as a `ChainReader` read it: when the copy repeats one already folded and adds lines at its end
(most copies do), only those lines are looked at, so a message costs its new lines, not the list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bot.parsing.chain import ChainEntry
from bot.parsing.chain_reader import Copy

ACTIVE, REPLACED, CANCELLED, LATE, CANCEL_MARK = "active", "replaced", "cancelled", "late", "cancel"


@dataclass
class LineState:
    key: str
    who: str
    author: str | None  # wxid; None when the line reached us inside someone else's copy
    status: str  # active | replaced | cancelled | late | cancel (a cancel instruction line)
    entry: ChainEntry | None = None  # the parsed entry, when this process parsed it
    ref: object = None  # the handler's row id or object for this line


@dataclass(frozen=True)
class Change:
    kind: str  # created | updated | cancelled | late | noted (a cancel line with nothing to cancel)
    line: LineState
    previous: LineState | None = None  # the line an update or cancel applies to


@dataclass(frozen=True)
class Seen:
    """One entry of an incoming message, with its author when the transport says (the native 接龙 card)."""

    entry: ChainEntry
    author: str | None = None


def squash(who: str) -> str:
    return "".join(who.split())


def belongs_to(who: str, sender_name: str) -> bool:
    """Does the participant label name the sender? (`3栋 王阿姨` written by 王阿姨)"""
    name, label = squash(sender_name), squash(who)
    return bool(name) and bool(label) and (name in label or label.endswith(name[-2:]) and len(name) >= 2)


@dataclass
class ChainState:
    lines: dict[str, LineState] = field(default_factory=dict)
    #: lines by their label without spaces: an edit or a cancel looks up its writer's lines without a scan
    by_who: dict[str, list[LineState]] = field(default_factory=dict)
    #: serials of copies folded in: every line of each is in `lines` (lines are never removed)
    folded: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        for line in self.lines.values():
            self.by_who.setdefault(squash(line.who), []).append(line)

    @classmethod
    def of(cls, lines: Iterable[LineState]) -> ChainState:
        return cls({line.key: line for line in lines})

    def _add(self, line: LineState, label: str) -> None:
        self.lines[line.key] = line
        self.by_who.setdefault(label, []).append(line)

    def active(self) -> list[LineState]:
        return [line for line in self.lines.values() if line.status == ACTIVE]

    def new_entries(self, seen: Sequence[Seen]) -> list[Seen]:
        return [s for s in seen if s.entry.key and s.entry.key not in self.lines]

    def fold(
        self,
        copy: Copy,
        sender_id: str,
        sender_name: str,
        *,
        authors: Sequence[str | None] | None = None,
        late: bool = False,
    ) -> list[Change]:
        """`apply` for a copy read by a `ChainReader` (`authors`: per entry, from a native card)."""
        keys, lines = copy.keys, self.lines
        since = copy.repeated if copy.extends in self.folded else 0
        fresh = [i for i in range(since, len(keys)) if keys[i] and keys[i] not in lines]
        changes: list[Change] = []
        if fresh:
            entries = copy.parsed.entries
            seen = [Seen(entries[i], authors[i] if authors else None) for i in fresh]
            changes = self._apply_fresh(seen, keys, sender_id, sender_name, late)
        if len(self.folded) >= 1024:
            self.folded.clear()  # forgetting only costs one full look at the next copy
        self.folded.add(copy.serial)
        return changes

    def apply(
        self,
        seen: Sequence[Seen],
        sender_id: str,
        sender_name: str,
        *,
        late: bool = False,
        held: Collection[str] | None = None,
    ) -> list[Change]:
        """Fold one message into the state; returns what changed, in the message's order. `held`: the content keys
        of every entry of the message, when `seen` holds only some of them (the new ones)."""
        fresh = self.new_entries(seen)
        if not fresh:
            return []
        return self._apply_fresh(
            fresh, held if held is not None else {s.entry.key for s in seen}, sender_id, sender_name, late
        )

    def _apply_fresh(
        self, fresh: Sequence[Seen], keys_here: Collection[str], sender_id: str, sender_name: str, late: bool
    ) -> list[Change]:
        last = fresh[-1]
        changes: list[Change] = []
        for item in fresh:
            entry = item.entry
            author = item.author or self._author_of(item, sender_id, sender_name, is_last=item is last)
            line = LineState(entry.key, entry.who, author, ACTIVE, entry)
            label = squash(entry.who)
            self._add(line, label)
            if late:
                line.status = LATE
                changes.append(Change("late", line))
                continue
            actor = author or sender_id
            own = self._own_missing(label, actor, keys_here)
            if entry.cancelled or (own is not None and not entry.items):
                line.status = CANCEL_MARK
                target = own or self._latest_active(label, actor)
                if target is None:
                    changes.append(Change("noted", line))
                    continue
                target.status = CANCELLED
                changes.append(Change("cancelled", line, target))
                continue
            if own is not None:
                own.status = REPLACED
                line.author = line.author or own.author or actor
                changes.append(Change("updated", line, own))
            else:
                changes.append(Change("created", line))
        return changes

    @staticmethod
    def _author_of(item: Seen, sender_id: str, sender_name: str, *, is_last: bool) -> str | None:
        # The sender's own line names them, or is the last new line of their copy; earlier new lines were healed.
        if is_last or belongs_to(item.entry.who, sender_name):
            return sender_id
        return None

    def _own_missing(self, label: str, actor: str, keys_here: Collection[str]) -> LineState | None:
        """The actor's active line with this label that their copy no longer holds (so the new line edits it)."""
        for line in self.by_who.get(label, ()):
            if line.status == ACTIVE and line.key not in keys_here and line.author in (actor, None):
                return line
        return None

    def _latest_active(self, label: str, actor: str) -> LineState | None:
        mine = [ln for ln in self.by_who.get(label, ()) if ln.status == ACTIVE and ln.author in (actor, None)]
        if not mine:
            mine = [ln for ln in self.active() if ln.author == actor]
        return mine[-1] if mine else None
