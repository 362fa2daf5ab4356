"""Domain events: what the order book and the flash-sale book say happened, and the subscribers that hear them.

A unit of work delivers its events twice: to the in-transaction subscribers (a digest or a nudge queued in the
same transaction as the orders) and, once committed, to the after-commit ones (a sold-out notice)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OrderCreated:
    buy_id: str
    group: str
    room: str
    order_id: int
    who: str
    waiting: bool  # past the stock: on the wait list


@dataclass(frozen=True)
class OrderChanged:
    buy_id: str
    group: str
    room: str
    order_id: int
    who: str


@dataclass(frozen=True)
class OrderCancelled:
    buy_id: str
    group: str
    room: str
    order_id: int
    who: str


@dataclass(frozen=True)
class WaiterPromoted:
    """Units came back and a waiting order (or flash claim) got them: its writer is told."""

    kind: str  # order | flash
    id: int  # the order's or the claim's
    group: str
    room: str
    who: str
    items: str  # the item label(s), as the group reads them
    version: int


@dataclass(frozen=True)
class LineTooLate:
    buy_id: str
    group: str
    room: str
    who: str


@dataclass(frozen=True)
class FlashClaimed:
    sale_id: str
    group: str
    room: str
    claim_id: int
    waiting: bool  # no unit left for it: on the wait list
    at: datetime


@dataclass(frozen=True)
class FlashCancelled:
    sale_id: str
    group: str
    claim_id: int


@dataclass(frozen=True)
class SoldOut:
    sale_id: str


@dataclass(frozen=True)
class PlanChanged:
    """A leader changed the plan in chat (#15: 开团, 截单, 延长截单, 库存): the scheduler applies the config again."""

    buy_id: str


DomainEvent = (
    OrderCreated
    | OrderChanged
    | OrderCancelled
    | WaiterPromoted
    | LineTooLate
    | FlashClaimed
    | FlashCancelled
    | SoldOut
    | PlanChanged
)
ORDER_EVENTS = (OrderCreated, OrderChanged, OrderCancelled)

InTransaction = Callable[[Sequence[DomainEvent], "AsyncSession"], Awaitable[None]]
AfterCommit = Callable[[Sequence[DomainEvent]], Awaitable[None]]


@dataclass
class Subscribers:
    """Who hears the events of a unit of work. The composition root wires them; the domain only publishes."""

    in_transaction: list[InTransaction] = field(default_factory=list)
    after_commit: list[AfterCommit] = field(default_factory=list)

    async def publish(self, events: Sequence[DomainEvent], session: AsyncSession) -> None:
        if events:
            for subscriber in self.in_transaction:
                await subscriber(events, session)

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        if events:
            for subscriber in self.after_commit:
                await subscriber(events)
