"""Payments (issue #15): a leader marks a participant paid (`已收 3栋王阿姨`, `已收 老周 62`) and asks who has not
paid (`未付 [团]`). What a participant owes is their lines' amounts at the price in force (`bot.domain.money`, via
the one summary); what they paid is stored per buy, group and participant label (`storage.models.Payment`).

The rules (docs/decisions.md):
- **Which participant.** The label is matched against the labels of the orders in the leader's groups (this group;
  in private every group they lead): the same label (spaces, width and case aside) first, else the labels that
  contain it (`王阿姨` → `3栋 王阿姨`). Two different people match: the leader is asked which. None: "没找到" with
  the labels closest to it.
- **Which buys.** Every buy of those groups the participant still owes money in, soonest cutoff first — so with one
  buy open no buy is named, and with several the money covers what they ordered. Without an amount they paid what
  they owe; with one, it fills those buys in that order (the last takes what is over), and the reply says how much
  was 少付 / 多付. Someone who owes nothing is not marked again (a repeated 已收 never counts money twice).
- **An order changed after paying** keeps what was paid; the difference is owed and `未付` shows it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.domain.buys import buys_of_group, has_started
from bot.domain.money import ZERO, amount_text, fmt_money
from bot.domain.subject import buys_for_command
from bot.domain.summary import Due, dues, load_summary
from bot.parsing.merge import ident
from storage.models import Payment
from storage.outbox import add_change, payment_payload

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.services import Services


@dataclass(frozen=True)
class BuyDues:
    buy: Buy
    dues: tuple[Due, ...]  # the participants of the leader's groups, in the order they came


@dataclass(frozen=True)
class Marked:
    """What `已收` did: the reply, and whether a participant was found (a loose `王阿姨已付` otherwise says nothing)."""

    text: str
    found: bool = True


async def buy_dues(services: Services, buy: Buy, groups: Sequence[str]) -> BuyDues:
    async with services.db.sessions() as session:
        summary = await load_summary(session, services.config, buy)
    return BuyDues(buy, tuple(d for d in dues(summary) if d.group in groups))


def _buys(services: Services, groups: Sequence[str], now: datetime) -> list[Buy]:
    """The buys of the groups that have started, soonest cutoff first (the one to pay for first)."""
    seen = {b.id for g in groups for b in buys_of_group(services.config, g)}
    started = [b for b in services.config.buys if b.id in seen and has_started(b, now)]
    return sorted(started, key=lambda b: (b.cutoff is None, b.cutoff or now))


# --- 已收 -----------------------------------------------------------------------------------------------------------


async def mark_paid(
    services: Services, groups: Sequence[str], label: str, amount: Decimal | None, by: str, now: datetime
) -> Marked:
    """Mark `label` paid in the buys they owe in (see the module's rules); returns what to tell the leader."""
    if amount is not None and amount <= 0:
        return Marked(f"收到的金额是{fmt_money(amount)}元?没有记。发「已收 {label}」或写上收到的金额。")
    ledgers = [await buy_dues(services, b, groups) for b in _buys(services, groups, now)]
    people = list(dict.fromkeys((d.group, d.participant) for ledger in ledgers for d in ledger.dues))
    found = _match(label, people)
    if isinstance(found, str):
        return Marked(found, found=False)
    who = found
    owed = [(ledger.buy, d) for ledger in ledgers for d in ledger.dues if (d.group, d.participant) == who]
    open_ = [(buy, d) for buy, d in owed if d.unpaid]
    name = who[1] + (f"({who[0]})" if len(groups) > 1 else "")
    if not open_:
        done = "、".join(f"{buy.title} {fmt_money(d.paid or ZERO)}元" for buy, d in owed)
        return Marked(f"{name} 已经付清了({done}),没有再记。")
    takes = _spread(amount, [d for _, d in open_])
    group_ids = {g: services.groups.id_of(g) for g in groups}
    async with services.db.transaction() as session:
        for (buy, due), take in zip(open_, takes, strict=True):
            if take == 0 and (amount is not None or due.paid is not None):
                continue  # the money did not reach this buy (an amount short of the first)
            key = (Payment.buy_id == buy.id, Payment.group_id == group_ids[due.group])
            row = await session.scalar(select(Payment).where(*key, Payment.participant == due.participant))
            if row is None:
                row = Payment(
                    buy_id=buy.id, group_id=group_ids[due.group], participant=due.participant, paid=ZERO, version=0
                )
                session.add(row)
            row.paid = Decimal(row.paid) + take
            row.paid_at, row.marked_by, row.version = now, by, row.version + 1
            await session.flush()  # its id names it to the backend
            paid = fmt_money(row.paid)
            ref = f"payment:{row.id}"
            payload = payment_payload(
                ref=ref, version=row.version, group=due.group, buy=buy.id, participant=due.participant, paid=paid
            )
            add_change(session, payload, now)  # to the leader's backend, in this same transaction
    return Marked(_marked_text(name, open_, takes, amount))


def _spread(amount: Decimal | None, owed: Sequence[Due]) -> list[Decimal]:
    """What each due gets of `amount` (None: what each owes), filled in order; the last takes what is over."""
    if amount is None:
        return [max(d.owing, ZERO) for d in owed]
    takes, left = [], amount
    for i, d in enumerate(owed):
        take = left if i == len(owed) - 1 else min(left, max(d.owing, ZERO))
        takes.append(take)
        left -= take
    return takes


def _marked_text(name: str, open_: Sequence[tuple[Buy, Due]], takes: Sequence[Decimal], amount: Decimal | None) -> str:
    owing = sum((max(d.owing, ZERO) for _, d in open_), ZERO)
    got = amount if amount is not None else owing
    unpriced = [d for _, d in open_ if d.amount.unpriced]
    if len(open_) == 1:
        buy, due = open_[0]
        before = f",之前已付{fmt_money(due.paid)}元" if due.paid else ""
        what = f"✅ 已收 {name} {fmt_money(got)}元({buy.title}{before})"
    else:
        paid = [(buy, take) for (buy, _), take in zip(open_, takes, strict=True) if take]
        parts = "、".join(f"{buy.title} {fmt_money(take)}元" for buy, take in paid)
        what = f"✅ 已收 {name} {fmt_money(got)}元:{parts}"
    if amount is None or amount == owing:
        tail = "已付清"
    elif amount < owing:
        tail = f"应付{fmt_money(owing)}元,少付{fmt_money(owing - amount)}元"
    else:
        tail = f"应付{fmt_money(owing)}元,多付{fmt_money(amount - owing)}元"
    note = f"({'、'.join(amount_text(d.amount) for d in unpriced)},未计价的部分请另算)" if unpriced else ""
    return f"{what},{tail}。{note}"


def _match(label: str, people: Sequence[tuple[str, str]]) -> tuple[str, str] | str:
    """The one (group, participant) `label` names, or what to ask the leader."""
    key = ident(label)
    if not key:
        return "收了谁的钱?发「已收 3栋王阿姨」;金额不一样就写上:「已收 老周 62」"
    same = [p for p in people if ident(p[1]) == key]
    within = [p for p in people if key in ident(p[1])]
    found = same or within
    if len(found) == 1:
        return found[0]
    if found:
        names = "、".join(p[1] + (f"({p[0]})" if len({g for g, _ in found}) > 1 else "") for p in found)
        return f"「{label}」对得上{len(found)}位:{names}。请写全,比如「已收 {found[0][1]}」"
    labels = {ident(p[1]): p[1] for p in people}
    close = difflib.get_close_matches(key, list(labels), n=3, cutoff=0.4)
    close += [k for k in labels if k not in close and len(close) < 3 and set(key) & set(k) and len(key) >= 2]
    hint = f"是不是:{'、'.join(labels[k] for k in close[:3])}?" if close else "接龙里没有这个名字。"
    return f"没找到「{label}」。{hint}"


# --- 未付 -----------------------------------------------------------------------------------------------------------


async def unpaid_lists(services: Services, groups: Sequence[str], name: str, now: datetime, *, where: str) -> list[str]:
    """The `未付` answers: one per buy (`name` names it; none named: the buys with money owing)."""
    if name:
        buys: list[Buy] = []
        for group in groups:
            buys += [b for b in buys_for_command(services.config, group, name, now) if b not in buys]
        if not buys:
            return [f"{where}没有叫「{name}」的团购。"]
    else:
        buys = _buys(services, groups, now)
    ledgers = [await buy_dues(services, b, groups) for b in buys]
    if not name:
        owing = [ledger for ledger in ledgers if any(d.unpaid for d in ledger.dues)]
        if not owing:
            ordered = any(ledger.dues for ledger in ledgers)
            return [f"✅ {where}的团都付清了,没有未付的。" if ordered else f"{where}现在还没有订单。"]
        ledgers = owing
    return [unpaid_text(ledger, groups) for ledger in ledgers]


def unpaid_text(ledger: BuyDues, groups: Sequence[str]) -> str:
    """`【未付】周六丹东草莓团(阳光花园1号群)`, one line per participant who owes, the total outstanding."""
    many = len({d.group for d in ledger.dues}) > 1 or len(groups) > 1
    head = f"【未付】{ledger.buy.title}" + ("" if many else f"({groups[0]})")
    if not ledger.dues:
        return f"{head}\n还没有订单。"
    unpaid = [d for d in ledger.dues if d.unpaid]
    settled = len(ledger.dues) - len(unpaid)
    if not unpaid:
        return f"{head}\n✅ {settled}人都已付清。"
    out = [head]
    for i, d in enumerate(unpaid, 1):
        who = d.participant + (f"({d.group})" if many else "")
        if d.paid:
            out.append(f"{i}. {who} 还差{fmt_money(d.owing)}元(应付{amount_text(d.amount)},已付{fmt_money(d.paid)}元)")
        else:
            out.append(f"{i}. {who} {amount_text(d.amount)}")
    owing = sum((max(d.owing, ZERO) for d in unpaid), ZERO)
    out.append(f"共{len(unpaid)}人未付,合计{fmt_money(owing)}元;已付清{settled}人")
    return "\n".join(out)
