"""What a replayed day left in the store, as `tuanbot replay --json` prints it: every order (接龙 orders and flash-sale
claims, a claim being an order whose `buy` is the sale's id) with its amount, and every buy with its total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Buy, Config, FlashSale
from bot.domain.buys import has_started, is_open
from bot.domain.money import Itemish, buy_prices, sale_prices
from bot.domain.summary import buy_status
from bot.domain.units import sale_unit
from storage.models import FlashClaim, Group, Member, Order, Payment

_CLAIM_STATUS = {"confirmed": "active", "waiting": "waiting", "cancelled": "cancelled"}


def number(value: Decimal) -> int | float:
    """A quantity or an amount as a JSON number: 3, 119.7."""
    value = Decimal(value).quantize(Decimal("0.01")).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


# --- money ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    product: str
    qty: Decimal
    unit: str | None


def order_amount(config: Config, buy: Buy | FlashSale, members: int, items: Iterable[Itemish]) -> Decimal:
    """What an order costs at the price in force (bot/domain/money.py: the ladder tier `members` distinct
    participants reached, a flash sale's price); an item without a price counts nothing here (the summary names it)."""
    prices = sale_prices(config, buy) if isinstance(buy, FlashSale) else buy_prices(config, buy, members)
    return prices.amount(items).value


# --- the readout ---------------------------------------------------------------------------------------------------


async def read_orders(session: AsyncSession, config: Config) -> list[dict[str, Any]]:
    """Every order in the store, in the order they were made: 接龙 orders first, then flash-sale claims."""
    rows = (
        await session.execute(
            select(Order, Group.name, Member.name)
            .join(Group, Group.id == Order.group_id)
            .outerjoin(Member, Member.id == Order.member_id)
            .order_by(Order.id)
        )
    ).all()
    buys = {b.id: b for b in config.buys}
    members = {}
    for buy in config.buys:
        active = [o.participant for o, _g, _m in rows if o.buy_id == buy.id and o.status == "active"]
        members[buy.id] = buy_status(config, buy, active).members
    out: list[dict[str, Any]] = []
    for order, group, sender in rows:
        of = buys.get(order.buy_id)
        amount = Decimal(0)
        if of is not None and order.status != "cancelled":
            items = [_Item(line.product, Decimal(line.qty), line.unit) for line in order.lines]
            amount = order_amount(config, of, members[of.id], items)
        out.append(
            {
                "buy": order.buy_id,
                "group": group,
                "member": order.participant,
                "sender": sender,
                "items": [
                    {"product": line.product, "qty": number(line.qty), "unit": line.unit} for line in order.lines
                ],
                "status": order.status,
                "amount": number(amount),
                "paid": False,  # set below: the participant has paid what they owe in the buy (`已收`)
            }
        )
    await _mark_paid(session, out)
    sales = {s.id: s for s in config.flash_sales}
    claims = (
        await session.execute(
            select(FlashClaim, Group.name).join(Group, Group.id == FlashClaim.group_id).order_by(FlashClaim.id)
        )
    ).all()
    for claim, group in claims:
        if claim.status not in _CLAIM_STATUS:
            continue  # a refused ask (more than was left): never an order
        sale = sales.get(claim.sale_id)
        status = _CLAIM_STATUS[claim.status]
        out.append(
            {
                "buy": claim.sale_id,
                "group": group,
                "member": claim.name,
                "sender": claim.name,
                "items": [
                    {
                        "product": sale.product if sale else claim.sale_id,
                        "qty": claim.qty,
                        "unit": sale_unit(config, sale) if sale else None,
                    }
                ],
                "status": status,
                "amount": number(
                    order_amount(config, sale, 0, [_Item(sale.product, Decimal(claim.qty), sale_unit(config, sale))])
                    if sale is not None and status != "cancelled"
                    else Decimal(0)
                ),
                "paid": False,
            }
        )
    return out


async def _mark_paid(session: AsyncSession, orders: list[dict[str, Any]]) -> None:
    """`paid` of each active or waiting order: its participant (label and group) has paid at least what their active
    orders in the buy come to (a participant who changed an order after paying owes the difference: not paid)."""
    rows = await session.execute(
        select(Payment.buy_id, Group.name, Payment.participant, Payment.paid).join(Group, Group.id == Payment.group_id)
    )
    paid = {(buy, group, who): Decimal(value) for buy, group, who, value in rows}
    owed: dict[tuple[str, str, str], Decimal] = {}
    for o in orders:
        if o["status"] == "active":
            key = (o["buy"], o["group"], o["member"])
            owed[key] = owed.get(key, Decimal(0)) + Decimal(str(o["amount"]))
    for o in orders:
        key = (o["buy"], o["group"], o["member"])
        o["paid"] = o["status"] != "cancelled" and key in paid and paid[key] >= owed.get(key, Decimal(0))


def read_buys(config: Config, orders: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each buy and flash sale at the end of the replay: status, members, formed, total (of the active orders)."""
    out: list[dict[str, Any]] = []
    for buy in config.buys:
        active = [o for o in orders if o["buy"] == buy.id and o["status"] == "active"]
        status = buy_status(config, buy, [o["member"] for o in active])
        out.append(
            {
                "id": buy.id,
                "status": _buy_state(buy, now),
                "members": status.members,
                "formed": status.formed,
                "total": number(sum((Decimal(str(o["amount"])) for o in active), Decimal(0))),
            }
        )
    for sale in config.flash_sales:
        active = [o for o in orders if o["buy"] == sale.id and o["status"] == "active"]
        out.append(
            {
                "id": sale.id,
                "status": _sale_state(sale, now),
                "members": len({o["member"] for o in active}),
                "formed": True,  # a flash sale has no threshold
                "total": number(sum((Decimal(str(o["amount"])) for o in active), Decimal(0))),
            }
        )
    return out


def _buy_state(buy: Buy, now: datetime) -> str:
    if not has_started(buy, now):
        return "upcoming"
    return "open" if is_open(buy, now) else "closed"


def _sale_state(sale: FlashSale, now: datetime) -> str:
    if now < sale.start:
        return "upcoming"
    return "running" if now < sale.end else "ended"
