"""One contract for the shared state, run against the in-process implementation and the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from storage.shared_state import MemoryState, RedisState, SharedState
from tests.conftest import _reachable, service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "memory":
        yield MemoryState()
        return
    if not _reachable("127.0.0.1", 6379):
        service_missing("Redis at 127.0.0.1:6379")
    shared = RedisState(REDIS_URL, prefix=f"tuanbot-test:{uuid.uuid4().hex[:8]}:")
    try:
        yield shared
    finally:
        keys = [k async for k in shared.redis.scan_iter(match=shared.prefix + "*")]
        if keys:
            await shared.redis.delete(*keys)
        await shared.close()


async def test_handled_marks(state: SharedState) -> None:
    assert await state.handled_among(["m1"]) == set()
    await state.mark_handled(["m1", "m3"])
    assert await state.handled_among(["m1", "m2", "m3"]) == {"m1", "m3"}
    assert await state.handled_among([]) == set()
    await state.mark_handled([])


async def test_slots_admit_the_limit_then_say_how_long_to_wait(state: SharedState) -> None:
    now = 1_000.0
    for i in range(3):
        assert await state.take_slots(["g1"], [3], 60, now + i) == 0
    wait = await state.take_slots(["g1"], [3], 60, now + 10)
    assert wait == pytest.approx(50, abs=0.01)  # the first slot frees at now + 60
    assert await state.take_slots(["g1"], [3], 60, now + 60.5) == 0


async def test_slots_are_taken_in_every_window_or_none(state: SharedState) -> None:
    now = 5_000.0
    assert await state.take_slots(["account"], [1], 60, now) == 0
    assert await state.take_slots(["group", "account"], [5, 1], 60, now + 1) > 0
    # the group slot was not consumed by the refused attempt
    for i in range(5):
        assert await state.take_slots(["group"], [5], 60, now + 2 + i) == 0


async def test_stock_is_taken_atomically_and_never_below_zero(state: SharedState) -> None:
    await state.stock_init("flash:o", 100)
    await state.stock_init("flash:o", 999)  # a restart does not refill
    results = await asyncio.gather(*(state.stock_take("flash:o", 1) for _ in range(250)))
    taken = [r for r in results if r is not None]
    assert len(taken) == 100
    assert sorted(taken) == list(range(100))
    assert await state.stock_left("flash:o") == 0
    assert await state.stock_take("flash:o", 1) is None
    assert await state.stock_give("flash:o", 2) == 2
    assert await state.stock_take("flash:o", 3) is None  # not enough: nothing taken
    assert await state.stock_take("flash:o", 2) == 0


async def test_stock_taken_for_many_in_arrival_order(state: SharedState) -> None:
    await state.stock_init("flash:m", 5)
    # first come first served; a later, smaller want is served when an earlier, bigger one cannot be
    assert await state.stock_take_many("flash:m", [2, 2, 2, 1, 1]) == [3, 1, None, 0, None]
    assert await state.stock_left("flash:m") == 0
    assert await state.stock_take_many("flash:m", []) == []
    await state.stock_give("flash:m", 3)
    batches = await asyncio.gather(*(state.stock_take_many("flash:m", [1, 1]) for _ in range(4)))
    assert sorted(x for batch in batches for x in batch if x is not None) == [0, 1, 2]  # never below zero


async def test_unknown_stock(state: SharedState) -> None:
    assert await state.stock_left("nope") is None
    assert await state.stock_take("nope", 1) is None
    assert await state.stock_take_many("nope", [1, 2]) == [None, None]
