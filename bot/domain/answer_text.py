"""How answers to members write times, prices and units: one short phrase each, shared by every answer."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain.money import buy_prices
from bot.domain.summary import fmt_qty, load_status

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.config import Buy, BuyItem, Config
    from bot.core.services import Services

WEEKDAYS = "一二三四五六日"
NO_BUY = "本群现在没有进行中的团购,开团会在群里通知~"


def when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """`今天20:00`, `明天09:00`, `昨天21:00`, `11月30日(周一)21:00`."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"今天{clock}"
    if days == 1:
        return f"明天{clock}"
    if days == -1:
        return f"昨天{clock}"
    return f"{local.month}月{local.day}日(周{WEEKDAYS[local.weekday()]}){clock}"


def remaining(delta: timedelta) -> str:
    """`1天10小时`, `2小时30分钟`, `5分钟` (at least a minute)."""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def item_of(buy: Buy, product: str) -> BuyItem | None:
    return next((item for item in buy.items if item.product == product), None)


def unit(config: Config, buy: Buy | None, product: str) -> str:
    item = item_of(buy, product) if buy else None
    catalogue = config.product(product)
    return (item.unit if item else None) or (catalogue.unit if catalogue else None) or "份"


def is_laddered(buy: Buy, product: str) -> bool:
    return bool(buy.ladder) and bool(buy.items) and buy.items[0].product == product


async def price_now(services: Services, buy: Buy, product: str) -> tuple[Decimal | None, bool]:
    """The price in force for `product` in `buy` now, and whether it is a ladder's tier (it may still drop)."""
    laddered = is_laddered(buy, product)
    members = 0
    if laddered:
        async with services.db.sessions() as session:
            members = (await load_status(session, services.config, buy)).members
    return buy_prices(services.config, buy, members).price_of(product), laddered


def yuan(price: Decimal, unit_name: str) -> str:
    return f"{fmt_qty(price)}元/{unit_name}"
