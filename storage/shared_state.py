"""State that several bot processes share: handled-message marks, the sender's rate-limit slots, stock counters.

One interface, two implementations passing the same contract tests (`tests/test_shared_state.py`): `MemoryState`
for a single process without Redis, `RedisState` (redis-py asyncio) when processes share a Redis. Every operation
is atomic — a Lua script on Redis, a lock-free critical section in one event loop in memory — never
read-modify-write across awaits. (The scheduler's leader lock lives with the scheduler: `scheduler/lock.py`.)
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Protocol

HANDLED_TTL_S = 2 * 24 * 3600  # replays older than two days are caught by the store's unique message id anyway


class SharedState(Protocol):
    async def handled_among(self, msg_ids: Sequence[str]) -> set[str]:
        """Which of these messages are marked handled (one round trip for a whole batch)."""
        ...

    async def mark_handled(self, msg_ids: Sequence[str]) -> None: ...

    async def take_slots(self, keys: Sequence[str], limits: Sequence[int], window_s: float, now: float) -> float:
        """Take one slot in every key's window, or none: 0 when taken, else seconds until all would be free."""
        ...

    async def claim(self, key: str, now: float, ttl_s: float) -> bool:
        """Claim `key` for `ttl_s` seconds: True if it was free (or its claim expired), False if claimed."""
        ...

    async def release(self, key: str) -> None: ...

    async def stock_init(self, key: str, total: int) -> None:
        """Set a counter to `total` units unless it exists (a restart keeps what was taken)."""
        ...

    async def stock_take(self, key: str, n: int) -> int | None:
        """Take `n` units: the units left after, or None (and nothing taken) when fewer than `n` are left."""
        ...

    async def stock_take_many(self, key: str, ns: Sequence[int]) -> list[int | None]:
        """`stock_take` for each of `ns` in order, atomically as a whole: the units left after each, or None."""
        ...

    async def stock_give(self, key: str, n: int) -> int: ...

    async def stock_set(self, key: str, left: int) -> None:
        """Reset a counter to the truth (the SQL row) after it drifted."""
        ...

    async def stock_left(self, key: str) -> int | None: ...

    async def close(self) -> None: ...


class MemoryState:
    """One process, no Redis: each method runs without awaiting inside, so it is atomic on the event loop."""

    def __init__(self) -> None:
        self._handled: dict[str, float] = {}
        self._slots: dict[str, deque[float]] = defaultdict(deque)
        self._stock: dict[str, int] = {}
        self._claims: dict[str, float] = {}

    async def handled_among(self, msg_ids: Sequence[str]) -> set[str]:
        now = time.monotonic()
        return {m for m in msg_ids if self._handled.get(m, 0.0) > now}

    async def mark_handled(self, msg_ids: Sequence[str]) -> None:
        now = time.monotonic()
        if len(self._handled) > 200_000:  # keep memory bounded: drop the expired
            self._handled = {k: v for k, v in self._handled.items() if v > now}
        for msg_id in msg_ids:
            self._handled[msg_id] = now + HANDLED_TTL_S

    async def take_slots(self, keys: Sequence[str], limits: Sequence[int], window_s: float, now: float) -> float:
        wait = 0.0
        for key, limit in zip(keys, limits, strict=True):
            q = self._slots[key]
            while q and q[0] <= now - window_s:
                q.popleft()
            if len(q) >= limit:
                wait = max(wait, q[0] + window_s - now)
        if wait > 0:
            return wait
        for key in keys:
            self._slots[key].append(now)
        return 0.0

    async def claim(self, key: str, now: float, ttl_s: float) -> bool:
        expires = self._claims.get(key)
        if expires is not None and expires > now:
            return False
        if len(self._claims) > 100_000:
            self._claims = {k: v for k, v in self._claims.items() if v > now}
        self._claims[key] = now + ttl_s
        return True

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)

    async def stock_init(self, key: str, total: int) -> None:
        self._stock.setdefault(key, total)

    async def stock_take(self, key: str, n: int) -> int | None:
        left = self._stock.get(key)
        if left is None or left < n:
            return None
        self._stock[key] = left - n
        return left - n

    async def stock_take_many(self, key: str, ns: Sequence[int]) -> list[int | None]:
        return [await self.stock_take(key, n) for n in ns]  # no await yields here: atomic on the event loop

    async def stock_give(self, key: str, n: int) -> int:
        self._stock[key] = self._stock.get(key, 0) + n
        return self._stock[key]

    async def stock_set(self, key: str, left: int) -> None:
        self._stock[key] = left

    async def stock_left(self, key: str) -> int | None:
        return self._stock.get(key)

    async def close(self) -> None:
        return None


# KEYS: the window keys; ARGV: window (ms), now (ms), a unique member, then one limit per key
_TAKE_SLOTS = """
local window, now, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return '0'
"""
_STOCK_TAKE = """
local left = redis.call('GET', KEYS[1])
if not left then return -2 end
left = tonumber(left)
local n = tonumber(ARGV[1])
if left < n then return -1 end
return redis.call('DECRBY', KEYS[1], n)
"""
# KEYS: handled marks to set; ARGV[1]: their time to live (s). One command for a batch, not one per message.
_MARK_MANY = """
for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'EX', ARGV[1]) end
return #KEYS
"""
# ARGV: the units each taker wants, in arrival order. Returns the units left after each, -1 for a refusal, -2 for
# a counter that does not exist. DECRBY (not SET) keeps any expiry the key has.
_STOCK_TAKE_MANY = """
local left = redis.call('GET', KEYS[1])
local out = {}
if not left then
  for i = 1, #ARGV do out[i] = -2 end
  return out
end
left = tonumber(left)
local taken = 0
for i = 1, #ARGV do
  local n = tonumber(ARGV[i])
  if left >= n then
    left = left - n
    taken = taken + n
    out[i] = left
  else
    out[i] = -1
  end
end
if taken > 0 then redis.call('DECRBY', KEYS[1], taken) end
return out
"""


class RedisState:
    """Shared by every process on one Redis. Keys live under `prefix` (one bot deployment)."""

    def __init__(self, url: str, *, prefix: str = "tuanbot:") -> None:
        from redis import asyncio as aioredis

        # a blocking pool: under a burst, callers wait for a connection instead of failing "too many connections"
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, decode_responses=True, socket_timeout=2, socket_connect_timeout=2
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = prefix
        self._take_slots = self.redis.register_script(_TAKE_SLOTS)
        self._stock_take = self.redis.register_script(_STOCK_TAKE)
        self._stock_take_many = self.redis.register_script(_STOCK_TAKE_MANY)
        self._mark_many = self.redis.register_script(_MARK_MANY)
        self._seq = 0

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def handled_among(self, msg_ids: Sequence[str]) -> set[str]:
        if not msg_ids:
            return set()
        values = await self.redis.mget([self._k("handled", m) for m in msg_ids])
        return {m for m, v in zip(msg_ids, values, strict=True) if v is not None}

    async def mark_handled(self, msg_ids: Sequence[str]) -> None:
        if not msg_ids:
            return
        await self._mark_many(keys=[self._k("handled", m) for m in msg_ids], args=[HANDLED_TTL_S])

    async def take_slots(self, keys: Sequence[str], limits: Sequence[int], window_s: float, now: float) -> float:
        self._seq += 1
        member = f"{now:.6f}:{id(self)}:{self._seq}"
        wait_ms = await self._take_slots(
            keys=[self._k("slots", k) for k in keys],
            args=[int(window_s * 1000), int(now * 1000), member, *limits],
        )
        return float(wait_ms) / 1000

    async def claim(self, key: str, now: float, ttl_s: float) -> bool:
        # Redis keeps time itself: `now` is for the in-process implementation (and a virtual clock in tests)
        return bool(await self.redis.set(self._k("claim", key), "1", nx=True, px=max(1, int(ttl_s * 1000))))

    async def release(self, key: str) -> None:
        await self.redis.delete(self._k("claim", key))

    async def stock_init(self, key: str, total: int) -> None:
        await self.redis.set(self._k("stock", key), total, nx=True)

    async def stock_take(self, key: str, n: int) -> int | None:
        left = int(await self._stock_take(keys=[self._k("stock", key)], args=[n]))
        return None if left < 0 else left

    async def stock_take_many(self, key: str, ns: Sequence[int]) -> list[int | None]:
        if not ns:
            return []
        lefts = await self._stock_take_many(keys=[self._k("stock", key)], args=list(ns))
        return [None if int(x) < 0 else int(x) for x in lefts]

    async def stock_give(self, key: str, n: int) -> int:
        return int(await self.redis.incrby(self._k("stock", key), n))

    async def stock_set(self, key: str, left: int) -> None:
        await self.redis.set(self._k("stock", key), left)

    async def stock_left(self, key: str) -> int | None:
        value = await self.redis.get(self._k("stock", key))
        return None if value is None else int(value)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.redis.connection_pool.disconnect()
