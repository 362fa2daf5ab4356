"""Merging 接龙 copies: the pure rules that turn a sequence of chain messages into the lines the group meant.

Every member re-sends the whole list, so a line is identified by its content (`ChainEntry.key`), never by its
number, and its participant by the label it carries. The rules (DESIGN.md, "Chain semantics"; docs/decisions.md,
"Healing"):
- a line missing from a later copy is not a cancellation; a line another member's copy repeats changes nothing;
- a line's owner is decided by its label before its copier: a label that names the sender is theirs, a label the
  chain already knows is its participant's, and only a new label with nobody else's claim (the copy's last new
  line, when the sender's own line is not in the copy) is the sender's; the rest keep an unknown author;
- a new line with the label of an active line the copy no longer holds is that participant's edit, whoever copied
  it (the next copy proves the edit the bot missed) — unless a copier only wrote the same order differently
  (`草莓2盒` → `草莓2`, a dropped emoji, spacing): that is a copy of the line and changes nothing;
- `取消` / `不要了` / `-1` cancels the order of the participant the line names, and only that one; a line emptied to
  its bare label at the participant's place cancels their order, whoever's copy shows it;
- a healed edit gives way to the next copy showing the earlier text, unless that copy is provably older than the one
  that proved it (it lacks a participant first seen there or later);
- a member's own copy holding their earlier text again, in place of their active line, is an edit back; so is
  another member's copy that does and is provably newer (it holds a line first seen after their edit);
- a member's second new line, next to their first, is a second entry;
- an order said outside the 接龙 (`add_outside`, `+1`) is a line no copy holds, so no copy removes it; a later line
  of its participant ordering one of its products takes it over (a copy when it orders the same, else an edit).
The state is small and explicit, so the handler can keep it in memory per chain and persist each change.

`fold` takes a copy as a `ChainReader` read it: when the copy repeats one already folded and adds lines at its end
(most copies do), only those lines are looked at, so a message costs its new lines, not the list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bot.parsing.chain import ChainEntry
from bot.parsing.chain_reader import Copy
from bot.parsing.merge_lines import (
    ACTIVE,
    CANCEL_MARK,
    CANCELLED,
    COPY,
    LATE,
    OUTSIDE,
    REPLACED,
    Change,
    LineState,
    Seen,
    _outside,
    _overlap,
    belongs_to,
    ident,
    same_order,
)


@dataclass
class ChainState:
    lines: dict[str, LineState] = field(default_factory=dict)
    #: lines by their participant (`ident` of the label): an edit or a cancel looks up the lines it may mean
    by_who: dict[str, list[LineState]] = field(default_factory=dict)
    #: lines by their author's wxid: a member's own lines (edits back, "is the sender's own line in the copy?")
    by_author: dict[str, list[LineState]] = field(default_factory=dict)
    #: serials of copies folded in: every line of each is in `lines` (lines are never removed)
    folded: set[int] = field(default_factory=set)
    #: active lines that stand for a participant's line on the evidence of someone else's copy only (healed edits)
    healed: list[LineState] = field(default_factory=list)
    #: orders said outside the 接龙 (`add_outside`): no copy holds them, so none ever vanishes from one
    outside: list[LineState] = field(default_factory=list)
    #: copies folded in so far: numbers `born` and `since`
    copies: int = 0

    def __post_init__(self) -> None:
        known = list(self.lines.values())
        if known and not any(ln.born for ln in known):
            for n, line in enumerate(known, 1):
                line.born = n
        self.copies = max((ln.born for ln in known), default=0)
        for line in known:
            line.since = line.since or line.born
            if line.key.startswith(OUTSIDE) and line.status != CANCEL_MARK:
                self.outside.append(line)
            self.by_who.setdefault(ident(line.who), []).append(line)
            if line.author:
                self.by_author.setdefault(line.author, []).append(line)
        for lines in self.by_who.values():
            if not any(ln.status == REPLACED for ln in lines):
                continue
            for line in lines:
                # a line nobody's own message holds, or one that a later line healed from a copy gave way to (a
                # copy put it back): it stands on the last copy's evidence, dated at the latest line it displaced
                later = [ln.born for ln in lines if ln.status == REPLACED and ln.author is None and ln.born > line.born]
                if line.status == ACTIVE and (line.author is None or later):
                    line.since = max(later, default=line.born)
                    self.healed.append(line)
                elif line.status == ACTIVE and any(ln.status == REPLACED and ln.born > line.born for ln in lines):
                    # the owner's line put back after their later text: the store keeps neither by whose copy nor when
                    line.since = self.copies  # so another copy proves an edit back only with a line seen since

    @classmethod
    def of(cls, lines: Iterable[LineState]) -> ChainState:
        return cls({line.key: line for line in lines})

    def _add(self, line: LineState, label: str) -> None:
        self.lines[line.key] = line
        self.by_who.setdefault(label, []).append(line)
        if line.author:
            self.by_author.setdefault(line.author, []).append(line)

    def _own(self, line: LineState, author: str | None) -> None:
        if author and line.author != author:
            line.author = author
            self.by_author.setdefault(author, []).append(line)

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
        entries = copy.parsed.entries
        self.copies += 1
        changes = [] if late else self._edits_back(keys, sender_id, lambda k: entries[keys.index(k)])
        if fresh:
            seen = [Seen(entries[i], authors[i] if authors else None) for i in fresh]
            changes += self._apply_fresh(seen, keys, sender_id, sender_name, late)
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
        keys_here = held if held is not None else dict.fromkeys(s.entry.key for s in seen)  # in the message's order
        by_key = {s.entry.key: s.entry for s in seen}
        self.copies += 1
        changes = [] if late else self._edits_back(keys_here, sender_id, by_key.get)
        fresh = self.new_entries(seen)
        if fresh:
            changes += self._apply_fresh(fresh, keys_here, sender_id, sender_name, late)
        return changes

    # --- the rules ------------------------------------------------------------------------------------------------

    def _edits_back(
        self,
        keys_here: Collection[str],
        sender_id: str,
        entry_of: Callable[[str], ChainEntry | None],
    ) -> list[Change]:
        """An earlier text of a line back in a copy, in place of the participant's active line: an edit back, when
        the copy is the participant's own (their earlier text healed from others' copies included); when the active
        line stands only on another member's copy (a healed edit: the latest copy is the best evidence) and this
        copy is not provably older than that one; or when the copy is provably newer than the one that made the
        active line current (it holds a line first seen after it): the owner's edit back, missed. Otherwise another
        member's copy holding an old text in place of a line its owner wrote was copied from an old list: it changes
        nothing."""
        own = self.by_author.get(sender_id, ())
        olds = [ln for ln in own if ln.status == REPLACED and ln.key in keys_here]
        owned = {id(ln) for ln in olds}
        for label in {ident(ln.who) for ln in own}:  # healed from others' copies, so no author: theirs by the label
            found = [ln for ln in self.by_who.get(label, ()) if ln.status == REPLACED and ln.author is None]
            found = [ln for ln in found if ln.key in keys_here]
            olds += found
            owned |= {id(ln) for ln in found}
        healed = [ln for ln in self.healed if ln.status == ACTIVE and ln.key not in keys_here] if self.healed else []
        for line in healed:
            olds += [ln for ln in self.by_who[ident(line.who)] if ln.status == REPLACED and ln.key in keys_here]
        lines = self.lines
        for key in keys_here:  # earlier texts of lines their owners wrote (a missed edit back, if the copy is newer)
            known = lines.get(key)
            if known is not None and known.status == REPLACED and id(known) not in owned:
                olds.append(known)
        changes: list[Change] = []
        here: set[str] | None = None
        labels: set[str] | None = None  # the participants this copy holds (asked only when it matters)
        for old in olds:
            if old.status != REPLACED:
                continue
            label = ident(old.who)
            gone = self._gone(label, keys_here)
            mine = id(old) in owned
            if not mine and gone:
                if any(gone[0] is h for h in healed):
                    labels = self._labels(keys_here, entry_of) if labels is None else labels
                    if self._older(gone[0].since, label, labels):
                        continue  # copied from a list older than the copy that proved the healed line
                else:
                    here = set(keys_here) if here is None else here
                    if not self._newer(gone[0].since, here):
                        continue  # maybe a copy of the list before the owner's edit: a race
            if not gone:
                continue
            entry = entry_of(old.key)  # the copy's reading of the line (a line loaded from the store has none)
            if entry is not None:
                old.entry = entry
            if old.items is None:
                continue
            old.status, gone[0].status, old.since = ACTIVE, REPLACED, self.copies
            if not mine:
                self.healed.append(old)  # put back on this copy's evidence: the next copy may show the edit again
            changes.append(Change("updated", old, gone[0]))
        if self.healed:
            self.healed = [ln for ln in self.healed if ln.status == ACTIVE]
        return changes

    def _labels(self, keys_here: Collection[str], entry_of: Callable[[str], ChainEntry | None]) -> set[str]:
        labels = set()
        for key in keys_here:
            line = self.lines.get(key)
            entry = entry_of(key) if line is None else None
            who = line.who if line is not None else entry.who if entry is not None else ""
            labels.add(ident(who))
        return labels

    def _newer(self, since: int, keys_here: set[str]) -> bool:
        """Does the copy hold a line the bot first saw after copy number `since`? That copy, the owner's, held the
        whole list of its time, so the line joined after it: this copy was made from a later list."""
        for line in reversed(self.lines.values()):
            if line.born <= since:
                return False
            if line.key in keys_here:
                return True
        return False

    def _older(self, since: int, label: str, labels: set[str]) -> bool:
        """Is a copy holding these participants provably older than copy number `since`? It is when it lacks a
        participant (other than `label`) whose line the bot first saw in that copy or a later one: a line never
        leaves the group's list, so a copy without it was copied from a list made before it joined."""
        for line in reversed(self.lines.values()):
            if line.born < since:
                return False
            who = ident(line.who)
            if who and who != label and who not in labels:
                return True
        return False

    def _apply_fresh(
        self, fresh: Sequence[Seen], keys_here: Collection[str], sender_id: str, sender_name: str, late: bool
    ) -> list[Change]:
        last = fresh[-1]
        sender_here: bool | None = None  # is the sender's own line in this copy? (asked only when it matters)
        changes: list[Change] = []
        for item in fresh:
            entry = item.entry
            label = ident(entry.who)
            names_sender = item.author == sender_id if item.author else belongs_to(entry.who, sender_name)
            line = LineState(entry.key, entry.who, item.author, ACTIVE, entry, born=self.copies, since=self.copies)
            self._add(line, label)
            if names_sender:
                self._own(line, sender_id)
            gone = self._gone(label, keys_here)
            if late:
                line.status = LATE
                changes.append(Change("late", line))
                continue
            if not gone and self.outside:
                if sender_here is None and not names_sender and not item.author:
                    sender_here = self._sender_here(fresh, keys_here, sender_id, sender_name)
                own = names_sender or (len(self.by_who[label]) == 1 and item is last and not sender_here)
                gone = self._taken_over(entry, label, keys_here, item.author or (sender_id if own else None))
            mine = names_sender or any(ln.author == sender_id for ln in gone)
            # emptied to the bare label at the participant's place: their cancel, whoever's copy shows it
            if entry.cancelled or (gone and not entry.items and (mine or not entry.remark)):
                line.status = CANCEL_MARK
                target = gone[0] if gone else self._named(label)
                if target is None and names_sender:
                    target = self._latest_own(sender_id)
                if target is None:
                    changes.append(Change("noted", line))
                    continue
                self._own(line, line.author or target.author)
                target.status = CANCELLED
                changes.append(Change("cancelled", line, target))
                continue
            if gone and mine and gone[0].key.startswith(OUTSIDE) and same_order(gone[0].items, entry.items):
                line.status, line.of = COPY, gone[0].key  # their order said outside, now in the list as said
                changes.append(Change("copied", line))
                continue
            if gone and not mine:
                copied = self._copied(line, gone, label)
                if copied is not None:
                    changes.append(copied)
                    continue
            if gone:
                target = next((ln for ln in gone if same_order(ln.items, entry.items)), gone[0])
                target.status = REPLACED
                if mine:
                    self._own(line, line.author or target.author)
                    if target.author is None:
                        self._own(target, line.author)  # their text healed before: an edit back may bring it back
                else:
                    self.healed.append(line)  # the participant's edit, proven by someone else's copy only
                changes.append(Change("updated", line, target))
                continue
            if not mine:
                loose = self._loose(label, keys_here)
                if loose is not None and same_order(loose.items, entry.items):
                    line.status, line.of = COPY, loose.key
                    changes.append(Change("copied", line))
                    continue
                if any(ln.status == CANCEL_MARK and ln.key not in keys_here for ln in self.by_who[label]):
                    # the participant's cancel line is not here, their earlier text is at its place: an old list's
                    line.status = REPLACED
                    changes.append(Change("noted", line))
                    continue
            if line.author is None:
                known = [ln.author for ln in self.by_who[label] if ln.author and ln is not line]
                if known:
                    self._own(line, known[-1])  # a label the chain knows: its participant's, not the copier's
                elif len(self.by_who[label]) == 1 and item is last:
                    if sender_here is None:
                        sender_here = self._sender_here(fresh, keys_here, sender_id, sender_name)
                    if not sender_here:
                        self._own(line, sender_id)  # the copy's last new line, when the sender's own is not here
            changes.append(Change("created", line))
        return changes

    def _gone(self, label: str, keys_here: Collection[str]) -> list[LineState]:
        """The participant's active lines that this copy no longer holds (nor a copier's rendering of them)."""
        lines = self.by_who.get(label)
        if not lines:
            return []
        gone = [ln for ln in lines if ln.status == ACTIVE and ln.key not in keys_here and not _outside(ln)]
        if gone:
            shown = [ln.of for ln in lines if ln.status == COPY and ln.key in keys_here]
            if None in shown:
                return []  # a copy whose original is not known (loaded from the store) stands for the participant
            gone = [ln for ln in gone if ln.key not in shown]
        return gone

    def _copied(self, line: LineState, gone: list[LineState], label: str) -> Change | None:
        """A copier's line that orders what the participant's line (or an earlier text of it) ordered: a copy."""
        items = line.items
        target = next((ln for ln in gone if same_order(ln.items, items)), None)
        if target is None:  # an old text, copied from an old list: the participant's later edit stands
            target = next(
                (ln for ln in self.by_who[label] if ln.status == REPLACED and same_order(ln.items, items)), None
            )
        if target is None:
            if items:
                return None
            target = gone[0]  # a copier who left the items out cancels nothing
        line.status, line.of = COPY, target.key
        return Change("copied", line)

    def _loose(self, label: str, keys_here: Collection[str]) -> LineState | None:
        """The one active line, missing from this copy, whose label holds this one or is held by it (a copier who
        dropped an emoji or a name: `6-5 🐶` and `6-5 汪汪`)."""
        if len(label) < 2:
            return None
        found = [ln for ln in self._looser(label) if ln.key not in keys_here and not _outside(ln)]
        return found[0] if len(found) == 1 else None

    def _looser(self, label: str) -> list[LineState]:
        """Active lines of the other participants whose label holds this one or is held by it."""
        return [
            ln
            for other, lines in self.by_who.items()
            if other != label and len(other) >= 2 and (other in label or label in other)
            for ln in lines
            if ln.status == ACTIVE
        ]

    def _named(self, label: str) -> LineState | None:
        """The latest active line of the participant a cancel line names (exactly, else by a looser label)."""
        mine = [ln for ln in self.by_who.get(label, ()) if ln.status == ACTIVE]
        if mine:
            return mine[-1]
        if len(label) < 2:
            return None
        found = self._looser(label)
        return found[-1] if found and len({ident(ln.who) for ln in found}) == 1 else None

    def _taken_over(
        self, entry: ChainEntry, label: str, keys_here: Collection[str], owner: str | None
    ) -> list[LineState]:
        """The participant's orders said outside the 接龙 that this new line takes over: its label names their
        participant (or its owner said them), it orders one of their products (or none, or cancels), and no line of
        this copy stands for them already (then the new line is a second order)."""
        found = [
            ln
            for ln in self.outside
            if ln.status == ACTIVE
            and (ident(ln.who) == label or belongs_to(entry.who, ln.who) or (owner is not None and ln.author == owner))
            and (entry.cancelled or not entry.items or _overlap(ln.items, entry.items))
        ]
        if not found:
            return []
        shown = {ln.of for ln in map(self.lines.get, keys_here) if ln is not None and ln.status == COPY}
        return [ln for ln in found if ln.key not in shown]

    # --- orders said outside the 接龙 ------------------------------------------------------------------------------

    def add_outside(self, entry: ChainEntry, author: str) -> Change:
        """An order a member said outside the 接龙 (its key: `OUTSIDE` + the message id): a line of the chain no copy
        holds. A later 接龙 line of the participant ordering one of its products takes it over (an edit, or a copy
        when it orders the same); a copy without it changes nothing."""
        line = LineState(entry.key, entry.who, author, ACTIVE, entry)
        self._add(line, ident(entry.who))
        self.outside.append(line)
        return Change("created", line)

    def cancel_outside(self, entry: ChainEntry, author: str, target: LineState) -> Change:
        """A member's `不要了` said outside the 接龙, cancelling one of their lines (said outside or in the list)."""
        line = LineState(entry.key, entry.who, author, CANCEL_MARK, entry)
        self._add(line, ident(entry.who))
        target.status = CANCELLED
        return Change("cancelled", line, target)

    def active_of(self, author: str, name: str) -> list[LineState]:
        """A member's active lines: theirs by wxid, or, when the bot never learnt who wrote a line (healed from a
        copy), by a label that names them."""
        mine = [ln for ln in self.by_author.get(author, ()) if ln.status == ACTIVE]
        loose = [ln for ln in self.active() if ln.author is None and belongs_to(ln.who, name)]
        return mine + [ln for ln in loose if ln not in mine]

    def _latest_own(self, sender_id: str) -> LineState | None:
        mine = [ln for ln in self.by_author.get(sender_id, ()) if ln.status == ACTIVE]
        return mine[-1] if mine else None

    def _sender_here(self, fresh: Sequence[Seen], keys_here: Collection[str], sender_id: str, sender_name: str) -> bool:
        if any(belongs_to(s.entry.who, sender_name) for s in fresh):
            return True
        return any(ln.status == ACTIVE and ln.key in keys_here for ln in self.by_author.get(sender_id, ()))
