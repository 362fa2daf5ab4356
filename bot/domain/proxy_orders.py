"""A leader's orders for a neighbour (#15): `代报` enters an order under a participant label, `取消` cancels one.

Both are lines of the 接龙 the bot keeps (`ChainState`, `bot.parsing.merge`), applied by the order book like any
copy's changes, so stock, the wait list, the ladder, the digest and the summary treat them as any order:
- a 代报 for a label with no active line is a new line `LABEL 商品N单位` (written as a member would, so the same line
  in a later 接龙 is that line, not a second one); for a label that has one, it is that participant's edit: the
  line's items with the named product set to the new quantity (one participant, one order). A later 接龙 line under
  the same label is then matched by the chain's own rules (a copier's rendering is a copy; the participant's own
  changed line is their edit of the same order);
- a 取消 cancels the participant's active lines (each with its stock given back and the wait list moved up), or,
  with a product, takes that product off the lines holding it (a line holding nothing else is cancelled).
The line of a 代报 has no author (no member wrote it): `first_msg_id` is the leader's message, so rebuild replays it.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent, WaiterPromoted
from bot.domain.money import Amount, buy_prices
from bot.domain.orders import OrderBook, chain_state
from bot.domain.summary import load_status
from bot.domain.unit_of_work import UnitOfWork, unit_of_work
from bot.domain.units import items_label
from bot.events import Outbound
from bot.parsing.chain import ChainEntry, Item, normalize_key
from bot.parsing.merge import ACTIVE, CANCELLED, REPLACED, ChainState, Change, LineState, ident, same_order
from storage.models import Order

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.services import Services
    from bot.events import Inbound

PROXY_REMARK = "团长代报"


@dataclass(frozen=True)
class Where:
    """The buy and group a command acts in, and the room its digest goes to."""

    buy: Buy
    group: str
    group_id: int
    room: str


@dataclass(frozen=True)
class Outcome:
    """What a command did to one order: `kind` created | updated | unchanged | cancelled."""

    kind: str
    who: str
    items: tuple[Item, ...]  # what the order holds now (cancelled: what it held)
    status: str  # active | waiting | cancelled
    amount: Amount = Amount()
    dropped: tuple[Item, ...] = ()  # 取消 of one product: the items taken off


def active_lines(state: ChainState, label: str) -> list[LineState]:
    """The participant's active lines (by the label as a participant: `3栋 王阿姨` = `3栋王阿姨`)."""
    return [ln for ln in state.by_who.get(ident(label), ()) if ln.status == ACTIVE]


def lines_named(state: ChainState, label: str) -> list[LineState]:
    """The participant's active lines, else those of the one participant whose label holds `label` (`陈叔` for
    `2栋 陈叔`; two such participants: none, the leader is asked)."""
    exact = active_lines(state, label)
    want = ident(label)
    if exact or len(want) < 2:
        return exact
    found = [ln for ln in state.lines.values() if ln.status == ACTIVE and want in ident(ln.who)]
    return found if len({ident(ln.who) for ln in found}) == 1 else []


def labels_like(state: ChainState, label: str) -> list[str]:
    """The active labels closest to `label`: those that hold it or that it holds, then the similar ones."""
    labels = list(dict.fromkeys(ln.who for ln in state.lines.values() if ln.status == ACTIVE and ln.who))
    want = ident(label)
    holding = [w for w in labels if want and (want in ident(w) or (len(ident(w)) >= 2 and ident(w) in want))]
    close = difflib.get_close_matches(label, labels, n=3, cutoff=0.5)
    return list(dict.fromkeys(holding + close))[:3]


def unit_item(buy: Buy, unit_of: dict[str, str], item: Item) -> Item:
    """The item with the buy's unit written in when the leader left it out (`草莓1` → `草莓1盒`)."""
    if item.unit or not unit_of.get(item.product):
        return item
    return dataclasses.replace(item, unit=unit_of[item.product])


def line_text(who: str, items: tuple[Item, ...], remark: str = "") -> str:
    return " ".join(part for part in (who, items_label(items), remark) if part)


Tell = Callable[[list[Outcome], AsyncSession], Awaitable[None]]


async def proxy_order(
    services: Services, where: Where, event: Inbound, entry: ChainEntry, now: datetime, logger: Any, tell: Tell
) -> Outcome:
    """Record `entry` (its label and items, units written in) for its participant: a new line, or their edit.
    `tell` hears the outcome in the transaction, before the digest is queued (the leader's answer comes first)."""
    state = await chain_state(services, where.buy, where.group_id)
    mine = active_lines(state, entry.who)
    products = {it.product for it in entry.items}
    target = next((ln for ln in reversed(mine) if products & {it.product for it in ln.items or ()}), None)
    target = target or (mine[-1] if mine else None)
    if target is None:
        line = _new_line(state, entry.who, entry.items)
        changes = [Change("created", line)]
        [outcome] = await _write(services, where, event, changes, [("created", line, ())], now, logger, tell)
        return outcome
    kept = tuple(it for it in target.items or () if it.product not in products)
    items = kept + entry.items
    if same_order(target.items, items):
        async with services.db.transaction() as session:
            outcome = await _outcome(services, session, where, "unchanged", target, ())
            await tell([outcome], session)
        return outcome
    line = _edit_line(state, target, items)
    target.status = REPLACED
    changes = [Change("updated", line, target)]
    [outcome] = await _write(services, where, event, changes, [("updated", line, ())], now, logger, tell)
    return outcome


async def proxy_cancel(
    services: Services,
    where: Where,
    event: Inbound,
    lines: list[LineState],
    product: str,
    now: datetime,
    logger: Any,
    tell: Tell,
) -> list[Outcome]:
    """Cancel the participant's `lines` (only `product` off them, when named). Returns one outcome a line."""
    state = await chain_state(services, where.buy, where.group_id)
    changes: list[Change] = []
    done: list[tuple[str, LineState, tuple[Item, ...]]] = []
    for target in lines:
        held = target.items or ()
        if product and any(it.product != product for it in held):
            line = _edit_line(state, target, tuple(it for it in held if it.product != product))
            target.status = REPLACED
            changes.append(Change("updated", line, target))
            done.append(("updated", line, tuple(it for it in held if it.product == product)))
        else:
            target.status = CANCELLED
            changes.append(Change("cancelled", target, target))  # the line itself is its cancel: no mark line
            done.append(("cancelled", target, held))
    return await _write(services, where, event, changes, done, now, logger, tell)


# --- lines ---------------------------------------------------------------------------------------------------------


def _entry(who: str, items: tuple[Item, ...], text: str) -> ChainEntry:
    return ChainEntry(None, text, who, items, PROXY_REMARK if text.endswith(PROXY_REMARK) else "", False, text)


def _new_line(state: ChainState, who: str, items: tuple[Item, ...]) -> LineState:
    """A new line of the participant: its text as a member writes it, unless that text is taken (an earlier order
    of theirs, cancelled): then marked `团长代报`, so the row is new and the old order stays as it ended."""
    text = _free_text(state, who, items)
    line = LineState(text, who, None, ACTIVE, _entry(who, items, text))
    state.by_who.setdefault(ident(who), []).append(line)
    state.lines[text] = line
    return line


def _edit_line(state: ChainState, target: LineState, items: tuple[Item, ...]) -> LineState:
    """The participant's line with new items: an earlier text of the line when it is that one (its row reused, as
    an edit back in the 接龙 is), else a new line under the same label."""
    text = normalize_key(line_text(target.who, items))
    old = state.lines.get(text)
    if old is not None and old.status == REPLACED and ident(old.who) == ident(target.who) and old.ref is not None:
        old.status, old.entry = ACTIVE, _entry(target.who, items, text)
        return old
    line = _new_line(state, target.who, items)
    if target.author:
        line.author = target.author  # the participant's own line, edited for them: still theirs
        state.by_author.setdefault(target.author, []).append(line)
    return line


def _free_text(state: ChainState, who: str, items: tuple[Item, ...]) -> str:
    text = normalize_key(line_text(who, items))
    n = 1
    while text in state.lines:
        text = normalize_key(line_text(who, items, PROXY_REMARK + (str(n) if n > 1 else "")))
        n += 1
    return text


# --- the store -----------------------------------------------------------------------------------------------------


async def _write(
    services: Services,
    where: Where,
    event: Inbound,
    changes: list[Change],
    done: list[tuple[str, LineState, tuple[Item, ...]]],
    now: datetime,
    logger: Any,
    tell: Tell,
) -> list[Outcome]:
    """The changes through the order book in one unit of work: the leader is told, then the digest is queued. A
    failure drops the chain's memory (the store is the truth), as the 接龙 route does."""
    in_group = dataclasses.replace(event, room_id=where.room, private=False)  # the digest goes to the group
    try:
        async with unit_of_work(services) as uow:
            book = OrderBook(uow, where.buy, where.group, where.group_id, in_group, logger)
            events = await book.apply(changes, now)
            outcomes = [await _outcome(services, uow.session, where, k, ln, dropped) for k, ln, dropped in done]
            await tell(outcomes, uow.session)
            await _promoted(services, uow, events)
            await uow.publish(events)
    except BaseException:
        services.chain.forget_unsure((where.buy.id, where.group_id))
        raise
    return outcomes


async def _promoted(services: Services, uow: UnitOfWork, events: list[DomainEvent]) -> None:
    """A cancel gave units back: the waiters who got them are told, as after a member's own cancel."""
    for e in events:
        if isinstance(e, WaiterPromoted):
            await services.sender.enqueue(
                Outbound(e.room, f"{e.who} 有邻居取消了,你的候补转正啦:{e.items} ✅"),
                group=e.group,
                kind="reply",
                key=f"promoted:{e.id}:v{e.version}",
                session=uow.session,
            )


async def _outcome(
    services: Services, session: AsyncSession, where: Where, kind: str, line: LineState, dropped: tuple[Item, ...]
) -> Outcome:
    """The order of `line` as it stands, with its amount at the prices in force (the ladder tier reached)."""
    order = await session.scalar(select(Order).where(Order.chain_line_id == line.ref))
    if order is None:
        return Outcome(kind, line.who, line.items or (), "cancelled", dropped=dropped)
    status = await load_status(session, services.config, where.buy)
    items = tuple(Item(ol.product, ol.known, Decimal(ol.qty), ol.unit) for ol in order.lines)
    prices = buy_prices(services.config, where.buy, status.members)
    amount = prices.amount(items) if order.status == "active" else Amount()
    return Outcome(kind, order.participant, items, order.status, amount, dropped)
