"""Who runs the scheduled jobs: one leader among the bot processes (a Redis lock), or this process alone."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.logs import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

DEFAULT_LOCK_NAME = "tuanbot:scheduler:leader"
DEFAULT_TTL = timedelta(seconds=30)

# Renew or release only a lock we still hold: compare the token, then act, in one atomic step.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock(Protocol):
    """The right to run scheduled jobs. `held` is this process's latest knowledge; `renew()` asks again."""

    @property
    def held(self) -> bool: ...

    async def acquire(self) -> bool: ...

    async def renew(self) -> bool: ...

    async def release(self) -> None: ...


class LocalLock:
    """Without Redis one process owns the scheduler: the lock is always held."""

    renew_every: timedelta | None = None  # nothing to keep alive

    @property
    def held(self) -> bool:
        return True

    async def acquire(self) -> bool:
        return True

    async def renew(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class RedisLeaderLock:
    """`SET name token NX PX ttl`; renewed and released only by the holder of `token` (Lua compare-and-act).

    A holder that stops renewing (crashed, or cut off from Redis) loses the lock after `ttl`, and another process
    takes over. `held` is also false once `ttl` has passed since the last confirmed acquire or renew, so a process
    cut off from Redis stops firing on its own.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        name: str = DEFAULT_LOCK_NAME,
        ttl: timedelta = DEFAULT_TTL,
        token: str | None = None,
    ) -> None:
        self.redis = redis
        self.name = name
        self.ttl = ttl
        self.token = token or uuid.uuid4().hex
        self.renew_every: timedelta | None = ttl / 3
        self._valid_until = 0.0  # time.monotonic() until which the last confirmation holds
        self._owns_client = False
        self.log = get_logger("tuanbot.scheduler")

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> RedisLeaderLock:
        from redis.asyncio import Redis

        lock = cls(Redis.from_url(url), **kwargs)  # type: ignore[arg-type]
        lock._owns_client = True
        return lock

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl.total_seconds() * 1000)

    @property
    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    def _confirmed(self, started: float) -> None:
        # Measured from before the request: Redis's expiry may have started any time after it.
        self._valid_until = started + self.ttl.total_seconds()

    async def acquire(self) -> bool:
        """Take the lock if it is free (or keep it if ours). False when another process holds it or Redis is down."""
        started = time.monotonic()
        try:
            if await self.redis.set(self.name, self.token, nx=True, px=self._ttl_ms):
                self._confirmed(started)
                return True
        except Exception as exc:  # redis.ConnectionError and friends: not the leader until Redis answers
            self._valid_until = 0.0
            self.log.warning("leader_lock_unavailable", lock=self.name, error=repr(exc))
            return False
        return await self.renew()

    async def renew(self) -> bool:
        started = time.monotonic()
        try:
            renewed = await self.redis.eval(_RENEW, 1, self.name, self.token, self._ttl_ms)  # type: ignore[misc]
        except Exception as exc:
            self._valid_until = 0.0
            self.log.warning("leader_lock_unavailable", lock=self.name, error=repr(exc))
            return False
        if renewed:
            self._confirmed(started)
            return True
        self._valid_until = 0.0
        return False

    async def release(self) -> None:
        self._valid_until = 0.0
        try:
            await self.redis.eval(_RELEASE, 1, self.name, self.token)  # type: ignore[misc]
        except Exception as exc:
            self.log.warning("leader_lock_release_failed", lock=self.name, error=repr(exc))

    async def aclose(self) -> None:
        """Close the Redis client if this lock made it (`from_url`)."""
        if self._owns_client:
            await self.redis.aclose()


def make_lock(redis_url: str | None, **kwargs: object) -> LeaderLock:
    """A Redis leader lock when a Redis URL is configured, else the in-process lock."""
    if redis_url:
        return RedisLeaderLock.from_url(redis_url, **kwargs)
    return LocalLock()


__all__ = ["DEFAULT_LOCK_NAME", "DEFAULT_TTL", "LeaderLock", "LocalLock", "RedisLeaderLock", "make_lock"]
