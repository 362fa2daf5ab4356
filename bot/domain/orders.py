"""The order book of one buy in one group: a copy's changes become orders, stock is taken and given, the wait list
moves up, and every change leaves its outbox row — all in the caller's unit of work, answered with domain events.

The new rows are Core INSERTs with RETURNING (one statement each, no ORM unit of work); the rarer edits, cancels
and promotions load their orders with the ORM. The outbox rows are held and written last, in one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent, OrderCancelled, OrderChanged, OrderCreated, WaiterPromoted
from bot.domain.buys import single_product
from bot.domain.told import told_in_person
from bot.domain.units import items_label, stocked, units
from bot.events import Inbound
from bot.logs import get_logger
from bot.parsing.chain import ChainEntry, Item
from bot.parsing.entry import EntryReader, entry_reader
from bot.parsing.merge import OUTSIDE, ChainState, Change, LineState
from storage.db import dialect_insert
from storage.models import ChainLine, Member, Order, OrderLine
from storage.outbox import hold_change, order_payload, write_held_changes
from storage.stock import buy_key

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.services import Services
    from bot.domain.unit_of_work import UnitOfWork
    from storage.db import Database

log = get_logger("tuanbot.orders")


@dataclass(frozen=True)
class NewOrder:
    """An order `_create` wrote with one INSERT, as `_sync` tells the backend of it (no ORM object is made)."""

    id: int
    group_id: int
    member_id: int | None
    participant: str
    remark: str
    status: str
    lines: tuple[Item, ...]
    version: int = 1


class OrderBook:
    """One buy's orders as seen from one group's message (`event`): apply the changes a copy made."""

    def __init__(
        self, uow: UnitOfWork, buy: Buy, group: str, group_id: int, event: Inbound, logger: Any = None
    ) -> None:
        self.uow = uow
        self.services: Services = uow.services
        self.session: AsyncSession = uow.session
        self.buy = buy
        self.group = group
        self.group_id = group_id
        self.event = event
        self.log = logger or log

    async def apply(self, changes: list[Change], now: datetime) -> list[DomainEvent]:
        """Every change of the message as rows of its transaction, and what happened."""
        session, buy, event = self.session, self.buy, self.event
        events: list[DomainEvent] = []
        for change in changes:
            line = change.line
            if line.ref is not None:  # an earlier text back (an edit back): its row is there already
                await session.execute(
                    _UPDATE_CHAIN_LINE, {"ref": line.ref, "line_status": line.status, "line_author": line.author}
                )
            else:
                line.ref = await session.scalar(
                    _INSERT_CHAIN_LINE,
                    {
                        "buy_id": buy.id,
                        "group_id": self.group_id,
                        "key": line.key,
                        "raw": line.entry.raw if line.entry else line.key,
                        "who": line.who,
                        "author_id": line.author,
                        "first_msg_id": event.msg_id,
                        "status": line.status,
                        "created_at": now,
                    },
                )
            previous = change.previous
            if previous is not None:
                await session.execute(
                    _UPDATE_CHAIN_LINE,
                    {"ref": previous.ref, "line_status": previous.status, "line_author": previous.author},
                )
            entry = line.entry
            if change.kind == "created" and entry is not None:
                events.append(await self._create(line, entry, now))
            elif change.kind == "updated" and entry is not None and previous is not None:
                events.extend(await self._update(previous, line, entry, now))
            elif change.kind == "cancelled" and previous is not None:
                events.extend(await self._cancel(previous, now))
            elif change.kind == "late":
                self.log.info("chain_line_too_late", buy=buy.id, line=line.key[:80])
        await write_held_changes(session)
        return events

    async def _create(self, line: LineState, entry: ChainEntry, now: datetime) -> OrderCreated:
        services, session, buy = self.services, self.session, self.buy
        # a healed line (carried by someone else's copy) has no known author, so no member yet
        author = line.author
        member_id = (
            await _member_id(
                session, services.chain.member_ids, self.group_id, author, entry.who, self.event, services.db
            )
            if author
            else None
        )
        in_stock = await take_stock(services, session, buy, entry.items)
        status = "active" if in_stock else "waiting"
        chain_line_id = _ref(line)
        order_id = await session.scalar(
            _INSERT_ORDER,
            {
                "buy_id": buy.id,
                "group_id": self.group_id,
                "member_id": member_id,
                "chain_line_id": chain_line_id,
                "participant": entry.who,
                "remark": entry.remark,
                "status": status,
                "version": 1,
                "digested_version": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        assert order_id is not None
        if entry.items:
            await session.execute(
                _INSERT_ORDER_LINE, [_order_line_row(order_id, chain_line_id, i) for i in entry.items]
            )
        what = "order_created" if in_stock else "order_waiting"
        self.log.info(what, buy=buy.id, order_id=order_id, who=entry.who, items=[items_label([i]) for i in entry.items])
        if not entry.items or any(not it.known for it in entry.items):
            self.log.info("order_needs_leader", buy=buy.id, order_id=order_id, line=entry.raw[:80])
        order = NewOrder(order_id, self.group_id, member_id, entry.who, entry.remark, status, entry.items)
        _sync(self, order, now)
        return OrderCreated(buy.id, self.group, self.event.room_id, order_id, entry.who, waiting=not in_stock)

    async def _update(
        self, previous: LineState, line: LineState, entry: ChainEntry, now: datetime
    ) -> list[DomainEvent]:
        services, session, buy = self.services, self.session, self.buy
        order = await session.scalar(select(Order).where(Order.chain_line_id == previous.ref))
        if order is None:
            return [await self._create(line, entry, now)]
        if order.status == "active":
            await give_stock(services, session, buy, order.lines)
        order.chain_line_id = _ref(line)
        order.participant = entry.who
        order.remark = entry.remark
        order.updated_at = now
        order.version += 1
        order.lines.clear()
        await session.flush()
        order.lines.extend(_order_line(_ref(line), it) for it in entry.items)
        order.status = "active" if await take_stock(services, session, buy, order.lines) else "waiting"
        self.log.info(
            "order_updated", buy=buy.id, order_id=order.id, who=entry.who, items=[items_label([i]) for i in entry.items]
        )
        _sync(self, order, now)
        changed: list[DomainEvent] = [OrderChanged(buy.id, self.group, self.event.room_id, order.id, entry.who)]
        return changed + await self._promote_waiting(now)

    async def _cancel(self, target: LineState, now: datetime) -> list[DomainEvent]:
        services, session, buy = self.services, self.session, self.buy
        order = await session.scalar(select(Order).where(Order.chain_line_id == target.ref))
        if order is None or order.status == "cancelled":
            return []
        held_stock = order.status == "active"
        if held_stock:
            await give_stock(services, session, buy, order.lines)
        order.status = "cancelled"
        order.updated_at = now
        order.version += 1
        self.log.info("order_cancelled", buy=buy.id, order_id=order.id, who=order.participant)
        _sync(self, order, now)
        events: list[DomainEvent] = [
            OrderCancelled(buy.id, self.group, self.event.room_id, order.id, order.participant)
        ]
        if held_stock:
            events.extend(await self._promote_waiting(now))
        return events

    async def _promote_waiting(self, now: datetime) -> list[DomainEvent]:
        """Units came back: the first waiting lines that now fit become orders."""
        services, session, buy = self.services, self.session, self.buy
        if not any(item.stock is not None for item in buy.items):
            return []
        waiting = list(
            await session.scalars(
                select(Order).where(Order.buy_id == buy.id, Order.status == "waiting").order_by(Order.id)
            )
        )
        promoted: list[DomainEvent] = []
        for order in waiting:
            if not await take_stock(services, session, buy, order.lines):
                continue
            order.status = "active"
            order.updated_at = now
            order.version += 1
            told_in_person(order)  # the member hears `候补转正` now (the handler queues it in this transaction)
            self.log.info("order_promoted", buy=buy.id, order_id=order.id, who=order.participant)
            _sync(self, order, now, by_sender=False)
            group = self.group_name(order.group_id)
            room = services.groups.room_of(group) or self.event.room_id
            label = items_label(order.lines)
            promoted.append(WaiterPromoted("order", order.id, group, room, order.participant, label, order.version))
        return promoted

    async def promote_waiting(self, now: datetime) -> list[DomainEvent]:
        """Units came back some other way (a leader's 库存 / 加库存, #15): the same promotion as after a cancel."""
        return await self._promote_waiting(now)

    def group_name(self, group_id: int) -> str:
        return self.group if group_id == self.group_id else self.services.groups.name_of(group_id)


async def chain_state(services: Services, buy: Buy, group_id: int) -> ChainState:
    """The chain's state of (buy, group) as the 接龙 path keeps it between messages, loaded from the store when it is
    not in memory (a restart, a failed write): one for the 接龙, orders in words and a leader's 代报."""
    key = (buy.id, group_id)
    state = services.chain.states.get(key)
    if state is None:
        state = await load_state(services, buy.id, group_id, default_product=single_product(buy))
        services.chain.states[key] = state
    return state


async def load_state(
    services: Services, buy_id: str, group_id: int, *, default_product: str | None = None
) -> ChainState:
    """The chain's lines as the store holds them (after a restart or a failed write), each with what it orders
    (its stored text read again), so a copier's rendering of a line is known for one after a restart too."""
    reader = entry_reader(services.product_matcher())
    async with services.db.sessions() as session:
        rows = list(
            await session.execute(
                select(
                    ChainLine.id,
                    ChainLine.key,
                    ChainLine.who,
                    ChainLine.author_id,
                    ChainLine.status,
                    ChainLine.raw,
                    ChainLine.first_msg_id,
                )
                .where(ChainLine.buy_id == buy_id, ChainLine.group_id == group_id)
                .order_by(ChainLine.id)
            )
        )
        # an order said outside the 接龙 is no line of text: what it orders is its order's lines
        outside = {row_id for row_id, key, *_ in rows if key.startswith(OUTSIDE)}
        said: dict[int, list[Item]] = {}
        if outside:
            ordered = await session.execute(
                select(OrderLine.chain_line_id, OrderLine.product, OrderLine.known, OrderLine.qty, OrderLine.unit)
                .where(OrderLine.chain_line_id.in_(outside))
                .order_by(OrderLine.id)
            )
            for line_id, product, known, qty, unit in ordered:
                said.setdefault(line_id, []).append(Item(product, known, Decimal(qty), unit))
        lines, born, first = [], 0, None
        for row_id, key, who, author, status, raw, msg_id in rows:
            born += msg_id != first  # the lines one message brought were born in one copy (for `ChainState._older`)
            first = msg_id
            told = tuple(said.get(row_id, ())) if row_id in outside else _said(reader, raw, key, default_product)
            lines.append(LineState(key, who, author, status, ref=row_id, said=told, born=born))
        return ChainState.of(lines)


def _said(reader: EntryReader, raw: str, key: str, default_product: str | None) -> tuple[Item, ...] | None:
    entry = reader.entry(None, raw, default_product)
    return entry.items if entry.key == key else None


async def take_stock(services: Services, session: AsyncSession, buy: Buy, lines: Sequence[OrderLine | Item]) -> bool:
    """Take the units of every stocked product of the order, or none (the order then waits)."""
    limits = stocked(buy)
    taken: list[tuple[str, int]] = []
    for line in lines:
        if line.product not in limits:
            continue
        key, n = buy_key(buy.id, line.product), units(line.qty)
        if await services.stock.take(session, key, n) is None:
            for key_back, n_back in taken:
                await services.stock.give(session, key_back, n_back)
            return False
        taken.append((key, n))
    return True


async def give_stock(services: Services, session: AsyncSession, buy: Buy, lines: Sequence[OrderLine]) -> None:
    limits = stocked(buy)
    for line in lines:
        if line.product in limits:
            await services.stock.give(session, buy_key(buy.id, line.product), units(line.qty))


def _sync(book: OrderBook, order: Order | NewOrder, now: datetime, *, by_sender: bool = True) -> None:
    """The order's change, for the backend, in this same transaction (held, and written with the message's other
    changes in one statement). `by_sender`: the message's sender is the order's member (their own line); a
    promotion off the wait list is not the canceller's order."""
    hold_change(
        book.session,
        order_payload(
            ref=f"order:{order.id}",
            version=order.version,
            group=book.group_name(order.group_id),
            buy=book.buy.id,
            member=book.event.sender_name if by_sender and order.member_id is not None else order.participant,
            participant=order.participant,
            items=[{"product": ln.product, "qty": float(ln.qty), "unit": ln.unit} for ln in order.lines],
            remark=order.remark,
            status=order.status,
        ),
        now,
    )


# The create path's statements, built once (SQLAlchemy then finds each compiled form in its cache at once): Core
# against the tables, so no ORM unit of work runs for them.
_CHAIN_LINES = cast(Table, ChainLine.__table__)
_ORDERS = cast(Table, Order.__table__)
_INSERT_CHAIN_LINE = insert(_CHAIN_LINES).returning(_CHAIN_LINES.c.id)
_UPDATE_CHAIN_LINE = (
    update(_CHAIN_LINES)
    .where(_CHAIN_LINES.c.id == bindparam("ref"))
    .values(status=bindparam("line_status"), author_id=bindparam("line_author"))
)
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_ORDER_LINE = insert(cast(Table, OrderLine.__table__))


@functools.cache
def _insert_member(dialect: str) -> Any:
    """INSERT … ON CONFLICT (group_id, wxid) DO NOTHING RETURNING id, in the database's dialect (built once)."""
    members = cast(Table, Member.__table__)
    statement = dialect_insert(dialect)(members).on_conflict_do_nothing(index_elements=["group_id", "wxid"])
    return statement.returning(members.c.id)


def _order_line(chain_line_id: int, item: Item) -> OrderLine:
    return OrderLine(chain_line_id=chain_line_id, product=item.product, known=item.known, qty=item.qty, unit=item.unit)


def _order_line_row(order_id: int, chain_line_id: int, item: Item) -> dict[str, object]:
    return {
        "order_id": order_id,
        "chain_line_id": chain_line_id,
        "product": item.product,
        "known": item.known,
        "qty": item.qty,
        "unit": item.unit,
    }


def _ref(line: LineState) -> int:
    """The chain line's row id (`apply` sets it when it writes the line)."""
    assert isinstance(line.ref, int)
    return line.ref


async def _member_id(
    session: AsyncSession,
    known: dict[tuple[int, str], int],
    group_id: int,
    wxid: str,
    label: str,
    event: Inbound,
    db: Database,
) -> int:
    """The member row of `wxid` in the group (created with its first order; ids are remembered once seen): one
    INSERT for a new member, and a look-up only when the row was there already (after a restart)."""
    cached = known.get((group_id, wxid))
    if cached is not None:
        return cached
    name = event.sender_name if wxid == event.sender_id else label
    member_id = await session.scalar(
        _insert_member(db.dialect), {"group_id": group_id, "wxid": wxid, "name": name or wxid, "created_at": event.ts}
    )
    if member_id is None:  # the row was there: ON CONFLICT DO NOTHING returned nothing
        member_id = await session.scalar(select(Member.id).where(Member.group_id == group_id, Member.wxid == wxid))
    assert member_id is not None
    known[(group_id, wxid)] = member_id
    return member_id
