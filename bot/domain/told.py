"""What the group has been told: the one home of the record. An order is told up to a version (`digested_version`),
a waiter once (`told_at`), and a flash digest names the claims confirmed since the last one was said. Each notice
asks here what is new to the group at send time and marks here what its text named once it was said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FlashClaim, Order, OutboundMessage


async def untold_orders(session: AsyncSession, buy_id: str, group_id: int) -> list[Order]:
    """The group's orders of the buy changed since the group was last told of them (or never told)."""
    query = select(Order).where(
        Order.buy_id == buy_id,
        Order.group_id == group_id,
        Order.digested_version.is_(None) | (Order.digested_version < Order.version),
    )
    return list(await session.scalars(query.order_by(Order.id)))


def first_told(order: Order) -> bool:
    """The group hears of this order for the first time (not of an edit of it)."""
    return order.digested_version is None


def told_in_person(order: Order) -> None:
    """The member was told of this version of the order in person (a waiter moved up is told `候补转正`): it is not
    news for the group's digest, which would otherwise call it an edit of the order; the digest still has the change
    that made room (the cancel) and the new totals."""
    order.digested_version = order.version


async def mark_orders_told(session: AsyncSession, told: Sequence[tuple[int, int]]) -> None:
    """The group was told of these (order, version) pairs; a later version stays untold."""
    for order_id, version in told:
        await session.execute(
            update(Order).where(Order.id == order_id, Order.version == version).values(digested_version=version)
        )


async def untold_waiters(session: AsyncSession, sale_id: str, group_id: int) -> list[tuple[int, Any]]:
    """The group's waiters of the sale not named yet, each with their place in the sale's whole queue now."""
    queue = (
        await session.execute(
            select(FlashClaim.id, FlashClaim.group_id, FlashClaim.name, FlashClaim.told_at)
            .where(FlashClaim.sale_id == sale_id, FlashClaim.status == "waiting")
            .order_by(FlashClaim.id)
        )
    ).all()
    return [(place, c) for place, c in enumerate(queue, 1) if c.group_id == group_id and c.told_at is None]


async def mark_waiters_told(session: AsyncSession, claim_ids: Sequence[int], now: datetime) -> None:
    await session.execute(update(FlashClaim).where(FlashClaim.id.in_(claim_ids)).values(told_at=now))


async def claims_untold(
    session: AsyncSession, sale_id: str, group_id: int, coalesce_key: str | None
) -> list[FlashClaim]:
    """The group's confirmed claims since its last flash digest (`coalesce_key`) was said."""
    last = await session.scalar(
        select(func.max(OutboundMessage.sent_at)).where(
            OutboundMessage.coalesce_key == coalesce_key, OutboundMessage.status == "sent"
        )
    )
    query = select(FlashClaim).where(
        FlashClaim.sale_id == sale_id, FlashClaim.group_id == group_id, FlashClaim.status == "confirmed"
    )
    if last is not None:
        query = query.where(FlashClaim.updated_at > last)
    return list(await session.scalars(query.order_by(FlashClaim.id)))
