"""Answers about what is on offer: what is open (`今天有什么团?`), a product's spec (`车厘子几斤一箱?`), its price, and
the flash sales (`砂糖橘还有吗` during the sale, `秒杀几点开始`) — one short message, a line per buy or sale."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain.answer_text import NO_BUY, item_of, price_now, unit, when, yuan
from bot.domain.buys import buys_of_group, is_open
from bot.domain.subject import FLASH_WORDS
from bot.domain.summary import fmt_qty, load_summary
from bot.domain.units import sale_unit
from storage.stock import flash_key

if TYPE_CHECKING:
    from bot.config import Buy, FlashSale
    from bot.core.services import Services
    from bot.domain.subject import Subject

__all__ = ["flash_answer", "price_answer", "spec_answer", "whats_on_answer"]

#: a question about a flash sale's times (`秒杀几点开始`, `抢购什么时候结束`)
ASKS_TIME = re.compile(r"几点|什么时候|啥时候|什么时间|几时|几号|哪天|开始|开抢|结束|截止|多久")
_PICKUP = re.compile(r"自提|提货|取货|拿货|到货|发货|送货|取|拿|领|提")
_MAX_LINES = 6  # a long list is an announcement, not an answer


# ------------------------------------------------------------------------------------------------------ flash sales


async def _left(services: Services, sale: FlashSale) -> int:
    left = await services.stock.left(flash_key(sale.id))
    return sale.stock if left is None else left


async def sale_line(services: Services, sale: FlashSale, now: datetime) -> str:
    """`砂糖橘秒杀价19.9元/箱(原价29.9元),还剩36箱,今天21:00结束` — running, coming or over."""
    config, tz = services.config, services.config.tz
    unit_name = sale_unit(config, sale)
    product = config.product(sale.product)
    was = f"(原价{fmt_qty(product.price)}元)" if product and product.price > sale.price else ""
    price = f"{sale.product}秒杀价{yuan(Decimal(sale.price), unit_name)}{was}"
    if now < sale.start:
        end = f"{sale.end.astimezone(tz):%H:%M}"
        return f"{price},{when(sale.start, now, tz)}开抢,{end}结束,限量{sale.stock}{unit_name}"
    if now >= sale.end:
        return f"{sale.product}秒杀已于{when(sale.end, now, tz)}结束,下次早点来哦~"
    left = await _left(services, sale)
    if left <= 0:
        return f"{sale.product}秒杀已经抢光了,没抢到的可以排候补~"
    return f"{price},还剩{left}{unit_name},{when(sale.end, now, tz)}结束,先到先得~"


async def flash_answer(
    services: Services, subject: Subject, intent: str | None, text: str, now: datetime
) -> str | None:
    """A question about the group's flash sales, or None when it is not one: the stock or price of a product on
    sale now, or the times of the sales `秒杀` names (whatever the reader took the time question for — a pickup FAQ
    sharing its words must not answer it)."""
    if not subject.sales:
        return None
    running = [s for s in subject.sales if s.start <= now < s.end]
    if intent in ("stock", "price") and subject.product is not None:
        if running:
            return await sale_line(services, running[0], now)
        if not subject.buys:  # sold only by a sale that is coming or has ended: say when
            return await sale_line(services, subject.sales[0], now)
    if not FLASH_WORDS.search(text) or intent in ("after_sales", "how_to_order", "spec", "my_orders"):
        return None
    # `秒杀几点开始` is about the sale's times whatever the reader heard in 几点 (pickup, arrival, a pickup FAQ);
    # `秒杀的橘子几点能取` is still a pickup question
    times = bool(ASKS_TIME.search(text)) and not _PICKUP.search(text)
    if intent in ("stock", "price", "whats_on") or times:
        return "\n".join([await sale_line(services, s, now) for s in subject.sales[:_MAX_LINES]])
    return None


# ------------------------------------------------------------------------------------------------------- what's on


async def _prices(services: Services, buy: Buy) -> str:
    parts: list[str] = []
    for item in buy.items[:3]:
        price, ladder = await price_now(services, buy, item.product)
        if price is None:
            parts.append(item.product)
            continue
        parts.append(f"{item.product}{'现价' if ladder else ''}{yuan(price, unit(services.config, buy, item.product))}")
    return "、".join(parts) + ("等" if len(buy.items) > 3 else "")


async def whats_on_answer(services: Services, group: str, now: datetime) -> str:
    """The open buys of the group, soonest cutoff first, and its flash sales today: a line each, price and time."""
    config, tz = services.config, services.config.tz
    buys = sorted(
        (b for b in buys_of_group(config, group) if is_open(b, now)),
        key=lambda b: b.cutoff.timestamp() if b.cutoff else float("inf"),
    )
    lines = []
    for buy in buys[:_MAX_LINES]:
        until = f",{when(buy.cutoff, now, tz)}截单" if buy.cutoff else ""
        lines.append(f"【{buy.title}】{await _prices(services, buy)}{until}")
    today = now.astimezone(tz).date()
    for sale in config.flash_sales:
        mine = group in {g.name for g in config.groups_of(sale.groups)}
        if mine and sale.end > now and sale.start.astimezone(tz).date() <= today:
            lines.append("⚡" + await sale_line(services, sale, now))
    if not lines:
        coming = sorted((b.opens, b.title) for b in buys_of_group(config, group) if b.opens and b.opens > now)
        if coming:
            return f"现在没有在接龙的团,【{coming[0][1]}】{when(coming[0][0], now, tz)}开团~"
        return NO_BUY
    if len(lines) == 1:
        return "现在在接龙的是" + lines[0]
    return "现在在接龙的有:\n" + "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ price, spec


async def price_answer(services: Services, subject: Subject) -> str | None:
    """The price in force of the product asked about in each buy asked about (a ladder's tier and the next one)."""
    config = services.config
    if subject.product is not None and not subject.buys:
        catalogue = config.product(subject.product)
        if catalogue is None:
            return None
        spec = f"({catalogue.spec})" if catalogue.spec else ""
        return (
            f"{subject.product}参考价{yuan(Decimal(catalogue.price), catalogue.unit)}{spec},"
            "这期团购里没有,开团会在群里通知"
        )
    if not subject.buys:
        return NO_BUY
    lines = [await _price_line(services, buy, subject.product, len(subject.buys) > 1) for buy in subject.buys]
    said = [line for line in lines if line]
    return "\n".join(said[:_MAX_LINES]) or None


async def _price_line(services: Services, buy: Buy, product: str | None, several: bool) -> str | None:
    config = services.config
    product = product if product is not None and item_of(buy, product) else buy.items[0].product
    catalogue = config.product(product)
    spec = f"({catalogue.spec})" if catalogue and catalogue.spec else ""
    price, ladder = await price_now(services, buy, product)
    if price is None:
        return None
    head = f"【{buy.title}】" if several else ""
    unit_name = unit(config, buy, product)
    if not ladder:
        return f"{head}{product}{yuan(price, unit_name)}{spec}"
    async with services.db.sessions() as session:
        status = (await load_summary(session, config, buy)).status
    text = f"{head}{product}现在{yuan(price, unit_name)}{spec},已有{status.members}人"
    if status.target is not None and status.next_price is not None:
        text += f",再{status.missing}人降到{fmt_qty(status.next_price)}元"
    return text


async def spec_answer(services: Services, subject: Subject) -> str | None:
    """The catalogue's spec of the product asked about (else of each product of the buys asked about), with its
    price in force; a product without a spec says so in a few words."""
    config = services.config
    if subject.product is not None:
        buy = subject.buy if subject.buy and item_of(subject.buy, subject.product) else None
        products = [(buy, subject.product)]
    else:
        products = [(buy, item.product) for buy in subject.buys for item in buy.items]
    lines: list[str] = []
    for buy, product in products[:_MAX_LINES]:
        catalogue = config.product(product)
        if catalogue is None:
            continue
        if buy is None:
            price = f"参考价{yuan(Decimal(catalogue.price), catalogue.unit)},这期团购里没有"
        else:
            now, ladder = await price_now(services, buy, product)
            price = f"{'现价' if ladder else ''}{yuan(now, unit(config, buy, product))}" if now is not None else ""
        if catalogue.spec:
            lines.append(f"{product}规格:{catalogue.spec}" + (f",{price}" if price else ""))
        else:
            lines.append(f"{product}" + (f"{price}," if price else "") + "规格团长还没写,可以问下团长~")
    if not lines:
        return None if subject.product is not None or subject.buys else NO_BUY
    return "\n".join(lines)
