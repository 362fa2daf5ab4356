"""The pure plan: a validated config expanded into the jobs to schedule, one per (item, group, firing kind)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.config import Config, cron_trigger, format_offset

JOB_KINDS = ("buy_open", "column", "flash_alert", "flash_end", "cutoff_reminder", "cutoff", "arrival")


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable across restarts and reloads, e.g. "cutoff_reminder:caomei-1128:-2h:阳光花园1号群"
    kind: str  # one of JOB_KINDS
    group: str  # group name
    ref: str  # the buy id / column name / flash sale id it came from
    trigger: BaseTrigger  # DateTrigger (one-off) or CronTrigger (weekly), in the config's timezone


def planned_jobs(config: Config) -> list[JobSpec]:
    """Every job the config asks for. `groups: all` means every configured group; unknown group names plan nothing.

    A cutoff reminder that would fire before its buy opens is left out (`check` warns about it).
    """
    tz = config.tz
    jobs: list[JobSpec] = []

    def once(kind: str, key: str, group: str, ref: str, when: datetime) -> None:
        jobs.append(JobSpec(f"{kind}:{key}:{group}", kind, group, ref, DateTrigger(run_date=when, timezone=tz)))

    for buy in config.buys:
        for group in config.groups_of(buy.groups):
            if buy.opens is not None:
                once("buy_open", buy.id, group.name, buy.id, buy.opens)
            if buy.cutoff is not None:
                for offset in config.reminders.cutoff:
                    when = buy.cutoff + offset
                    if buy.opens is None or when >= buy.opens:
                        once("cutoff_reminder", f"{buy.id}:{format_offset(offset)}", group.name, buy.id, when)
                once("cutoff", buy.id, group.name, buy.id, buy.cutoff)
            if buy.arrival is not None:
                once("arrival", buy.id, group.name, buy.id, buy.arrival)

    for column in config.columns:
        for group in config.groups_of(column.groups):
            if column.at is not None:
                at = column.at
                trigger: BaseTrigger = CronTrigger(
                    day_of_week=at.weekday, hour=at.time.hour, minute=at.time.minute, timezone=tz
                )
            else:
                assert column.cron is not None  # the model guarantees exactly one of at/cron
                trigger = cron_trigger(column.cron, tz)
            jobs.append(JobSpec(f"column:{column.name}:{group.name}", "column", group.name, column.name, trigger))

    for sale in config.flash_sales:
        for group in config.groups_of(sale.groups):
            for offset in sale.alerts:
                once("flash_alert", f"{sale.id}:{format_offset(offset)}", group.name, sale.id, sale.start + offset)
            once("flash_end", sale.id, group.name, sale.id, sale.end)
    return jobs


def _firings(job: JobSpec, start: datetime) -> Iterator[datetime]:
    """The job's fire times at or after `start`, in order."""
    moment = job.trigger.get_next_fire_time(None, start)
    while moment is not None:
        if moment >= start:  # a DateTrigger returns its run date even when it has passed
            yield moment
        moment = job.trigger.get_next_fire_time(moment, moment)


def next_firings(config: Config, *, start: datetime, count: int) -> list[tuple[datetime, JobSpec]]:
    """The next `count` firings at or after `start` (naive = the config's timezone), earliest first.

    Simultaneous firings keep the order of `planned_jobs`.
    """
    if count <= 0:
        return []
    if start.tzinfo is None:
        start = start.replace(tzinfo=config.tz)
    jobs = planned_jobs(config)
    streams = [_firings(job, start) for job in jobs]
    heap: list[tuple[datetime, int]] = []
    for index, stream in enumerate(streams):
        first = next(stream, None)
        if first is not None:
            heap.append((first, index))
    heapq.heapify(heap)
    result: list[tuple[datetime, JobSpec]] = []
    while heap and len(result) < count:
        moment, index = heapq.heappop(heap)
        result.append((moment, jobs[index]))
        following = next(streams[index], None)
        if following is not None:
            heapq.heappush(heap, (following, index))
    return result


__all__ = ["JOB_KINDS", "JobSpec", "next_firings", "planned_jobs"]
