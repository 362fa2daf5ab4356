"""The sender's queued rows as its callers and renderers see them, and what queueing one did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Outbound
from storage.models import OutboundMessage


@dataclass
class QueuedRow:
    """A queued message as the send loop needs it (from the store, or handed over right after its commit)."""

    id: int
    room_id: str
    group_name: str | None
    text: str
    mentions: list[str]
    kind: str
    coalesce_key: str | None
    attempts: int = 0
    not_before: datetime | None = None
    file: str | None = None  # a file to send (its path)

    @classmethod
    def of(cls, row: OutboundMessage) -> QueuedRow:
        return cls(
            row.id, row.room_id, row.group_name, row.text, list(row.mentions or []), row.kind,
            row.coalesce_key, row.attempts, row.not_before, row.file,
        )  # fmt: skip


@dataclass(frozen=True)
class Enqueued:
    """What `Sender.enqueue` did: `queued` (a new row), `coalesced` (folded into a waiting row), or `duplicate` (a
    row already holds this key). Identical-text suppression happens later, when the message is about to be said."""

    outcome: str
    row_id: int | None

    @property
    def will_send(self) -> bool:
        return self.outcome in ("queued", "coalesced")


async def recover_interrupted(session: AsyncSession) -> list[int]:
    """Rows a kill left `sending` (the channel may or may not have said them; what they named is told already).
    A first try goes back to the queue: rendered again, it names only what the group has not been told, so it says
    nothing already said (and is suppressed when nothing is left). A retry's text was fixed at its first try and its
    news told: it may have been said, so it is not said again (`unconfirmed`). The ids of the rows found."""
    rows = (
        await session.execute(
            select(OutboundMessage.id, OutboundMessage.attempts).where(OutboundMessage.status == "sending")
        )
    ).all()
    fresh = [row_id for row_id, attempts in rows if not attempts]
    tried = [row_id for row_id, attempts in rows if attempts]
    if fresh:
        await session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(fresh)).values(status="queued"))
    if tried:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(tried))
            .values(status="suppressed", reason="unconfirmed")
        )
    return fresh + tried


def row_values(
    out: Outbound,
    group: str | None,
    kind: str,
    key: str | None,
    coalesce_key: str | None,
    not_before: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The outbound row `Sender.enqueue` inserts for `out`."""
    return {
        "room_id": out.room_id,
        "group_name": group,
        "text": out.text,
        "mentions": list(out.mentions),
        "file": out.file,
        "kind": kind,
        "key": key,
        "coalesce_key": coalesce_key,
        "status": "queued",
        "created_at": now,
        "not_before": not_before,
        "attempts": 0,
    }
