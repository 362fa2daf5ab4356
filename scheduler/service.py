"""The one APScheduler of a bot process: start, leadership, and the jobs from the validated config (`apply` swaps
them; reloading the config is `bot.lifecycle.Lifecycle`'s). What a firing posts, once, is `scheduler.firing`'s; the
catch-up at start derives "the last run" from the outbound table, so the scheduler keeps no state of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.events import DomainEvent, PlanChanged
from bot.logs import get_logger
from scheduler.firing import (
    GRACE,
    MAX_LOOKBACK,
    POST_KINDS,
    CatchUp,
    existing_keys,
    fire,
    firing_key,
    firings_between,
    last_run,
    post_kind,
)
from scheduler.lock import LeaderLock, LocalLock
from scheduler.plan import JobSpec, planned_jobs

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.services import Services

log = get_logger("tuanbot.scheduler")

_EARLY = timedelta(seconds=1)  # APScheduler's wall clock and the bot's clock may disagree by a hair


class BotScheduler:
    """Owns the `AsyncIOScheduler`. Jobs run only while `lock` is held (the Redis leader lock with several
    processes; without one, this process alone owns the scheduler)."""

    def __init__(
        self,
        services: Services,
        lock: LeaderLock | None = None,
        *,
        grace: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.services = services
        self.lock: LeaderLock = lock or LocalLock()
        self.grace = {**GRACE, **(grace or {})}
        self.scheduler = AsyncIOScheduler(
            timezone=services.config.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        )
        self.specs: dict[str, JobSpec] = {}
        self.leading = False
        self._tasks: list[asyncio.Task[None]] = []

    # --- life cycle ---------------------------------------------------------------------------------------------

    async def start(self, *, paused: bool = False) -> None:
        """Take the lead if free, schedule the config's jobs, catch up on firings missed while down, and keep the
        lock alive. `paused`: register jobs but run none (tests)."""
        self.leading = await self.lock.acquire()
        self.apply(self.services.config)
        self.services.subscribers.after_commit.append(self._plan_changed)  # a leader's chat change (#15)
        self.scheduler.start(paused=paused)
        log.info("scheduler_started", leader=self.leading, jobs=len(self.scheduler.get_jobs()))
        if self.leading:
            await self.catch_up()
        renew_every = getattr(self.lock, "renew_every", None)
        if renew_every:
            self._tasks.append(asyncio.create_task(self._keep_lock(renew_every), name="scheduler:lock"))

    async def shutdown(self) -> None:
        if self._plan_changed in self.services.subscribers.after_commit:
            self.services.subscribers.after_commit.remove(self._plan_changed)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("scheduler_task_failed", task=task.get_name())
        self._tasks.clear()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leading:
            await self.lock.release()
            self.leading = False
        log.info("scheduler_stopped")

    # --- the plan -------------------------------------------------------------------------------------------------

    def grace_of(self, kind: str) -> timedelta:
        return self.grace.get(kind, timedelta(minutes=10))

    def apply(self, config: Config) -> int:
        """Swap the scheduled jobs for the config's, in one step (no await, so no job runs half-way through).

        Ids are stable, so an unchanged job is replaced by itself; a job gone from the config is removed. One-off
        firings already in the past are not scheduled: the start-up catch-up deals with those.
        """
        specs = planned_jobs(config)
        now = self.services.clock.now()
        wanted = {spec.id: spec for spec in specs}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                self.scheduler.remove_job(job.id)
        scheduled = 0
        for spec in specs:
            first = spec.trigger.get_next_fire_time(None, now)
            if first is None or first < now:
                if self.scheduler.get_job(spec.id) is not None:
                    self.scheduler.remove_job(spec.id)
                continue
            self.scheduler.add_job(
                run_scheduled_job,
                trigger=spec.trigger,
                args=[self, spec.id],
                id=spec.id,
                name=f"{spec.kind} {spec.ref} @ {spec.group}",
                replace_existing=True,
                next_run_time=first,  # from the bot's clock: APScheduler would read the wall clock here
                misfire_grace_time=int(self.grace_of(spec.kind).total_seconds()),
                coalesce=True,  # a cron column missed several times (the process was down) goes out once, not N times
                max_instances=1,
            )
            scheduled += 1
        self.specs = wanted
        log.info("jobs_applied", jobs=len(specs), scheduled=scheduled)
        return scheduled

    async def _plan_changed(self, events: Sequence[DomainEvent]) -> None:
        """A leader opened, closed or moved a buy in chat: the jobs follow the config as it now is (its posts that
        are due now were said by the command itself, under the keys these jobs use)."""
        if any(isinstance(e, PlanChanged) for e in events):
            self.apply(self.services.config)

    async def run_job(self, job_id: str) -> None:
        """What APScheduler calls: find the firing it is running for, then `fire` it."""
        spec = self.specs.get(job_id)
        if spec is None:
            return
        now = self.services.clock.now()
        grace = self.grace_of(spec.kind)
        times = firings_between(spec.trigger, now - grace - _EARLY, now + _EARLY)
        if not times:
            log.warning("job_missed", job=job_id, reason="no firing within grace", now=now.isoformat())
            return
        try:
            await self.fire(spec, times[-1])
        except Exception:
            log.exception("job_failed", job=job_id, at=times[-1].isoformat())

    # --- firing ---------------------------------------------------------------------------------------------------

    async def fire(self, spec: JobSpec, fire_time: datetime) -> bool:
        """Post what `spec` says at `fire_time`, with live values, through the sender. True if it queued the post;
        False when another firing already did, this process does not hold the lock, or the room is unknown."""
        return await fire(self.services, self.lock, spec, fire_time)

    # --- restart --------------------------------------------------------------------------------------------------

    async def last_run(self) -> datetime | None:
        """When this bot last posted something scheduled (derived from the outbound queue's keyed rows)."""
        return await last_run(self.services)

    async def catch_up(self) -> CatchUp:
        """Firings the bot was down for: within their grace time they go out now (once: the key); older ones are
        logged as `job_missed` and not sent late. Only firings since the last run count as missed."""
        if not self.lock.held:
            return CatchUp(0, 0)
        now = self.services.clock.now()
        last = await self.last_run()
        floor = max(last if last is not None else now - max(self.grace.values()), now - MAX_LOOKBACK)
        candidates: list[tuple[datetime, JobSpec]] = []
        for spec in self.specs.values():
            start = min(floor, now - self.grace_of(spec.kind))
            candidates.extend((t, spec) for t in firings_between(spec.trigger, start, now))
        candidates.sort(key=lambda c: c[0])
        done = await existing_keys(self.services, [firing_key(spec, t) for t, spec in candidates])
        fired = missed = 0
        for t, spec in candidates:
            if firing_key(spec, t) in done:
                continue
            if now - t <= self.grace_of(spec.kind):
                fired += await self.fire(spec, t)
            else:
                missed += 1
                log.warning(
                    "job_missed", job=spec.id, at=t.isoformat(), late=str(now - t), grace=str(self.grace_of(spec.kind))
                )
        if fired or missed:
            log.info("catch_up_done", fired=fired, missed=missed)
        return CatchUp(fired, missed)

    # --- leadership -----------------------------------------------------------------------------------------------

    async def refresh_leadership(self) -> bool:
        """Renew the lock if we lead, else try to take it; a new leader catches up on what is due."""
        was = self.leading
        self.leading = await (self.lock.renew() if was else self.lock.acquire())
        if self.leading and not was:
            log.info("leader_acquired")
            await self.catch_up()
        elif was and not self.leading:
            log.warning("leader_lost")
        return self.leading

    async def _keep_lock(self, every: timedelta) -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            try:
                await self.refresh_leadership()
            except Exception:
                log.exception("leader_lock_failed")


async def run_scheduled_job(scheduler: BotScheduler, job_id: str) -> None:
    """The one job function APScheduler calls (module-level, as its job stores expect)."""
    await scheduler.run_job(job_id)


__all__ = [
    "GRACE",
    "POST_KINDS",
    "BotScheduler",
    "CatchUp",
    "firing_key",
    "firings_between",
    "post_kind",
    "run_scheduled_job",
]
