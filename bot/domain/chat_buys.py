"""The rules behind a leader's buy commands (#15): which buy a name means, a buy made from chat words, stock set or
added with the wait list moving up. The handler (`handlers/buy_commands.py`) only maps these to replies."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select

from bot.core.events import DomainEvent, PlanChanged, WaiterPromoted
from bot.domain.buys import buys_of_group, is_open, names_of
from bot.domain.orders import OrderBook
from bot.domain.overlay import apply_chat_changes, buy_of_spec, save_plan_change
from bot.domain.store_setup import apply_config_to_store
from bot.domain.unit_of_work import UnitOfWork, unit_of_work
from bot.domain.units import units
from bot.events import Outbound
from storage.models import ChatBuy, Order, OrderLine
from storage.stock import buy_key

if TYPE_CHECKING:
    from bot.config import Buy, Config
    from bot.core.services import Services
    from bot.events import Inbound
    from bot.parsing.buy_commands import BuyCommand


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lstrip("#").lower()


def buys_of(config: Config, groups: list[str]) -> list[Buy]:
    """The buys of these groups, each once, in the config's order."""
    seen = {b.id for g in groups for b in buys_of_group(config, g)}
    return [b for b in config.buys if b.id in seen]


@dataclass(frozen=True)
class Named:
    buy: Buy | None
    problem: str = ""  # why none: the reply to the leader


def find_buy(
    config: Config, groups: list[str], name: str, verb: str, now: datetime, *, open_only: bool, private: bool = False
) -> Named:
    """The buy `name` means (id, title, a product it sells; "" = the only open one) among the groups' buys."""
    candidates = buys_of(config, groups)
    where = "你带的群" if private else "本群"
    if not name:
        open_now = [b for b in candidates if is_open(b, now)]
        if len(open_now) == 1:
            return Named(open_now[0])
        closed = [b for b in candidates if b.cutoff is not None and b.cutoff <= now]
        if not open_now and closed and not open_only:  # 延长截单 after 截单: the buy that closed last
            return Named(max(closed, key=lambda b: b.cutoff or now))
        if not open_now:
            return Named(None, f"{where}现在没有进行中的团购。")
        choices = "、".join(f"「{verb} {b.title}」" for b in open_now)
        return Named(None, f"现在有{len(open_now)}个团在进行,请说是哪个:{choices}")
    key = squash(name)
    pool = [b for b in candidates if is_open(b, now)] if open_only else candidates
    for test in (
        lambda b: b.id == name or squash(b.title) == key,
        lambda b: key in squash(b.title),
        lambda b: any(squash(n) == key for n in names_of(config, b)),
    ):
        found = [b for b in pool if test(b)] or [b for b in candidates if test(b)]
        if len(found) == 1:
            return Named(found[0])
        if len(found) > 1:
            choices = "、".join(f"「{verb} {b.title}」" for b in found)
            return Named(None, f"「{name}」对得上{len(found)}个团,请说是哪个:{choices}")
    return Named(None, f"{where}没有叫「{name}」的团购。")


async def replan(services: Services, buy_id: str) -> None:
    """A chat change was stored: lay the changes on the plan again, the buy rows and counters, then tell the
    scheduler (`PlanChanged`)."""
    await apply_chat_changes(services)
    await apply_config_to_store(services)
    await services.subscribers.committed([PlanChanged(buy_id)])


async def new_buy(
    services: Services, command: BuyCommand, groups: list[str], now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]] | str:
    """The stored form of a buy made from chat words (and the products it brings), or what the leader should fix."""
    config = services.config
    items: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    for item in command.items:
        product = config.product(item.product)
        if product is None and (item.price is None or item.unit is None):
            return (
                f"「{item.product}」不在商品表里,请带上价格和单位,例如:"
                f"开团 {command.title} {item.product} 29.9元/盒 库存50 周五20:00截单"
            )
        name = product.name if product is not None else item.product
        price = item.price if item.price is not None else product.price  # type: ignore[union-attr]
        unit = item.unit or product.unit  # type: ignore[union-attr]
        if product is None:
            products.append({"name": name, "unit": unit, "price": str(price)})
        items.append({"product": name, "price": str(price), "unit": unit, "stock": item.stock})
    async with services.db.sessions() as session:
        ids = set(await session.scalars(select(ChatBuy.buy_id))) | {b.id for b in config.buys}
    stem = f"chat-{now.astimezone(config.tz):%m%d}"
    number = 1 + sum(1 for i in ids if i.startswith(stem + "-"))
    spec: dict[str, Any] = {
        "id": f"{stem}-{number}",
        "title": command.title,
        "groups": groups,
        "items": items,
        "opens": now.isoformat(),
        "cutoff": command.when.isoformat() if command.when else None,
        "min_members": command.min_members,
    }
    try:
        buy_of_spec(spec, config)
    except ValidationError as exc:  # a cutoff before now, a bad number
        return f"没能开团:{exc.errors()[0]['msg']}"
    return spec, products


async def _active_units(services: Services, buy: Buy, product: str) -> int:
    async with services.db.sessions() as session:
        rows = await session.scalars(
            select(OrderLine.qty)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.buy_id == buy.id, Order.status == "active", OrderLine.product == product)
        )
        return sum(units(q) for q in rows)


@dataclass(frozen=True)
class Restocked:
    left: int
    events: list[DomainEvent]


async def restock(
    services: Services, buy: Buy, product: str, n: int, *, add: bool, event: Inbound, group: str, group_id: int
) -> Restocked:
    """`库存 商品 N` (N left from now on) / `加库存 商品 N` (N more): the counter, the buy's stock as the plan shows
    it (stored as a chat change), then the wait list moves up as after a cancel (`OrderBook.promote_waiting`)."""
    key = buy_key(buy.id, product)
    item = next(i for i in buy.items if i.product == product)
    left = await services.stock.left(key) if item.stock is not None else None
    if left is None:  # no limit so far: what is ordered stays, and `n` more can be
        ordered = await _active_units(services, buy, product)
        total, left_now = ordered + n, n
        await services.stock.ensure(key, n)
    else:
        delta = n if add else n - left
        total, left_now = max(0, (item.stock or 0) + delta), left + delta
        async with services.db.transaction() as session:
            if delta > 0:
                await services.stock.give(session, key, delta)
            elif delta < 0 and await services.stock.take(session, key, -delta) is None:
                left_now = left  # taken meanwhile: left as it is
    await save_plan_change(services, buy, {"stock": {product: total}}, event.sender_id)
    await replan(services, buy.id)
    events: list[DomainEvent] = []
    if left_now > 0:
        fresh = services.config.buy(buy.id) or buy
        async with unit_of_work(services) as uow:
            book = OrderBook(uow, fresh, group, group_id, event)
            events = await book.promote_waiting(services.clock.now())
            await _tell_promoted(services, uow, events)
            await uow.publish(events)
    return Restocked(await services.stock.left(key) or 0, events)


async def _tell_promoted(services: Services, uow: UnitOfWork, events: list[DomainEvent]) -> None:
    for e in events:
        if isinstance(e, WaiterPromoted):
            await services.sender.enqueue(
                Outbound(e.room, f"{e.who} 团长加了库存,你的候补转正啦:{e.items} ✅"),
                group=e.group,
                kind="reply",
                key=f"promoted:{e.id}:v{e.version}",
                session=uow.session,
            )
