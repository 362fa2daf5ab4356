"""The sender's queued rows as its callers and renderers see them, and what queueing one did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
