"""A buy's summary: per-product totals, per-participant lines, pickup list by address, 成团 status.

One implementation serves the leader's `汇总`, the demo's ending, the backend API and the xlsx export: `summarize`
is pure over `OrderView`s; `load_summary` reads them from the bot's store, the backend reads its own.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Buy, BuyItem
from bot.domain.buys import GroupStatus, group_status
from bot.domain.money import ZERO, Amount, Prices, amount_text, buy_prices, fmt_money, total
from storage.models import FlashClaim, Group, Order, Payment

if TYPE_CHECKING:
    from bot.config import Config, FlashSale

NO_ADDRESS = "未写地址"
# The address part of a participant label: a token with a digit that names a building, unit or room (3栋, 5-1201,
# 6号楼2单元, 1号，101室, 295-909).
_ADDRESS = re.compile(r"[0-9０-９一二三四五六七八九十]+(?:栋|幢|号楼|号|楼|单元|室|座|区|期)|\d+-\d+")


@dataclass(frozen=True)
class ItemQty:
    product: str
    qty: Decimal
    unit: str | None
    known: bool = True

    def __str__(self) -> str:
        return f"{self.product}{fmt_qty(self.qty)}{self.unit or ''}"


@dataclass(frozen=True)
class OrderView:
    """One order as a summary needs it, wherever it is stored."""

    participant: str
    group: str
    items: tuple[ItemQty, ...]
    remark: str = ""
    status: str = "active"  # active | waiting | cancelled


@dataclass(frozen=True)
class ParticipantLine:
    participant: str
    group: str
    items: tuple[ItemQty, ...]
    remark: str
    amount: Amount = Amount()  # what the order costs at the price in force (bot.domain.money); 0 while waiting


@dataclass(frozen=True)
class BuySummary:
    buy_id: str
    title: str
    group: str | None  # the group the lines are from; None = every group of the buy
    totals: tuple[ItemQty, ...]
    lines: tuple[ParticipantLine, ...]
    status: GroupStatus  # buy-wide: 成团 counts members across all its groups
    unknown: tuple[ParticipantLine, ...]  # lines naming a product the catalogue does not know
    pickup: tuple[tuple[str, tuple[ParticipantLine, ...]], ...]  # address → its lines, addresses in order
    waiting: tuple[ParticipantLine, ...] = ()  # lines past the stock, in the order they came
    total: Amount = Amount()  # the sum of `lines`' amounts
    prices: Prices = Prices()  # the prices in force the amounts are at
    amounts: tuple[Amount, ...] = ()  # what each of `totals` comes to, in the same order
    # (group, participant) → the money they paid (`已收`, bot.domain.payments); None: payments are not known here
    paid: Mapping[tuple[str, str], Decimal] | None = None


@dataclass(frozen=True)
class Due:
    """What one participant (a label in a group) owes for a buy: the sum of their lines' amounts, and what they
    paid (None: nothing marked). An order changed after paying keeps what was paid; the difference is owed."""

    group: str
    participant: str
    amount: Amount
    paid: Decimal | None = None

    @property
    def owing(self) -> Decimal:
        return self.amount.value - (self.paid or ZERO)

    @property
    def unpaid(self) -> bool:
        return self.owing > 0 or (self.paid is None and bool(self.amount.unpriced))


def dues(summary: BuySummary) -> list[Due]:
    """Each participant of the summary's lines once (several orders of one label add up), in the order they came."""
    by: dict[tuple[str, str], Amount] = {}
    for line in summary.lines:
        key = (line.group, line.participant)
        by[key] = by.get(key, Amount()) + line.amount
    paid = summary.paid or {}
    return [Due(g, p, total([a]), paid.get((g, p))) for (g, p), a in by.items()]


def fmt_qty(q: Decimal) -> str:
    return f"{Decimal(q).normalize():f}"


def address_of(participant: str) -> str:
    """The building/room a participant label names (`3栋 王阿姨` → `3栋`), for the pickup list."""
    m = _ADDRESS.search(participant)
    if m is None:
        return NO_ADDRESS
    token = next((t for t in participant.split() if m.group(0) in t), m.group(0))
    return token if len(token) <= 12 else m.group(0)


def summarize(
    config: Config,
    buy: Buy,
    orders: Sequence[OrderView],
    group: str | None = None,
    prices: Prices | None = None,
    paid: Mapping[tuple[str, str], Decimal] | None = None,
) -> BuySummary:
    """The summary of `buy` (of one group's lines when `group` is given). Amounts are at `prices` when given (a
    flash sale's), else at the buy's prices in force for its members across every group (the ladder tier reached)."""
    active = [o for o in orders if o.status == "active"]
    status = buy_status(config, buy, [o.participant for o in active])
    if prices is None:
        prices = buy_prices(config, buy, status.members)
    totals: OrderedDict[tuple[str, str | None], Decimal] = OrderedDict()
    amounts: dict[tuple[str, str | None], Amount] = {}
    known_of: dict[str, bool] = {}
    lines: list[ParticipantLine] = []
    for order in active:
        if group is not None and order.group != group:
            continue
        lines.append(
            ParticipantLine(order.participant, order.group, order.items, order.remark, prices.amount(order.items))
        )
        for it in order.items:
            totals[(it.product, it.unit)] = totals.get((it.product, it.unit), Decimal(0)) + it.qty
            amounts[(it.product, it.unit)] = amounts.get((it.product, it.unit), Amount()) + prices.amount([it])
            known_of[it.product] = it.known
    pickup: OrderedDict[str, list[ParticipantLine]] = OrderedDict()
    for line in sorted(lines, key=lambda ln: _address_key(address_of(ln.participant))):
        pickup.setdefault(address_of(line.participant), []).append(line)
    waiting = tuple(
        ParticipantLine(o.participant, o.group, o.items, o.remark)
        for o in orders
        if o.status == "waiting" and (group is None or o.group == group)
    )
    return BuySummary(
        buy_id=buy.id,
        title=buy.title,
        group=group,
        totals=tuple(ItemQty(p, q, u, known_of.get(p, True)) for (p, u), q in totals.items()),
        lines=tuple(lines),
        status=status,
        unknown=tuple(ln for ln in lines if any(not it.known for it in ln.items)),
        pickup=tuple((addr, tuple(ls)) for addr, ls in pickup.items()),
        waiting=waiting,
        total=total(ln.amount for ln in lines),
        prices=prices,
        amounts=tuple(total([amounts[key]]) for key in totals),
        paid=paid,
    )


def buy_status(config: Config, buy: Buy, participants: Sequence[str]) -> GroupStatus:
    """成团 status from the labels of the buy's active orders: one member per label (a blank label counts alone)."""
    members = {label.strip() or f"#{i}" for i, label in enumerate(participants)}
    base = buy.items[0].price if buy.items else None
    if base is None and buy.items:
        product = config.product(buy.items[0].product)
        base = product.price if product else None
    return group_status(buy, len(members), base)


def _address_key(address: str) -> tuple[int, list[int], str]:
    if address == NO_ADDRESS:
        return (1, [], address)
    return (0, [int(n) for n in re.findall(r"\d+", address)], address)


async def load_views(session: AsyncSession, buy_id: str) -> list[OrderView]:
    rows = (
        await session.execute(
            select(Order, Group.name)
            .join(Group, Group.id == Order.group_id)
            .where(Order.buy_id == buy_id)
            .order_by(Order.id)
        )
    ).all()
    return [
        OrderView(
            participant=order.participant,
            group=group_name,
            items=tuple(ItemQty(ol.product, Decimal(ol.qty), ol.unit, ol.known) for ol in order.lines),
            remark=order.remark,
            status=order.status,
        )
        for order, group_name in rows
    ]


def sale_buy(config: Config, sale: FlashSale) -> Buy:
    """A flash sale summarized as a buy: its one product at the sale's price (never the catalogue's), its stock,
    its groups, no 成团 rules. Its id is the sale's, as the claims' `buy` is in the backend and in replay."""
    product = config.product(sale.product)
    item = BuyItem(product=sale.product, price=sale.price, stock=sale.stock, unit=product.unit if product else "份")
    return Buy.model_construct(
        id=sale.id, title=f"{sale.product}限时秒杀", groups=sale.groups, items=[item], min_members=None, ladder=[]
    )


async def load_flash_views(session: AsyncSession, config: Config, sale: FlashSale) -> list[OrderView]:
    """A flash sale's claims as orders (confirmed → active), in the order they came."""
    product = config.product(sale.product)
    unit = product.unit if product else "份"
    rows = (
        await session.execute(
            select(FlashClaim, Group.name)
            .join(Group, Group.id == FlashClaim.group_id)
            .where(FlashClaim.sale_id == sale.id)
            .order_by(FlashClaim.id)
        )
    ).all()
    status = {"confirmed": "active", "waiting": "waiting", "cancelled": "cancelled"}
    return [
        OrderView(
            participant=claim.name,
            group=group_name,
            items=(ItemQty(sale.product, Decimal(claim.qty), unit),),
            remark="限时秒杀",
            status=status.get(claim.status, claim.status),
        )
        for claim, group_name in rows
    ]


async def load_paid(session: AsyncSession, buy_id: str) -> dict[tuple[str, str], Decimal]:
    """(group, participant) → what they paid for the buy, as leaders marked it."""
    rows = await session.execute(
        select(Group.name, Payment.participant, Payment.paid)
        .join(Group, Group.id == Payment.group_id)
        .where(Payment.buy_id == buy_id)
    )
    return {(group, participant): Decimal(paid) for group, participant, paid in rows}


async def load_summary(session: AsyncSession, config: Config, buy: Buy, group: str | None = None) -> BuySummary:
    views = await load_views(session, buy.id)
    return summarize(config, buy, views, group, paid=await load_paid(session, buy.id))


async def load_status(session: AsyncSession, config: Config, buy: Buy) -> GroupStatus:
    """`load_summary(...).status` without the summary: the labels of the active orders, not every order and line
    (a nudge asks after each order change, so this runs once per 接龙 message)."""
    labels = await session.scalars(
        select(Order.participant).where(Order.buy_id == buy.id, Order.status == "active").order_by(Order.id)
    )
    return buy_status(config, buy, list(labels))


def status_line(s: GroupStatus, buy: Buy, closed: bool = False) -> str:
    """`已有3人,还差2人成团`; once the buy is closed (`closed`: past its cutoff) short of its 成团N人, plainly
    `已有3人,未成团(差2人)`: it can no longer form, unless the leader gives it more time."""
    if not s.formed:
        if closed:
            return f"已有{s.members}人,未成团(差{s.missing}人)"
        return f"已有{s.members}人,还差{s.missing}人成团"
    parts = [f"已有{s.members}人" + (",已成团" if buy.min_members else "")]
    if s.price is not None and buy.ladder:
        parts.append(f"当前价{fmt_qty(s.price)}元")
    if s.target is not None and s.next_price is not None:
        parts.append(f"再{s.missing}人降到{fmt_qty(s.next_price)}元")
    return ",".join(parts)


def unformed_hint(buy: Buy) -> str:
    """What a leader can do with a buy that closed short of 成团 (their `汇总`, their `截单`'s answer)."""
    return f"要多给大家些时间,发「延长截单 {buy.title} 时间」;不成团就在群里说一声,已收的款记得退。"


def format_summary(summary: BuySummary, buy: Buy, payments: str = "", closed: bool = False) -> str:
    """The `汇总` text. `payments`: "" says nothing of who paid (a post in the group: never who owes), "total" the
    收款 line (who paid, what is owed in all), "lines" that and each line's mark — both once someone has paid.
    `closed`: the buy is past its cutoff (its 成团 status says whether it formed; a leader's answer, `payments`
    given, adds what to do when it did not)."""
    head = f"【汇总】{summary.title}" + (f"({summary.group})" if summary.group else "")
    out = [head]
    owed = {(d.group, d.participant): d for d in dues(summary)}
    if summary.totals:
        products = ",".join(str(t) + ("(?)" if not t.known else "") for t in summary.totals)
        out.append(f"合计:{products},共{amount_text(summary.total)}")
    else:
        out.append("合计:暂无订单")
    for i, line in enumerate(summary.lines, 1):
        items = " ".join(str(it) for it in line.items) or "(未写数量)"
        amount = f" {amount_text(line.amount)}" if line.items else ""
        remark = f" 备注:{line.remark}" if line.remark else ""
        mark = f" {paid_mark(owed[(line.group, line.participant)])}" if summary.paid and payments == "lines" else ""
        out.append(f"{i}. {line.participant} {items}{amount}{mark}{remark}")
    if summary.waiting:
        out.append("候补:" + "、".join(w.participant for w in summary.waiting))
    if summary.paid and payments:  # once a leader has marked someone paid: who has, and what is still owed
        out.append(paid_line(list(owed.values())))
    out.append(status_line(summary.status, buy, closed))
    if closed and payments and not summary.status.formed:
        out.append(unformed_hint(buy))
    if summary.unknown:
        out.append("待确认(商品不在本团):" + "、".join(ln.participant for ln in summary.unknown))
    return "\n".join(out)


def paid_mark(due: Due) -> str:
    """How a summary line shows its participant's payment: `✓已付`, `已付50.00元`, `未付`."""
    if not due.unpaid:
        return "✓已付"
    return f"已付{fmt_money(due.paid)}元" if due.paid else "未付"


def paid_line(all_dues: Sequence[Due]) -> str:
    """`收款:已付清2人,未付1人共119.70元`."""
    unpaid = [d for d in all_dues if d.unpaid]
    settled = len(all_dues) - len(unpaid)
    if not unpaid:
        return f"收款:{settled}人都已付清"
    owing = sum((max(d.owing, ZERO) for d in unpaid), ZERO)
    return f"收款:已付清{settled}人,未付{len(unpaid)}人共{fmt_money(owing)}元"
