"""Handing a connection's messages on in the order the gateway sent them, each id once."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

_SEEN_IDS_KEPT = 50_000  # message ids remembered to drop a repeated delivery before it takes a turn


class ArrivalOrder:
    """Hands messages on in the order the gateway sent them.

    python-wechaty runs one task per event and each task fetches its message before the handler sees it, so two
    messages a few milliseconds apart can reach the handler swapped. Each id gets a ticket when its event arrives;
    a handler waits until every earlier ticket is done (or `patience` runs out: a message that failed to load).
    """

    def __init__(self, patience: float = 1.0) -> None:
        self.patience = patience
        self._next = 0
        self._done_below = 0
        self._done: set[int] = set()
        self._tickets: dict[str, int] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._changed = asyncio.Condition()

    def arrived(self, msg_id: str) -> bool:
        """Give `msg_id` its ticket. False for an id seen before (python-wechaty drops those before any handler)."""
        if msg_id in self._seen:
            return False
        self._seen[msg_id] = None
        if len(self._seen) > _SEEN_IDS_KEPT:
            old, _ = self._seen.popitem(last=False)
            self._tickets.pop(old, None)  # a message that never reached a handler
        self._tickets[msg_id] = self._next
        self._next += 1
        return True

    def new_connection(self) -> None:
        """Messages of a dropped connection that never reached a handler are not waited for."""
        self._tickets.clear()
        self._done.clear()
        self._done_below = self._next

    def ticket(self, msg_id: str) -> int | None:
        return self._tickets.pop(msg_id, None)

    async def wait_turn(self, ticket: int | None) -> None:
        if ticket is None:
            return
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._done_below >= ticket), self.patience)
            except TimeoutError:
                self._done.update(range(self._done_below, ticket))  # give up on the stragglers
                self._advance()

    async def done(self, ticket: int | None) -> None:
        if ticket is None:
            return
        async with self._changed:
            self._done.add(ticket)
            self._advance()
            self._changed.notify_all()

    def _advance(self) -> None:
        while self._done_below in self._done:
            self._done.discard(self._done_below)
            self._done_below += 1
