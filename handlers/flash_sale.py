"""限时秒杀 in the group: during a sale's window members take units by saying so, first come by arrival.

`抢`, `秒杀`, `+1`, `要2箱`, `砂糖橘+1`, `抢两箱砂糖橘` take units (the product may be left out while one sale runs);
`不要了` / `取消` gives one's claim back. Units are taken atomically (`storage.stock`: the SQL row decides, a
Redis counter turns the crowd away after the sell-out), in the same transaction as the claim and its outbox row.
Confirmations go out in one short digest per group; the sell-out is announced once; later members are put on the
wait list and told in one wait-list notice per group (a thousand "sold out" replies would flood the group and the
account's send limits); a cancellation hands its units to the first waiter, who is told. The claims, the stock and
the wait list are the flash-sale book's (`bot.domain.flash`); the notices subscribe to its events (`bot.notices`).

A sale draws a crowd at one instant, so takes go through group commit (`storage.batching`): every attempt that
arrives while a batch is being written joins the next one, which records the claims, takes the stock in arrival
order (`Stock.take_many`), and writes the outbox rows and notices in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.core.events import DomainEvent, WaiterPromoted
from bot.domain.flash import Take, Taken, cancel_claim, has_live_claim, running_sales, sale_of_chain, take_batch
from bot.domain.told import mark_claims_told
from bot.domain.unit_of_work import UnitOfWork, unit_of_work
from bot.domain.units import sale_unit
from bot.events import Kind, Outbound
from bot.parsing.chain import is_chain, parse_chain
from bot.parsing.quantity import parse_quantity
from storage.batching import GroupCommit

if TYPE_CHECKING:
    from bot.config import Config, FlashSale
    from bot.core.ports import Replies
    from bot.dispatch import Context

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
    from_chain: bool = False  # the sender's line of a 接龙 (a later copy of the list claims nothing new of theirs)


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


class FlashSales:
    name = "flash_sales"

    def __init__(self) -> None:
        self._takes: GroupCommit[_Take, Taken] = GroupCommit(self._write_takes)

    def wants(self, ctx: Context) -> bool:
        """A claim or a give-back for a sale running in this group; any other message goes on to the next route."""
        return self._claim(ctx) is not None

    def _claim(self, ctx: Context) -> tuple[list[FlashSale], FlashSale | None, Attempt | str] | None:
        """(running sales, the sale meant — None when several run and none is named —, the attempt or "cancel")."""
        if ctx.event.kind != Kind.TEXT:
            return None
        if is_chain(ctx.event.text):
            return self._chain_claim(ctx)
        if len(ctx.event.text) > 40:
            return None
        config = ctx.services.config
        sales = running_sales(config, ctx.group.name, ctx.services.clock.now())
        if not sales:
            return None
        aliases = {alias: s for s in sales for alias in _names(config, s.product)}
        attempt = read_attempt(ctx.event.text, list(aliases))
        if attempt is None:
            return None
        if isinstance(attempt, Attempt) and attempt.product is not None:
            return sales, aliases[attempt.product], attempt
        return sales, sales[0] if len(sales) == 1 else None, attempt

    def _chain_claim(self, ctx: Context) -> tuple[list[FlashSale], FlashSale | None, Attempt | str] | None:
        """A 接龙 for a running sale claims the sender's own line: the last entry labelled with the sender's name,
        else the copy's last entry (a copier appends their line at the end)."""
        event, config = ctx.event, ctx.services.config
        sale = sale_of_chain(config, ctx.group.name, event.text, ctx.services.clock.now())
        if sale is None:
            return None
        parsed = parse_chain(event.text, ctx.services.product_matcher(), default_product=sale.product)
        name = event.sender_name.strip()
        mine = [e for e in parsed.entries if name and e.who and (name in e.who or e.who in name)]
        candidates = mine or list(parsed.entries)
        if not candidates or candidates[-1].cancelled:
            return None
        entry = candidates[-1]
        qty = sum((it.qty for it in entry.items if it.product == sale.product), Decimal(0))
        if qty <= 0 or qty != int(qty):
            return None
        return [sale], sale, Attempt(int(qty), sale.product, from_chain=True)

    async def handle(self, ctx: Context) -> None:
        claim = self._claim(ctx)
        if claim is None:
            return
        sales, sale, attempt = claim
        now = ctx.services.clock.now()
        if isinstance(attempt, Attempt) and attempt.from_chain and sale is not None:
            if await has_live_claim(ctx.services, sale.id, ctx.event.sender_id):
                ctx.log.info("flash_chain_repeat", sale=sale.id)  # a later copy of the list: nothing new of theirs
                return
        if attempt == "cancel":
            await self._cancel(ctx, [s.id for s in sales], now)
        elif sale is None:
            ctx.log.info("flash_ambiguous", sales=[s.id for s in sales])
        else:
            assert isinstance(attempt, Attempt)
            await self._take(ctx, sale, attempt.qty, now)

    async def _take(self, ctx: Context, sale: FlashSale, qty: int, now: datetime) -> None:
        taken = await self._takes.submit(_Take(ctx, sale, qty, now))
        if taken.status == "confirmed":
            ctx.log.info("flash_claimed", sale=sale.id, qty=qty, left=taken.left, claim_id=taken.claim_id)
        elif taken.status == "waiting":
            ctx.log.info("flash_waiting", sale=sale.id, qty=qty, claim_id=taken.claim_id)
        elif taken.status == "short":
            ctx.log.info("flash_short", sale=sale.id, qty=qty, left=taken.left, claim_id=taken.claim_id)
        # "repeat": this message was recorded before the store failed last time; nothing more to do

    async def _write_takes(self, batch: list[_Take]) -> list[Taken]:
        """One unit of work for a batch of attempts, in arrival order (the book's `take_batch`); the digest and
        wait-list notices are queued in it, the sold-out notice after its commit."""
        services = batch[0].ctx.services
        async with unit_of_work(services) as uow:
            results, events = await take_batch(uow, [t.take() for t in batch])
            for t, taken in zip(batch, results, strict=True):
                if taken.status == "short":  # units are left, just not that many: say how many, not "sold out"
                    await services.sender.enqueue(
                        Outbound(t.ctx.event.room_id, _short_text(services.config, t, taken)),
                        group=t.ctx.group.name,
                        kind="reply",
                        key=f"flash_short:{taken.claim_id}",
                        session=uow.session,
                    )
            await uow.publish(events)
        return results

    async def _cancel(self, ctx: Context, sale_ids: list[str], now: datetime) -> None:
        async with unit_of_work(ctx.services) as uow:
            events = await cancel_claim(uow, sale_ids, ctx.event.sender_id, ctx.group.name, now, ctx.log)
            await _tell_promoted(ctx.services.sender, uow, events, ctx.event.room_id)
            await uow.publish(events)


@dataclass(frozen=True)
class _Take:
    ctx: Context
    sale: FlashSale
    qty: int
    now: datetime

    def take(self) -> Take:
        event = self.ctx.event
        return Take(
            self.sale,
            self.qty,
            self.now,
            self.ctx.group.name,
            self.ctx.group_id,
            event.room_id,
            event.sender_id,
            event.sender_name,
            event.msg_id,
        )


async def _tell_promoted(replies: Replies, uow: UnitOfWork, events: list[DomainEvent], room: str) -> None:
    """The waiters who got the units given back are told (in their group's room, else the canceller's), and that
    is what the group was told about their claims."""
    for e in events:
        if isinstance(e, WaiterPromoted):
            await replies.enqueue(
                Outbound(e.room or room, f"{e.who} 有邻居退出,你候补成功啦:{e.items} 🎉"),
                group=e.group,
                kind="reply",
                key=f"flash_promoted:{e.id}",
                session=uow.session,
            )
            await mark_claims_told(uow.session, [e.id], "confirmed")  # told here: no flash digest names them again


def _short_text(config: Config, take: _Take, taken: Taken) -> str:
    unit = sale_unit(config, take.sale)
    name, product = take.ctx.event.sender_name, take.sale.product
    return f"{name} {product}只剩{taken.left}{unit}了,不够你要的{take.qty}{unit}~ 要的话回复「要{taken.left}{unit}」"


def _names(config: Config, product: str) -> list[str]:
    found = config.product(product)
    return [product, *(found.aliases if found else [])]


__all__ = ["Attempt", "FlashSales", "read_attempt", "running_sales"]
