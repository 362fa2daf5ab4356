"""The flash-sale book: claims taken in arrival order against the sale's atomic stock, the wait list, give-backs
and promotions — in the caller's unit of work, each with its outbox row, answered with domain events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from bot.core.events import DomainEvent, FlashCancelled, FlashClaimed, SoldOut, WaiterPromoted
from bot.domain.buys import buys_of_group, is_open
from bot.domain.units import sale_unit
from bot.logs import get_logger
from storage.models import FlashClaim, StockCounter
from storage.outbox import add_change, add_changes, order_payload
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.config import Config, FlashSale
    from bot.core.services import Services
    from bot.domain.unit_of_work import UnitOfWork

log = get_logger("tuanbot.flash")


@dataclass(frozen=True)
class Take:
    """One member's attempt at a sale, from one message."""

    sale: FlashSale
    qty: int
    now: datetime
    group: str
    group_id: int
    room: str
    wxid: str
    name: str
    msg_id: str


@dataclass(frozen=True)
class Taken:
    # confirmed | waiting | repeat (a retried message whose claim was already recorded) | short (fewer units are
    # left than asked for, but some are: the member is told how many rather than "sold out"; nothing is recorded)
    status: str
    claim_id: int | None = None
    left: int | None = None


def running_sales(config: Config, group: str, now: datetime) -> list[FlashSale]:
    return [
        s
        for s in config.flash_sales
        if s.start <= now < s.end and group in {g.name for g in config.groups_of(s.groups)}
    ]


def sale_of_chain(config: Config, group: str, text: str, now: datetime) -> FlashSale | None:
    """The running sale a 接龙 is for (the alert says 接龙下单): it names exactly one running sale's product and
    none of the group's open buys' products — a buy's 接龙 that mentions the sale in passing stays the buy's."""
    sales = running_sales(config, group, now)
    if not sales:
        return None
    named = [s for s in sales if any(name in text for name in _product_names(config, s.product))]
    if len(named) != 1:
        return None
    for buy in buys_of_group(config, group):
        if is_open(buy, now) and any(
            name in text for item in buy.items for name in _product_names(config, item.product)
        ):
            return None
    return named[0]


def _product_names(config: Config, product: str) -> list[str]:
    found = config.product(product)
    return [product, *(found.aliases if found else [])]


async def take_batch(uow: UnitOfWork, batch: list[Take]) -> tuple[list[Taken], list[DomainEvent]]:
    """A batch of attempts, in arrival order: a claim row per message (its unique message id tells a retried
    message from a new one), the stock, the outbox rows. Events: a `FlashClaimed` per new claim, `SoldOut` for a
    sale whose last units went."""
    services, session = uow.services, uow.session
    results = [Taken("repeat")] * len(batch)
    sold_out: list[str] = []
    recorded = await session.execute(
        services.db.insert(FlashClaim.__table__)
        .on_conflict_do_nothing(index_elements=["msg_id"])
        .returning(FlashClaim.msg_id, FlashClaim.id),
        [_claim_row(t) for t in batch],
    )
    ids = {msg_id: claim_id for msg_id, claim_id in recorded}
    fresh = [(i, t, ids.pop(t.msg_id)) for i, t in enumerate(batch) if t.msg_id in ids]
    for sale_id in dict.fromkeys(t.sale.id for _, t, _ in fresh):
        mine = [(i, t, claim_id) for i, t, claim_id in fresh if t.sale.id == sale_id]
        lefts = await services.stock.take_many(session, flash_key(sale_id), [t.qty for _, t, _ in mine])
        for (i, _, claim_id), left in zip(mine, lefts, strict=True):
            results[i] = Taken("waiting" if left is None else "confirmed", claim_id, left)
            if left == 0 and sale_id not in sold_out:
                sold_out.append(sale_id)
        if any(left is None for left in lefts):
            left_now = await session.scalar(select(StockCounter.left).where(StockCounter.key == flash_key(sale_id)))
            for i, t, claim_id in mine:
                if results[i].status == "waiting" and left_now and left_now < t.qty:
                    results[i] = Taken("short", claim_id, int(left_now))
    short = [claim_id for i, _, claim_id in fresh if results[i].status == "short"]
    if short:  # kept (its message id makes a redelivery a repeat), never counted, synced or wait-listed
        await session.execute(
            update(FlashClaim)
            .where(FlashClaim.id.in_(short))
            .values(status="refused")
            .execution_options(synchronize_session=False)
        )
    fresh = [(i, t, claim_id) for i, t, claim_id in fresh if results[i].status != "short"]
    confirmed = [claim_id for i, _, claim_id in fresh if results[i].status == "confirmed"]
    if confirmed:
        await session.execute(
            update(FlashClaim)
            .where(FlashClaim.id.in_(confirmed))
            .values(status="confirmed")
            .execution_options(synchronize_session=False)  # rows here, not objects loaded in this session
        )
    await add_changes(
        session,
        [
            _payload(services.config, t.sale, claim_id, 1, results[i].status, t.name, t.qty, t.group)
            for i, t, claim_id in fresh
        ],
        batch[-1].now,
    )
    events: list[DomainEvent] = [
        FlashClaimed(t.sale.id, t.group, t.room, claim_id, results[i].status != "confirmed", t.now)
        for i, t, claim_id in fresh
    ]
    events.extend(SoldOut(sale_id) for sale_id in sold_out)
    return results, events


async def has_live_claim(services: Services, sale_id: str, wxid: str) -> bool:
    """Whether the member holds a claim of the sale (confirmed or waiting)."""
    async with services.db.sessions() as session:
        found = await session.scalar(
            select(FlashClaim.id)
            .where(FlashClaim.sale_id == sale_id, FlashClaim.wxid == wxid)
            .where(FlashClaim.status.in_(("confirmed", "waiting")))
            .limit(1)
        )
    return found is not None


async def cancel_claim(
    uow: UnitOfWork, sale_ids: list[str], wxid: str, group: str, now: datetime, logger: Any = None
) -> list[DomainEvent]:
    """The member's latest live claim of these sales is given back; its units go to the first waiters."""
    services, session, logger = uow.services, uow.session, logger or log
    claim = await session.scalar(
        select(FlashClaim)
        .where(
            FlashClaim.sale_id.in_(sale_ids),
            FlashClaim.wxid == wxid,
            FlashClaim.status.in_(("confirmed", "waiting")),
        )
        .order_by(FlashClaim.id.desc())
        .limit(1)
    )
    if claim is None:
        return []
    sale = next(s for s in services.config.flash_sales if s.id == claim.sale_id)
    held = claim.status == "confirmed"
    claim.status, claim.updated_at, claim.version = "cancelled", now, claim.version + 1
    _sync(uow, sale, claim, group, now)
    logger.info("flash_cancelled", sale=sale.id, qty=claim.qty, claim_id=claim.id)
    events: list[DomainEvent] = [FlashCancelled(sale.id, group, claim.id)]
    if held:
        await services.stock.give(session, flash_key(sale.id), claim.qty)
        events.extend(await _promote(uow, sale, now, logger))
    return events


async def _promote(uow: UnitOfWork, sale: FlashSale, now: datetime, logger: Any) -> list[DomainEvent]:
    """Units came back: the first waiters they cover get them, in arrival order."""
    services, session = uow.services, uow.session
    waiting = list(
        await session.scalars(
            select(FlashClaim)
            .where(FlashClaim.sale_id == sale.id, FlashClaim.status == "waiting")
            .order_by(FlashClaim.id)
        )
    )
    promoted: list[DomainEvent] = []
    for claim in waiting:
        if await services.stock.take(session, flash_key(sale.id), claim.qty) is None:
            break  # first come first served: a later, smaller claim does not jump the queue
        claim.status, claim.updated_at, claim.version = "confirmed", now, claim.version + 1
        group = services.groups.name_of(claim.group_id)
        _sync(uow, sale, claim, group, now)
        logger.info("flash_promoted", sale=sale.id, claim_id=claim.id, member=claim.name)
        room = services.groups.room_of(group) or ""
        items = f"{sale.product}{claim.qty}{sale_unit(services.config, sale)}"
        promoted.append(WaiterPromoted("flash", claim.id, group, room, claim.name, items, claim.version))
    return promoted


def _claim_row(take: Take) -> dict[str, object]:
    return {
        "sale_id": take.sale.id,
        "group_id": take.group_id,
        "wxid": take.wxid,
        "name": take.name,
        "qty": take.qty,
        "status": "waiting",
        "msg_id": take.msg_id,
        "version": 1,
        "created_at": take.now,
        "updated_at": take.now,
        "told_status": None,
    }


def _sync(uow: UnitOfWork, sale: FlashSale, claim: FlashClaim, group: str, now: datetime) -> None:
    payload = _payload(uow.services.config, sale, claim.id, claim.version, claim.status, claim.name, claim.qty, group)
    add_change(uow.session, payload, now)


def _payload(
    config: Config, sale: FlashSale, claim_id: int, version: int, status: str, member: str, qty: int, group: str
) -> dict[str, Any]:
    return order_payload(
        ref=f"flash:{claim_id}",
        version=version,
        group=group,
        buy=sale.id,
        member=member,
        participant=member,
        items=[{"product": sale.product, "qty": float(qty), "unit": sale_unit(config, sale)}],
        remark="限时秒杀",
        status={"confirmed": "active", "waiting": "waiting", "cancelled": "cancelled"}[status],
    )
