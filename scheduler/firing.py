"""Firing one scheduled post: its idempotency key, the live values it shows, and posting it once through the
sender (a firing posts once however many times it is attempted: two processes, a restart's catch-up, a reload).
The outbound table is also the record of what ran, read back here for the restart's catch-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.summary import load_summary, unformed_hint
from bot.domain.units import stock_left
from bot.events import Outbound
from bot.logs import get_logger
from bot.notices.posts import Live, post_text
from scheduler.lock import LeaderLock
from scheduler.plan import JobSpec
from storage.models import GroupBuy, OutboundMessage
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.core.services import Services

log = get_logger("tuanbot.scheduler")

#: How late a firing may still go out (APScheduler's misfire_grace_time, and the restart catch-up's window).
#: Chosen per kind: a "starts in 10 minutes" alert or a "30 minutes left" reminder is wrong when late, while the
#: 接龙 header, the cutoff summary and the arrival notice are still what members need hours later.
GRACE: Mapping[str, timedelta] = {
    "buy_open": timedelta(hours=2),
    "column": timedelta(minutes=30),
    "flash_alert": timedelta(minutes=3),
    "flash_end": timedelta(minutes=10),
    "cutoff_reminder": timedelta(minutes=10),
    "cutoff": timedelta(hours=2),
    "arrival": timedelta(hours=2),
}
#: The outbound kinds scheduled posts are queued as (reminders are "reminder": the sender keeps them out of quiet hours)
POST_KINDS = frozenset({"buy_open", "column", "flash_alert", "flash_end", "reminder", "cutoff", "arrival"})
#: A restart looks back at most this far for firings to report as missed.
MAX_LOOKBACK = timedelta(days=14)


def post_kind(job_kind: str) -> str:
    return "reminder" if job_kind == "cutoff_reminder" else job_kind


def firing_key(spec: JobSpec, fire_time: datetime) -> str:
    """The idempotency key of one firing: the job id and its scheduled time (in the job's own timezone)."""
    return f"{spec.id}@{fire_time.isoformat()}"


def firings_between(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    """The trigger's fire times t with start < t <= end, in order."""
    out: list[datetime] = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        if moment > start:  # a DateTrigger returns its run date even when it has passed
            out.append(moment)
        following = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
        if following is None or following <= moment:
            break
        moment = following
    return out


@dataclass(frozen=True)
class CatchUp:
    fired: int
    missed: int


async def fire(services: Services, lock: LeaderLock, spec: JobSpec, fire_time: datetime) -> bool:
    """Post what `spec` says at `fire_time`, with live values, through the sender. True if it queued the post;
    False when another firing already did, this process does not hold the lock, or the room is unknown."""
    config = services.config
    fire_time = fire_time.astimezone(config.tz)
    key = firing_key(spec, fire_time)
    if not lock.held:
        log.info("job_skipped", job=spec.id, at=fire_time.isoformat(), reason="not_leader")
        return False
    room = services.groups.room_of(spec.group)
    if room is None:
        log.warning("post_skipped_no_room", job=spec.id, group=spec.group, kind=spec.kind)
        return False
    try:
        async with services.db.transaction() as session:
            if await session.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None:
                log.info("job_already_fired", job=spec.id, at=fire_time.isoformat())
                return False
            live = await _live(services, session, spec, fire_time)
            text = post_text(config, spec, fire_time, live)
            if text is None:
                log.warning("job_stale", job=spec.id, reason="its item is gone from the config")
                return False
            result = await services.sender.enqueue(
                Outbound(room, text), group=spec.group, kind=post_kind(spec.kind), key=key, session=session
            )
            if result.outcome == "duplicate":  # another process queued this firing meanwhile
                log.info("job_already_fired", job=spec.id, at=fire_time.isoformat(), race=True)
                return False
            if spec.kind == "cutoff":
                await session.execute(
                    update(GroupBuy)
                    .where(GroupBuy.id == spec.ref, GroupBuy.closed_at.is_(None))
                    .values(closed_at=fire_time)
                )
                await _tell_unformed(services, session, spec, fire_time, live)
    except IntegrityError:  # another process queued the same firing between our check and our insert
        log.info("job_already_fired", job=spec.id, at=fire_time.isoformat(), race=True)
        return False
    log.info(
        "job_fired",
        job=spec.id,
        kind=spec.kind,
        group=spec.group,
        at=fire_time.isoformat(),
        late_s=round((services.clock.now() - fire_time).total_seconds()),
        outcome=result.outcome,
        text=text.split("\n", 1)[0][:80],
    )
    return True


async def _live(services: Services, session: AsyncSession, spec: JobSpec, at: datetime) -> Live:
    config = services.config
    if spec.kind in ("cutoff", "cutoff_reminder"):
        buy = next((b for b in config.buys if b.id == spec.ref), None)
        if buy is not None:
            return Live(summary=await load_summary(session, config, buy, spec.group))
    if spec.kind == "column":
        return Live(stock=await stock_left(session, config, spec.group, at, counter=_SafeCounter(services)))
    if spec.kind == "flash_alert":
        return Live(flash_left=await _counter(services, flash_key(spec.ref)))
    return Live()


async def _tell_unformed(services: Services, session: AsyncSession, spec: JobSpec, at: datetime, live: Live) -> None:
    """A buy closed short of its 成团N人: the group's leaders are told privately what they can do (once each, however
    many of their groups the buy closes in), whether or not the group is paused."""
    buy, group = services.config.buy(spec.ref), services.config.group(spec.group)
    if buy is None or group is None or live.summary is None or live.summary.status.formed:
        return
    text = f"「{buy.title}」截单时未成团(差{live.summary.status.missing}人)。{unformed_hint(buy)}"
    for wxid in services.leaders.reachable(group):
        key = f"unformed:{buy.id}:{wxid}@{at.isoformat()}"
        await services.sender.enqueue(Outbound(wxid, text), group=None, kind="summary", key=key, session=session)


class _SafeCounter:
    """The store's stock counters for a post: one that cannot be read counts as none kept."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def left(self, key: str) -> int | None:
        return await _counter(self.services, key)


async def _counter(services: Services, key: str) -> int | None:
    """Units left on the store's stock counter `key` (None when the store keeps no counter for it)."""
    try:
        left = await services.stock.left(key)
    except Exception as exc:  # a post with the configured stock beats no post
        log.warning("stock_unavailable", key=key, error=repr(exc)[:200])
        return None
    return left


async def last_run(services: Services) -> datetime | None:
    """When this bot last posted something scheduled (derived from the outbound queue's keyed rows)."""
    async with services.db.sessions() as session:
        result: datetime | None = await session.scalar(
            select(func.max(OutboundMessage.created_at)).where(
                OutboundMessage.kind.in_(POST_KINDS), OutboundMessage.key.is_not(None)
            )
        )
        return result


async def existing_keys(services: Services, keys: list[str]) -> set[str]:
    found: set[str] = set()
    async with services.db.sessions() as session:
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            found.update(
                k
                for k in await session.scalars(select(OutboundMessage.key).where(OutboundMessage.key.in_(chunk)))
                if k is not None
            )
    return found
