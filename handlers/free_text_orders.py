"""Members' orders said outside the 接龙 while a buy is open: `+1`, `草莓+1`, `要2盒草莓`, `我要两盒车厘子`, `不要了`.

An order is a line of the buy's chain that no copy holds (`ChainState.add_outside`), labelled with the sender's
display name and written by the chain's one write path (`handlers.chain_orders.record_changes`): stock, wait list,
per-member caps and the digest treat it as a 接龙 line, and `我订了什么` lists it. The member's later 接龙 line for
the same product takes it over (docs/decisions.md). `不要了` / `取消` cancels the member's only order; with several the
bot asks which, in one line. `chain.free_text_orders`: `record` (the default), `hint` (one line telling the member to
copy the 接龙, once per member inside the same-text window), `off` (the next routes read the text, as before).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.domain.buys import buys_of_group, is_open
from bot.domain.my_orders import my_orders, my_orders_text
from bot.domain.orders import chain_state
from bot.domain.subject import sells
from bot.domain.unit_of_work import unit_of_work
from bot.domain.units import items_label, unit_of
from bot.events import Kind, Outbound
from bot.parsing.chain import ChainEntry, Item
from bot.parsing.free_text import (
    MAX_CHARS,
    FreeCancel,
    FreeOrder,
    FreeText,
    asks_own_orders,
    own_words,
    read_free_text,
)
from bot.parsing.merge import ACTIVE, OUTSIDE, ChainState, Change, LineState
from handlers.chain_caps import within_caps
from handlers.chain_orders import record_changes
from storage.models import ChainLine, OutboundMessage

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context

_OWN = "own"  # `我+1了吗`: the member asks what they ordered


def open_buys(ctx: Context, now: datetime) -> list[Buy]:
    """The group's open buys, soonest cutoff first."""
    found = [b for b in buys_of_group(ctx.services.config, ctx.group.name) if is_open(b, now)]
    return sorted(found, key=lambda b: b.cutoff or datetime.max.replace(tzinfo=now.tzinfo))


class FreeTextOrders:
    name = "free_text_orders"

    def wants(self, ctx: Context) -> bool:
        """A member's order or cancel in words, or `我+1了吗`, while a buy is open in the group (and the switch is
        not `off`); anything else goes on to the questions."""
        event = ctx.event
        if ctx.private or event.kind != Kind.TEXT or len(own_words(event.text)) > MAX_CHARS:
            return False
        if ctx.services.config.chain.free_text_orders == "off":
            return False
        buys = open_buys(ctx, ctx.services.clock.now())
        if not buys:
            return False
        said = self._read(ctx, buys)
        if said is None:
            return False
        ctx.extras[self.name] = (buys, said)
        return True

    def _read(self, ctx: Context, buys: list[Buy]) -> FreeText | str | None:
        if asks_own_orders(ctx.event.text):
            return _OWN
        products = {item.product for buy in buys for item in buy.items}
        return read_free_text(ctx.event.text, ctx.services.product_matcher(), products)

    async def handle(self, ctx: Context) -> None:
        now = ctx.services.clock.now()
        held = ctx.extras.get(self.name)
        buys = held[0] if held else open_buys(ctx, now)
        said = held[1] if held else self._read(ctx, buys)
        if said is None or not buys:
            return
        if said == _OWN:
            found = await my_orders(ctx.services, ctx.group.name, buys, (), ctx.event.sender_id, _label(ctx))
            await _reply(ctx, my_orders_text(found, buys), mention=True)
        elif ctx.services.config.chain.free_text_orders == "hint":
            await self._hint(ctx, buys, said, now)
        elif isinstance(said, FreeOrder):
            await self._order(ctx, buys, said, now)
        elif isinstance(said, FreeCancel):
            await self._cancel(ctx, buys, said, now)

    # --- orders -------------------------------------------------------------------------------------------------

    async def _order(self, ctx: Context, buys: list[Buy], said: FreeOrder, now: datetime) -> None:
        name = _label(ctx)
        by_buy: dict[str, tuple[Buy, list[Item]]] = {}
        for product, qty, unit in said.items:
            if product is None:
                offered = [(b, item.product) for b in buys for item in b.items]
                if len({p for _, p in offered}) != 1:
                    choices = "、".join(dict.fromkeys(p for _, p in offered))
                    example = f"{offered[0][1]}+{_qty(qty)}"
                    await _reply(ctx, f"{name} 现在接龙的有{choices},要哪个?回复「{example}」这样就行~")
                    return
                buy, product = offered[0]
            else:
                buy = next(b for b in buys if sells(b, product))
            unit = unit or unit_of(buy, product) or None  # `+1`, `一份`: one of the product, in its own unit
            by_buy.setdefault(buy.id, (buy, []))[1].append(Item(product, True, qty, unit))
        for n, (buy, items) in enumerate(by_buy.values()):
            if await self._repeated(ctx, buy, now):
                ctx.log.info("free_text_repeat", buy=buy.id)  # the same words again a moment later: one order
                continue
            key = f"{OUTSIDE}{ctx.event.msg_id}" + (f"#{n}" if n else "")
            state = await chain_state(ctx.services, buy, ctx.group_id)
            # a member the chain knows by a label (`3栋 王阿姨`) orders under it: one participant, counted once
            known = [ln.who for ln in state.by_author.get(ctx.event.sender_id, ()) if ln.status == ACTIVE]
            entry = ChainEntry(None, ctx.event.text, known[-1] if known else name, tuple(items), "", False, key)
            await _record(ctx, buy, state, [state.add_outside(entry, ctx.event.sender_id)], now)
            ctx.log.info("free_text_order", buy=buy.id, items=[items_label([i]) for i in items])

    async def _repeated(self, ctx: Context, buy: Buy, now: datetime) -> bool:
        """The member said the very same order a moment ago (inside the same-text window), and it stands."""
        window: timedelta = ctx.services.config.limits.same_text_window
        async with ctx.services.db.sessions() as session:
            found = await session.scalar(
                select(ChainLine.id)
                .where(ChainLine.buy_id == buy.id, ChainLine.group_id == ctx.group_id)
                .where(ChainLine.author_id == ctx.event.sender_id, ChainLine.raw == ctx.event.text)
                .where(ChainLine.key.startswith(OUTSIDE), ChainLine.status == ACTIVE)
                .where(ChainLine.created_at >= now - window)
                .limit(1)
            )
        return found is not None

    # --- cancels ------------------------------------------------------------------------------------------------

    async def _cancel(self, ctx: Context, buys: list[Buy], said: FreeCancel, now: datetime) -> None:
        name = _label(ctx)
        found: list[tuple[Buy, ChainState, LineState]] = []
        for buy in buys:
            state = await chain_state(ctx.services, buy, ctx.group_id)
            for line in state.active_of(ctx.event.sender_id, name):
                if not said.products or {i.product for i in line.items or ()} & set(said.products):
                    found.append((buy, state, line))
        if not found:
            if said.explicit:
                what = "、".join(said.products)
                await _reply(ctx, f"{name} 你还没有{what + '的' if what else ''}订单哦~")
            else:
                ctx.log.info("free_text_cancel_nothing")  # `不要了` alone, from someone with no order: chatter
            return
        if len(found) > 1 and not said.products:
            listed = "、".join(_what(line) for _, _, line in found)
            product = next((i.product for _, _, ln in found for i in ln.items or ()), "")
            await _reply(ctx, f"{name} 你有{len(found)}单:{listed},要取消哪个?回复「取消{product}」这样就行~")
            return
        for n, (buy, state, line) in enumerate(found):
            key = f"{OUTSIDE}{ctx.event.msg_id}" + (f"#{n}" if n else "")
            entry = ChainEntry(None, ctx.event.text, name, (), "", True, key)
            await _record(ctx, buy, state, [state.cancel_outside(entry, ctx.event.sender_id, line)], now)
            ctx.log.info("free_text_cancel", buy=buy.id, line=line.key[:40])

    # --- hint ---------------------------------------------------------------------------------------------------

    async def _hint(self, ctx: Context, buys: list[Buy], said: FreeText | str, now: datetime) -> None:
        """`hint`: one line telling the member how to order in the 接龙, once per member inside the window."""
        services, name = ctx.services, _label(ctx)
        topic = f"free_hint:{ctx.group.name}:{ctx.event.sender_id}"
        async with services.db.sessions() as session:
            recent = await session.scalar(
                select(OutboundMessage.id)
                .where(OutboundMessage.coalesce_key == topic)
                .where(OutboundMessage.created_at >= now - services.config.limits.same_text_window)
                .limit(1)
            )
        if recent is not None:
            ctx.log.info("free_text_hint_repeat")
            return
        if isinstance(said, FreeCancel):
            text = f"{name} 要取消的话,请复制群里最新的接龙,把你那行改成「{name} 取消」再发出来~"
        else:
            assert isinstance(said, FreeOrder)
            one = buys[0].items[0].product if len(buys) == 1 and len(buys[0].items) == 1 else None
            what = " ".join(f"{p or one or '商品'}{_qty(q)}{u or _unit_in(buys, p or one)}" for p, q, u in said.items)
            text = f"{name} 本群用接龙下单哦:复制群里最新的接龙,在末尾加一行「{name} {what}」再发出来~"
        await _reply(ctx, text, coalesce=topic)


def _label(ctx: Context) -> str:
    """The participant a member's words order for: their display name."""
    return ctx.event.sender_name.strip() or ctx.event.sender_id


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _unit_in(buys: list[Buy], product: str | None) -> str:
    return next((unit_of(b, product) for b in buys if product and sells(b, product)), "")


def _what(line: LineState) -> str:
    return items_label(line.items or ()) or line.who


async def _record(ctx: Context, buy: Buy, state: ChainState, changes: list[Change], now: datetime) -> None:
    """The chain's one write path, as a 接龙 copy's changes are written; a failure leaves the store the truth."""
    services = ctx.services
    try:
        changes = await within_caps(ctx, state, buy, changes)  # past a member's cap: refused, the leader told
        async with unit_of_work(services) as uow:
            await record_changes(ctx, uow, buy, changes, now)
    except BaseException:
        services.chain.forget_unsure((buy.id, ctx.group_id))
        raise


async def _reply(ctx: Context, text: str, *, coalesce: str | None = None, mention: bool = False) -> None:
    await ctx.services.sender.enqueue(
        Outbound(ctx.event.room_id, text, mentions=(ctx.event.sender_id,) if mention else ()),
        group=ctx.group.name,
        kind="reply",
        key=f"free:{ctx.event.msg_id}",
        coalesce_key=coalesce,
    )
