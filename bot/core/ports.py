"""The narrow interfaces a handler, a subscriber or a domain rule may use, instead of the whole of `Services`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.events import Outbound
    from bot.sender import Enqueued


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
