"""接龙 messages in a served group → orders of that group's buy, confirmed in one short digest per group.

The merge rules are pure (`bot.parsing.merge`); this handler keeps one `ChainState` per (buy, group) in memory —
rebuilt from the store after a restart or a failed write — and hands each copy's changes to the order book
(`bot.domain.orders`) in one unit of work. A copy costs its new lines (the reader and `ChainState.fold` skip what
it repeats of an earlier copy), and one that brings none costs no write. The digest and the 成团 nudge subscribe
to the book's events (`bot.notices`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.events import DomainEvent, WaiterPromoted
from bot.core.services import READERS_KEPT
from bot.domain.buys import buy_named_in, names_of, single_open_buy, single_product
from bot.domain.flash import sale_of_chain
from bot.domain.orders import OrderBook, chain_state
from bot.domain.unit_of_work import UnitOfWork, unit_of_work
from bot.events import Kind, Outbound
from bot.parsing.chain import ParsedChain, is_chain
from bot.parsing.chain_reader import ChainReader, Copy
from bot.parsing.merge import Change
from bot.parsing.native import looks_native, parse_native
from bot.parsing.products import ProductMatcher
from handlers.chain_caps import first_lines, tell_leader, within_caps

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.core.ports import Replies
    from bot.dispatch import Context


def _reader(ctx: Context, title: str, matcher: ProductMatcher, *, default_product: str | None = None) -> ChainReader:
    """The reader of this chain (a room's chain is known by its first line), so each copy costs its new lines."""
    readers = ctx.services.chain.readers
    key = (ctx.group_id, title[: title.find("\n")] if "\n" in title else title[:200])
    reader = readers.get(key)
    if reader is None or (default_product is not None and reader.default_product != default_product):
        reader = ChainReader(matcher, default_product=default_product or (reader.default_product if reader else None))
        readers[key] = reader
        while len(readers) > READERS_KEPT:
            readers.popitem(last=False)
    readers.move_to_end(key)
    return reader


class ChainOrders:
    name = "chain_orders"

    def wants(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind == Kind.NATIVE_CHAIN:
            return True
        if event.kind != Kind.TEXT or not (is_chain(event.text) or looks_native(event.text)):
            return False
        # A 接龙 for a running 限时秒杀 (its alert says 接龙下单) is the flash-sale route's claim, not an order.
        return sale_of_chain(ctx.services.config, ctx.group.name, event.text, ctx.services.clock.now()) is None

    async def handle(self, ctx: Context) -> None:
        services = ctx.services
        now = services.clock.now()
        found = self._read(ctx, services.product_matcher(), now)
        if found is None:
            return
        buy, copy, authors = found
        key = (buy.id, ctx.group_id)
        state = await chain_state(services, buy, ctx.group_id)
        late = buy.cutoff is not None and now >= buy.cutoff
        copy, unread = first_lines(copy, services.config.chain.max_lines)  # a flood of lines: the rest unread
        try:
            changes = state.fold(copy, ctx.event.sender_id, ctx.event.sender_name, authors=authors, late=late)
            if not changes and not unread:
                return  # a copy with nothing new: the common case in a busy chain
            changes = await within_caps(ctx, state, buy, changes)  # past a member's cap: refused
            async with unit_of_work(services) as uow:
                await record_changes(ctx, uow, buy, changes, now, unread)
                too_late = [c.line.who or c.line.key[:20] for c in changes if c.kind == "late"]
                if too_late:
                    await self._queue_too_late(ctx, uow, buy, too_late)
        except BaseException:
            # The transaction rolled back: what this process learnt inside it is not true. The store is the truth:
            # the chain state is rebuilt from it next time, and member ids and the pending digest are asked again.
            services.chain.forget_unsure(key)
            raise

    # --- reading -----------------------------------------------------------------------------------------------

    def _read(
        self, ctx: Context, matcher: ProductMatcher, now: datetime
    ) -> tuple[Buy, Copy, list[str | None] | None] | None:
        """The buy this chain fills, the copy as read and the author of each entry when a native card says, or None
        to leave the message alone."""
        config = ctx.services.config
        title, authors = self._title_and_authors(ctx)
        reader = _reader(ctx, title, matcher)
        copy = reader.read_copy(title)
        parsed = copy.parsed
        buy = buy_named_in(config, ctx.group.name, parsed.header, now)
        named = buy is not None
        buy = buy or single_open_buy(config, ctx.group.name, now)
        if buy is None:
            ctx.log.info("chain_unmatched", reason="no_buy", header=parsed.header[:60])
            return None
        default = single_product(buy)
        if default != reader.default_product:  # the first copy of a single-product chain: read it with its product
            reader = _reader(ctx, title, matcher, default_product=default)
            copy = reader.read_copy(title)
            parsed = copy.parsed
        if not named and not _orders_products_of(parsed, buy, names_of(config, buy)):
            ctx.log.info("chain_unmatched", reason="no_product_of_buy", buy=buy.id, header=parsed.header[:60])
            return None
        if authors is not None and len(authors) != len(parsed.entries):
            authors = None
        return buy, copy, authors

    def _title_and_authors(self, ctx: Context) -> tuple[str, list[str | None] | None]:
        text = ctx.event.text
        if ctx.event.kind == Kind.NATIVE_CHAIN or looks_native(text):
            native = parse_native(text)
            if native is not None:
                authors = [e.author for e in native.entries] if native.used_ranges else None
                return native.title, authors
        return text, None

    # --- replies -----------------------------------------------------------------------------------------------

    async def _queue_too_late(self, ctx: Context, uow: UnitOfWork, buy: Buy, who: list[str]) -> None:
        cutoff = buy.cutoff.astimezone(ctx.services.config.tz).strftime("%m月%d日 %H:%M") if buy.cutoff else ""
        text = f"抱歉,{buy.title}已于{cutoff}截单,{'、'.join(who)}的接龙这次没能记上,下次开团早点来哦~"
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text),
            group=ctx.group.name,
            kind="reply",
            key=f"late:{ctx.event.msg_id}",
            session=uow.session,
        )


async def record_changes(
    ctx: Context, uow: UnitOfWork, buy: Buy, changes: list[Change], now: datetime, unread: int = 0
) -> None:
    """A message's changes to the chain as orders, in the caller's unit of work: the order book writes them, the
    waiters promoted are told, the digest and the 成团 nudge hear the events, and the leader a member's refused lines.
    Also the route of orders said outside the 接龙 (`handlers.free_text_orders`): one write path."""
    book = OrderBook(uow, buy, ctx.group.name, ctx.group_id, ctx.event, ctx.log)
    events = await book.apply(changes, now)
    await _tell_promoted(ctx.services.sender, uow, events)
    await uow.publish(events)  # the digest, the 成团 nudge
    await tell_leader(ctx, uow, buy, changes, unread)


async def _tell_promoted(replies: Replies, uow: UnitOfWork, events: list[DomainEvent]) -> None:
    """Units came back: the writers of the waiting lines that got them are told."""
    for e in events:
        if isinstance(e, WaiterPromoted):
            await replies.enqueue(
                Outbound(e.room, f"{e.who} 有邻居取消了,你的候补转正啦:{e.items} ✅"),
                group=e.group,
                kind="reply",
                key=f"promoted:{e.id}:v{e.version}",
                session=uow.session,
            )


def _orders_products_of(parsed: ParsedChain, buy: Buy, names: set[str]) -> bool:
    """A chain the header does not tie to the buy counts only if its lines order the buy's products (so a 打卡
    check-in list in the same group is left alone)."""
    products = {item.product for item in buy.items} | names
    return any(item.known and item.product in products for e in parsed.entries for item in e.items)
