"""A realistic week of a leader's plan, and a bot on the simulator with its scheduler (paused: tests fire by hand)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, parse_config_text
from scheduler.lock import LeaderLock
from scheduler.plan import JobSpec, next_firings
from scheduler.service import BotScheduler
from tests.harness import BotHarness, at

G1, G2 = "阳光花园1号群", "阳光花园2号群"
MONDAY = at("2026-11-30 00:00")
NEXT_MONDAY = MONDAY + timedelta(days=7)

WEEK = """
timezone: Asia/Shanghai
bot: {name: 小团}
quiet_hours: "22:00-08:00"
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
catalogue:
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}
  - {name: 砂糖橘, aliases: [沙糖桔], unit: 箱, price: 29.9}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
  - name: 阳光花园2号群
    leaders: [李哥]
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [阳光花园1号群, 阳光花园2号群]
    items: [{product: 草莓, price: 39.9, stock: 100}]
    opens: 2026-11-30 09:00
    cutoff: 2026-12-02 20:00
    arrival: 2026-12-05 16:00
    min_members: 3
columns:
  - name: 周一食谱日
    groups: all
    at: 周一 10:00
    text: |
      【周一食谱日】{date}{weekday},用{product:土鸡蛋}做番茄炒蛋~
      本周在团:{buys}
      草莓还剩{stock:草莓}
flash_sales:
  - id: orange
    product: 砂糖橘
    price: 19.9
    stock: 50
    groups: [阳光花园1号群]
    start: 2026-12-03 20:00
    end: 2026-12-03 20:30
    alerts: [-10m, 0]
reminders:
  cutoff: [-2h]
nudges:
  when_missing: [1]
  cooldown: 2h
  text: "仅差{missing}人成团!{title} 快来接龙~"
"""


def week_config(text: str = WEEK) -> Config:
    return parse_config_text(text, file="week.yaml")


def firings(config: Config, start: datetime, end: datetime) -> list[tuple[datetime, JobSpec]]:
    """Every firing in [start, end), in time order (from the pure plan)."""
    return [(t, spec) for t, spec in next_firings(config, start=start, count=1000) if t < end]


async def meet_rooms(bot: BotHarness, *groups: str) -> None:
    """A member says hello in each group, so the bot knows the rooms (a live bot learns them from the channel)."""
    for group in groups or (G1, G2):
        await bot.say("路人甲", "大家好", group)


def scheduler_of(bot: BotHarness, lock: LeaderLock | None = None) -> BotScheduler:
    return BotScheduler(bot.app.services, lock)


@pytest.fixture
async def week_bot(data_dir: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(data_dir, config=week_config(), start=MONDAY) as bot:
        await meet_rooms(bot)
        yield bot


@pytest.fixture
async def sched(week_bot: BotHarness) -> AsyncIterator[BotScheduler]:
    scheduler = scheduler_of(week_bot)
    await scheduler.start(paused=True)
    yield scheduler
    await scheduler.shutdown()
