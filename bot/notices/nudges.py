"""成团 nudges ("仅差1人成团"): a subscriber to order changes, at most once per cooldown per buy and group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import ORDER_EVENTS, DomainEvent
from bot.core.keys import NoticeKey
from bot.domain.buys import is_open
from bot.domain.summary import load_status
from bot.events import Outbound
from bot.logs import get_logger
from bot.notices.posts import nudge_text
from storage.models import OutboundMessage

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.services import Services

log = get_logger("tuanbot.scheduler")


async def on_order_events(services: Services, events: Sequence[DomainEvent], session: AsyncSession) -> None:
    """A message changed the buy's orders: 成团 may be a member or two away now."""
    first = next((e for e in events if isinstance(e, ORDER_EVENTS)), None)
    buy = services.config.buy(first.buy_id) if first is not None else None
    if first is not None and buy is not None:
        await maybe_nudge(services, buy, first.group, session=session)


def nudge_coalesce_key(buy_id: str, group: str) -> str:
    return NoticeKey("nudge", buy_id, group).format()


def _bucket(now: datetime, cooldown: timedelta) -> str:
    """The cooldown-long slot `now` falls in. Two nudges at least a cooldown apart never share a slot, so the slot
    makes a racing second queueing (another process, a replay) a no-op without blocking a legitimate nudge."""
    span = max(1, int(cooldown.total_seconds()))
    start = int(now.timestamp()) // span * span
    return datetime.fromtimestamp(start, UTC).isoformat()


async def maybe_nudge(services: Services, buy: Buy, group_name: str, session: AsyncSession | None = None) -> bool:
    """Queue a nudge in `group_name` when `buy` is `when_missing` members short of forming or of its next ladder
    tier. Call it after the buy's orders changed (in the same transaction when given `session`). True if queued."""
    config = services.config
    if config.nudges is None or (buy.min_members is None and not buy.ladder):
        return False
    now = services.clock.now()
    if not is_open(buy, now):
        return False
    room = services.groups.room_of(group_name)
    if room is None:
        log.info("post_skipped_no_room", group=group_name, kind="nudge", buy=buy.id)
        return False
    if session is None:
        async with services.db.transaction() as own:
            return await _nudge(services, buy, group_name, room, own, now)
    return await _nudge(services, buy, group_name, room, session, now)


async def _nudge(services: Services, buy: Buy, group: str, room: str, session: AsyncSession, now: datetime) -> bool:
    config = services.config
    nudges = config.nudges
    assert nudges is not None
    status = await load_status(session, config, buy)  # 成团 counts members across all the buy's groups
    worthy = status.target is not None and status.missing in nudges.when_missing
    coalesce = nudge_coalesce_key(buy.id, group)
    latest = await session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.coalesce_key == coalesce, OutboundMessage.status.in_(("queued", "sent")))
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )
    if latest is not None and latest.status == "queued":
        # A nudge still waiting for the rate limit: keep it current, or drop it if the buy moved on.
        if worthy:
            latest.text = nudge_text(nudges, buy, status)
        else:
            latest.status, latest.reason = "suppressed", "stale_nudge"
        return False
    if not worthy:
        return False
    if config.in_quiet_hours(now):
        log.info("nudge_skipped", buy=buy.id, group=group, reason="quiet_hours", missing=status.missing)
        return False
    if latest is not None and latest.created_at > now - nudges.cooldown:
        log.info("nudge_skipped", buy=buy.id, group=group, reason="cooldown", missing=status.missing)
        return False
    result = await services.sender.enqueue(
        Outbound(room, nudge_text(nudges, buy, status)),
        group=group,
        kind="nudge",
        key=f"{coalesce}@{_bucket(now, nudges.cooldown)}",
        coalesce_key=coalesce,
        session=session,
    )
    if result.outcome == "duplicate":  # another process nudged in this cool-down slot
        return False
    log.info("nudge_queued", buy=buy.id, group=group, missing=status.missing, target=status.target)
    return True


__all__ = ["maybe_nudge", "nudge_coalesce_key"]
