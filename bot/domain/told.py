"""What the group has been told: the one home of the record. Each row remembers what the group was last told of
it — an order the version (`digested_version`), a flash claim the status (`told_status`: waiting, confirmed) — and
is untold while it has moved on from that. Each notice asks here what is untold at send time and marks here what its
text named once it was said; a row that changed in between stays untold, and the notice's follow-up names it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FlashClaim, Order


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
            select(FlashClaim.id, FlashClaim.group_id, FlashClaim.name, FlashClaim.told_status)
            .where(FlashClaim.sale_id == sale_id, FlashClaim.status == "waiting")
            .order_by(FlashClaim.id)
        )
    ).all()
    return [(place, c) for place, c in enumerate(queue, 1) if c.group_id == group_id and c.told_status != "waiting"]


async def untold_claims(session: AsyncSession, sale_id: str, group_id: int) -> list[FlashClaim]:
    """The group's confirmed claims of the sale it has not been told of as confirmed."""
    query = select(FlashClaim).where(
        FlashClaim.sale_id == sale_id,
        FlashClaim.group_id == group_id,
        FlashClaim.status == "confirmed",
        FlashClaim.told_status.is_distinct_from("confirmed"),
    )
    return list(await session.scalars(query.order_by(FlashClaim.id)))


async def mark_claims_told(session: AsyncSession, claim_ids: Sequence[int], status: str) -> None:
    """The group was told these claims are `status`; a claim that has moved on since stays untold."""
    await session.execute(
        update(FlashClaim)
        .where(FlashClaim.id.in_(claim_ids), FlashClaim.status == status)
        .values(told_status=status)
    )
