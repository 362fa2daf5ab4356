"""Stock that is never oversold: the `stock_counters` row is the truth, taken inside the order's transaction with
one conditional UPDATE (`… SET left = left - n WHERE key = … AND left >= n RETURNING left`), never read-modify-write.
With Redis, a counter there turns away the crowd after a flash sale sells out without touching the database; the
SQL row still decides. If Redis fails, the gate is skipped and SQL alone decides (logged once per outage)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.logs import get_logger
from storage.db import Database
from storage.models import StockCounter
from storage.shared_state import SharedState

log = get_logger("tuanbot.stock")


def buy_key(buy_id: str, product: str) -> str:
    return f"buy:{buy_id}:{product}"


def flash_key(sale_id: str) -> str:
    return f"flash:{sale_id}"


class Stock:
    def __init__(self, db: Database, gate: SharedState | None = None) -> None:
        self.db = db
        self.gate = gate  # a RedisState when processes share one; None for SQL alone
        self._gate_down = False
        # keys whose gate counter was checked against the SQL row since start / since Redis came back: until then a
        # "sold out" from the gate may be stale (an empty restarted Redis, units given back while it was down)
        self._trusted: set[str] = set()
        self._pending: set[asyncio.Task[None]] = set()

    async def ensure(self, key: str, total: int) -> None:
        """Create the counter with `total` units unless it exists (a restart or a reload keeps what was taken)."""
        try:
            async with self.db.transaction() as session:
                if await session.get(StockCounter, key) is None:
                    session.add(StockCounter(key=key, total=total, left=total))
        except IntegrityError:
            pass  # another process created it first
        if self.gate is not None:
            async with self.db.sessions() as session:
                left = await session.scalar(select(StockCounter.left).where(StockCounter.key == key))
            await self._gated(self.gate.stock_init(key, int(left if left is not None else total)))

    async def take(self, session: AsyncSession, key: str, n: int) -> int | None:
        """Take `n` units in the caller's transaction: units left after, or None when fewer than `n` are left."""
        return (await self.take_many(session, key, [n]))[0]

    async def take_many(self, session: AsyncSession, key: str, ns: Sequence[int]) -> list[int | None]:
        """`take` for several takers at once, first come first served in the order given (a batch of a flash-sale
        crowd): the units left after each, or None for each who could not be served. One gate call and, while
        units last, one UPDATE for the whole batch; after the sell-out, the gate alone says no."""
        ns = list(ns)
        results: list[int | None] = [None] * len(ns)
        if self.gate is not None:
            gated = await self._call(self.gate.stock_take_many(key, ns))
            if gated is not _DOWN:
                passed = [i for i, left in enumerate(gated) if left is not None]
                refused = [i for i, left in enumerate(gated) if left is None]
                if passed:
                    self._journal(session, key, -sum(ns[i] for i in passed))
                await self._take_sql(session, key, ns, passed, results, gated=True)
                if refused and key not in self._trusted and not self._gate_down and await self._resync(session, key):
                    again = await self.take_many(session, key, [ns[i] for i in refused])  # now trusted: no loop
                    for i, left in zip(refused, again, strict=True):
                        results[i] = left
                elif refused and self._gate_down:  # it failed while resyncing: SQL decides alone
                    await self._take_sql(session, key, ns, refused, results, gated=False)
                return results
        await self._take_sql(session, key, ns, list(range(len(ns))), results, gated=False)
        return results

    async def _take_sql(
        self,
        session: AsyncSession,
        key: str,
        ns: list[int],
        which: list[int],
        results: list[int | None],
        *,
        gated: bool,
    ) -> None:
        """The SQL row decides for the takers `which` (indexes into `ns`), with conditional UPDATEs only: first all
        of them in one statement; if the row cannot serve them all, one by one in order, skipping any who want at
        least as much as someone already refused (the row holds our lock now, so they would be refused too)."""
        if not which:
            return
        total = sum(ns[i] for i in which)
        left = await self._decrement(session, key, total)
        if left is not None:
            for i in which:
                total -= ns[i]
                results[i] = left + total
            return
        smallest_refused: int | None = None
        for i in which:
            if smallest_refused is not None and ns[i] >= smallest_refused:
                continue
            results[i] = await self._decrement(session, key, ns[i])
            if results[i] is None:
                smallest_refused = ns[i]
        back = sum(ns[i] for i in which if results[i] is None)
        if gated and back:
            await self.undo_gate(key, back)  # the gate had drifted from the truth: put its units back
            self._journal(session, key, +back)

    async def _decrement(self, session: AsyncSession, key: str, n: int) -> int | None:
        left = await session.scalar(
            update(StockCounter)
            .where(StockCounter.key == key, StockCounter.left >= n)
            .values(left=StockCounter.left - n)
            .returning(StockCounter.left)
        )
        return None if left is None else int(left)

    async def give(self, session: AsyncSession, key: str, n: int) -> int:
        left = await session.scalar(
            update(StockCounter)
            .where(StockCounter.key == key)
            .values(left=StockCounter.left + n)
            .returning(StockCounter.left)
        )
        if self.gate is not None:
            await self._gated(self.gate.stock_give(key, n))
            self._journal(session, key, +n)
        return int(left or 0)

    async def _resync(self, session: AsyncSession, key: str) -> bool:
        """The gate's first "sold out" for `key`: set it to the SQL row's count. True when it may be asked again."""
        assert self.gate is not None
        left = await session.scalar(select(StockCounter.left).where(StockCounter.key == key))
        self._trusted.add(key)
        if left is None:
            return False
        await self._gated(self.gate.stock_set(key, int(left)))
        if self._gate_down:
            return False  # it failed meanwhile: SQL decides alone
        log.info("stock_gate_resynced", key=key, left=int(left))
        return True

    def _journal(self, session: AsyncSession, key: str, delta: int) -> None:
        """Remember a gate change made inside `session`'s transaction: if it rolls back (a store error, a retry to
        come), the gate is put back as it was, so Redis never drifts from the SQL truth it fronts."""
        entries: list[tuple[str, int]] = session.info.setdefault("stock_gate_journal", [])
        if not entries and not event.contains(session.sync_session, "after_rollback", self._rolled_back):
            event.listen(session.sync_session, "after_rollback", self._rolled_back)
            event.listen(session.sync_session, "after_commit", _forget_journal)
        entries.append((key, delta))

    def _rolled_back(self, sync_session: object) -> None:
        entries = getattr(sync_session, "info", {}).pop("stock_gate_journal", [])
        if entries:
            task = asyncio.get_running_loop().create_task(self._reverse(entries))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _reverse(self, entries: list[tuple[str, int]]) -> None:
        assert self.gate is not None
        for key, delta in reversed(entries):
            await self._gated(self.gate.stock_give(key, -delta))
        log.info("stock_gate_restored", changes=len(entries))

    async def settle(self) -> None:
        """Wait for gate corrections still under way (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def undo_gate(self, key: str, n: int) -> None:
        """The transaction that took from the gate rolled back: put the units back in front of it."""
        if self.gate is not None:
            await self._gated(self.gate.stock_give(key, n))

    async def left(self, key: str) -> int | None:
        async with self.db.sessions() as session:
            value = await session.scalar(select(StockCounter.left).where(StockCounter.key == key))
        return None if value is None else int(value)

    async def _gated(self, call: object) -> int | None:
        """Await a gate call that answers a number (or None); None too when Redis failed."""
        result = await self._call(call)
        return None if result is _DOWN or result is None else int(result)

    async def _call(self, call: object) -> Any:
        """Await a gate call; on a Redis failure log it once, answer `_DOWN`, and carry on with SQL alone."""
        try:
            result = await call  # type: ignore[misc]
        except Exception as exc:  # redis.exceptions.*, OSError: the gate is optional by design
            if not self._gate_down:
                log.warning("redis_unavailable", part="stock", error=repr(exc)[:200], fallback="sql")
            self._gate_down = True
            return _DOWN
        if self._gate_down:
            log.info("redis_recovered", part="stock")
            self._gate_down = False
            self._trusted.clear()  # what it says may have drifted while it was away
        return result


_DOWN = object()  # a gate call that failed


def _forget_journal(sync_session: object) -> None:
    getattr(sync_session, "info", {}).pop("stock_gate_journal", None)
