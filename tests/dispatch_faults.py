"""Fault injection for handlers: a store that fails at write time, then returns."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from bot.dispatch import Context, Handler


class OneStoreOutage:
    """Wraps a handler; its first `fail_times` runs fail as a database that is down would, after doing nothing."""

    def __init__(self, inner: Handler, fail_times: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_times = fail_times
        self.failures = 0

    def wants(self, ctx: Context) -> bool:
        return self.inner.wants(ctx)

    async def handle(self, ctx: Context) -> None:
        if self.failures < self.fail_times:
            self.failures += 1
            raise OperationalError("INSERT INTO orders …", {}, Exception("database is locked"))
        await self.inner.handle(ctx)
