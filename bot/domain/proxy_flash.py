"""A leader's `代报` / `取消` of a 限时秒杀 product for a neighbour (#15): a claim against the sale's stock, taken in
arrival order like any member's (`bot.domain.flash`: the wait list, the sell-out, the flash digest), under the
neighbour's label. No wxid of the neighbour is known, so the claim's wxid is `proxy:` + the label as a participant:
the leader's later `取消 LABEL` finds it; a member's own `抢` is their own claim, as two members' are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import DomainEvent, WaiterPromoted
from bot.domain.flash import Take, Taken, cancel_claim, take_batch
from bot.domain.money import Amount, sale_prices
from bot.domain.unit_of_work import unit_of_work
from bot.domain.units import sale_unit
from bot.events import Outbound
from bot.parsing.chain import Item
from bot.parsing.merge import ident
from storage.models import FlashClaim

if TYPE_CHECKING:
    from bot.config import FlashSale
    from bot.core.services import Services
    from bot.events import Inbound

LIVE = ("confirmed", "waiting")


def proxy_wxid(label: str) -> str:
    return f"proxy:{ident(label)}"


def claim_amount(services: Services, sale: FlashSale, qty: int) -> Amount:
    unit = sale_unit(services.config, sale)
    return sale_prices(services.config, sale).amount([Item(sale.product, True, Decimal(qty), unit)])


async def proxy_claim(
    services: Services,
    sale: FlashSale,
    where: tuple[str, int, str],
    event: Inbound,
    label: str,
    qty: int,
    now: datetime,
    tell: Callable[[Taken, AsyncSession], Awaitable[None]],
) -> Taken:
    """Take `qty` units of the sale for `label` (in the group `where` = name, id, room); the leader is told first."""
    group, group_id, room = where
    take = Take(sale, qty, now, group, group_id, room, proxy_wxid(label), label, event.msg_id)
    async with unit_of_work(services) as uow:
        [taken], events = await take_batch(uow, [take])
        await tell(taken, uow.session)
        await uow.publish(events)
    return taken


async def live_claims(services: Services, sales: list[FlashSale], label: str) -> list[FlashClaim]:
    """The live claims of these sales under `label` (as a participant), else under the one label holding it."""
    if not sales:
        return []
    async with services.db.sessions() as session:
        claims = list(
            await session.scalars(
                select(FlashClaim)
                .where(FlashClaim.sale_id.in_([s.id for s in sales]), FlashClaim.status.in_(LIVE))
                .order_by(FlashClaim.id)
            )
        )
    want = ident(label)
    exact = [c for c in claims if ident(c.name) == want]
    if exact or len(want) < 2:
        return exact
    loose = [c for c in claims if want in ident(c.name)]
    return loose if len({ident(c.name) for c in loose}) == 1 else []


async def proxy_unclaim(
    services: Services,
    claim: FlashClaim,
    group: str,
    now: datetime,
    logger: Any,
    tell: Callable[[AsyncSession], Awaitable[None]],
) -> list[DomainEvent]:
    """Give the claim back (its units go to the first waiters, who are told, as after a member's `不要了`)."""
    async with unit_of_work(services) as uow:
        events = await cancel_claim(uow, [claim.sale_id], claim.wxid, group, now, logger)
        await tell(uow.session)
        for e in events:
            if isinstance(e, WaiterPromoted):
                await services.sender.enqueue(
                    Outbound(e.room, f"{e.who} 有邻居退出,你候补成功啦:{e.items} 🎉"),
                    group=e.group,
                    kind="reply",
                    key=f"flash_promoted:{e.id}",
                    session=uow.session,
                )
        await uow.publish(events)
    return events
