"""The narrow interfaces a handler, a subscriber or a domain rule may use, instead of the whole of `Services`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.events import Outbound
    from bot.outbound_rows import Enqueued, QueuedRow


class Itemish(Protocol):
    """An order item as money and labels read it: product, quantity, unit."""

    @property
    def product(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def unit(self) -> str | None: ...


class Replies(Protocol):
    """Queue something to say (the one sender): in the caller's transaction when given `session`."""

    async def enqueue(
        self,
        out: Outbound,
        *,
        group: str | None,
        kind: str,
        key: str | None = None,
        coalesce_key: str | None = None,
        not_before: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> Enqueued: ...


class StockCounter(Protocol):
    """Units left on a stock counter (None when the store keeps none for `key`)."""

    async def left(self, key: str) -> int | None: ...


class Renderer(Protocol):
    """Writes a queued row's text when the sender is about to say it (None: nothing to say any more)."""

    async def __call__(self, row: QueuedRow) -> str | None: ...


class AfterSent(Protocol):
    """Told once a row was said (bookkeeping: what the group has been told)."""

    async def __call__(self, row: QueuedRow) -> None: ...
