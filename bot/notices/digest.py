"""The 接龙 digest: queued (debounced) when a message changed orders, its text written when the sender says it,
and the versions it told marked afterwards — the record of what the group has been told about orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import ORDER_EVENTS, DomainEvent
from bot.core.keys import NoticeKey
from bot.domain.summary import ItemQty, load_summary, status_line
from bot.domain.told import first_told, mark_orders_told, untold_orders
from bot.domain.units import items_label, odd_quantity, stocked, unit_of, units_left
from bot.events import Outbound
from storage.models import Order, OutboundMessage

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.services import Services
    from bot.outbound_rows import QueuedRow

DIGEST = "digest"


async def on_order_events(services: Services, events: Sequence[DomainEvent], session: AsyncSession) -> None:
    """A message changed orders: make sure a digest of its group is queued (one per message, not per order)."""
    first = next((e for e in events if isinstance(e, ORDER_EVENTS)), None)
    if first is None:
        return
    buy = services.config.buy(first.buy_id)
    if buy is not None:
        await queue_digest(services, session, buy, first.group, first.room, services.clock.now())


async def queue_digest(
    services: Services, session: AsyncSession, buy: Buy, group: str, room: str, now: datetime
) -> None:
    """One digest per group at most every `chain.digest_every`; its text is rendered when it is sent."""
    coalesce = NoticeKey(DIGEST, buy.id, group).format()
    pending = services.chain.digest_pending
    if coalesce in pending and now < pending[coalesce]:
        return  # queued by an earlier message and not due yet: it will say this one's lines too
    waiting = (
        await session.execute(
            select(OutboundMessage.not_before)
            .where(OutboundMessage.coalesce_key == coalesce, OutboundMessage.status == "queued")
            # a row tried already holds its final text (a retry after a failed send): it names none of these
            # orders, so it does not count as the digest that will
            .where(OutboundMessage.attempts == 0)
            .limit(1)
        )
    ).first()
    if waiting is not None:
        # queued already (after a restart, or the follow-up `digest_sent` queued): remember until when, so the
        # messages before then do not ask the store again
        if waiting.not_before is not None:
            pending[coalesce] = waiting.not_before
        return
    last_sent = await _last_digest_at(session, coalesce)
    every = services.config.chain.digest_every
    not_before = max(now, last_sent + every) if last_sent else now + every
    pending[coalesce] = not_before
    await services.sender.enqueue(
        Outbound(room, f"({buy.title} 接龙确认)"),
        group=group,
        kind=DIGEST,
        coalesce_key=coalesce,
        not_before=not_before,
        session=session,
    )


async def render_digest(services: Services, row: QueuedRow) -> str | None:
    """The digest's text at send time: who was recorded, changed or cancelled since the last digest, totals, and
    how far the buy is from 成团. None when nothing is left to confirm."""
    key = NoticeKey.parse(row.coalesce_key, DIGEST)
    config = services.config
    buy = config.buy(key.ref) if key else None
    if key is None or buy is None or config.group(key.group) is None:
        return row.text  # not one of ours (or its buy left the config): say what was queued
    group_id = services.groups.id_of(key.group)
    async with services.db.sessions() as session:
        changed = await untold_orders(session, buy.id, group_id)
        if not changed:
            return None
        summary = await load_summary(session, config, buy)
    services.chain.digest_rendered[row.id] = [(o.id, o.version) for o in changed]
    left = [(p, await units_left(services.stock, buy, p)) for p in stocked(buy)]
    stock = "、".join(f"{p}还剩{n}{unit_of(buy, p)}" for p, n in left if n is not None)
    return digest_text(buy, changed, summary.totals, status_line(summary.status, buy), stock)


RECHECK = "·复查"  # the placeholder text of a digest queued to look again after an empty one


async def digest_empty(services: Services, row: QueuedRow) -> None:
    """A digest found nothing to confirm: look once more one interval later (`recheck_empty`)."""
    await recheck_empty(services, row, services.config.chain.digest_every)


async def recheck_empty(services: Services, row: QueuedRow, after: timedelta) -> None:
    """A queued notice (the chain digest, a flash digest or wait-list notice) found nothing to say: look once more
    `after` later. An order or claim whose transaction was still open while it rendered relied on it (it saw the row
    waiting and queued none of its own) and would otherwise wait for the next message to be confirmed; a recheck
    that finds nothing too looks no further."""
    if row.text.endswith(RECHECK) or row.coalesce_key is None:
        return
    await services.sender.enqueue(
        Outbound(row.room_id, row.text + RECHECK),
        group=row.group_name,
        kind=row.kind,
        coalesce_key=row.coalesce_key,
        not_before=services.clock.now() + after,
    )


async def digest_sent(services: Services, row: QueuedRow) -> None:
    """The group has been told: mark the versions it was told about, and queue the next digest for one interval
    later, which confirms whatever changed while this one was on its way — nothing is left unconfirmed."""
    told = services.chain.digest_rendered.pop(row.id, [])
    async with services.db.transaction() as session:
        await mark_orders_told(session, told)
    key = NoticeKey.parse(row.coalesce_key)
    buy = services.config.buy(key.ref) if key else None
    if key is None or buy is None or services.config.group(key.group) is None:
        return
    async with services.db.transaction() as session:
        # Always a follow-up for the next interval (it says nothing when nothing changed): an order whose
        # transaction was still open when this digest was rendered is not visible yet, so looking now is not enough.
        if told:
            now = services.clock.now()
            services.chain.digest_pending.pop(row.coalesce_key or "", None)
            await services.sender.enqueue(
                Outbound(row.room_id, row.text),
                group=row.group_name,
                kind=DIGEST,
                coalesce_key=row.coalesce_key,
                not_before=now + services.config.chain.digest_every,
                session=session,
            )


def digest_text(buy: Buy, changed: list[Order], totals: tuple[ItemQty, ...], status: str, stock: str = "") -> str:
    def label(order: Order) -> str:
        return f"{order.participant} {items_label(order.lines)}".strip()

    def listing(orders: list[Order]) -> str:
        more = f" 等{len(orders)}位" if len(orders) > 8 else ""
        return ";".join(label(o) for o in orders[:8]) + more

    active = [o for o in changed if o.status == "active"]
    new = [o for o in active if first_told(o)]
    edited = [o for o in active if o not in new]
    cancelled = [o for o in changed if o.status == "cancelled"]
    waiting = [o for o in changed if o.status == "waiting"]
    parts = []
    if new:
        parts.append("✅ 已记录:" + listing(new))
    if edited:
        parts.append("✏️ 已修改:" + listing(edited))
    if cancelled:
        parts.append("❎ 已取消:" + "、".join(o.participant for o in cancelled))
    if waiting:
        parts.append("⏳ 已满,登记候补(有人取消按顺序递补):" + listing(waiting))
    unclear = [
        o
        for o in active
        if not o.lines or any(not ln.known or odd_quantity(Decimal(ln.qty), ln.unit) for ln in o.lines)
    ]
    if unclear:
        parts.append("❓ 请团长确认:" + "、".join(label(o) or o.participant for o in unclear))
    if totals:
        parts.append("合计:" + ",".join(str(t) for t in totals) + (f"({stock})" if stock else ""))
    parts.append(f"【{buy.title}】{status}")
    return "\n".join(parts)


async def _last_digest_at(session: AsyncSession, coalesce_key: str) -> datetime | None:
    return await session.scalar(
        select(OutboundMessage.sent_at)
        .where(OutboundMessage.coalesce_key == coalesce_key, OutboundMessage.status == "sent")
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )
