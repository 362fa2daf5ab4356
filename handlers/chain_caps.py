"""Caps on what one 接龙 message may order, so that a flood of fake lines is refused and the leader told.

A real 接龙 has at most a few hundred lines and a member a handful of orders per buy; the probe of issue 17 sent one
100,000-character chain of fake lines and got 5,617 orders in three seconds. Two caps (`chain:` in config.yaml):
- `max_lines` (1000): the lines of one message past the 1000th are not read (not even looked at);
- `max_orders_per_member` (20): the new orders one member's messages may create in one buy (in one group). A new
  line counts for its author; a line healed from a message the bot missed has no author, so it counts for the
  member whose copy carried it. The sender's own lines are counted first, so a member whose copy also carries
  someone's flood still gets their own order.
A line refused by the member cap is kept in the chain as `refused` (stored, so a restart knows it too): it is no
order, no later copy offers it again, and no edit or cancel can reach it. The leaders are told once per member and
buy, privately (what only the leader needs goes privately); the group hears one line, to the member.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.events import Outbound
from bot.parsing.merge import ACTIVE, Change
from bot.parsing.proxy_commands import read_proxy_command
from storage.models import ChainLine, MessageLog, Order

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context
    from bot.domain.unit_of_work import UnitOfWork
    from bot.parsing.chain_reader import Copy
    from bot.parsing.merge import ChainState

REFUSED = "refused"
#: Orders per member already in each chain state, by the state's id (a count lives and is rebuilt with its state).
_counts: dict[int, tuple[weakref.ref[ChainState], Counter[str]]] = {}


def first_lines(copy: Copy, max_lines: int) -> tuple[Copy, int]:
    """The copy as far as it is read (its first `max_lines` entries), and how many entries were left unread."""
    past = len(copy.keys) - max_lines
    if past <= 0:
        return copy, 0
    parsed = dataclasses.replace(copy.parsed, entries=copy.parsed.entries[:max_lines])
    return copy._replace(parsed=parsed, keys=copy.keys[:max_lines], repeated=min(copy.repeated, max_lines)), past


async def within_caps(ctx: Context, state: ChainState, buy: Buy, changes: list[Change]) -> list[Change]:
    """`changes` with the new orders past a member's cap turned into `noted` changes of `refused` lines."""
    settings = ctx.services.config.chain
    counts = await _counts_of(ctx, state, buy.id)
    sender = ctx.event.sender_id
    refused: set[int] = set()
    created = [i for i, c in enumerate(changes) if c.kind == "created"]
    own_first = sorted(created, key=lambda i: changes[i].line.author != sender)
    for i in own_first:
        member = changes[i].line.author or sender
        if counts[member] >= settings.max_orders_per_member:
            refused.add(i)
        else:
            counts[member] += 1
    if not refused:
        return changes
    out: list[Change] = []
    for i, change in enumerate(changes):
        previous = change.previous
        if i in refused or (previous is not None and previous.status == REFUSED):
            # the merge only takes ACTIVE lines as targets, so the line an edit or cancel took was active before
            if previous is not None and previous.status != REFUSED:
                previous.status = ACTIVE
            change.line.status = REFUSED
            out.append(Change("noted", change.line))
        else:
            out.append(change)
    ctx.log.warning("chain_lines_refused", buy=buy.id, lines=sum(1 for c in out if c.line.status == REFUSED))
    return out


async def tell_leader(ctx: Context, uow: UnitOfWork, buy: Buy, changes: list[Change], unread: int) -> None:
    """Tell the group's leaders once, privately, that a member's lines were refused (`unread`: past `max_lines`),
    and the member in one line in the group. A leader the bot cannot reach privately yet (a display name that has
    run no command, so its wxid is unknown): the note goes to the group, @-naming the leaders, as it did before."""
    n = unread + sum(1 for c in changes if c.line.status == REFUSED)
    if not n:
        return
    settings, sender = ctx.services.config.chain, ctx.services.sender
    limits = f"每条最多{settings.max_lines}行,每人每团最多{settings.max_orders_per_member}单"
    key = f"cap:{buy.id}:{ctx.group_id}:{ctx.event.sender_id}"
    leaders = ctx.services.leaders.reachable(ctx.group)
    if not leaders:
        named = " ".join(f"@{name}" for name in ctx.group.leaders)
        text = (
            f"{named + ' ' if named else ''}团长请注意:{ctx.event.sender_name}发的接龙有{n}行超过上限({limits}),"
            "没有记录,请核对~"
        )
        await sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.group.name, kind="leader_note", key=key, session=uow.session
        )
        return
    note = (
        f"⚠️ {ctx.group.name}:{ctx.event.sender_name}发的【{buy.title}】接龙有{n}行超过上限({limits}),没有记录,"
        f"请核对~ 对方微信号:{ctx.event.sender_id}"
    )
    for wxid in leaders:  # what only the leader needs goes privately
        await sender.enqueue(
            Outbound(wxid, note), group=None, kind="leader_note", key=f"{key}:{wxid}", session=uow.session
        )
    await sender.enqueue(
        Outbound(ctx.event.room_id, f"你发的接龙有{n}行超过上限,没有记录,已告诉团长~", mentions=(ctx.event.sender_id,)),
        group=ctx.group.name,
        kind="reply",
        key=key,
        session=uow.session,
    )


async def _counts_of(ctx: Context, state: ChainState, buy_id: str) -> Counter[str]:
    held = _counts.get(id(state))
    if held is not None and held[0]() is state:
        return held[1]
    counts = await _orders_by_member(ctx, buy_id)
    _counts[id(state)] = (weakref.ref(state), counts)
    weakref.finalize(state, _counts.pop, id(state), None)
    return counts


async def _orders_by_member(ctx: Context, buy_id: str) -> Counter[str]:
    """Orders of the buy in this group, by the member they count for, as `within_caps` counted them when made: the
    line's author; a line with no author, the member whose 接龙 copy carried it (whose message first held it); a line
    a leader's command (`代报` / `取消`, `handlers/proxy_orders.py`) entered for a neighbour, nobody — the leader typed
    it, it is not the leader's order, and a leader's 代报 are not counted when made either (#15)."""
    orders = (
        select(func.count(Order.id))
        .select_from(Order)
        .join(ChainLine, ChainLine.id == Order.chain_line_id)
        .where(Order.buy_id == buy_id, Order.group_id == ctx.group_id)
    )
    head = func.min(func.substr(MessageLog.text, 1, 201))  # a command is one line of at most 200 characters
    carried = (
        orders.add_columns(MessageLog.sender_id, head)
        .join(MessageLog, MessageLog.msg_id == ChainLine.first_msg_id)
        .where(ChainLine.author_id.is_(None))
        .group_by(MessageLog.msg_id, MessageLog.sender_id)
    )
    names = [n for p in ctx.services.config.catalogue for n in p.names]
    counts: Counter[str] = Counter()
    async with ctx.services.db.sessions() as session:
        for n, who in await session.execute(orders.add_columns(ChainLine.author_id).group_by(ChainLine.author_id)):
            if who is not None:
                counts[str(who)] += int(n)
        for n, who, text in await session.execute(carried):
            if read_proxy_command(text or "", names) is None:
                counts[str(who)] += int(n)
    return counts
