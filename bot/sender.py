"""The one sender: every outbound message is queued in the store, rate-limited, de-duplicated and then said.

Handlers and jobs call `enqueue` (inside their own transaction when they have one, so a reply and the order it
confirms commit together); only this module calls a channel. The queue is the `outbound` table, so a message queued
before a crash is sent after the restart; rows are marked sent right after the channel accepts them. A message whose
text is rendered at send time (a digest, a flash notice) is marked `sending` with its final text, and what it names is
marked told, before the channel gets it: a kill after the channel took it repeats nothing (docs/decisions.md, "What a
kill in the middle of a send costs").

The reply path is kept short, because members wait on it: queueing is one INSERT (`ON CONFLICT DO NOTHING` makes
a keyed row idempotent); once the caller's transaction commits, the row is handed to the send loop in memory
instead of being read back (the store stays the truth: anything not handed over — after a restart, or queued for
later — is found by the loop's query); identical-text suppression is decided when a message is about to be said,
in the shared state (Redis when several processes share one), which is what "not sent twice inside the window"
means.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel
from bot.clock import Clock
from bot.core.faults import SAID, crash_point
from bot.core.ports import AfterSent, Renderer
from bot.events import Outbound
from bot.logs import get_logger
from bot.outbound_rows import Enqueued, QueuedRow, recover_interrupted, row_values
from bot.send_policy import LEADER_KINDS, MINUTE, QUIET_KINDS, REPLY_KINDS, RecentTexts, SenderLimits, Slots
from storage.db import Database
from storage.models import OutboundMessage
from storage.shared_state import SharedState

__all__ = ["Enqueued", "QueuedRow", "Sender", "SenderLimits"]

IDLE_POLL_S = 5.0  # an idle send loop looks at the store this often for rows it was not handed


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
        kill_at: str | None = None,
    ) -> None:
        self.db = db
        self.kill_at = kill_at  # fault tests: die at a named point (`bot.core.faults`)
        self.channel = channel
        self.clock = clock
        self.limits = limits
        self.in_quiet_hours = in_quiet_hours
        self.is_paused: Callable[[str], bool] = lambda _group: False  # the groups a leader paused (set by the app)
        self.rng = rng or random.Random()
        self.log = get_logger("tuanbot.sender")
        self._slots = Slots(shared)
        self._texts = RecentTexts(shared)
        #: kinds whose text is rendered at send time (the chain digest: its cost is paid once per interval)
        self.renderers: dict[str, Renderer] = {}
        #: kinds that want to know when they were said (the digest marks what the group has been told)
        self.after_sent: dict[str, AfterSent] = {}
        self.after_empty: dict[str, AfterSent] = {}
        self._wake = asyncio.Event()
        self._ready: deque[QueuedRow] = deque()  # committed and due: handed over without a query
        self._in_flight: set[int] = set()  # handed over, not yet marked: the loop's query must not take them again
        # Whether the store may hold queued rows this process did not hand over (after a start, rows meant for
        # later, a coalesced or re-queued row, another process's). While it is False the loop does not ask the
        # store after each send: on the reply path that was two queries per message for nothing.
        self._store_unknown = True
        self._next_known: datetime | None = None  # when the earliest row the store told us about is due
        self._stopping = False
        self._loaded = False

    def render_with(
        self, kind: str, renderer: Renderer, after_sent: AfterSent | None = None, after_empty: AfterSent | None = None
    ) -> None:
        """Messages of `kind` get their text from `renderer` when they are said; `after_sent` hears they were, and
        `after_empty` that one had nothing to say (it was suppressed)."""
        self.renderers[kind] = renderer
        for hooks, hook in ((self.after_sent, after_sent), (self.after_empty, after_empty)):
            if hook is not None:
                hooks[kind] = hook
            else:
                hooks.pop(kind, None)

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
                result, row = await self._enqueue(own, out, group, kind, key, coalesce_key, not_before)
            self._hand_over([row] if row else [])
        else:
            result, row = await self._enqueue(session, out, group, kind, key, coalesce_key, not_before)
            # Hand it to the send loop when the caller's transaction commits: earlier, the loop could send a message
            # whose transaction then rolls back, or look before the row is visible and sleep until the next message.
            waiting: list[QueuedRow] = session.info.setdefault("tuanbot_outbound", [])
            if row is not None:
                waiting.append(row)
            if not event.contains(session.sync_session, "after_commit", self._on_commit):
                event.listen(session.sync_session, "after_commit", self._on_commit)
        return result

    def _on_commit(self, sync_session: Any) -> None:
        self._hand_over(sync_session.info.pop("tuanbot_outbound", []))

    def _hand_over(self, rows: list[QueuedRow]) -> None:
        now = self.clock.now()
        for row in rows:
            if row.not_before is None or row.not_before <= now:
                self._ready.append(row)
                self._in_flight.add(row.id)
            else:
                self._store_unknown = True  # meant for later: the loop's query will find it when it is due
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
    ) -> tuple[Enqueued, QueuedRow | None]:
        if coalesce_key is not None:
            queued = await session.scalar(
                select(OutboundMessage).where(
                    OutboundMessage.coalesce_key == coalesce_key,
                    OutboundMessage.status == "queued",
                    OutboundMessage.attempts == 0,  # a row tried already holds its final text
                )
            )
            if queued is not None:
                queued.text = out.text
                queued.mentions = list(out.mentions)
                self._store_unknown = True
                return Enqueued("coalesced", queued.id), None
        values = row_values(out, group, kind, key, coalesce_key, not_before, self.clock.now())
        statement = self.db.insert(OutboundMessage).values(**values)
        if key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=["key"])
        row_id = await session.scalar(statement.returning(OutboundMessage.id))
        if row_id is None:
            return Enqueued("duplicate", None), None  # a row already holds this key (another process, a replay)
        row = QueuedRow(
            row_id, out.room_id, group, out.text, list(out.mentions), kind, coalesce_key, 0, not_before, out.file
        )
        return Enqueued("queued", row_id), row

    # --- sending ----------------------------------------------------------------------------------------------

    async def _load_recent(self) -> None:
        """After a restart, count what was sent lately so the limits and the same-text window hold across it."""
        now = self.clock.now()
        since = now - max(MINUTE, self.limits.same_text_window)
        async with self.db.transaction() as session:
            interrupted = await recover_interrupted(session)
        if interrupted:
            self.log.warning("sends_interrupted", outbound_ids=interrupted)
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(
                    OutboundMessage.group_name,
                    OutboundMessage.room_id,
                    OutboundMessage.text,
                    OutboundMessage.sent_at,
                    OutboundMessage.kind,
                ).where(OutboundMessage.status == "sent", OutboundMessage.sent_at >= since)
            )
            for group_name, room_id, text, sent_at, kind in rows:
                if sent_at is None:
                    continue
                if sent_at >= now - MINUTE:  # counted, whatever the limits: they were sent
                    await self._slots.take([f"group:{group_name or room_id}", "account"], [10**9, 10**9], sent_at)
                remaining = self.limits.same_text_window - (now - sent_at)
                if remaining > timedelta(0) and kind not in REPLY_KINDS and kind not in self.renderers:
                    await self._texts.claim(room_id, text, now, remaining)
        self._loaded = True

    async def _due(self, now: datetime) -> list[QueuedRow]:
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
            return [QueuedRow.of(row) for row in result if row.id not in self._in_flight]

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
            due = list(self._ready)
            if not due and (self._store_unknown or (self._next_known is not None and self._next_known <= now)):
                # cleared before asking: a row handed over while the queries run sets it again, and is not lost
                self._store_unknown = False
                try:
                    due = await self._due(now)
                    if due:
                        self._store_unknown = True  # one is sent per turn: the store still holds the others
                    else:
                        self._next_known = await self._next_not_before()
                except BaseException:
                    self._store_unknown = True
                    raise
            if not due:
                nxt = self._next_known
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
                if row in self._ready:  # wherever it stands: a row ahead of it may be held by its group's limit
                    self._ready.remove(row)
                self._in_flight.add(row.id)
                try:
                    await self._send_one(row)
                except BaseException:
                    self._store_unknown = True  # it stays queued in the store and out of memory: look there again
                    raise
                finally:
                    self._in_flight.discard(row.id)
                break
            else:
                return min(waits)
        return None

    async def _send_one(self, row: QueuedRow) -> None:
        now = self.clock.now()
        if row.kind in QUIET_KINDS and self.in_quiet_hours(now):
            await self._suppress(row, "quiet_hours")
            return
        if row.group_name is not None and row.kind not in LEADER_KINDS and self.is_paused(row.group_name):
            # The leader paused the bot in this group: it says nothing there but answers to the leader's own
            # commands (orders are still recorded; a digest not said now names its orders in the next one).
            await self._suppress(row, "paused")
            return
        text = row.text
        renderer = self.renderers.get(row.kind)
        first = renderer is not None and row.attempts == 0  # a row tried before holds its final text, told already
        if renderer is not None and first:
            rendered = await renderer(row)
            if rendered is None:
                await self._suppress(row, "nothing_to_say")
                if (empty := self.after_empty.get(row.kind)) is not None:
                    await empty(row)
                return
            text = rendered
        # A reply to a person is never held back; nor is news: a rendered notice (a digest, a flash notice) has text
        # only when it names what the group has not been told, so its text said minutes ago is a new change
        # (a re-order after a cancel) — the told marks, not the window, keep it from repeating (send_policy).
        windowed = row.kind not in REPLY_KINDS and row.file is None and renderer is None
        if windowed and not await self._texts.claim(row.room_id, text, now, self.limits.same_text_window):
            await self._suppress(row, "same_text_window", text=text)
            return
        out = Outbound(room_id=row.room_id, text=text, mentions=tuple(row.mentions), file=row.file)
        if renderer is not None:
            await self._mark(row.id, status="sending", text=text, sent_at=now)  # when it is being said
            hook = self.after_sent.get(row.kind)
            if first and hook is not None:
                try:  # what it names is told before it is said: a kill after the send repeats none of it
                    await hook(row)
                except Exception:  # bookkeeping: the next digest tells what this one could not mark
                    self.log.exception("after_sent_failed", kind=row.kind, outbound_id=row.id)
        try:
            await self.channel.send(out)
        except Exception as exc:  # the channel could not take it: keep it queued and back off
            if windowed:
                await self._texts.release(row.room_id, text)
            self._store_unknown = True  # it stays queued in the store, due after the backoff
            backoff = min(60.0, 2.0 ** min(row.attempts, 6))
            await self._mark(
                row.id, status="queued", attempts=row.attempts + 1, not_before=now + timedelta(seconds=backoff)
            )
            self.log.warning(
                "message_send_failed", group=row.group_name, kind=row.kind, outbound_id=row.id, error=repr(exc)
            )
            return
        crash_point(SAID, self.kill_at)
        sent_at = self.clock.now()
        await self._mark(row.id, status="sent", sent_at=sent_at, attempts=row.attempts + 1, text=text)
        self.log.info("message_sent", group=row.group_name, kind=row.kind, outbound_id=row.id, text=text[:200])
        low, high = self.limits.spacing
        if high > 0:
            await self.clock.sleep(self.rng.uniform(low, high))

    async def _suppress(self, row: QueuedRow, reason: str, text: str | None = None) -> None:
        await self._mark(row.id, status="suppressed", reason=reason, **({"text": text} if text else {}))
        self.log.info("message_suppressed", group=row.group_name, kind=row.kind, reason=reason, text=row.text[:80])

    async def _mark(self, row_id: int, **values: Any) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(OutboundMessage).where(OutboundMessage.id == row_id).values(**values))

    async def flush(self, *, horizon: timedelta = timedelta(0)) -> None:
        """Send everything due by now + `horizon`, waiting out the rate limits on the clock (demo, tests, shutdown)."""
        deadline = self.clock.now() + horizon
        self._store_unknown = True  # everything due, wherever it was queued (another process, a CLI)
        while True:
            wait = await self.send_due()
            if wait is None:
                return
            held_by_limits = bool(self._ready or await self._due(self.clock.now()))
            if not held_by_limits and self.clock.now() + timedelta(seconds=wait) > deadline:
                return  # only messages meant for later remain
            await self.clock.sleep(wait)

    async def run(self) -> None:
        """The send loop of a live bot: sends as messages become due, sleeps when idle, until `stop()`."""
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.send_due()
                failures = 0
            except Exception:  # a store hiccup must not end the loop: the bot would take orders and never answer
                failures += 1
                wait = min(30.0, 0.5 * 2**failures)
                self.log.exception("send_loop_failed", retry_in=wait)
            timeout = IDLE_POLL_S if wait is None else max(0.05, min(wait, IDLE_POLL_S))
            try:
                async with asyncio.timeout(timeout):  # not wait_for: no extra task, the send starts a turn sooner
                    await self._wake.wait()
            except TimeoutError:
                self._store_unknown = True  # another process (or a CLI) may have queued something meanwhile

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def due_count(self) -> int:
        """How many queued messages are due now (a row handed over in memory is still queued in the store until it
        is said): 0 means the send loop has said everything it can say at this moment (a shutdown waits for that)."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            n = await session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.status == "queued",
                    (OutboundMessage.not_before.is_(None)) | (OutboundMessage.not_before <= now),
                )
            )
        return int(n or 0)
