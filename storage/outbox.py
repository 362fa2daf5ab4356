"""The sync outbox: every order change is written in the order's own transaction as a row the sync worker sends to
the leader's backend (`storage/sync.py`). The idempotency key names the order and its version, so a retried or
re-sent change is stored once by the backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

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


def add_change(session: AsyncSession, payload: dict[str, Any], now: datetime) -> None:
    session.add(SyncOutbox(**_row(payload, now)))


async def add_changes(session: AsyncSession, payloads: list[dict[str, Any]], now: datetime) -> None:
    """Many changes in one statement (a flash-sale batch)."""
    if payloads:
        table = cast(Table, SyncOutbox.__table__)  # Core, not the ORM's bulk path: one cached statement
        await session.execute(insert(table), [_row(p, now) for p in payloads])


def _row(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": f"{payload['order_ref']}:v{payload['version']}",
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
