"""The pieces of a 接龙 chain's merge state (`bot/parsing/merge.ChainState`): a line as the state holds it, the
change folding a copy makes, an entry as seen, and how a participant label is compared (`ident`, `belongs_to`) and
two lines' orders (`same_order`)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.parsing.chain import ChainEntry, Item

ACTIVE, REPLACED, CANCELLED, LATE, CANCEL_MARK = "active", "replaced", "cancelled", "late", "cancel"
COPY = "copy"  # a copier's rendering of another line: it orders nothing of its own
#: The key prefix of an order a member said outside the 接龙 (`我要两盒草莓`, `+1`), then the message id: a full-width
#: ＋, which no line's key holds (keys are NFKC), so no copy ever holds such a line.
OUTSIDE = "＋msg:"


@dataclass
class LineState:
    key: str
    who: str
    author: str | None  # wxid; None when the line reached us inside someone else's copy
    status: str  # active | replaced | cancelled | late | cancel (a cancel instruction line) | copy
    entry: ChainEntry | None = None  # the parsed entry, when this process parsed it
    ref: object = None  # the handler's row id or object for this line
    said: tuple[Item, ...] | None = None  # what the line orders, when `entry` is not at hand (loaded from the store)
    of: str | None = None  # a copy: the key of the line it renders (None when unknown: loaded from the store)
    born: int = 0  # the number of the copy that first held the line (its state's count; from the store: by message)
    since: int = 0  # the number of the copy from which the line stands as its participant's current one

    @property
    def items(self) -> tuple[Item, ...] | None:
        return self.entry.items if self.entry is not None else self.said


@dataclass(frozen=True)
class Change:
    kind: str  # created | updated | cancelled | late | noted (a cancel line with nothing to cancel) | copied
    line: LineState
    previous: LineState | None = None  # the line an update or cancel applies to


@dataclass(frozen=True)
class Seen:
    """One entry of an incoming message, with its author when the transport says (the native 接龙 card)."""

    entry: ChainEntry
    author: str | None = None


def squash(who: str) -> str:
    return "".join(who.split())


def ident(who: str) -> str:
    """A participant label as a participant: letters and digits only, so `6-5 🐶 汪汪` and `6-5汪汪` are one."""
    if not who.isascii():
        who = unicodedata.normalize("NFKC", who)
    return "".join(ch for ch in who.casefold() if ch.isalnum())


def belongs_to(who: str, sender_name: str) -> bool:
    """Does the participant label name the sender? (`3栋 王阿姨` written by 王阿姨, never by 李阿姨)"""
    name, label = ident(sender_name), ident(who)
    if not name or not label:
        return False
    if len(name) >= 2:
        return name in label
    # a one-character name (陈) names `15-601 陈`, not `3栋 陈叔`
    return label.endswith(name) and (len(label) == 1 or not label[-2].isalpha())


def same_order(a: tuple[Item, ...] | None, b: tuple[Item, ...] | None) -> bool:
    """Do two lines order the same (a unit left out counts as any unit: `草莓2` is `草莓2盒`)?"""
    if a is None or b is None or len(a) != len(b) or not a:
        return False
    for x, y in zip(sorted(a, key=_by_product), sorted(b, key=_by_product), strict=True):
        if x.product != y.product or x.qty != y.qty or (x.unit != y.unit and x.unit and y.unit):
            return False
    return True


def _by_product(item: Item) -> str:
    return item.product


def _overlap(a: tuple[Item, ...] | None, b: tuple[Item, ...] | None) -> bool:
    """Do two lines order one product in common?"""
    return bool(a and b and {i.product for i in a} & {i.product for i in b})


def _outside(line: LineState) -> bool:
    return line.key.startswith(OUTSIDE)
