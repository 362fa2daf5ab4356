"""Group commit: many callers, one transaction.

A caller hands its item to `GroupCommit.submit` and awaits its own result. One flush runs at a time; whatever is
submitted while it runs waits for the next one, which then takes all of it (up to `max_batch`). A lone item is
flushed at once (one turn of the event loop later), so nothing waits for a timer; under a burst the batches grow by
themselves and the cost of a commit is shared by everybody in it. Items are flushed in the order they were
submitted, and every caller still learns of a failure: an exception from the flush is raised to each caller of
that batch, and the flush may also answer an exception for one item alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Flush = Callable[[list[T]], Awaitable[Sequence["R | BaseException"]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, flush: Flush[T, R], *, max_batch: int = 500) -> None:
        self._flush = flush
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller was cancelled; the item was flushed all the same
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        except BaseException:  # cancelled (shutdown): nobody may wait forever for a flush that will not come
            for _, future in batch + self._pending:
                future.cancel()
            self._pending = []
            raise
        finally:
            self._runner = None
