"""Wires the notices onto the domain's events and the sender's send-time renderers (called by the composition
root, once per process)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent
from bot.notices import digest, flash, nudges

if TYPE_CHECKING:
    from bot.core.services import Services
    from bot.outbound_rows import QueuedRow


def wire(services: Services) -> None:
    """Digest, then nudge (in the order's transaction); flash notices likewise; the sold-out notice after commit."""

    async def in_transaction(events: Sequence[DomainEvent], session: AsyncSession) -> None:
        await digest.on_order_events(services, events, session)
        await nudges.on_order_events(services, events, session)  # "仅差1人成团"
        await flash.on_claims(services, events, session)

    async def after_commit(events: Sequence[DomainEvent]) -> None:
        await flash.on_sold_out(services, events)

    services.subscribers.in_transaction.append(in_transaction)
    services.subscribers.after_commit.append(after_commit)
    sender = services.sender

    async def render_digest(row: QueuedRow) -> str | None:
        return await digest.render_digest(services, row)

    async def digest_sent(row: QueuedRow) -> None:
        await digest.digest_sent(services, row)

    async def digest_empty(row: QueuedRow) -> None:
        await digest.digest_empty(services, row)

    async def render_flash_digest(row: QueuedRow) -> str | None:
        return await flash.render_flash_digest(services, row)

    async def render_waitlist(row: QueuedRow) -> str | None:
        return await flash.render_waitlist(services, row)

    async def flash_notice_sent(row: QueuedRow) -> None:
        await flash.notice_sent(services, row)

    async def flash_notice_empty(row: QueuedRow) -> None:
        await flash.notice_empty(services, row)

    sender.render_with(digest.DIGEST, render_digest, after_sent=digest_sent, after_empty=digest_empty)
    sender.render_with(
        flash.FLASH_DIGEST, render_flash_digest, after_sent=flash_notice_sent, after_empty=flash_notice_empty
    )
    sender.render_with(
        flash.FLASH_WAITLIST, render_waitlist, after_sent=flash_notice_sent, after_empty=flash_notice_empty
    )
