"""A member's own orders (`我订了几盒?`, `我接龙了吗`): their 接龙 orders in the buys asked about and their flash-sale
claims, each with what it costs at the price in force (a ladder's tier reached, the sale's price)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from bot.domain.answer_text import is_laddered, unit
from bot.domain.money import buy_prices, fmt_money, sale_prices
from bot.domain.summary import fmt_qty, load_status
from bot.domain.units import item_label, sale_unit
from storage.models import FlashClaim, Member, Order
from storage.models import Group as GroupRow

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Buy, Config, FlashSale
    from bot.core.services import Services

__all__ = ["Mine", "my_orders", "my_orders_text"]

@dataclass(frozen=True)
class Mine:
    """One of the asker's orders or claims, as the answer lists it."""

    title: str  # the buy's title, or `砂糖橘秒杀`
    items: str  # `草莓2盒 蓝莓1盒`
    amount: Decimal | None  # None when a product has no price (unknown to the catalogue)
    waiting: bool  # past the stock: on the wait list, not counted in the total
    ladder_price: str | None = None  # `62元/袋` when the amount is at a ladder's current tier


async def my_orders(
    services: Services, group: str, buys: Sequence[Buy], sales: Sequence[FlashSale], wxid: str, name: str
) -> list[Mine]:
    """The asker's live orders (active or waiting) of `buys` in `group` and claims of `sales`, oldest first. An order
    is the asker's when its member is (their wxid), or, when the bot never learnt who wrote the line (a line it saw
    only in someone else's copy), when its label names them."""
    config = services.config
    out: list[Mine] = []
    async with services.db.sessions() as session:
        group_id = await session.scalar(select(GroupRow.id).where(GroupRow.name == group))
        if group_id is None:
            return []
        member_id = await session.scalar(select(Member.id).where(Member.group_id == group_id, Member.wxid == wxid))
        for buy in buys:
            out.extend(await _orders_of(session, config, buy, group_id, member_id, name))
        if sales:
            claims = await session.scalars(
                select(FlashClaim)
                .where(
                    FlashClaim.sale_id.in_([s.id for s in sales]),
                    FlashClaim.group_id == group_id,
                    FlashClaim.wxid == wxid,
                    FlashClaim.status.in_(("confirmed", "waiting")),
                )
                .order_by(FlashClaim.id)
            )
            by_id = {s.id: s for s in sales}
            for claim in claims:
                sale = by_id[claim.sale_id]
                label = item_label(sale.product, Decimal(claim.qty), sale_unit(config, sale))
                amount = sale_prices(config, sale).item_amount(sale.product, Decimal(claim.qty))
                out.append(Mine(f"{sale.product}秒杀", label, amount, claim.status == "waiting"))
    return out


async def _orders_of(
    session: AsyncSession, config: Config, buy: Buy, group_id: int, member_id: int | None, name: str
) -> list[Mine]:
    # a one-character name (`李`) would claim every neighbour's line that holds it
    mine = Order.member_id.is_(None) & Order.participant.contains(name.strip()) if len(name.strip()) >= 2 else None
    owner = Order.member_id == member_id if member_id is not None else None
    conditions = [c for c in (owner, mine) if c is not None]
    if not conditions:
        return []
    orders = list(
        await session.scalars(
            select(Order)
            .where(Order.buy_id == buy.id, Order.group_id == group_id, Order.status.in_(("active", "waiting")))
            .where(or_(*conditions))
            .order_by(Order.id)
        )
    )
    if not orders:
        return []
    status = await load_status(session, config, buy)
    prices = buy_prices(config, buy, status.members)  # the price in force: the ladder's tier the buy reached
    tier = status.price if buy.ladder else None
    out: list[Mine] = []
    for order in orders:
        cost = prices.amount(order.lines)
        amount = cost.value if cost.complete else None
        label = " ".join(item_label(ln.product, Decimal(ln.qty), ln.unit) for ln in order.lines) or "(未写数量)"
        ladder = None
        if tier is not None and any(is_laddered(buy, ln.product) for ln in order.lines):
            ladder = f"{fmt_qty(Decimal(tier))}元/{unit(config, buy, buy.items[0].product)}"
        out.append(Mine(buy.title, label, amount, order.status == "waiting", ladder))
    return out


def my_orders_text(found: Sequence[Mine], buys: Sequence[Buy]) -> str:
    """`您接龙了【周六丹东草莓团】草莓2盒,共79.8元`; several: a line each and the total; none: say so."""
    if not found:
        if len(buys) == 1:
            return f"您还没有接龙【{buys[0].title}】哦,要的话复制群里最新的接龙加一行就行~"
        return "您现在还没有接龙哦,要的话复制群里最新的接龙加一行就行~"
    if len(found) == 1:
        return "您接龙了" + _line(found[0], "共")
    lines = [_line(m) for m in found]
    counted = [m.amount for m in found if not m.waiting]
    known = [a for a in counted if a is not None]
    total = f"\n共{fmt_money(sum(known, Decimal(0)))}元" if known and len(known) == len(counted) else ""
    return "您接龙了:\n" + "\n".join(lines) + total


def _line(m: Mine, lead: str = "") -> str:
    text = f"【{m.title}】{m.items}"
    if m.waiting:
        return text + ",候补中(有人取消会按顺序补上)"
    if m.amount is None:
        return text
    text += f",{lead}{fmt_money(m.amount)}元"
    return text + (f"(按现在的阶梯价{m.ladder_price}算)" if m.ladder_price else "")
