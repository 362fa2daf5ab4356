"""接龙 messages in a served group → orders of that group's buy, confirmed in one short digest per group.

The merge rules are pure (`bot.parsing.merge`); this handler keeps one `ChainState` per (buy, group) in memory —
rebuilt from the store after a restart or a failed write — and persists each change in the message's transaction.
A copy costs its new lines (the reader and `ChainState.fold` skip what it repeats of an earlier copy), and one that
brings none costs no write. The digest's text is rendered when the sender is about to say it, so its cost is paid
once per interval, not once per message.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.buys import buy_named_in, names_of, single_open_buy, single_product
from bot.domain.summary import ItemQty, fmt_qty, load_summary, status_line
from bot.events import Inbound, Kind, Outbound
from bot.parsing.chain import ChainEntry, Item, ParsedChain, is_chain
from bot.parsing.chain_reader import ChainReader, Copy
from bot.parsing.merge import ChainState, Change, LineState
from bot.parsing.native import looks_native, parse_native
from bot.parsing.products import ProductMatcher
from scheduler.nudges import maybe_nudge
from storage.db import dialect_insert
from storage.models import ChainLine, Member, Order, OrderLine, OutboundMessage
from storage.outbox import hold_change, order_payload, write_held_changes
from storage.stock import buy_key

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Buy
    from bot.dispatch import Context
    from bot.sender import QueuedRow
    from storage.db import Database

DIGEST = "digest"


def product_matcher(services: Services) -> ProductMatcher:
    """One matcher per loaded config (jieba with the catalogue as its user dictionary, cache in the data dir)."""
    matcher = services.caches.get("product_matcher")
    if not isinstance(matcher, ProductMatcher):
        products = [(p.name, tuple(p.aliases)) for p in services.config.catalogue]
        matcher = ProductMatcher(products, cache_dir=services.data_dir)
        services.caches["product_matcher"] = matcher
    return matcher


_READERS_KEPT = 64


def _reader(ctx: Context, title: str, matcher: ProductMatcher, *, default_product: str | None = None) -> ChainReader:
    """The reader of this chain (a room's chain is known by its first line), so each copy costs its new lines."""
    readers = ctx.services.caches.setdefault("chain_readers", OrderedDict())
    assert isinstance(readers, OrderedDict)
    key = (ctx.group_id, title[: title.find("\n")] if "\n" in title else title[:200])
    reader = readers.get(key)
    if reader is None or (default_product is not None and reader.default_product != default_product):
        reader = ChainReader(matcher, default_product=default_product or (reader.default_product if reader else None))
        readers[key] = reader
        while len(readers) > _READERS_KEPT:
            readers.popitem(last=False)
    readers.move_to_end(key)
    return reader


def _chain_states(services: Services) -> dict[tuple[str, int], ChainState]:
    states = services.caches.setdefault("chain_states", {})
    assert isinstance(states, dict)
    return states


class ChainOrders:
    name = "chain_orders"

    def wants(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind == Kind.NATIVE_CHAIN:
            return True
        return event.kind == Kind.TEXT and (is_chain(event.text) or looks_native(event.text))

    async def handle(self, ctx: Context) -> None:
        services = ctx.services
        now = services.clock.now()
        found = self._read(ctx, product_matcher(services), now)
        if found is None:
            return
        buy, copy, authors = found
        states = _chain_states(services)
        key = (buy.id, ctx.group_id)
        state = states.get(key)
        if state is None:
            state = states[key] = await _load_state(services, buy.id, ctx.group_id)
        late = buy.cutoff is not None and now >= buy.cutoff
        try:
            changes = state.fold(copy, ctx.event.sender_id, ctx.event.sender_name, authors=authors, late=late)
            if not changes:
                return  # a copy with nothing new: the common case in a busy chain
            async with services.db.transaction() as session:
                await self._persist(ctx, session, buy, changes, now)
                if any(c.kind in {"created", "updated", "cancelled"} for c in changes):
                    await self._queue_digest(ctx, session, buy, now)
                    await maybe_nudge(services, buy, ctx.group.name, session=session)  # "仅差1人成团"
                too_late = [c.line.who or c.line.key[:20] for c in changes if c.kind == "late"]
                if too_late:
                    await self._queue_too_late(ctx, session, buy, too_late)
        except BaseException:
            # The transaction rolled back: what this process learnt inside it is not true. The store is the truth:
            # the chain state is rebuilt from it next time, and member ids and the pending digest are asked again.
            states.pop(key, None)
            services.caches.pop("member_ids", None)
            services.caches.pop("digest_pending", None)
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

    # --- writing -----------------------------------------------------------------------------------------------

    async def _persist(
        self, ctx: Context, session: AsyncSession, buy: Buy, changes: list[Change], now: datetime
    ) -> None:
        """Every change of the message as rows of its transaction. The new rows are Core INSERTs with RETURNING
        (one statement each, no ORM unit of work); the rarer edits, cancels and promotions load their orders with
        the ORM. The outbox rows the changes leave (`_sync`) are written last, in one statement."""
        event = ctx.event
        for change in changes:
            line = change.line
            line.ref = await session.scalar(
                _INSERT_CHAIN_LINE,
                {
                    "buy_id": buy.id,
                    "group_id": ctx.group_id,
                    "key": line.key,
                    "raw": line.entry.raw if line.entry else line.key,
                    "who": line.who,
                    "author_id": line.author,
                    "first_msg_id": event.msg_id,
                    "status": line.status,
                    "created_at": now,
                },
            )
            previous = change.previous
            if previous is not None:
                await session.execute(
                    _UPDATE_CHAIN_LINE,
                    {"ref": previous.ref, "line_status": previous.status, "line_author": previous.author},
                )
            entry = line.entry
            if change.kind == "created" and entry is not None:
                await self._create(ctx, session, buy, line, entry, now)
            elif change.kind == "updated" and entry is not None and previous is not None:
                await self._update(ctx, session, buy, previous, line, entry, now)
            elif change.kind == "cancelled" and previous is not None:
                await self._cancel(ctx, session, buy, previous, now)
            elif change.kind == "late":
                ctx.log.info("chain_line_too_late", buy=buy.id, line=line.key[:80])
        await write_held_changes(session)

    async def _create(
        self, ctx: Context, session: AsyncSession, buy: Buy, line: LineState, entry: ChainEntry, now: datetime
    ) -> None:
        services = ctx.services
        # a healed line (carried by someone else's copy) has no known author, so no member yet
        members = services.caches.setdefault("member_ids", {})
        assert isinstance(members, dict)
        author = line.author
        member_id = (
            await _member_id(session, members, ctx.group_id, author, entry.who, ctx.event, services.db)
            if author
            else None
        )
        in_stock = await _take_stock(services, session, buy, entry.items)
        status = "active" if in_stock else "waiting"
        chain_line_id = _ref(line)
        order_id = await session.scalar(
            _INSERT_ORDER,
            {
                "buy_id": buy.id,
                "group_id": ctx.group_id,
                "member_id": member_id,
                "chain_line_id": chain_line_id,
                "participant": entry.who,
                "remark": entry.remark,
                "status": status,
                "version": 1,
                "digested_version": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        assert order_id is not None
        if entry.items:
            await session.execute(
                _INSERT_ORDER_LINE, [_order_line_row(order_id, chain_line_id, i) for i in entry.items]
            )
        event = "order_created" if in_stock else "order_waiting"
        ctx.log.info(event, buy=buy.id, order_id=order_id, who=entry.who, items=_items(entry))
        if not entry.items or any(not it.known for it in entry.items):
            ctx.log.info("order_needs_leader", buy=buy.id, order_id=order_id, line=entry.raw[:80])
        order = NewOrder(order_id, ctx.group_id, member_id, entry.who, entry.remark, status, entry.items)
        _sync(ctx, session, buy, order, now)

    async def _update(
        self,
        ctx: Context,
        session: AsyncSession,
        buy: Buy,
        previous: LineState,
        line: LineState,
        entry: ChainEntry,
        now: datetime,
    ) -> None:
        order = await session.scalar(select(Order).where(Order.chain_line_id == previous.ref))
        if order is None:
            await self._create(ctx, session, buy, line, entry, now)
            return
        if order.status == "active":
            await _give_stock(ctx.services, session, buy, order.lines)
        order.chain_line_id = _ref(line)
        order.participant = entry.who
        order.remark = entry.remark
        order.updated_at = now
        order.version += 1
        order.lines.clear()
        await session.flush()
        order.lines.extend(_order_line(_ref(line), it) for it in entry.items)
        order.status = "active" if await _take_stock(ctx.services, session, buy, order.lines) else "waiting"
        ctx.log.info("order_updated", buy=buy.id, order_id=order.id, who=entry.who, items=_items(entry))
        _sync(ctx, session, buy, order, now)
        await self._promote_waiting(ctx, session, buy, now)

    async def _cancel(self, ctx: Context, session: AsyncSession, buy: Buy, target: LineState, now: datetime) -> None:
        order = await session.scalar(select(Order).where(Order.chain_line_id == target.ref))
        if order is None or order.status == "cancelled":
            return
        held_stock = order.status == "active"
        if held_stock:
            await _give_stock(ctx.services, session, buy, order.lines)
        order.status = "cancelled"
        order.updated_at = now
        order.version += 1
        ctx.log.info("order_cancelled", buy=buy.id, order_id=order.id, who=order.participant)
        _sync(ctx, session, buy, order, now)
        if held_stock:
            await self._promote_waiting(ctx, session, buy, now)

    async def _promote_waiting(self, ctx: Context, session: AsyncSession, buy: Buy, now: datetime) -> None:
        """Units came back: the first waiting lines that now fit become orders, and their writers are told."""
        if not any(item.stock is not None for item in buy.items):
            return
        waiting = list(
            await session.scalars(
                select(Order).where(Order.buy_id == buy.id, Order.status == "waiting").order_by(Order.id)
            )
        )
        for order in waiting:
            if not await _take_stock(ctx.services, session, buy, order.lines):
                continue
            order.status = "active"
            order.updated_at = now
            order.version += 1
            ctx.log.info("order_promoted", buy=buy.id, order_id=order.id, who=order.participant)
            _sync(ctx, session, buy, order, now, by_sender=False)
            room = ctx.services.groups.room_of(_group_name(ctx, order.group_id)) or ctx.event.room_id
            items = " ".join(f"{ln.product}{fmt_qty(ln.qty)}{ln.unit or ''}" for ln in order.lines)
            await ctx.services.sender.enqueue(
                Outbound(room, f"{order.participant} 有邻居取消了,你的候补转正啦:{items} ✅"),
                group=_group_name(ctx, order.group_id),
                kind="reply",
                key=f"promoted:{order.id}:v{order.version}",
                session=session,
            )

    # --- replies -----------------------------------------------------------------------------------------------

    async def _queue_digest(self, ctx: Context, session: AsyncSession, buy: Buy, now: datetime) -> None:
        """One digest per group at most every `chain.digest_every`; its text is rendered when it is sent."""
        coalesce = f"{DIGEST}:{buy.id}:{ctx.group.name}"
        pending = ctx.services.caches.setdefault("digest_pending", {})
        assert isinstance(pending, dict)
        if coalesce in pending and now < pending[coalesce]:
            return  # queued by an earlier message and not due yet: it will say this one's lines too
        waiting = (
            await session.execute(
                select(OutboundMessage.not_before)
                .where(OutboundMessage.coalesce_key == coalesce, OutboundMessage.status == "queued")
                .limit(1)
            )
        ).first()
        if waiting is not None:
            # queued already (after a restart, or the follow-up `digest_sent` queued): remember until when, so the
            # messages before then do not ask the store again
            if waiting.not_before is not None:
                pending[coalesce] = waiting.not_before
            return
        last_sent = await _last_digest_at(session, coalesce)
        every = ctx.services.config.chain.digest_every
        not_before = max(now, last_sent + every) if last_sent else now + every
        pending[coalesce] = not_before
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, f"({buy.title} 接龙确认)"),
            group=ctx.group.name,
            kind=DIGEST,
            coalesce_key=coalesce,
            not_before=not_before,
            session=session,
        )

    async def _queue_too_late(self, ctx: Context, session: AsyncSession, buy: Buy, who: list[str]) -> None:
        cutoff = buy.cutoff.astimezone(ctx.services.config.tz).strftime("%m月%d日 %H:%M") if buy.cutoff else ""
        text = f"抱歉,{buy.title}已于{cutoff}截单,{'、'.join(who)}的接龙这次没能记上,下次开团早点来哦~"
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text),
            group=ctx.group.name,
            kind="reply",
            key=f"late:{ctx.event.msg_id}",
            session=session,
        )


async def render_digest(services: Services, row: QueuedRow) -> str | None:
    """The digest's text at send time: who was recorded, changed or cancelled since the last digest, totals, and
    how far the buy is from 成团. None when nothing is left to confirm."""
    parts = (row.coalesce_key or "").split(":", 2)
    config = services.config
    buy = config.buy(parts[1]) if len(parts) == 3 and parts[0] == DIGEST else None
    group_name = parts[-1]
    if buy is None or config.group(group_name) is None:
        return row.text  # not one of ours (or its buy left the config): say what was queued
    group_id = services.groups.id_of(group_name)
    async with services.db.sessions() as session:
        changed = await _undigested(session, buy.id, group_id)
        if not changed:
            return None
        summary = await load_summary(session, config, buy)
    _rendered(services)[row.id] = [(o.id, o.version) for o in changed]
    left = [(p, await services.stock.left(buy_key(buy.id, p))) for p in _stocked(buy)]
    stock = "、".join(f"{p}还剩{n}{_unit_of(buy, p)}" for p, n in left if n is not None)
    return digest_text(buy, changed, summary.totals, status_line(summary.status, buy), stock)


async def digest_sent(services: Services, row: QueuedRow) -> None:
    """The group has been told: mark the versions it was told about, and queue the next digest for one interval
    later, which confirms whatever changed while this one was on its way — nothing is left unconfirmed."""
    told = _rendered(services).pop(row.id, [])
    async with services.db.transaction() as session:
        for order_id, version in told:
            await session.execute(
                update(Order).where(Order.id == order_id, Order.version == version).values(digested_version=version)
            )
    parts = (row.coalesce_key or "").split(":", 2)
    buy = services.config.buy(parts[1]) if len(parts) == 3 else None
    if buy is None or services.config.group(parts[2]) is None:
        return
    async with services.db.transaction() as session:
        # Always a follow-up for the next interval (it says nothing when nothing changed): an order whose
        # transaction was still open when this digest was rendered is not visible yet, so looking now is not enough.
        if told:
            now = services.clock.now()
            pending = services.caches.setdefault("digest_pending", {})
            assert isinstance(pending, dict)
            pending.pop(row.coalesce_key, None)
            await services.sender.enqueue(
                Outbound(row.room_id, row.text),
                group=row.group_name,
                kind=DIGEST,
                coalesce_key=row.coalesce_key,
                not_before=now + services.config.chain.digest_every,
                session=session,
            )


async def _undigested(session: AsyncSession, buy_id: str, group_id: int) -> list[Order]:
    query = select(Order).where(
        Order.buy_id == buy_id,
        Order.group_id == group_id,
        Order.digested_version.is_(None) | (Order.digested_version < Order.version),
    )
    return list(await session.scalars(query.order_by(Order.id)))


def _rendered(services: Services) -> dict[int, list[tuple[int, int]]]:
    """Per digest row being sent: the (order, version) pairs its text told about."""
    rendered = services.caches.setdefault("digest_rendered", {})
    assert isinstance(rendered, dict)
    return rendered


def digest_text(buy: Buy, changed: list[Order], totals: tuple[ItemQty, ...], status: str, stock: str = "") -> str:
    def label(order: Order) -> str:
        items = " ".join(f"{ln.product}{fmt_qty(ln.qty)}{ln.unit or ''}" for ln in order.lines)
        return f"{order.participant} {items}".strip()

    def listing(orders: list[Order]) -> str:
        more = f" 等{len(orders)}位" if len(orders) > 8 else ""
        return ";".join(label(o) for o in orders[:8]) + more

    active = [o for o in changed if o.status == "active"]
    new = [o for o in active if o.digested_version is None]  # the group hears of it for the first time
    edited = [o for o in active if o not in new]
    cancelled = [o for o in changed if o.status == "cancelled"]
    waiting = [o for o in changed if o.status == "waiting"]
    parts = []
    if new:
        parts.append("✅ 已记录:" + listing(new))
    if edited:
        parts.append("✏️ 已修改:" + listing(edited))
    if cancelled:
        parts.append("❎ 已取消:" + "、".join(o.participant for o in cancelled))
    if waiting:
        parts.append("⏳ 已满,登记候补(有人取消按顺序递补):" + listing(waiting))
    unclear = [o for o in active if not o.lines or any(not ln.known for ln in o.lines)]
    if unclear:
        parts.append("❓ 请团长确认:" + "、".join(label(o) or o.participant for o in unclear))
    if totals:
        parts.append("合计:" + ",".join(str(t) for t in totals) + (f"({stock})" if stock else ""))
    parts.append(f"【{buy.title}】{status}")
    return "\n".join(parts)


async def _last_digest_at(session: AsyncSession, coalesce_key: str) -> datetime | None:
    return await session.scalar(
        select(OutboundMessage.sent_at)
        .where(OutboundMessage.coalesce_key == coalesce_key, OutboundMessage.status == "sent")
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )


async def _load_state(services: Services, buy_id: str, group_id: int) -> ChainState:
    async with services.db.sessions() as session:
        rows = await session.execute(
            select(ChainLine.id, ChainLine.key, ChainLine.who, ChainLine.author_id, ChainLine.status)
            .where(ChainLine.buy_id == buy_id, ChainLine.group_id == group_id)
            .order_by(ChainLine.id)
        )
        return ChainState.of(
            LineState(key, who, author, status, ref=row_id) for row_id, key, who, author, status in rows
        )


def _orders_products_of(parsed: ParsedChain, buy: Buy, names: set[str]) -> bool:
    """A chain the header does not tie to the buy counts only if its lines order the buy's products (so a 打卡
    check-in list in the same group is left alone)."""
    products = {item.product for item in buy.items} | names
    return any(item.known and item.product in products for e in parsed.entries for item in e.items)


def _stocked(buy: Buy) -> dict[str, int]:
    return {item.product: item.stock for item in buy.items if item.stock is not None}


def _unit_of(buy: Buy, product: str) -> str:
    return next((item.unit or "" for item in buy.items if item.product == product), "")


def _units(qty: Decimal) -> int:
    return max(1, math.ceil(qty))


# The create path's statements, built once (SQLAlchemy then finds each compiled form in its cache at once): Core
# against the tables, so no ORM unit of work runs for them.
_CHAIN_LINES = cast(Table, ChainLine.__table__)
_ORDERS = cast(Table, Order.__table__)
_INSERT_CHAIN_LINE = insert(_CHAIN_LINES).returning(_CHAIN_LINES.c.id)
_UPDATE_CHAIN_LINE = (
    update(_CHAIN_LINES)
    .where(_CHAIN_LINES.c.id == bindparam("ref"))
    .values(status=bindparam("line_status"), author_id=bindparam("line_author"))
)
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_ORDER_LINE = insert(cast(Table, OrderLine.__table__))


@functools.cache
def _insert_member(dialect: str) -> Any:
    """INSERT … ON CONFLICT (group_id, wxid) DO NOTHING RETURNING id, in the database's dialect (built once)."""
    members = cast(Table, Member.__table__)
    statement = dialect_insert(dialect)(members).on_conflict_do_nothing(index_elements=["group_id", "wxid"])
    return statement.returning(members.c.id)


@dataclass(frozen=True)
class NewOrder:
    """An order `_create` wrote with one INSERT, as `_sync` tells the backend of it (no ORM object is made)."""

    id: int
    group_id: int
    member_id: int | None
    participant: str
    remark: str
    status: str
    lines: tuple[Item, ...]
    version: int = 1


async def _take_stock(services: Services, session: AsyncSession, buy: Buy, lines: Sequence[OrderLine | Item]) -> bool:
    """Take the units of every stocked product of the order, or none (the order then waits)."""
    stocked = _stocked(buy)
    taken: list[tuple[str, int]] = []
    for line in lines:
        if line.product not in stocked:
            continue
        key, n = buy_key(buy.id, line.product), _units(line.qty)
        if await services.stock.take(session, key, n) is None:
            for key_back, n_back in taken:
                await services.stock.give(session, key_back, n_back)
            return False
        taken.append((key, n))
    return True


async def _give_stock(services: Services, session: AsyncSession, buy: Buy, lines: Sequence[OrderLine]) -> None:
    stocked = _stocked(buy)
    for line in lines:
        if line.product in stocked:
            await services.stock.give(session, buy_key(buy.id, line.product), _units(line.qty))


def _group_name(ctx: Context, group_id: int) -> str:
    return ctx.group.name if group_id == ctx.group_id else ctx.services.groups.name_of(group_id)


def _sync(
    ctx: Context, session: AsyncSession, buy: Buy, order: Order | NewOrder, now: datetime, *, by_sender: bool = True
) -> None:
    """The order's change, for the backend, in this same transaction (held, and written by `_persist` with the
    message's other changes in one statement). `by_sender`: the message's sender is the order's member (their own
    line); a promotion off the wait list is not the canceller's order."""
    hold_change(
        session,
        order_payload(
            ref=f"order:{order.id}",
            version=order.version,
            group=_group_name(ctx, order.group_id),
            buy=buy.id,
            member=ctx.event.sender_name if by_sender and order.member_id is not None else order.participant,
            participant=order.participant,
            items=[{"product": ln.product, "qty": float(ln.qty), "unit": ln.unit} for ln in order.lines],
            remark=order.remark,
            status=order.status,
        ),
        now,
    )


def _order_line(chain_line_id: int, item: Item) -> OrderLine:
    return OrderLine(chain_line_id=chain_line_id, product=item.product, known=item.known, qty=item.qty, unit=item.unit)


def _order_line_row(order_id: int, chain_line_id: int, item: Item) -> dict[str, object]:
    return {
        "order_id": order_id,
        "chain_line_id": chain_line_id,
        "product": item.product,
        "known": item.known,
        "qty": item.qty,
        "unit": item.unit,
    }


def _items(entry: ChainEntry) -> list[str]:
    return [f"{it.product}{fmt_qty(it.qty)}{it.unit or ''}" for it in entry.items]


def _ref(line: LineState) -> int:
    """The chain line's row id (`_persist` sets it when it writes the line)."""
    assert isinstance(line.ref, int)
    return line.ref


async def _member_id(
    session: AsyncSession,
    known: dict[tuple[int, str], int],
    group_id: int,
    wxid: str,
    label: str,
    event: Inbound,
    db: Database,
) -> int:
    """The member row of `wxid` in the group (created with its first order; ids are remembered once seen): one
    INSERT for a new member, and a look-up only when the row was there already (after a restart)."""
    cached = known.get((group_id, wxid))
    if cached is not None:
        return cached
    name = event.sender_name if wxid == event.sender_id else label
    member_id = await session.scalar(
        _insert_member(db.dialect), {"group_id": group_id, "wxid": wxid, "name": name or wxid, "created_at": event.ts}
    )
    if member_id is None:  # the row was there: ON CONFLICT DO NOTHING returned nothing
        member_id = await session.scalar(select(Member.id).where(Member.group_id == group_id, Member.wxid == wxid))
    assert member_id is not None
    known[(group_id, wxid)] = member_id
    return member_id
