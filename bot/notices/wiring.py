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
    sender.renderers[digest.DIGEST] = lambda row: digest.render_digest(services, row)
    sender.after_sent[digest.DIGEST] = lambda row: digest.digest_sent(services, row)
    sender.renderers[flash.FLASH_DIGEST] = lambda row: flash.render_flash_digest(services, row)
    sender.after_sent[flash.FLASH_DIGEST] = lambda row: flash.notice_sent(services, row)
    sender.renderers[flash.FLASH_WAITLIST] = lambda row: flash.render_waitlist(services, row)
    sender.after_sent[flash.FLASH_WAITLIST] = lambda row: flash.notice_sent(services, row)
