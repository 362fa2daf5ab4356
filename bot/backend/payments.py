"""The backend's payments (#15): what a participant of a buy has paid, as the bot's leaders marked it (`已收`), sent
by the sync worker to `POST /api/payments` and shown in the buy's summary and export.

A payment is identified by its `ref` (`payment:{id}` in the bot) and carries a version: an older version arriving
after a newer one changes nothing, the same version again is answered `unchanged` — so a re-sent change is stored
once without keeping the answers (the order route's `backend_requests`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from bot.backend.body import VERSION_MAX, InvalidOrder, unstorable
from storage.db import Database
from storage.models import BackendPayment

MAX_PAID = Decimal(10) ** 8  # a hundred million yuan: bigger is a typo or an attack on the sums
_FIELDS = {"group": 200, "buy": 100, "participant": 500, "order_ref": 200}


@dataclass(frozen=True)
class PaymentIn:
    group: str
    buy: str
    participant: str
    paid: Decimal
    ref: str
    version: int


def parse_payment(body: Any, key: str) -> PaymentIn:
    """A POST body as a payment; InvalidOrder (a 422 naming the field) when it is not one."""
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object", None)
    text: dict[str, str] = {}
    for name, limit in _FIELDS.items():
        value = body.get(name, key if name == "order_ref" else None)
        if not isinstance(value, str) or not value.strip():
            raise InvalidOrder(f"{name} must be a non-empty string", name)
        if len(value) > limit or unstorable(value) is not None or not value.isprintable():
            raise InvalidOrder(f"{name} must be printable text of at most {limit} characters", name)
        text[name] = value.strip()
    raw = body.get("paid")
    try:
        paid = Decimal(str(raw)) if isinstance(raw, int | float | str) and not isinstance(raw, bool) else None
    except InvalidOperation:
        paid = None
    if paid is None or not paid.is_finite() or paid < 0 or paid >= MAX_PAID or paid != paid.quantize(Decimal("0.01")):
        raise InvalidOrder("paid must be an amount in yuan, at least 0, to the 分", "paid")
    version = body.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION_MAX:
        raise InvalidOrder(f"version must be a whole number from 1 to {VERSION_MAX}", "version")
    return PaymentIn(text["group"], text["buy"], text["participant"], paid, text["order_ref"], version)


async def store_payment(db: Database, payment: PaymentIn, now: datetime | None = None) -> tuple[int, str]:
    """Store the payment's version unless a newer one is there: (status, created | updated | unchanged)."""
    now = now or datetime.now(UTC)
    values = {"group": payment.group, "buy": payment.buy, "participant": payment.participant, "paid": payment.paid}
    for _ in range(3):
        try:
            async with db.transaction() as s:
                newer = cast(
                    "CursorResult[Any]",
                    await s.execute(
                        update(BackendPayment)
                        .where(BackendPayment.ref == payment.ref, BackendPayment.version < payment.version)
                        .values(version=payment.version, updated_at=now, **values)
                    ),
                )
                if newer.rowcount:
                    return 201, "updated"
                if await s.scalar(select(BackendPayment.id).where(BackendPayment.ref == payment.ref)) is not None:
                    return 200, "unchanged"
                s.add(BackendPayment(ref=payment.ref, version=payment.version, updated_at=now, **values))
            return 201, "created"
        except IntegrityError:  # the same ref inserted by another request at once: compare again
            continue
    return 200, "unchanged"


async def paid_of(db: Database, buy: str) -> dict[tuple[str, str], Decimal]:
    """(group, participant) → what they paid for `buy`, as the bot last sent it."""
    async with db.sessions() as s:
        rows = await s.execute(
            select(BackendPayment.group, BackendPayment.participant, BackendPayment.paid).where(
                BackendPayment.buy == buy
            )
        )
        return {(group, participant): Decimal(paid) for group, participant, paid in rows}
