"""限时秒杀 in the group: during a sale's window members take units by saying so, first come by arrival.

`抢`, `秒杀`, `+1`, `要2箱`, `砂糖橘+1`, `抢两箱砂糖橘` take units (the product may be left out while one sale runs);
`不要了` / `取消` gives one's claim back. Units are taken atomically (`storage.stock`: the SQL row decides, a
Redis counter turns the crowd away after the sell-out), in the same transaction as the claim and its outbox row.
Confirmations go out in one short digest per group; the sell-out is announced once; later members are told and
put on the wait list, and a cancellation hands its units to the first waiter, who is told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Kind, Outbound
from bot.parsing.quantity import parse_quantity
from storage.models import FlashClaim, OutboundMessage
from storage.outbox import add_change, order_payload
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Config, FlashSale
    from bot.dispatch import Context
    from bot.sender import QueuedRow

FLASH_DIGEST = "flash_digest"
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


class FlashSales:
    name = "flash_sales"

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
        services = ctx.services
        key = flash_key(sale.id)
        left: int | None = None
        # a rollback puts the Redis gate back by itself (storage.stock's journal)
        async with services.db.transaction() as session:
            # One statement records the attempt and tells a retried message (the store failed after it last
            # time) from a new one; the crowd after the sell-out then costs the gate's "no" and a few inserts.
            claim = FlashClaim(
                sale_id=sale.id,
                group_id=ctx.group_id,
                wxid=ctx.event.sender_id,
                name=ctx.event.sender_name,
                qty=qty,
                status="waiting",
                msg_id=ctx.event.msg_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
            insert = postgresql.insert if services.db.dialect == "postgresql" else sqlite.insert
            claim_id = await session.scalar(
                insert(FlashClaim)
                .values({c.key: getattr(claim, c.key) for c in FlashClaim.__table__.columns if c.key != "id"})
                .on_conflict_do_nothing(index_elements=["msg_id"])
                .returning(FlashClaim.id)
            )
            if claim_id is None:
                return  # this message was handled before the store failed last time
            claim.id = claim_id
            left = await services.stock.take(session, key, qty)
            if left is not None:
                claim.status = "confirmed"
                await session.execute(update(FlashClaim).where(FlashClaim.id == claim.id).values(status="confirmed"))
            _sync(session, services, sale, claim, ctx.group.name, now)
            if left is not None:
                ctx.log.info("flash_claimed", sale=sale.id, qty=qty, left=left, claim_id=claim.id)
                await _queue_digest(services, session, sale, ctx.group.name, ctx.event.room_id, now)
            else:
                place = await session.scalar(
                    select(func.count())
                    .select_from(FlashClaim)
                    .where(FlashClaim.sale_id == sale.id, FlashClaim.status == "waiting")
                )
                ctx.log.info("flash_waiting", sale=sale.id, qty=qty, place=place, claim_id=claim.id)
                await services.sender.enqueue(
                    Outbound(
                        ctx.event.room_id,
                        f"{ctx.event.sender_name} {sale.product}已抢光啦,已为你登记候补第{place}位,"
                        "有人退出会按顺序递补~",
                    ),
                    group=ctx.group.name,
                    kind="reply",
                    key=f"reply:{ctx.event.msg_id}",
                    session=session,
                )
        if left == 0:
            from scheduler.runtime import announce_sold_out

            await announce_sold_out(services, sale.id)

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


async def _queue_digest(
    services: Services, session: AsyncSession, sale: FlashSale, group: str, room: str, now: datetime
) -> None:
    coalesce = f"{FLASH_DIGEST}:{sale.id}:{group}"
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
        Outbound(room, f"({sale.product}秒杀确认)"),
        group=group,
        kind=FLASH_DIGEST,
        coalesce_key=coalesce,
        not_before=not_before,
        session=session,
    )


async def render_flash_digest(services: Services, row: QueuedRow) -> str | None:
    """Who got units since the last flash digest in this group, and how many are left."""
    parts = (row.coalesce_key or "").split(":", 2)
    sale = next((s for s in services.config.flash_sales if len(parts) == 3 and s.id == parts[1]), None)
    if sale is None:
        return row.text
    group_id = services.groups.id_of(parts[2])
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


def _names(config: Config, product: str) -> list[str]:
    found = config.product(product)
    return [product, *(found.aliases if found else [])]


def _unit(services: Services, sale: FlashSale) -> str:
    product = services.config.product(sale.product)
    return product.unit if product else "份"


def _sync(
    session: AsyncSession, services: Services, sale: FlashSale, claim: FlashClaim, group: str, now: datetime
) -> None:
    status = {"confirmed": "active", "waiting": "waiting", "cancelled": "cancelled"}[claim.status]
    add_change(
        session,
        order_payload(
            ref=f"flash:{claim.id}",
            version=claim.version,
            group=group,
            buy=sale.id,
            member=claim.name,
            participant=claim.name,
            items=[{"product": sale.product, "qty": float(claim.qty), "unit": _unit(services, sale)}],
            remark="限时秒杀",
            status=status,
        ),
        now,
    )


__all__ = ["FLASH_DIGEST", "Attempt", "FlashSales", "read_attempt", "render_flash_digest", "running_sales"]
