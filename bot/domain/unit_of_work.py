"""One unit of work: the transaction, the stock taken and given in it, the outbox rows it holds, and the events
it produced — delivered to the in-transaction subscribers before the commit and to the others after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent
from storage.outbox import write_held_changes

if TYPE_CHECKING:
    from bot.core.services import Services


@dataclass
class UnitOfWork:
    services: Services
    session: AsyncSession
    events: list[DomainEvent] = field(default_factory=list)

    async def publish(self, events: list[DomainEvent]) -> None:
        """Hand `events` to the in-transaction subscribers now; the after-commit ones hear them after the commit."""
        await write_held_changes(self.session)
        self.events.extend(events)
        await self.services.subscribers.publish(events, self.session)


@asynccontextmanager
async def unit_of_work(services: Services) -> AsyncIterator[UnitOfWork]:
    async with services.db.transaction() as session:
        uow = UnitOfWork(services, session)
        yield uow
        await write_held_changes(session)
    await services.subscribers.committed(uow.events)
