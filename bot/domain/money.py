"""Money: what an order costs and what a buy takes in, in exact decimals rounded to the 分.

The rules (one place; every summary — `汇总`, the cutoff post, the backend API, the xlsx, replay — uses them):

- **Price in force.** An item of a buy costs its `items[].price` (the catalogue price when the buy gives none).
  A ladder buy (阶梯团) prices its first item — the one the tiers are written for, as `group_status` reads them —
  at the tier the buy has reached: the lowest-priced tier whose `members` the buy's distinct participants (across
  all its groups, active orders only) meet; below the first tier, the item's own price. Every member pays the
  tier reached, not the tier in force when they joined. A flash-sale claim costs the sale's `price`, never the
  catalogue's.
- **Which items have a price.** An item is priced when it names a product of the buy (by name or catalogue alias)
  and its unit is the one the product is sold in (or no unit was written). Anything else (a product not in the
  buy, `2斤` of a product sold by the 盒) has no price: it adds nothing to any amount and is reported unpriced.
- **Rounding.** Each item's amount is price × quantity rounded half-up to the 分 (0.01元); an order's amount is
  the sum of its items' amounts; a buy's total is the sum of its active orders' amounts. So the rows of any
  listing add up to its total exactly. Arithmetic is `Decimal` throughout, never float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from bot.core.ports import Itemish

if TYPE_CHECKING:
    from bot.config import Buy, Config, FlashSale

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(value: Decimal) -> Decimal:
    """`value` rounded half-up to the 分."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_money(value: Decimal) -> str:
    """An amount as a leader writes it: `79.80` (always two decimals)."""
    return f"{to_cents(value):f}"


@dataclass(frozen=True)
class UnitPrice:
    price: Decimal
    unit: str | None  # the unit the price is per; None = any


@dataclass(frozen=True)
class Amount:
    """What one order (or one item) costs; `unpriced` names the items that could not be priced."""

    value: Decimal = ZERO
    unpriced: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unpriced

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.value + other.value, self.unpriced + other.unpriced)


@dataclass(frozen=True)
class Prices:
    """The unit prices in force for one buy or flash sale, by product name and alias."""

    by_product: Mapping[str, UnitPrice] = field(default_factory=dict)

    def price_of(self, product: str, unit: str | None = None) -> Decimal | None:
        found = self.by_product.get(product.strip())
        if found is None:
            return None
        if unit and found.unit and unit != found.unit:
            return None
        return found.price

    def item_amount(self, product: str, qty: Decimal, unit: str | None = None) -> Decimal | None:
        """price × qty rounded to the 分; None when the item has no price."""
        price = self.price_of(product, unit)
        return None if price is None else to_cents(price * Decimal(qty))

    def _label(self, it: Itemish) -> str:
        """An unpriced item as the leader reads it: the product, with the unit when the product has a price."""
        return f"{it.product}({it.unit})" if it.product.strip() in self.by_product else it.product

    def amount(self, items: Iterable[Itemish]) -> Amount:
        """An order's amount: the sum of its items' rounded amounts."""
        total = Amount()
        for it in items:
            value = self.item_amount(it.product, it.qty, it.unit)
            total = total + (Amount(value) if value is not None else Amount(unpriced=(self._label(it),)))
        return total


def total(amounts: Iterable[Amount]) -> Amount:
    """A buy's total: the sum of its orders' amounts (each unpriced product named once)."""
    out = Amount()
    for a in amounts:
        out = out + a
    return Amount(out.value, tuple(dict.fromkeys(out.unpriced)))


def amount_text(amount: Amount) -> str:
    """`79.80元`; `39.90元(礼盒未计价)` when part of it has no price; `未计价` when none of it has."""
    if not amount.unpriced:
        return f"{fmt_money(amount.value)}元"
    names = "、".join(dict.fromkeys(amount.unpriced))
    if amount.value == 0:
        return f"{names}未计价"
    return f"{fmt_money(amount.value)}元({names}未计价)"


def ladder_price(buy: Buy, members: int) -> Decimal | None:
    """The tier price `members` distinct participants reach, None below the first tier (or without a ladder)."""
    price = None
    for tier in sorted(buy.ladder, key=lambda t: t.members):
        if members >= tier.members:
            price = tier.price
    return price


def buy_prices(config: Config, buy: Buy, members: int) -> Prices:
    """The prices in force for `buy` when `members` distinct participants have ordered (the ladder tier reached)."""
    by_product: dict[str, UnitPrice] = {}
    tier = ladder_price(buy, members)
    for i, item in enumerate(buy.items):
        product = config.product(item.product)
        price = item.price if item.price is not None else (product.price if product else None)
        if i == 0 and tier is not None:
            price = tier
        if price is None:
            continue
        unit = item.unit or (product.unit if product else None)
        names = product.names if product is not None else (item.product,)
        for name in (item.product, *names):
            by_product.setdefault(name, UnitPrice(Decimal(price), unit))
    return Prices(by_product)


def sale_prices(config: Config, sale: FlashSale) -> Prices:
    """A flash sale's price for its one product (and the product's aliases), in the unit its claims are counted in."""
    product = config.product(sale.product)
    unit = product.unit if product else "份"
    names = product.names if product is not None else (sale.product,)
    price = UnitPrice(Decimal(sale.price), unit)
    return Prices({name: price for name in (sale.product, *names)})
