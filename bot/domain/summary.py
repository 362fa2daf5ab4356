"""A buy's summary: per-product totals, per-participant lines, 成团 status. One implementation for the leader's
`汇总`, the demo's ending and (later) the API and the export."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.buys import GroupStatus, group_status
from storage.models import Group, Order

if TYPE_CHECKING:
    from bot.config import Buy, Config


@dataclass(frozen=True)
class ItemQty:
    product: str
    qty: Decimal
    unit: str | None
    known: bool = True

    def __str__(self) -> str:
        return f"{self.product}{fmt_qty(self.qty)}{self.unit or ''}"


@dataclass(frozen=True)
class ParticipantLine:
    participant: str
    group: str
    items: tuple[ItemQty, ...]
    remark: str


@dataclass(frozen=True)
class BuySummary:
    buy_id: str
    title: str
    group: str | None  # the group the lines are from; None = every group of the buy
    totals: tuple[ItemQty, ...]
    lines: tuple[ParticipantLine, ...]
    status: GroupStatus  # buy-wide: 成团 counts members across all its groups
    unknown: tuple[ParticipantLine, ...]  # lines naming a product the catalogue does not know


def fmt_qty(q: Decimal) -> str:
    q = q.normalize()
    return f"{q:f}"


async def load_summary(session: AsyncSession, config: Config, buy: Buy, group: str | None = None) -> BuySummary:
    rows = (
        await session.execute(
            select(Order, Group.name)
            .join(Group, Group.id == Order.group_id)
            .where(Order.buy_id == buy.id, Order.status == "active")
            .order_by(Order.id)
        )
    ).all()
    members = {order.participant.strip() or f"#{order.id}" for order, _ in rows}
    totals: OrderedDict[tuple[str, str | None], Decimal] = OrderedDict()
    known_of: dict[str, bool] = {}
    lines: list[ParticipantLine] = []
    for order, group_name in rows:
        if group is not None and group_name != group:
            continue
        items = tuple(ItemQty(ol.product, Decimal(ol.qty), ol.unit, ol.known) for ol in order.lines)
        lines.append(ParticipantLine(order.participant, group_name, items, order.remark))
        for it in items:
            totals[(it.product, it.unit)] = totals.get((it.product, it.unit), Decimal(0)) + it.qty
            known_of[it.product] = it.known
    base = buy.items[0].price if buy.items else None
    if base is None and buy.items:
        product = config.product(buy.items[0].product)
        base = product.price if product else None
    return BuySummary(
        buy_id=buy.id,
        title=buy.title,
        group=group,
        totals=tuple(ItemQty(p, q, u, known_of.get(p, True)) for (p, u), q in totals.items()),
        lines=tuple(lines),
        status=group_status(buy, len(members), base),
        unknown=tuple(ln for ln in lines if any(not it.known for it in ln.items)),
    )


def status_line(s: GroupStatus, buy: Buy) -> str:
    if not s.formed:
        return f"已有{s.members}人,还差{s.missing}人成团"
    parts = [f"已有{s.members}人" + (",已成团" if buy.min_members else "")]
    if s.price is not None and buy.ladder:
        parts.append(f"当前价{fmt_qty(s.price)}元")
    if s.target is not None and s.next_price is not None:
        parts.append(f"再{s.missing}人降到{fmt_qty(s.next_price)}元")
    return ",".join(parts)


def format_summary(summary: BuySummary, buy: Buy) -> str:
    head = f"【汇总】{summary.title}" + (f"({summary.group})" if summary.group else "")
    out = [head]
    if summary.totals:
        out.append("合计:" + ",".join(str(t) + ("(?)" if not t.known else "") for t in summary.totals))
    else:
        out.append("合计:暂无订单")
    for i, line in enumerate(summary.lines, 1):
        items = " ".join(str(it) for it in line.items) or "(未写数量)"
        remark = f" 备注:{line.remark}" if line.remark else ""
        out.append(f"{i}. {line.participant} {items}{remark}")
    out.append(status_line(summary.status, buy))
    if summary.unknown:
        out.append("待确认(商品不在本团):" + "、".join(ln.participant for ln in summary.unknown))
    return "\n".join(out)
