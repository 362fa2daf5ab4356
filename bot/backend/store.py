"""The backend's orders: how one is stored once per `Idempotency-Key`, and how orders are read (what a POST may
carry is `bot.backend.body`).

An answered key is kept in `backend_requests` as `{"fingerprint": sha256 of the normalised order, "body": the answer}`
so that the same key again gets the same answer, and the same key with another order is told so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.body import KEY_MAX, InvalidOrder, OrderIn, OrderItem, parse_order, unstorable
from bot.domain.summary import ItemQty, OrderView
from storage.db import Database
from storage.models import BackendOrder, BackendRequest

_ATTEMPTS = 5  # a write that lost a race (same key or same ref at once) is retried and then sees the winner

__all__ = ["KEY_MAX", "InvalidOrder", "OrderIn", "OrderItem", "parse_order", "unstorable"]  # the body, from here too


class KeyConflict(Exception):
    """The `Idempotency-Key` was already used for a different order."""


@dataclass(frozen=True)
class Answer:
    """What a POST is answered: `result` is created | updated | unchanged | replayed."""

    status: int
    body: dict[str, Any]
    result: str
    conflict: bool = False  # unchanged although the same version said something else: the sender's bug, logged


def number(q: Decimal) -> int | float:
    """A Decimal as a JSON number: integral quantities stay integers."""
    return int(q) if q == q.to_integral_value() else float(q)


# --- storing ------------------------------------------------------------------------------------------------------


def order_json(row: BackendOrder) -> dict[str, Any]:
    return {
        "ref": row.ref,
        "version": row.version,
        "group": row.group,
        "buy": row.buy,
        "member": row.member,
        "participant": row.participant,
        "items": list(row.items),
        "remark": row.remark,
        "status": row.status,
        "received_at": row.received_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _items_json(order: OrderIn) -> list[dict[str, Any]]:
    return [{"product": i.product, "qty": number(i.qty), "unit": i.unit} for i in order.items]


def _same_content(row: BackendOrder, order: OrderIn) -> bool:
    return (row.group, row.buy, row.member, row.participant, list(row.items), row.remark, row.status) == (
        order.group,
        order.buy,
        order.member,
        order.participant,
        _items_json(order),
        order.remark,
        order.status,
    )


async def store_order(db: Database, key: str, order: OrderIn, *, now: datetime | None = None) -> Answer:
    """Store `order` under `key` once. Raises KeyConflict when the key already carried another order."""
    fingerprint = order.fingerprint()
    for attempt in range(_ATTEMPTS):
        try:
            return await _store_once(db, key, order, fingerprint, now or datetime.now(UTC))
        except (IntegrityError, OperationalError):
            # Another request stored the same key or ref in between (IntegrityError), or SQLite refused a write
            # that started from an older snapshot (OperationalError "database is locked"): look again.
            if attempt == _ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


async def _store_once(db: Database, key: str, order: OrderIn, fingerprint: str, now: datetime) -> Answer:
    conflict = False
    async with db.transaction() as s:
        seen = await s.get(BackendRequest, key)
        if seen is not None:
            if seen.response.get("fingerprint") != fingerprint:
                raise KeyConflict(key)
            return Answer(seen.status_code, dict(seen.response["body"]), "replayed")
        ref = order.order_ref or key
        content = {
            "group": order.group,
            "buy": order.buy,
            "member": order.member,
            "participant": order.participant,
            "items": _items_json(order),
            "remark": order.remark,
            "status": order.status,
        }
        # Compare-and-set on the version, never read-then-write: two versions arriving at once cannot let the
        # older one win (pysqlite reads outside the write transaction, so a read would not protect us).
        for _ in range(_ATTEMPTS):
            newer = cast(
                "CursorResult[Any]",
                await s.execute(
                    update(BackendOrder)
                    .where(BackendOrder.ref == ref, BackendOrder.version < order.version)
                    .values(version=order.version, updated_at=now, **content)
                    .execution_options(synchronize_session=False)
                ),
            )
            row = await _by_ref(s, ref)
            if row is None:
                row = BackendOrder(ref=ref, version=order.version, received_at=now, updated_at=now, **content)
                s.add(row)
                await s.flush()  # a concurrent first insert of this ref fails here, and the retry sees it
                result, status = "created", 201
            elif newer.rowcount:
                result, status = "updated", 201
            elif row.version < order.version:
                # The row was committed by another request after our UPDATE looked (PostgreSQL, read committed):
                # compare and set again against what is there now.
                continue
            else:
                # An older (or the same) version arriving late: the newer one already stored wins.
                result, status = "unchanged", 200
                conflict = order.version == row.version and not _same_content(row, order)
            break
        else:
            raise OperationalError("store_order", {}, RuntimeError(f"order {ref} kept changing under us"))
        body = {"result": result, "order": order_json(row)}
        s.add(
            BackendRequest(
                key=key, status_code=status, response={"fingerprint": fingerprint, "body": body}, created_at=now
            )
        )
    return Answer(status, body, result, conflict)


async def _by_ref(s: AsyncSession, ref: str) -> BackendOrder | None:
    query = select(BackendOrder).where(BackendOrder.ref == ref).execution_options(populate_existing=True)
    return (await s.execute(query)).scalar_one_or_none()


# --- reading ------------------------------------------------------------------------------------------------------


async def list_orders(db: Database, *, group: str | None = None, buy: str | None = None) -> list[BackendOrder]:
    """The latest version of every order (cancelled ones too), in the order they first arrived."""
    query = select(BackendOrder).order_by(BackendOrder.id)
    if group is not None:
        query = query.where(BackendOrder.group == group)
    if buy is not None:
        query = query.where(BackendOrder.buy == buy)
    async with db.sessions() as s:
        return list((await s.execute(query)).scalars())


def order_views(rows: list[BackendOrder], known: set[str] | None = None) -> list[OrderView]:
    """The stored orders as `summarize` takes them; with `known`, a product outside it is marked unknown."""
    return [
        OrderView(
            participant=row.participant,
            group=row.group,
            items=tuple(
                ItemQty(
                    str(it["product"]),
                    Decimal(str(it["qty"])),
                    it.get("unit"),
                    known is None or str(it["product"]) in known,
                )
                for it in row.items
            ),
            remark=row.remark,
            status=row.status,
        )
        for row in rows
    ]


async def database_problem(db: Database) -> str | None:
    """None when the database answers and holds the backend's tables, else what went wrong."""
    try:
        async with db.sessions() as s:
            await s.execute(select(BackendRequest.key).limit(1))
    except (OSError, SQLAlchemyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
