"""The inbound message log: every message is stored before it is handled and marked when every handler has run.

Both writes go through group commit (`storage.batching`): one transaction records every message that arrived while
the previous one was being written, and one marks every message handled meanwhile. A lone message costs what it
did before (one INSERT, one commit); a burst of hundreds shares one commit per stage instead of paying two each.

Dedupe, in three layers: the shared handled marks (Redis when processes share it, memory otherwise) answer a replay
without the database; the unique message id in `messages` catches a replay the marks forgot; and `in_hand` catches
the same message delivered twice while the first delivery is still being handled in this process. A message stored
but never marked (the store failed mid-way, the process died) is handled again when it comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from bot.events import Inbound
from bot.logs import get_logger
from storage.batching import GroupCommit
from storage.db import Database
from storage.models import MessageLog
from storage.shared_state import SharedState

log = get_logger("tuanbot.journal")


class MessageJournal:
    def __init__(self, db: Database, shared: SharedState) -> None:
        self.db = db
        self.shared = shared
        self.in_hand: set[str] = set()  # recorded here and being handled: another delivery is a duplicate
        self._records: GroupCommit[tuple[Inbound, datetime], bool] = GroupCommit(self._record_many)
        self._marks: GroupCommit[tuple[str, datetime], None] = GroupCommit(self._mark_many)

    async def record(self, event: Inbound, received_at: datetime) -> bool:
        """Store the message: True when it is to be handled now, False for a replay or a second delivery.
        Raises the database's error when it cannot be stored (the caller retries)."""
        return await self._records.submit((event, received_at))

    async def mark_handled(self, msg_id: str, at: datetime) -> None:
        try:
            await self._marks.submit((msg_id, at))
        finally:
            self.in_hand.discard(msg_id)

    def release(self, msg_id: str) -> None:
        """Handling failed and the message stays unmarked: a later delivery (the retry) may take it again."""
        self.in_hand.discard(msg_id)

    async def _record_many(self, batch: list[tuple[Inbound, datetime]]) -> list[bool]:
        ids = [event.msg_id for event, _ in batch]
        handled = await self._marked(ids)
        fresh: dict[str, tuple[Inbound, datetime]] = {}
        for event, at in batch:
            if event.msg_id not in handled and event.msg_id not in self.in_hand:
                fresh.setdefault(event.msg_id, (event, at))  # delivered twice in one batch: the first one counts
        take = await self._store_new([_row(event, at) for event, at in fresh.values()]) if fresh else set()
        self.in_hand |= take
        answered: set[str] = set()
        results = []
        for msg_id in ids:
            results.append(msg_id in take and msg_id not in answered)
            answered.add(msg_id)
        return results

    async def _mark_many(self, batch: list[tuple[str, datetime]]) -> list[None]:
        at = max(t for _, t in batch)  # the batch was handled by then
        ids = [m for m, _ in batch]
        async with self.db.transaction() as session:
            await session.execute(
                update(MessageLog)
                .where(MessageLog.msg_id.in_(ids))
                .values(handled_at=at)
                .execution_options(synchronize_session=False)  # no objects in this session to keep in step
            )
        await self._mark_shared(ids)
        return [None] * len(batch)

    async def _store_new(self, rows: list[dict[str, object]]) -> set[str]:
        """Insert the rows; the ids to handle now: the new ones, and those stored before but never marked handled
        (the store failed mid-way, the process died). One marked handled before is a replay."""
        async with self.db.transaction() as session:
            # one cached statement executed for many rows (insertmanyvalues), not a new statement per batch size
            inserted = set(
                await session.scalars(
                    self.db.insert(MessageLog.__table__)
                    .on_conflict_do_nothing(index_elements=["msg_id"])
                    .returning(MessageLog.msg_id),
                    rows,
                )
            )
            seen = [str(row["msg_id"]) for row in rows if row["msg_id"] not in inserted]
            if seen:
                leftovers = await session.scalars(
                    select(MessageLog.msg_id).where(MessageLog.handled_at.is_(None), MessageLog.msg_id.in_(seen))
                )
                inserted |= set(leftovers)
        return inserted

    async def _marked(self, ids: Sequence[str]) -> set[str]:
        try:
            return await self.shared.handled_among(ids)
        except Exception as exc:  # redis down: the store's unique message id still dedupes
            log.warning("redis_unavailable", part="dedupe", error=repr(exc)[:200], fallback="sql")
            return set()

    async def _mark_shared(self, ids: Sequence[str]) -> None:
        try:
            await self.shared.mark_handled(ids)
        except Exception as exc:  # the mark is an optimisation; the store already says "handled"
            log.warning("redis_unavailable", part="dedupe", error=repr(exc)[:200], fallback="sql")


def _row(event: Inbound, received_at: datetime) -> dict[str, object]:
    return {
        "msg_id": event.msg_id,
        "room_id": event.room_id,
        "room_topic": event.room_topic,
        "sender_id": event.sender_id,
        "sender_name": event.sender_name,
        "kind": str(event.kind),
        "text": event.text,
        "ts": event.ts,
        "received_at": received_at,
        "handled_at": None,
        "private": event.private,
    }
