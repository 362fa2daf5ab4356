"""Units and labels: how many units are left of a product, how an order's items read. Each rule lives here once."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ports import Itemish, StockCounter
from bot.domain.buys import buys_of_group, is_open
from bot.domain.summary import fmt_qty
from storage.models import Order, OrderLine
from storage.stock import buy_key, flash_key

if TYPE_CHECKING:
    from bot.config import Buy, Config, FlashSale


def item_label(product: str, qty: Decimal, unit: str | None) -> str:
    """One item as the group reads it: `草莓2盒`."""
    return f"{product}{fmt_qty(qty)}{unit or ''}"


def items_label(items: Iterable[Itemish], sep: str = " ") -> str:
    return sep.join(item_label(it.product, it.qty, it.unit) for it in items)


#: Units that count whole things: 4.5盒 is a slip (4盒? 5盒? 4-5斤?) the leader should see, not a quantity. Weights,
#: volumes and lengths (斤, 公斤, kg, 克, 两, 升, 米…) split, and so does a unit this list does not know.
WHOLE_UNITS = frozenset("盒箱袋份个只瓶件包提桶罐枚颗串条根把支盆套板听杯扎束卷粒片")


def whole_only(unit: str | None) -> bool:
    return bool(unit) and unit in WHOLE_UNITS


def odd_quantity(qty: Decimal, unit: str | None) -> bool:
    """A fraction of a unit that does not split (草莓4.5盒): recorded as written, flagged to the leader."""
    return whole_only(unit) and qty != qty.to_integral_value()


def units(qty: Decimal) -> int:
    """Whole units a quantity takes from stock (half a box still takes a box)."""
    return max(1, math.ceil(qty))


#: The finest quantity the backend stores (`qty_step`), by the same classes. A unit that counts whole things takes
#: halves: whole is the norm, and a half (半盒, 4.5盒) is the one fraction a member can say in words, which the chat
#: records as written and flags (`odd_quantity`), so the backend must hold it too. A unit that splits (斤, kg, 克, or
#: one not known) takes hundredths (1.25斤, 0.35kg). Anything finer (0.0000001) is a slip or a probe, never an order.
_HALF = Decimal("0.5")
_HUNDREDTH = Decimal("0.01")


def qty_step(unit: str | None) -> Decimal:
    """The finest step a quantity in `unit` may take (see above)."""
    return _HALF if whole_only((unit or "").strip()) else _HUNDREDTH


def qty_allowed(qty: Decimal, unit: str | None) -> bool:
    """Is `qty` a whole number of `unit`'s steps (and positive)?"""
    return qty > 0 and qty % qty_step(unit) == 0


def stocked(buy: Buy) -> dict[str, int]:
    """The buy's products with a stock limit, and the limit."""
    return {item.product: item.stock for item in buy.items if item.stock is not None}


def unit_of(buy: Buy, product: str) -> str:
    return next((item.unit or "" for item in buy.items if item.product == product), "")


def sale_unit(config: Config, sale: FlashSale) -> str:
    """The unit a flash sale counts in: its product's, else 份."""
    product = config.product(sale.product)
    return product.unit if product else "份"


async def units_left(stock: StockCounter, buy: Buy, product: str) -> int | None:
    """What is left of `product` in `buy` (all its groups): its stock counter, the one truth (`storage.stock`).
    None when the item has no stock limit."""
    if product not in stocked(buy):
        return None
    return await stock.left(buy_key(buy.id, product))


def configured_stock(config: Config, group: str, at: datetime) -> dict[str, Decimal]:
    """Stock as configured for what the group can buy at `at`: its open buys' items, then its running flash sales."""
    stock: dict[str, Decimal] = {}
    for buy in buys_of_group(config, group):
        if is_open(buy, at):
            for item in buy.items:
                if item.stock is not None:
                    stock.setdefault(item.product, Decimal(item.stock))
    for sale in config.flash_sales:
        if group in {g.name for g in config.groups_of(sale.groups)} and sale.start <= at < sale.end:
            stock.setdefault(sale.product, Decimal(sale.stock))
    return stock


async def stock_left(
    session: AsyncSession,
    config: Config,
    group: str,
    at: datetime,
    *,
    counter: StockCounter | None = None,
) -> dict[str, Decimal]:
    """Units left of what the group can buy at `at`: the store's stock counter when it keeps one (`counter`, read
    by `units_left`), else an open buy's stock less its active orders (in all its groups), else the configured
    stock."""
    stock = configured_stock(config, group, at)
    for buy in buys_of_group(config, group):
        if not is_open(buy, at):
            continue
        for item in buy.items:
            if item.stock is None:
                continue
            counted = await units_left(counter, buy, item.product) if counter is not None else None
            if counted is not None:
                stock[item.product] = Decimal(counted)
                continue
            ordered = await session.scalar(
                select(func.coalesce(func.sum(OrderLine.qty), 0))
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.buy_id == buy.id, Order.status == "active", OrderLine.product == item.product)
            )
            stock[item.product] = Decimal(item.stock) - Decimal(ordered or 0)
    if counter is not None:
        for sale in config.flash_sales:
            if group in {g.name for g in config.groups_of(sale.groups)} and sale.start <= at < sale.end:
                counted = await counter.left(flash_key(sale.id))
                if counted is not None:
                    stock[sale.product] = Decimal(counted)
    return stock
