"""Caps on what one 接龙 message may order, so that a flood of fake lines is refused and the leader told.

A real 接龙 has at most a few hundred lines and a member a handful of orders per buy; the probe of issue 17 sent one
100,000-character chain of fake lines and got 5,617 orders in three seconds. Two caps (`chain:` in config.yaml):
- `max_lines` (1000): the lines of one message past the 1000th are not read (not even looked at);
- `max_orders_per_member` (20): the new orders one member's messages may create in one buy (in one group). A new
  line counts for its author; a line healed from a message the bot missed has no author, so it counts for the
  member whose copy carried it. The sender's own lines are counted first, so a member whose copy also carries
  someone's flood still gets their own order.
After a restart (or a login after a gateway outage, which drops the chain states) the bot has missed what was said
while it was away, and the next copies carry those lines (their
owners unknown): for `HEAL_AFTER_RELOAD` after a chain's state is loaded from the store with lines in it, such healed
lines count for nobody, so a copy that brings 45 missed joins records them all (issue 17's chaos runs lost real
orders to the cap this way). The cost: a flood sent in that window is held only by `max_lines`. After a later
restart the count from the store charges a copier the lines their copies carried up to one short of the cap, so a
flooder stays capped and a member whose copy healed many lines can still order for themselves.
A line refused by the member cap is kept in the chain as `refused` (stored, so a restart knows it too): it is no
order, no later copy offers it again, and no edit or cancel can reach it. The leaders are told once per member and
buy, privately (what only the leader needs goes privately); the group hears one line, to the member.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import Counter
from datetime import datetime, timedelta
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
#: How long after a chain's state is loaded from the store (a restart) lines healed from copies count for nobody.
HEAL_AFTER_RELOAD = timedelta(minutes=30)
#: Orders per member already in each chain state, by the state's id (a count lives and is rebuilt with its state),
#: and until when healed lines are free (None: the state started empty, nothing was missed).
_counts: dict[int, tuple[weakref.ref[ChainState], Counter[str], datetime | None]] = {}


def first_lines(copy: Copy, max_lines: int) -> tuple[Copy, int]:
    """The copy as far as it is read (its first `max_lines` entries), and how many entries were left unread."""
    past = len(copy.keys) - max_lines
    if past <= 0:
        return copy, 0
    parsed = dataclasses.replace(copy.parsed, entries=copy.parsed.entries[:max_lines])
    return copy._replace(parsed=parsed, keys=copy.keys[:max_lines], repeated=min(copy.repeated, max_lines)), past


async def within_caps(ctx: Context, state: ChainState, buy: Buy, changes: list[Change]) -> list[Change]:
    """`changes` with the new orders past a member's cap turned into `noted` changes of `refused` lines."""
    created = [i for i, c in enumerate(changes) if c.kind == "created"]
    decided = ctx.services.chain.decided_refusals
    if decided is not None:  # `tuanbot rebuild`: the caps as the live bot decided them (it knew when it was away)
        refused = {i for i in created if (buy.id, ctx.event.msg_id, changes[i].line.key) in decided}
    else:
        refused = await _past_caps(ctx, state, buy, changes, created)
    if not refused:
        return changes
    return _refuse(ctx, buy, changes, refused)


async def _past_caps(ctx: Context, state: ChainState, buy: Buy, changes: list[Change], created: list[int]) -> set[int]:
    settings = ctx.services.config.chain
    counts, free_until = await _counts_of(ctx, state, buy.id)
    healing = free_until is not None and ctx.services.clock.now() <= free_until
    sender = ctx.event.sender_id
    refused: set[int] = set()
    own_first = sorted(created, key=lambda i: changes[i].line.author != sender)
    for i in own_first:
        if healing and changes[i].line.author is None:
            continue  # a line the bot missed while it was away, healed from this copy: nobody's to count
        member = changes[i].line.author or sender
        if counts[member] >= settings.max_orders_per_member:
            refused.add(i)
        else:
            counts[member] += 1
    return refused


def _refuse(ctx: Context, buy: Buy, changes: list[Change], refused: set[int]) -> list[Change]:
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


async def _counts_of(ctx: Context, state: ChainState, buy_id: str) -> tuple[Counter[str], datetime | None]:
    held = _counts.get(id(state))
    if held is not None and held[0]() is state:
        return held[1], held[2]
    counts = await _orders_by_member(ctx, buy_id)
    # lines loaded from the store carry their row (`ref`); this copy's new lines are not stored yet
    reloaded = any(line.ref is not None for line in state.lines.values())
    free_until = ctx.services.clock.now() + HEAL_AFTER_RELOAD if reloaded else None
    _counts[id(state)] = (weakref.ref(state), counts, free_until)
    weakref.finalize(state, _counts.pop, id(state), None)
    return counts, free_until


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
    carried_by: Counter[str] = Counter()
    async with ctx.services.db.sessions() as session:
        for n, who in await session.execute(orders.add_columns(ChainLine.author_id).group_by(ChainLine.author_id)):
            if who is not None:
                counts[str(who)] += int(n)
        for n, who, text in await session.execute(carried):
            if read_proxy_command(text or "", names) is None:
                carried_by[str(who)] += int(n)
    cap = ctx.services.config.chain.max_orders_per_member
    for who, n in carried_by.items():  # one slot left free: a member whose copy healed many lines can still order
        counts[who] += min(n, max(0, cap - 1 - counts[who]))
    return counts
