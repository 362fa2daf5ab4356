"""Flash-sale notices: one digest of who got units and one wait-list notice per group (queued on claims, written
when said), and the sold-out notice, said once in each of the sale's groups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent, FlashClaimed, SoldOut
from bot.core.keys import NoticeKey
from bot.domain.told import mark_claims_told, untold_claims, untold_waiters
from bot.domain.units import sale_unit
from bot.events import Outbound
from bot.logs import get_logger
from bot.notices.digest import recheck_empty
from bot.notices.posts import sold_out_text
from storage.models import OutboundMessage
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.config import FlashSale
    from bot.core.services import Services
    from bot.outbound_rows import QueuedRow

FLASH_DIGEST = "flash_digest"
FLASH_WAITLIST = "flash_waitlist"
log = get_logger("tuanbot.scheduler")


async def on_claims(services: Services, events: Sequence[DomainEvent], session: AsyncSession) -> None:
    """New claims: the group's flash digest (who got units) or wait-list notice (who waits) is queued."""
    notices: dict[tuple[str, str, str], FlashClaimed] = {}
    for e in events:
        if isinstance(e, FlashClaimed):
            notices[(FLASH_WAITLIST if e.waiting else FLASH_DIGEST, e.sale_id, e.group)] = e
    for (kind, sale_id, group), e in notices.items():
        sale = next(s for s in services.config.flash_sales if s.id == sale_id)
        await _queue_notice(services, session, kind, sale, group, e.room, e.at)


async def on_sold_out(services: Services, events: Sequence[DomainEvent]) -> None:
    for e in events:
        if isinstance(e, SoldOut):
            await announce_sold_out(services, e.sale_id)


async def _queue_notice(
    services: Services, session: AsyncSession, kind: str, sale: FlashSale, group: str, room: str, now: datetime
) -> None:
    """The group's next flash digest or wait-list notice, unless one is queued: its text is written when it is
    sent, so it names everybody up to then."""
    coalesce = NoticeKey(kind, sale.id, group).format()
    queued = select(OutboundMessage.id).where(OutboundMessage.coalesce_key == coalesce)
    queued = queued.where(OutboundMessage.status == "queued", OutboundMessage.attempts == 0)
    if await session.scalar(queued):  # a queued row still to be written (a retried one holds its final text)
        return
    every = _every(services).total_seconds()
    last = await session.scalar(
        select(func.max(OutboundMessage.sent_at)).where(OutboundMessage.coalesce_key == coalesce)
    )
    not_before = max(now, last + timedelta(seconds=every)) if last else now + timedelta(seconds=min(every, 10.0))
    await services.sender.enqueue(
        Outbound(room, f"({sale.product}秒杀{'确认' if kind == FLASH_DIGEST else '候补'})"),
        group=group,
        kind=kind,
        coalesce_key=coalesce,
        not_before=not_before,
        session=session,
    )


async def render_flash_digest(services: Services, row: QueuedRow) -> str | None:
    """Who got units since the last flash digest in this group, and how many are left."""
    found = _sale_and_group(services, row)
    if found is None:
        return row.text
    sale, group = found
    group_id = services.groups.id_of(group)
    async with services.db.sessions() as session:
        claims = await untold_claims(session, sale.id, group_id)
    if not claims:
        return None
    services.flash.told[row.id] = ("confirmed", [c.id for c in claims])
    left = await services.stock.left(flash_key(sale.id))
    unit = sale_unit(services.config, sale)
    names = _listing([f"{c.name}{c.qty}{unit}" for c in claims])
    tail = f",还剩{left}{unit}" if left else ",已抢光"
    return f"⚡ {sale.product}秒杀抢到:{names}{tail}"


async def render_waitlist(services: Services, row: QueuedRow) -> str | None:
    """The wait-list notice at send time: the waiters of this group not named yet, each with their place in the
    sale's queue as it stands now (a cancellation may have moved them up, a promotion taken them off it)."""
    found = _sale_and_group(services, row)
    if found is None:
        return row.text
    sale, group = found
    group_id = services.groups.id_of(group)
    async with services.db.sessions() as session:
        new = await untold_waiters(session, sale.id, group_id)
    if not new:
        return None
    services.flash.told[row.id] = ("waiting", [c.id for _, c in new])
    names = _listing([f"{c.name}第{place}位" for place, c in new])
    return f"{sale.product}已抢光啦,已登记候补:{names}。有人退出会按顺序递补~"


async def notice_sent(services: Services, row: QueuedRow) -> None:
    """A flash digest or wait-list notice was said: the claims it named are marked told, and a follow-up is queued
    for the next interval. It names whoever was confirmed or joined the wait list while this one was on its way, and
    says nothing if nobody did. (Looking for them now is not enough: a claim whose transaction was still open when
    this notice was rendered is not visible yet.)"""
    named = services.flash.told.pop(row.id, None)
    found = _sale_and_group(services, row)
    if named is None or found is None:
        return
    status, claim_ids = named
    now = services.clock.now()
    async with services.db.transaction() as session:
        await mark_claims_told(session, claim_ids, status)
        await _queue_notice(services, session, row.kind, *found, row.room_id, now)


async def notice_empty(services: Services, row: QueuedRow) -> None:
    """A flash digest or wait-list notice found nobody to name: look once more an interval later, as the chain
    digest does (a claim committed while it rendered relied on it)."""
    await recheck_empty(services, row, _every(services))


def _every(services: Services) -> timedelta:
    """How often a group hears a flash notice: the chain's digest interval, at most a minute (a sale moves fast)."""
    return min(services.config.chain.digest_every, timedelta(seconds=60))


def _listing(parts: list[str]) -> str:
    """The first 15 named, then how many in all: a notice stays one short message however many took part."""
    return "、".join(parts[:15]) + (f" 等{len(parts)}位" if len(parts) > 15 else "")


def _sale_and_group(services: Services, row: QueuedRow) -> tuple[FlashSale, str] | None:
    """The sale and group a notice's coalesce key names, if the sale is still configured."""
    key = NoticeKey.parse(row.coalesce_key)
    sale = next((s for s in services.config.flash_sales if key is not None and s.id == key.ref), None)
    return None if sale is None or key is None else (sale, key.group)


async def announce_sold_out(services: Services, sale_id: str) -> None:
    """The flash sale's stock reached 0: say so once in each of its groups (keyed, so a second call is a no-op)."""
    config = services.config
    sale = next((s for s in config.flash_sales if s.id == sale_id), None)
    if sale is None:
        log.warning("sold_out_unknown_sale", sale=sale_id)
        return
    for group in config.groups_of(sale.groups):
        room = services.groups.room_of(group.name)
        if room is None:
            log.warning("post_skipped_no_room", group=group.name, kind="flash_sold_out", sale=sale_id)
            continue
        try:
            result = await services.sender.enqueue(
                Outbound(room, sold_out_text(sale)),
                group=group.name,
                kind="flash_sold_out",
                key=f"flash_sold_out:{sale.id}:{group.name}",
            )
        except IntegrityError:  # another process announced it at the same moment
            continue
        if result.outcome != "duplicate":
            log.info("flash_sold_out_announced", sale=sale_id, group=group.name)
