"""Once with several processes: the Redis leader lock (real Redis), and two schedulers on one database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.lock import LocalLock, RedisLeaderLock
from scheduler.plan import planned_jobs
from scheduler.service import BotScheduler
from storage.models import OutboundMessage
from tests.conftest import service_missing
from tests.harness import BotHarness, at
from tests.scheduler.conftest import G1, G2, MONDAY, NEXT_MONDAY, firings, meet_rooms, scheduler_of, week_config

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis() -> AsyncIterator[Any]:
    from redis.asyncio import Redis
    from redis.exceptions import ConnectionError as RedisDown

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisDown, OSError):
        await client.aclose()
        service_missing("Redis at 127.0.0.1:6379")
    yield client
    await client.aclose()


@pytest.fixture
def lock_name(redis: Any) -> str:
    return f"tuanbot:test:leader:{uuid.uuid4().hex[:8]}"


# --- the lock ------------------------------------------------------------------------------------------------------


async def test_one_holder_at_a_time_renewed_and_released_only_by_its_holder(redis: Any, lock_name: str) -> None:
    a = RedisLeaderLock(redis, name=lock_name, ttl=timedelta(seconds=30))
    b = RedisLeaderLock(redis, name=lock_name, ttl=timedelta(seconds=30))
    assert await a.acquire()
    assert a.held
    assert not await b.acquire()
    assert not b.held
    assert await a.acquire()  # acquiring again while holding it just renews
    assert 0 < await redis.pttl(lock_name) <= 30_000
    await b.release()  # not the holder: a no-op
    assert await redis.get(lock_name) == a.token.encode()
    assert await a.renew()
    await a.release()
    assert not a.held
    assert await redis.get(lock_name) is None
    assert await b.acquire()
    assert b.held
    await b.release()


async def test_a_holder_whose_lock_expired_and_was_taken_stops_leading(redis: Any, lock_name: str) -> None:
    a = RedisLeaderLock(redis, name=lock_name)
    b = RedisLeaderLock(redis, name=lock_name)
    assert await a.acquire()
    await redis.delete(lock_name)  # what the TTL does to a holder that stopped renewing
    assert await b.acquire()
    assert not await a.renew()
    assert not a.held
    await a.release()  # must not delete b's lock
    assert await redis.get(lock_name) == b.token.encode()
    await b.release()


async def test_redis_down_means_not_leading() -> None:
    lock = RedisLeaderLock.from_url("redis://127.0.0.1:1/0", name="tuanbot:test:nowhere")
    assert not await lock.acquire()
    assert not lock.held
    assert not await lock.renew()
    await lock.release()
    await lock.aclose()


async def test_the_local_lock_is_always_held() -> None:
    lock = LocalLock()
    assert await lock.acquire()
    assert await lock.renew()
    assert lock.held


# --- two scheduler processes on one database -------------------------------------------------------------------------


async def two_bots(base: Path, target: tuple[str, dict[str, Any]]) -> tuple[BotHarness, BotHarness]:
    """Two processes on one store. Which of them says a post is not the point (strict=False on each): the tests
    check what the two said together."""
    url, kwargs = target
    (base / "a").mkdir()
    (base / "b").mkdir()
    first = BotHarness(base / "a", config=week_config(), start=MONDAY, database=url, engine_kwargs=kwargs, strict=False)
    await first.__aenter__()
    await meet_rooms(first)  # the rooms are stored, so the second process knows them at start
    second = BotHarness(
        base / "b", config=week_config(), start=MONDAY, database=url, engine_kwargs=kwargs, strict=False
    )
    await second.__aenter__()
    return first, second


async def count_rows(bot: BotHarness) -> dict[str, int]:
    async with bot.app.db.sessions() as session:
        rows = await session.execute(
            select(OutboundMessage.key, func.count())
            .where(OutboundMessage.key.is_not(None))
            .group_by(OutboundMessage.key)
        )
        return {key: n for key, n in rows}


async def test_two_schedulers_on_one_redis_post_once(
    tmp_path: Path, db_target: tuple[str, dict[str, Any]], redis: Any, lock_name: str
) -> None:
    first, second = await two_bots(tmp_path, db_target)
    a = scheduler_of(first, RedisLeaderLock(redis, name=lock_name))
    b = scheduler_of(second, RedisLeaderLock(redis, name=lock_name))
    try:
        await a.start(paused=True)
        await b.start(paused=True)
        assert (a.leading, b.leading) == (True, False)
        week = firings(first.config, MONDAY, NEXT_MONDAY)
        for when, spec in week[:4]:  # both processes' APScheduler wake up for every job; only the leader posts
            first.clock.advance_to(when)
            second.clock.advance_to(when)
            assert await asyncio.gather(a.fire(spec, when), b.fire(spec, when)) == [True, False]
        await a.shutdown()  # the leader goes away (its lock is released; a crash would let the TTL expire)
        assert await b.refresh_leadership()
        for when, spec in week[4:6]:
            second.clock.advance_to(when)
            assert await b.fire(spec, when)
        rows = await count_rows(first)
        assert len(rows) == 6
        assert set(rows.values()) == {1}
    finally:
        await b.shutdown()
        await second.__aexit__()
        await first.__aexit__()


async def test_even_if_both_fire_the_outbound_key_makes_it_once(
    tmp_path: Path, db_target: tuple[str, dict[str, Any]]
) -> None:
    first, second = await two_bots(tmp_path, db_target)
    a, b = BotScheduler(first.app.services), BotScheduler(second.app.services)  # no Redis: both think they lead
    try:
        week = firings(first.config, MONDAY, NEXT_MONDAY)
        results = []
        for when, spec in week:
            first.clock.advance_to(when)
            second.clock.advance_to(when)
            results.append(await asyncio.gather(a.fire(spec, when), b.fire(spec, when)))
        assert all(sorted(pair) == [False, True] for pair in results), results
        rows = await count_rows(first)
        assert len(rows) == len(week)
        assert set(rows.values()) == {1}
        await first.settle()
        await second.settle()
        said = [ln for bot in (first, second) for ln in bot.channel.transcript if ln.from_bot]
        assert len(said) == len(week)  # every firing said once, by one of the two
        assert len({(ln.topic, ln.text) for ln in said}) == len(week)
        assert sum(ln.text.startswith("#接龙") for ln in said if ln.topic == G1) == 1
        assert {s.id for _, s in week} <= {s.id for s in planned_jobs(first.config)}
        assert G2 in {s.group for _, s in week}
    finally:
        await second.__aexit__()
        await first.__aexit__()


async def test_a_process_that_is_not_the_leader_does_not_catch_up(tmp_path: Path, redis: Any, lock_name: str) -> None:
    first, second = await two_bots(tmp_path, (f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", {}))
    holder = RedisLeaderLock(redis, name=lock_name)
    assert await holder.acquire()
    b = scheduler_of(second, RedisLeaderLock(redis, name=lock_name))
    try:
        second.clock.advance_to(at("2026-11-30 09:05"))
        await b.start(paused=True)
        assert not b.leading
        assert (await b.catch_up()).fired == 0
        await holder.release()
        assert await b.refresh_leadership()  # took over: catches up the 09:00 header, within its grace
        assert len(await count_rows(first)) == 2
    finally:
        await b.shutdown()
        await second.__aexit__()
        await first.__aexit__()
