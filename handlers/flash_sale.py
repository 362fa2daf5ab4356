"""限时秒杀 in the group: during a sale's window members take units by saying so, first come by arrival.

`抢`, `秒杀`, `+1`, `要2箱`, `砂糖橘+1`, `抢两箱砂糖橘` take units (the product may be left out while one sale runs);
`不要了` / `取消` gives one's claim back. Units are taken atomically (`storage.stock`: the SQL row decides, a
Redis counter turns the crowd away after the sell-out), in the same transaction as the claim and its outbox row.
Confirmations go out in one short digest per group; the sell-out is announced once; later members are put on the
wait list and told in one wait-list notice per group (a thousand "sold out" replies would flood the group and the
account's send limits); a cancellation hands its units to the first waiter, who is told.

A sale draws a crowd at one instant, so takes go through group commit (`storage.batching`): every attempt that
arrives while a batch is being written joins the next one, which records the claims, takes the stock in arrival
order (`Stock.take_many`), and writes the outbox rows and notices in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Kind, Outbound
from bot.parsing.quantity import parse_quantity
from storage.batching import GroupCommit
from storage.models import FlashClaim, OutboundMessage
from storage.outbox import add_change, add_changes, order_payload
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Config, FlashSale
    from bot.dispatch import Context
    from bot.sender import QueuedRow

FLASH_DIGEST = "flash_digest"
FLASH_WAITLIST = "flash_waitlist"
_MENTION = re.compile(r"@\S+[\s\u2005]*")
_NOISE = re.compile(r"[\s!！~～。.,，、😀-🙏🌀-🗿✊-✋👍-👏]+")
_TRIGGER = re.compile(r"^(?:我)?(?:抢|秒杀|秒|拍)")
_WANT = re.compile(r"^(?:我)?(?:还)?(?:要|来)")
_PLUS = re.compile(r"^[+＋]\s*(\d{1,2})$")
_CANCEL = re.compile(r"^(?:秒杀)?(?:我)?(?:不要了|不要啦|取消|退出|退了|退掉)$")


@dataclass(frozen=True)
class Attempt:
    qty: int
    product: str | None  # the product named, None when implied


def read_attempt(text: str, products: list[str]) -> Attempt | str | None:
    """`Attempt` for a take, "cancel" for a give-back, None for anything else (ordinary chatter stays chatter)."""
    t = _NOISE.sub("", _MENTION.sub("", text))
    if not t or len(t) > 20:
        return None
    if _CANCEL.match(t):
        return "cancel"
    product = next((p for p in sorted(products, key=len, reverse=True) if p in t), None)
    rest = t.replace(product, "") if product else t
    triggered = bool(_TRIGGER.match(rest))
    rest = _TRIGGER.sub("", rest)
    wants = bool(_WANT.match(rest))
    rest = _WANT.sub("", rest)
    plus = _PLUS.match(rest)
    if plus:
        return Attempt(int(plus.group(1)), product)
    if not rest:
        return Attempt(1, product) if triggered or (product and wants) else None
    qty = parse_quantity(rest)
    if qty is None or qty.value <= 0 or qty.value != int(qty.value):
        return None
    return Attempt(int(qty.value), product) if (triggered or wants or product) else None


def running_sales(config: Config, group: str, now: datetime) -> list[FlashSale]:
    return [
        s
        for s in config.flash_sales
        if s.start <= now < s.end and group in {g.name for g in config.groups_of(s.groups)}
    ]


@dataclass(frozen=True)
class _Take:
    ctx: Context
    sale: FlashSale
    qty: int
    now: datetime


@dataclass(frozen=True)
class Taken:
    status: str  # confirmed | waiting | repeat (a retried message whose claim was already recorded)
    claim_id: int | None = None
    left: int | None = None


def _claim_row(take: _Take) -> dict[str, object]:
    event = take.ctx.event
    return {
        "sale_id": take.sale.id,
        "group_id": take.ctx.group_id,
        "wxid": event.sender_id,
        "name": event.sender_name,
        "qty": take.qty,
        "status": "waiting",
        "msg_id": event.msg_id,
        "version": 1,
        "created_at": take.now,
        "updated_at": take.now,
        "told_at": None,
    }


class FlashSales:
    name = "flash_sales"

    def __init__(self) -> None:
        self._takes: GroupCommit[_Take, Taken] = GroupCommit(self._write_takes)

    def wants(self, ctx: Context) -> bool:
        if ctx.event.kind != Kind.TEXT or len(ctx.event.text) > 40:
            return False
        return bool(running_sales(ctx.services.config, ctx.group.name, ctx.services.clock.now()))

    async def handle(self, ctx: Context) -> None:
        services = ctx.services
        now = services.clock.now()
        sales = running_sales(services.config, ctx.group.name, now)
        names = {s.product: s for s in sales}
        aliases = {alias: s.product for s in sales for alias in _names(services.config, s.product)}
        attempt = read_attempt(ctx.event.text, list(aliases))
        if attempt is None:
            return
        if attempt == "cancel":
            await self._cancel(ctx, [s.id for s in sales], now)
            return
        assert isinstance(attempt, Attempt)
        if attempt.product is not None:
            sale = names.get(aliases[attempt.product])
        elif len(sales) == 1:
            sale = sales[0]
        else:
            ctx.log.info("flash_ambiguous", sales=[s.id for s in sales])
            return
        if sale is None:
            return
        await self._take(ctx, sale, attempt.qty, now)

    async def _take(self, ctx: Context, sale: FlashSale, qty: int, now: datetime) -> None:
        taken = await self._takes.submit(_Take(ctx, sale, qty, now))
        if taken.status == "confirmed":
            ctx.log.info("flash_claimed", sale=sale.id, qty=qty, left=taken.left, claim_id=taken.claim_id)
        elif taken.status == "waiting":
            ctx.log.info("flash_waiting", sale=sale.id, qty=qty, claim_id=taken.claim_id)
        # "repeat": this message was recorded before the store failed last time; nothing more to do

    async def _write_takes(self, batch: list[_Take]) -> list[Taken]:
        """One transaction for a batch of attempts, in arrival order. A claim row per message (its unique message
        id tells a retried message from a new one), the stock, the outbox rows, the digest and wait-list notices."""
        services = batch[0].ctx.services
        results = [Taken("repeat")] * len(batch)
        sold_out: set[str] = set()
        async with services.db.transaction() as session:
            recorded = await session.execute(
                services.db.insert(FlashClaim.__table__)
                .on_conflict_do_nothing(index_elements=["msg_id"])
                .returning(FlashClaim.msg_id, FlashClaim.id),
                [_claim_row(t) for t in batch],
            )
            ids = {msg_id: claim_id for msg_id, claim_id in recorded}
            fresh = [(i, t, ids.pop(t.ctx.event.msg_id)) for i, t in enumerate(batch) if t.ctx.event.msg_id in ids]
            for sale_id in dict.fromkeys(t.sale.id for _, t, _ in fresh):
                mine = [(i, t, claim_id) for i, t, claim_id in fresh if t.sale.id == sale_id]
                lefts = await services.stock.take_many(session, flash_key(sale_id), [t.qty for _, t, _ in mine])
                for (i, _, claim_id), left in zip(mine, lefts, strict=True):
                    results[i] = Taken("waiting" if left is None else "confirmed", claim_id, left)
                    if left == 0:
                        sold_out.add(sale_id)
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
                    _payload(
                        services,
                        t.sale,
                        claim_id,
                        1,
                        results[i].status,
                        t.ctx.event.sender_name,
                        t.qty,
                        t.ctx.group.name,
                    )
                    for i, t, claim_id in fresh
                ],
                batch[-1].now,
            )
            notices = {(results[i].status, t.sale.id, t.ctx.group.name): t for i, t, _ in fresh}
            for (status, _, _), t in notices.items():
                kind = FLASH_DIGEST if status == "confirmed" else FLASH_WAITLIST
                await _queue_notice(services, session, kind, t.sale, t.ctx.group.name, t.ctx.event.room_id, t.now)
        if sold_out:
            from scheduler.runtime import announce_sold_out

            for sale_id in sold_out:
                await announce_sold_out(services, sale_id)
        return results

    async def _cancel(self, ctx: Context, sale_ids: list[str], now: datetime) -> None:
        services = ctx.services
        async with services.db.transaction() as session:
            claim = await session.scalar(
                select(FlashClaim)
                .where(
                    FlashClaim.sale_id.in_(sale_ids),
                    FlashClaim.wxid == ctx.event.sender_id,
                    FlashClaim.status.in_(("confirmed", "waiting")),
                )
                .order_by(FlashClaim.id.desc())
                .limit(1)
            )
            if claim is None:
                return
            sale = next(s for s in services.config.flash_sales if s.id == claim.sale_id)
            held = claim.status == "confirmed"
            claim.status, claim.updated_at, claim.version = "cancelled", now, claim.version + 1
            _sync(session, services, sale, claim, ctx.group.name, now)
            ctx.log.info("flash_cancelled", sale=sale.id, qty=claim.qty, claim_id=claim.id)
            if held:
                await services.stock.give(session, flash_key(sale.id), claim.qty)
                await _promote(ctx, session, sale, now)


async def _promote(ctx: Context, session: AsyncSession, sale: FlashSale, now: datetime) -> None:
    """Units came back: the first waiters they cover get them, in arrival order, and are told."""
    services = ctx.services
    waiting = list(
        await session.scalars(
            select(FlashClaim)
            .where(FlashClaim.sale_id == sale.id, FlashClaim.status == "waiting")
            .order_by(FlashClaim.id)
        )
    )
    for claim in waiting:
        if await services.stock.take(session, flash_key(sale.id), claim.qty) is None:
            break  # first come first served: a later, smaller claim does not jump the queue
        claim.status, claim.updated_at, claim.version = "confirmed", now, claim.version + 1
        group = services.groups.name_of(claim.group_id)
        _sync(session, services, sale, claim, group, now)
        ctx.log.info("flash_promoted", sale=sale.id, claim_id=claim.id, member=claim.name)
        room = services.groups.room_of(group) or ctx.event.room_id
        await services.sender.enqueue(
            Outbound(room, f"{claim.name} 有邻居退出,你候补成功啦:{sale.product}{claim.qty}{_unit(services, sale)} 🎉"),
            group=group,
            kind="reply",
            key=f"flash_promoted:{claim.id}",
            session=session,
        )


async def _queue_notice(
    services: Services, session: AsyncSession, kind: str, sale: FlashSale, group: str, room: str, now: datetime
) -> None:
    """The group's next flash digest (who got units) or wait-list notice (who waits), unless one is queued: its
    text is written when it is sent, so it names everybody up to then."""
    coalesce = f"{kind}:{sale.id}:{group}"
    if await session.scalar(
        select(OutboundMessage.id).where(OutboundMessage.coalesce_key == coalesce, OutboundMessage.status == "queued")
    ):
        return
    every = min(services.config.chain.digest_every.total_seconds(), 60.0)  # a flash sale moves fast
    last = await session.scalar(
        select(func.max(OutboundMessage.sent_at)).where(OutboundMessage.coalesce_key == coalesce)
    )
    not_before = max(now, last + timedelta(seconds=every)) if last else now + timedelta(seconds=min(every, 10.0))
    await services.sender.enqueue(
        Outbound(room, f"({sale.product}秒杀{'确认' if kind == FLASH_DIGEST else '候补'})"),
        group=group,
        kind=kind,
        coalesce_key=coalesce,
        not_before=not_before,
        session=session,
    )


async def render_flash_digest(services: Services, row: QueuedRow) -> str | None:
    """Who got units since the last flash digest in this group, and how many are left."""
    found = _sale_and_group(services, row)
    if found is None:
        return row.text
    sale, group = found
    group_id = services.groups.id_of(group)
    async with services.db.sessions() as session:
        last = await session.scalar(
            select(func.max(OutboundMessage.sent_at)).where(
                OutboundMessage.coalesce_key == row.coalesce_key, OutboundMessage.status == "sent"
            )
        )
        query = select(FlashClaim).where(
            FlashClaim.sale_id == sale.id, FlashClaim.group_id == group_id, FlashClaim.status == "confirmed"
        )
        if last is not None:
            query = query.where(FlashClaim.updated_at > last)
        claims = list(await session.scalars(query.order_by(FlashClaim.id)))
    if not claims:
        return None
    left = await services.stock.left(flash_key(sale.id))
    unit = _unit(services, sale)
    names = "、".join(f"{c.name}{c.qty}{unit}" for c in claims[:15]) + (
        f" 等{len(claims)}位" if len(claims) > 15 else ""
    )
    tail = f",还剩{left}{unit}" if left else ",已抢光"
    return f"⚡ {sale.product}秒杀抢到:{names}{tail}"


async def render_waitlist(services: Services, row: QueuedRow) -> str | None:
    """The wait-list notice at send time: the waiters of this group not named yet, each with their place in the
    sale's queue as it stands now (a cancellation may have moved them up, a promotion taken them off it)."""
    found = _sale_and_group(services, row)
    if found is None:
        return row.text
    sale, group = found
    group_id = services.groups.id_of(group)
    async with services.db.sessions() as session:
        queue = (
            await session.execute(
                select(FlashClaim.id, FlashClaim.group_id, FlashClaim.name, FlashClaim.told_at)
                .where(FlashClaim.sale_id == sale.id, FlashClaim.status == "waiting")
                .order_by(FlashClaim.id)
            )
        ).all()
    new = [(place, c) for place, c in enumerate(queue, 1) if c.group_id == group_id and c.told_at is None]
    if not new:
        return None
    _told(services)[row.id] = [c.id for _, c in new]
    names = "、".join(f"{c.name}第{place}位" for place, c in new[:15]) + (f" 等{len(new)}位" if len(new) > 15 else "")
    return f"{sale.product}已抢光啦,已登记候补:{names}。有人退出会按顺序递补~"


async def waitlist_sent(services: Services, row: QueuedRow) -> None:
    """The waiters named are marked told, and a follow-up is queued for the next interval: it names whoever joined
    while this one was on its way, and says nothing if nobody did. (Looking for them now is not enough: a waiter
    whose transaction was still open when this notice was rendered is not visible yet.)"""
    told = _told(services).pop(row.id, [])
    found = _sale_and_group(services, row)
    if not told or found is None:
        return
    now = services.clock.now()
    async with services.db.transaction() as session:
        await session.execute(update(FlashClaim).where(FlashClaim.id.in_(told)).values(told_at=now))
        await _queue_notice(services, session, FLASH_WAITLIST, *found, row.room_id, now)


def _sale_and_group(services: Services, row: QueuedRow) -> tuple[FlashSale, str] | None:
    """The sale and group a notice's coalesce key (`kind:sale:group`) names, if the sale is still configured."""
    parts = (row.coalesce_key or "").split(":", 2)
    sale = next((s for s in services.config.flash_sales if len(parts) == 3 and s.id == parts[1]), None)
    return None if sale is None else (sale, parts[2])


def _told(services: Services) -> dict[int, list[int]]:
    """Per wait-list notice being sent: the claims its text named."""
    told = services.caches.setdefault("waitlist_told", {})
    assert isinstance(told, dict)
    return told


def _names(config: Config, product: str) -> list[str]:
    found = config.product(product)
    return [product, *(found.aliases if found else [])]


def _unit(services: Services, sale: FlashSale) -> str:
    product = services.config.product(sale.product)
    return product.unit if product else "份"


def _sync(
    session: AsyncSession, services: Services, sale: FlashSale, claim: FlashClaim, group: str, now: datetime
) -> None:
    add_change(
        session, _payload(services, sale, claim.id, claim.version, claim.status, claim.name, claim.qty, group), now
    )


def _payload(
    services: Services,
    sale: FlashSale,
    claim_id: int,
    version: int,
    status: str,
    member: str,
    qty: int,
    group: str,
) -> dict[str, Any]:
    return order_payload(
        ref=f"flash:{claim_id}",
        version=version,
        group=group,
        buy=sale.id,
        member=member,
        participant=member,
        items=[{"product": sale.product, "qty": float(qty), "unit": _unit(services, sale)}],
        remark="限时秒杀",
        status={"confirmed": "active", "waiting": "waiting", "cancelled": "cancelled"}[status],
    )


__all__ = [
    "FLASH_DIGEST",
    "FLASH_WAITLIST",
    "Attempt",
    "FlashSales",
    "read_attempt",
    "render_flash_digest",
    "render_waitlist",
    "running_sales",
    "waitlist_sent",
]
