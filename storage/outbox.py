"""The sync outbox: every order change is written in the order's own transaction as a row the sync worker sends to
the leader's backend (`storage/sync.py`). The idempotency key names the order and its version, so a retried or
re-sent change is stored once by the backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import SyncOutbox


def order_payload(
    *,
    ref: str,
    version: int,
    group: str,
    buy: str,
    member: str,
    participant: str,
    items: list[dict[str, Any]],
    remark: str,
    status: str,
) -> dict[str, Any]:
    return {
        "group": group,
        "buy": buy,
        "member": member,
        "participant": participant,
        "items": items,
        "remark": remark,
        "status": status,
        "order_ref": ref,
        "version": version,
    }


def payment_payload(*, ref: str, version: int, group: str, buy: str, participant: str, paid: str) -> dict[str, Any]:
    """A payment (`已收`) for the backend's `POST /api/payments` (`kind` tells the sync worker where it goes)."""
    return {
        "kind": "payment",
        "group": group,
        "buy": buy,
        "participant": participant,
        "paid": paid,
        "order_ref": ref,
        "version": version,
    }


def add_change(session: AsyncSession, payload: dict[str, Any], now: datetime) -> None:
    session.add(SyncOutbox(**_row(payload, now)))


def hold_change(session: AsyncSession, payload: dict[str, Any], now: datetime) -> None:
    """`add_change` for a caller that makes several changes in one transaction: the row is kept in the session
    until `write_held_changes`, which writes every row held in one statement (no ORM flush for each). A commit
    with rows still held fails (and rolls back), so a change is never dropped silently."""
    held = session.info.get(_HELD)
    if held is None:
        held = session.info[_HELD] = []
        if not event.contains(session.sync_session, "before_commit", _none_held):
            event.listen(session.sync_session, "before_commit", _none_held)
    held.append(_row(payload, now))


async def write_held_changes(session: AsyncSession) -> None:
    """Write the rows `hold_change` kept in this session's transaction, and forget them."""
    rows = session.info.pop(_HELD, [])
    if rows:
        await session.execute(insert(cast(Table, SyncOutbox.__table__)), rows)


async def add_changes(session: AsyncSession, payloads: list[dict[str, Any]], now: datetime) -> None:
    """Many changes in one statement (a flash-sale batch)."""
    if payloads:
        table = cast(Table, SyncOutbox.__table__)  # Core, not the ORM's bulk path: one cached statement
        await session.execute(insert(table), [_row(p, now) for p in payloads])


_HELD = "sync_outbox_held"


def _none_held(sync_session: Session) -> None:
    if sync_session.info.get(_HELD):
        raise RuntimeError("sync outbox rows held by hold_change() were not written: call write_held_changes()")


def _row(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": f"{payload['order_ref']}:v{payload['version']}",
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
