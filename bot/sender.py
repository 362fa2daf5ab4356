"""The one sender: every outbound message is queued in the store, rate-limited, de-duplicated and then said.

Handlers and jobs call `enqueue` (inside their own transaction when they have one, so a reply and the order it
confirms commit together); only this module calls a channel. The queue is the `outbound` table, so a message queued
before a crash is sent after the restart; rows are marked sent right after the channel accepts them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from bot.clock import Clock
from bot.events import Outbound
from bot.logs import get_logger
from storage.db import Database
from storage.models import OutboundMessage
from storage.shared import MemoryState, SharedState

#: renders a queued row's text when it is about to be sent (None: nothing to say any more)
Renderer = Callable[[OutboundMessage], Awaitable[str | None]]

#: kinds that never go out inside quiet hours (the contract: "no nudges and no reminders inside this window")
QUIET_KINDS = frozenset({"nudge", "reminder"})
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Enqueued:
    """What `Sender.enqueue` did: `queued` (a new row), `coalesced` (folded into a waiting row), `suppressed` (the
    same text went out lately; the row is kept, marked), or `duplicate` (a row already holds this key)."""

    outcome: str
    row_id: int | None

    @property
    def will_send(self) -> bool:
        return self.outcome in ("queued", "coalesced")


@dataclass(frozen=True)
class SenderLimits:
    per_group_per_minute: int = 6
    per_account_per_minute: int = 20
    same_text_window: timedelta = timedelta(minutes=10)
    spacing: tuple[float, float] = (0.3, 1.2)  # seconds of random pause between two sends (anti-ban)


class Slots:
    """The per-group and per-account windows, kept in the shared state (Redis when processes share one). If the
    shared state fails, the sender keeps going on in-process windows and says so once."""

    def __init__(self, shared: SharedState | None) -> None:
        self.shared = shared
        self.local = MemoryState()
        self._down = False
        self.log = get_logger("tuanbot.sender")

    async def take(self, keys: list[str], limits: list[int], now: datetime) -> float:
        ts = now.timestamp()
        if self.shared is not None and not isinstance(self.shared, MemoryState):
            try:
                wait = await self.shared.take_slots(keys, limits, MINUTE.total_seconds(), ts)
            except Exception as exc:  # redis errors, timeouts: limits stay, counted in this process
                if not self._down:
                    self.log.warning("redis_unavailable", part="sender", error=repr(exc)[:200], fallback="memory")
                self._down = True
            else:
                if self._down:
                    self.log.info("redis_recovered", part="sender")
                    self._down = False
                return wait
        return await self.local.take_slots(keys, limits, MINUTE.total_seconds(), ts)


class Sender:
    def __init__(
        self,
        db: Database,
        channel: Channel,
        clock: Clock,
        limits: SenderLimits,
        *,
        in_quiet_hours: Callable[[datetime], bool] = lambda _now: False,
        rng: random.Random | None = None,
        shared: SharedState | None = None,
    ) -> None:
        self.db = db
        self.channel = channel
        self.clock = clock
        self.limits = limits
        self.in_quiet_hours = in_quiet_hours
        self.rng = rng or random.Random()
        self.log = get_logger("tuanbot.sender")
        self._slots = Slots(shared)
        #: kinds whose text is rendered at send time (the chain digest: its cost is paid once per interval)
        self.renderers: dict[str, Renderer] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._loaded = False

    # --- queueing ---------------------------------------------------------------------------------------------

    async def enqueue(
        self,
        out: Outbound,
        *,
        group: str | None,
        kind: str,
        key: str | None = None,
        coalesce_key: str | None = None,
        not_before: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> Enqueued:
        """Queue `out`, and say what happened (`Enqueued`).

        `key` makes queueing idempotent (a job firing twice queues once); `coalesce_key` replaces the text of a
        still-queued row with the same key instead of adding one (the chain digest grows while it waits).
        """
        if session is None:
            async with self.db.transaction() as own:
                result = await self._enqueue(own, out, group, kind, key, coalesce_key, not_before)
            self._wake.set()
        else:
            result = await self._enqueue(session, out, group, kind, key, coalesce_key, not_before)
            # Wake the send loop when the caller's transaction commits: woken now, it could look before the row is
            # visible, find nothing, and sleep until the next message.
            if not event.contains(session.sync_session, "after_commit", self._on_commit):
                event.listen(session.sync_session, "after_commit", self._on_commit, once=True)
        return result

    def _on_commit(self, _session: object) -> None:
        self._wake.set()

    async def _enqueue(
        self,
        session: AsyncSession,
        out: Outbound,
        group: str | None,
        kind: str,
        key: str | None,
        coalesce_key: str | None,
        not_before: datetime | None,
    ) -> Enqueued:
        now = self.clock.now()
        if key is not None:
            existing = await session.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key))
            if existing is not None:
                return Enqueued("duplicate", existing)
        if coalesce_key is not None:
            queued = await session.scalar(
                select(OutboundMessage).where(
                    OutboundMessage.coalesce_key == coalesce_key, OutboundMessage.status == "queued"
                )
            )
            if queued is not None:
                queued.text = out.text
                queued.mentions = list(out.mentions)
                return Enqueued("coalesced", queued.id)
        row = OutboundMessage(
            room_id=out.room_id,
            group_name=group,
            text=out.text,
            mentions=list(out.mentions),
            kind=kind,
            key=key,
            coalesce_key=coalesce_key,
            status="queued",
            created_at=now,
            not_before=not_before,
            attempts=0,
        )
        if kind not in self.renderers and await self._said_recently(session, out, now):
            row.status, row.reason = "suppressed", "same_text_window"
            self.log.info("message_suppressed", group=group, kind=kind, reason="same_text_window", text=out.text[:80])
        session.add(row)
        await session.flush()
        return Enqueued(row.status, row.id)

    async def _said_recently_text(self, room_id: str, text: str, now: datetime) -> bool:
        async with self.db.sessions() as session:
            return await self._said_recently(session, Outbound(room_id, text), now, statuses=("sent",))

    async def _said_recently(
        self, session: AsyncSession, out: Outbound, now: datetime, statuses: tuple[str, ...] = ("queued", "sent")
    ) -> bool:
        window = self.limits.same_text_window
        if window <= timedelta(0):
            return False
        n = await session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.room_id == out.room_id,
                OutboundMessage.text == out.text,
                OutboundMessage.status.in_(statuses),
                OutboundMessage.created_at >= now - window,
            )
        )
        return bool(n)

    # --- sending ----------------------------------------------------------------------------------------------

    async def _load_recent(self) -> None:
        """After a restart, count what was sent in the last minute so the limits hold across it."""
        since = self.clock.now() - MINUTE
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(OutboundMessage.group_name, OutboundMessage.room_id, OutboundMessage.sent_at).where(
                    OutboundMessage.status == "sent", OutboundMessage.sent_at >= since
                )
            )
            for group_name, room_id, sent_at in rows:
                if sent_at is not None:  # counted, whatever the limits: they were sent
                    await self._slots.take([f"group:{group_name or room_id}", "account"], [10**9, 10**9], sent_at)
        self._loaded = True

    async def _due(self, now: datetime) -> list[OutboundMessage]:
        async with self.db.sessions() as session:
            result = await session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status == "queued",
                    (OutboundMessage.not_before.is_(None)) | (OutboundMessage.not_before <= now),
                )
                .order_by(OutboundMessage.id)
                .limit(50)
            )
            return list(result)

    async def _next_not_before(self) -> datetime | None:
        async with self.db.sessions() as session:
            return await session.scalar(
                select(func.min(OutboundMessage.not_before)).where(OutboundMessage.status == "queued")
            )

    async def send_due(self) -> float | None:
        """Send what is due now, within the limits. Returns seconds to wait before more can go, or None when idle."""
        if not self._loaded:
            await self._load_recent()
        while not self._stopping:
            now = self.clock.now()
            due = await self._due(now)
            if not due:
                nxt = await self._next_not_before()
                return None if nxt is None else max(0.0, (nxt - now).total_seconds())
            waits: list[float] = []
            for row in due:
                wait = await self._slots.take(
                    [f"group:{row.group_name or row.room_id}", "account"],
                    [self.limits.per_group_per_minute, self.limits.per_account_per_minute],
                    now,
                )
                if wait > 0:
                    waits.append(wait)
                    continue
                await self._send_one(row)
                break
            else:
                return min(waits)
        return None

    async def _send_one(self, row: OutboundMessage) -> None:
        now = self.clock.now()
        if row.kind in QUIET_KINDS and self.in_quiet_hours(now):
            await self._mark(row.id, status="suppressed", reason="quiet_hours")
            self.log.info("message_suppressed", group=row.group_name, kind=row.kind, reason="quiet_hours")
            return
        text = row.text
        renderer = self.renderers.get(row.kind)
        if renderer is not None:
            rendered = await renderer(row)
            if rendered is None or await self._said_recently_text(row.room_id, rendered, now):
                reason = "nothing_to_say" if rendered is None else "same_text_window"
                await self._mark(row.id, status="suppressed", reason=reason)
                self.log.info("message_suppressed", group=row.group_name, kind=row.kind, reason=reason)
                return
            text = rendered
            await self._mark(row.id, text=text)
        out = Outbound(room_id=row.room_id, text=text, mentions=tuple(row.mentions or ()))
        try:
            await self.channel.send(out)
        except Exception as exc:  # the channel could not take it: keep it queued and back off
            backoff = min(60.0, 2.0 ** min(row.attempts, 6))
            await self._mark(
                row.id, status="queued", attempts=row.attempts + 1, not_before=now + timedelta(seconds=backoff)
            )
            self.log.warning(
                "message_send_failed", group=row.group_name, kind=row.kind, outbound_id=row.id, error=repr(exc)
            )
            return
        sent_at = self.clock.now()
        await self._mark(row.id, status="sent", sent_at=sent_at, attempts=row.attempts + 1)
        self.log.info("message_sent", group=row.group_name, kind=row.kind, outbound_id=row.id, text=text[:200])
        low, high = self.limits.spacing
        if high > 0:
            await self.clock.sleep(self.rng.uniform(low, high))

    async def _mark(self, row_id: int, **values: Any) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(OutboundMessage).where(OutboundMessage.id == row_id).values(**values))

    async def flush(self, *, horizon: timedelta = timedelta(0)) -> None:
        """Send everything due by now + `horizon`, waiting out the rate limits on the clock (demo, tests, shutdown)."""
        deadline = self.clock.now() + horizon
        while True:
            wait = await self.send_due()
            if wait is None:
                return
            held_by_limits = bool(await self._due(self.clock.now()))
            if not held_by_limits and self.clock.now() + timedelta(seconds=wait) > deadline:
                return  # only messages meant for later remain
            await self.clock.sleep(wait)

    async def run(self) -> None:
        """The send loop of a live bot: sends as messages become due, sleeps when idle, until `stop()`."""
        while not self._stopping:
            self._wake.clear()
            wait = await self.send_due()
            timeout = 30.0 if wait is None else max(0.05, wait)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def pending(self) -> int:
        async with self.db.sessions() as session:
            n = await session.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "queued")
            )
            return int(n or 0)
