"""A leader's `代报 LABEL 商品数量` (`帮3栋王阿姨报名车厘子2盒`) and `取消 LABEL [商品]` (`取消老周的订单`), in the
group or privately; leaders only (`services.leaders.confirm`), anyone else gets nothing. The order is the participant's
line of the 接龙 (`bot.domain.proxy_orders`): the digest, stock, the ladder and the summary treat it as any order.

Which buy: with one open buy in the leader's groups, that one; else the buy the product names (`subject`), or the
title written after the order. Which group (private, a leader of several groups of the buy): the group named in the
text, else the one where the label already has an order; else the bot asks. A private answer names the group and
the buy it acted on."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.leaders import listed
from bot.domain.buys import buys_of_group, has_started, is_open
from bot.domain.flash import Taken, running_sales
from bot.domain.money import amount_text
from bot.domain.orders import chain_state
from bot.domain.proxy_flash import claim_amount, live_claims, proxy_claim, proxy_unclaim
from bot.domain.proxy_orders import (
    Outcome,
    Where,
    active_lines,
    labels_like,
    lines_named,
    proxy_cancel,
    proxy_order,
    unit_item,
)
from bot.domain.subject import sells
from bot.domain.units import items_label, sale_unit
from bot.events import Kind, Outbound
from bot.parsing.chain import ChainEntry
from bot.parsing.entry import entry_reader
from bot.parsing.merge import LineState
from bot.parsing.proxy_commands import ProxyCommand, read_proxy_command

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Buy, FlashSale
    from bot.dispatch import Context

EXAMPLE = "代报 3栋王阿姨 草莓2盒"


class ProxyOrders:
    name = "proxy_orders"
    serves_private = True  # a leader's commands work one to one with the bot too

    def wants(self, ctx: Context) -> bool:
        if ctx.event.kind != Kind.TEXT or not ctx.is_leader:
            return False  # a member's 取消 is their own (the 接龙 or free text)
        command = self._read(ctx)
        if command is None:
            return False
        return not command.loose or bool(self._entry(ctx, command.line, None).items)  # `帮…`: only an order

    async def handle(self, ctx: Context) -> None:
        services, event = ctx.services, ctx.event
        now = services.clock.now()
        command = self._read(ctx)
        assert command is not None
        if not await services.leaders.confirm(ctx.group, event, now, services.sender, command.verb):
            ctx.log.info("command_refused", command=command.verb, reason="not_a_leader", member_id=event.sender_id)
            return
        ctx.log.info("command_run", command=command.verb, member_id=event.sender_id, text=event.text[:80])
        if command.verb == "代报":
            await self._proxy(ctx, command, now)
        else:
            await self._cancel(ctx, command, now)

    # --- 代报 ------------------------------------------------------------------------------------------------------

    async def _proxy(self, ctx: Context, command: ProxyCommand, now: datetime) -> None:
        groups, named_group, line = self._group_named(ctx, command.line)
        open_buys = self._open_buys(ctx, groups, now)
        titled = [b for b in open_buys if _names(b, line)]
        if len(titled) == 1:  # `代报 老周 草莓1 周六丹东草莓团`: that buy (its title read as no item)
            open_buys, line = titled, _without(titled[0], line)
        entry = self._entry(ctx, line, None)
        if not any(it.product for it in entry.items) and len(open_buys) == 1 and len(open_buys[0].items) == 1:
            entry = self._entry(ctx, line, open_buys[0].items[0].product)  # `代报 老周 2`: the only product
        selling = "、".join(dict.fromkeys(i.product for b in open_buys for i in b.items))
        if not entry.who or not entry.items:
            more = f"现在在卖:{selling}。" if selling else ""
            await self._reply(ctx, f"没看懂「{line}」。{more}代报请写邻居和商品数量,例如:{EXAMPLE}")
            return
        unknown = [it.product or "(没写商品)" for it in entry.items if not it.known]
        if unknown:
            more = f"现在在卖:{selling}" if selling else "现在没有进行中的团购"
            await self._reply(ctx, f"没找到商品「{'、'.join(unknown)}」,{more}。请用商品名再发一次~")
            return
        products = [it.product for it in entry.items]
        if not any(all(sells(b, p) for p in products) for b in open_buys):
            sale = next(
                (s for g in groups for s in running_sales(ctx.services.config, g, now) if [s.product] == products), None
            )
            if sale is not None:  # a 限时秒杀 product: a claim for the neighbour, in arrival order like any
                await self._flash(ctx, sale, groups, named_group, entry, now)
                return
        buy = await self._buy_for(ctx, groups, open_buys, products, entry, now)
        if buy is None:
            return
        where = await self._where(ctx, buy, groups, named_group, entry.who, f"代报 {{群}} {line}")
        if where is None:
            return
        units = {i.product: i.unit or self._unit(ctx, i.product) for i in buy.items}
        entry = _with_units(entry, buy, units)
        logger = ctx.log.bind(by=ctx.event.sender_id, reason="leader_command")
        at = self._at(ctx, where)

        async def tell(outcomes: list[Outcome], session: AsyncSession) -> None:
            await self._reply(ctx, _said(outcomes[0], at), session)

        outcome = await proxy_order(ctx.services, where, ctx.event, entry, now, logger, tell)
        ctx.log.info(
            "proxy_order", buy=buy.id, group=where.group, who=outcome.who, kind=outcome.kind, status=outcome.status
        )

    async def _buy_for(
        self,
        ctx: Context,
        groups: list[str],
        open_buys: list[Buy],
        products: list[str],
        entry: ChainEntry,
        now: datetime,
    ) -> Buy | None:
        """The buy the order is for: the one open buy, else the open buy selling the products (a title written in
        the command decides between several); a question back when none or several fit."""
        what = "、".join(dict.fromkeys(products))
        selling = [b for b in open_buys if all(sells(b, p) for p in products)]
        if len(selling) == 1:
            return selling[0]
        if len(selling) > 1:
            titles = "、".join(f"「{b.title}」" for b in selling)
            example = f"代报 {entry.raw} {selling[0].title}"
            await self._reply(ctx, f"{what}在{titles}都有,请在后面写上团名,例如:{example}")
            return None
        closed = [b for g in groups for b in buys_of_group(ctx.services.config, g) if has_started(b, now)]
        closed = [b for b in closed if all(sells(b, p) for p in products)]
        if closed:
            title = closed[-1].title
            await self._reply(ctx, f"「{title}」已截单,要补报请先发「延长截单 {title} 时间」。")
        elif len(open_buys) == 1:
            await self._reply(ctx, f"「{open_buys[0].title}」里没有{what}。")
        else:
            await self._reply(ctx, f"现在没有在卖{what}的团购。")
        return None

    # --- 取消 ------------------------------------------------------------------------------------------------------

    async def _cancel(self, ctx: Context, command: ProxyCommand, now: datetime) -> None:
        services = ctx.services
        groups, _, label = self._group_named(ctx, command.label)
        found = services.config.product(command.product) if command.product else None
        product = found.name if found is not None else command.product
        candidates = [
            (b, g)
            for g in groups
            for b in buys_of_group(services.config, g)
            if has_started(b, now) and (not product or sells(b, product))
        ]
        sales = [
            sale
            for g in groups
            for sale in running_sales(services.config, g, now)
            if not product or sale.product == product
        ]
        if command.product and not candidates and not sales:
            await self._reply(ctx, f"没找到在卖「{command.product}」的团购。")
            return
        hits: list[tuple[Where, list[LineState]]] = []
        near: list[str] = []
        for buy, group in candidates:
            where = self._place(ctx, buy, group)
            state = await chain_state(services, where.buy, where.group_id)
            lines = lines_named(state, label)
            if lines:
                hits.append((where, lines))
            else:
                near += labels_like(state, label)
        if any(is_open(w.buy, now) for w, _ in hits):
            hits = [(w, ls) for w, ls in hits if is_open(w.buy, now)]  # an open buy's order before a closed one's
        if not hits and await self._unclaim(ctx, sales, label, now):
            return
        if not hits:
            close = "、".join(dict.fromkeys(near))
            await self._reply(ctx, f"没找到「{label}」的订单。" + (f"是不是:{close}?" if close else ""))
            return
        if len(hits) > 1:
            places = "、".join(f"「{w.group}·{w.buy.title}」" for w, _ in hits)
            hint = f"取消 {{群}} {label}" if len({w.buy.id for w, _ in hits}) == 1 else f"取消 {label} 商品"
            example = hint.format(群=hits[0][0].group)
            await self._reply(ctx, f"「{label}」在{places}都有订单,请写清楚是哪个,例如:{example}")
            return
        [(where, lines)] = hits
        label = lines[0].who
        if product:
            held, lines = lines, [ln for ln in lines if any(it.product == product for it in ln.items or ())]
            if not lines:
                have = "、".join(items_label(ln.items or ()) for ln in held)
                await self._reply(ctx, f"「{label}」没有报{product}(TA报的是:{have})。")
                return
        logger = ctx.log.bind(by=ctx.event.sender_id, reason="leader_command")
        at = self._at(ctx, where)

        async def tell(outcomes: list[Outcome], session: AsyncSession) -> None:
            await self._reply(ctx, _cancelled(outcomes, product, at), session)

        await proxy_cancel(services, where, ctx.event, lines, product, now, logger, tell)

    # --- 限时秒杀 ---------------------------------------------------------------------------------------------------

    async def _flash(
        self, ctx: Context, sale: FlashSale, groups: list[str], named: str | None, entry: ChainEntry, now: datetime
    ) -> None:
        services = ctx.services
        mine = [g for g in groups if g in {x.name for x in services.config.groups_of(sale.groups)}]
        title = f"{sale.product}限时秒杀"
        if len(mine) > 1:
            await self._reply(ctx, f"你带的{'、'.join(mine)}都有{title},请写上群名,例如:代报 {mine[0]} {entry.raw}")
            return
        qty = entry.items[0].qty
        if qty <= 0 or qty != int(qty):
            await self._reply(ctx, f"秒杀按整份报,例如:代报 {entry.who} {sale.product}1")
            return
        group = mine[0]
        room = ctx.event.room_id if not ctx.private else services.groups.room_of(group)
        if not room:
            await self._reply(ctx, f"我还没进过{group},进群后才能代报。")
            return
        unit = sale_unit(services.config, sale)
        at = f"({group}·{title})" if ctx.private else f"({title})"
        who, n = entry.who, int(qty)

        async def tell(taken: Taken, session: AsyncSession) -> None:
            if taken.status == "confirmed":
                amount = amount_text(claim_amount(services, sale, n))
                text = f"✅ 已代抢:{who} {sale.product}{n}{unit},{amount}{at}"
            elif taken.status == "waiting":
                text = f"⏳ 已抢光:{who} {sale.product}{n}{unit} 登记候补,有人退出按顺序递补{at}"
            elif taken.status == "short":
                text = f"{sale.product}只剩{taken.left}{unit}了,不够{who}要的{n}{unit},没有记录{at}"
            else:
                return  # a redelivered command: recorded before
            await self._reply(ctx, text, session)

        where = (group, services.groups.id_of(group), room)
        taken = await proxy_claim(services, sale, where, ctx.event, who, n, now, tell)
        ctx.log.info("proxy_claim", sale=sale.id, group=group, who=who, qty=n, status=taken.status)

    async def _unclaim(self, ctx: Context, sales: list[FlashSale], label: str, now: datetime) -> bool:
        """`取消 LABEL` of a 限时秒杀 claim under that label (the leader's or the member's own); False: none."""
        services = ctx.services
        claims = await live_claims(services, list({s.id: s for s in sales}.values()), label)
        if not claims:
            return False
        if len(claims) > 1:
            what = "、".join(dict.fromkeys(f"{c.name} {c.qty}份" for c in claims))
            await self._reply(ctx, f"「{label}」有几份秒杀({what}),请写上商品,例如:取消 {label} 商品")
            return True
        [claim] = claims
        sale = next(s for s in sales if s.id == claim.sale_id)
        group = services.groups.name_of(claim.group_id)
        title = f"{sale.product}限时秒杀"
        at = f"({group}·{title})" if ctx.private else f"({title})"
        text = f"❎ 已取消「{claim.name}」的秒杀:{sale.product}{claim.qty}{sale_unit(services.config, sale)}{at}"

        async def tell(session: AsyncSession) -> None:
            await self._reply(ctx, text, session)

        logger = ctx.log.bind(by=ctx.event.sender_id, reason="leader_command")
        await proxy_unclaim(services, claim, group, now, logger, tell)
        return True

    # --- where ----------------------------------------------------------------------------------------------------

    def _read(self, ctx: Context) -> ProxyCommand | None:
        names = [n for p in ctx.services.config.catalogue for n in p.names]
        return read_proxy_command(ctx.event.text, names)

    def _entry(self, ctx: Context, line: str, default_product: str | None) -> ChainEntry:
        return entry_reader(ctx.services.product_matcher()).entry(None, line, default_product)

    def _unit(self, ctx: Context, product: str) -> str:
        found = ctx.services.config.product(product)
        return found.unit if found is not None else ""

    def _groups(self, ctx: Context) -> list[str]:
        if not ctx.private:
            return [ctx.group.name]
        return [g.name for g in ctx.services.config.groups if listed(g, ctx.event)]

    def _group_named(self, ctx: Context, text: str) -> tuple[list[str], str | None, str]:
        """The leader's groups, the one the text names (private: `代报 2号群 老周 草莓1`), and the text without it."""
        groups = self._groups(ctx)
        if len(groups) < 2:
            return groups, None, text
        for word in text.split():
            named = [g for g in groups if word == g or (len(word) >= 2 and word.endswith("群") and word in g)]
            if len(named) == 1:
                rest = " ".join(w for w in text.split() if w != word)
                return named, named[0], rest
        return groups, None, text

    def _open_buys(self, ctx: Context, groups: list[str], now: datetime) -> list[Buy]:
        found: list[Buy] = []
        for g in groups:
            found += [b for b in buys_of_group(ctx.services.config, g) if is_open(b, now) and b not in found]
        return found

    def _place(self, ctx: Context, buy: Buy, group: str) -> Where:
        services = ctx.services
        room = ctx.event.room_id if not ctx.private else (services.groups.room_of(group) or "")
        return Where(buy, group, services.groups.id_of(group), room)

    async def _where(
        self, ctx: Context, buy: Buy, groups: list[str], named: str | None, label: str, example: str
    ) -> Where | None:
        """The group of the buy the order goes into: the only one, the one named, else the one where the label has
        an order already; a question back otherwise, or when the bot has not been in that group yet."""
        config = ctx.services.config
        mine = [g for g in groups if g in {x.name for x in config.groups_of(buy.groups)}]
        if named is None and len(mine) > 1:
            places = [self._place(ctx, buy, g) for g in mine]
            known = [p.group for p in places if active_lines(await chain_state(ctx.services, buy, p.group_id), label)]
            mine = known if len(known) == 1 else mine
        if len(mine) > 1:
            names = "、".join(mine)
            await self._reply(ctx, f"你带的{names}都在「{buy.title}」,请写上群名,例如:{example.format(群=mine[0])}")
            return None
        if not mine:
            await self._reply(ctx, f"「{buy.title}」不在你带的群里。")
            return None
        where = self._place(ctx, buy, mine[0])
        if not where.room:
            await self._reply(ctx, f"我还没进过{where.group},进群后才能代报。")
            return None
        return where

    def _at(self, ctx: Context, where: Where) -> str:
        """Where it was done, as the answer says it: the buy in the group; the group and the buy in private."""
        return f"({where.group}·{where.buy.title})" if ctx.private else f"({where.buy.title})"

    async def _reply(self, ctx: Context, text: str, session: AsyncSession | None = None) -> None:
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text),
            group=ctx.reply_group,
            kind="reply",
            key=f"reply:{ctx.event.msg_id}",
            session=session,
        )


def _names(buy: Buy, line: str) -> bool:
    """The line names the buy: its title, or its id as a word."""
    return buy.title in line or buy.id in line.split()


def _without(buy: Buy, line: str) -> str:
    return " ".join(w for w in line.replace(buy.title, " ").split() if w != buy.id)


def _with_units(entry: ChainEntry, buy: Buy, units: dict[str, str]) -> ChainEntry:
    items = tuple(unit_item(buy, units, it) for it in entry.items)
    return ChainEntry(entry.seq, entry.raw, entry.who, items, entry.remark, entry.cancelled, entry.key)


def _said(o: Outcome, at: str) -> str:
    items = items_label(o.items)
    if o.kind == "unchanged":
        return f"「{o.who}」已经报了{items},{amount_text(o.amount)},没有改动{at}"
    if o.status == "waiting":
        return f"⏳ 已代报,但已满:{o.who} {items} 登记候补,有人取消按顺序递补{at}"
    verb = "✅ 已代报" if o.kind == "created" else "✏️ 已改好"
    return f"{verb}:{o.who} {items},{amount_text(o.amount)}{at}"


def _cancelled(outcomes: list[Outcome], product: str, at: str) -> str:
    who = outcomes[0].who
    gone = [o for o in outcomes if o.kind == "cancelled"]
    left = [o for o in outcomes if o.kind != "cancelled"]
    if product:
        text = f"❎ 已取消「{who}」的{product}"
        if left:
            text += ",还剩:" + ";".join(f"{items_label(o.items)} {amount_text(o.amount)}" for o in left)
        return text + at
    return f"❎ 已取消「{who}」的订单:" + ";".join(items_label(o.items) for o in gone) + at
