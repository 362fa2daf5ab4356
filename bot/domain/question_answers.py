"""Answers to members' questions, from the leader's data and the store as they are now: one short message each."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.buys import buys_of_group, current_buy, has_started, is_open
from bot.domain.summary import fmt_qty, load_summary, status_line
from bot.domain.units import units_left

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.config import Buy, BuyItem, Config, Group
    from bot.core.services import Services
    from bot.parsing.question import Understanding

__all__ = ["answer", "example_line", "subject"]

WEEKDAYS = "一二三四五六日"
NO_BUY = "本群现在没有进行中的团购,开团会在群里通知~"


# ------------------------------------------------------------------------------------------------------ the subject


def subject(config: Config, group: str, product: str | None, now: datetime) -> tuple[Buy | None, str | None]:
    """The buy and product a question is about: the named product in the group's open (else latest) buy that sells
    it; with no product named, the group's current buy and its first product."""
    if product is None:
        buy = current_buy(config, group, now)
        return buy, (buy.items[0].product if buy and buy.items else None)
    current = current_buy(config, group, now)
    if current is not None and _item(current, product) is not None:
        return current, product
    started = [b for b in buys_of_group(config, group) if has_started(b, now) and _item(b, product) is not None]
    open_now = [b for b in started if is_open(b, now)]
    if open_now:
        return open_now[0], product
    if started:
        return max(started, key=lambda b: b.cutoff or now), product
    return None, product


def _item(buy: Buy, product: str) -> BuyItem | None:
    return next((item for item in buy.items if item.product == product), None)


# ------------------------------------------------------------------------------------------------------ formatting


def _when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
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


def _remaining(delta: timedelta) -> str:
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def _unit(config: Config, buy: Buy | None, product: str) -> str:
    item = _item(buy, product) if buy else None
    catalogue = config.product(product)
    return (item.unit if item else None) or (catalogue.unit if catalogue else None) or "份"


def example_line(config: Config, buy: Buy) -> str:
    """The 例 line of a buy: the leader's `example`, else one built from its first item."""
    if buy.example:
        text = buy.example.strip()
        return text if text.startswith("例") else f"例 {text}"
    product = buy.items[0].product
    return f"例 3栋 王阿姨 {product}1{_unit(config, buy, product)}"


def _pickup(group: Group | None) -> str | None:
    if group is None or group.pickup is None:
        return None
    return f"自提时间{group.pickup.time},自提点:{group.pickup.place}"


def _closed(buy: Buy, now: datetime, tz: ZoneInfo) -> str:
    assert buy.cutoff is not None
    return f"【{buy.title}】已于{_when(buy.cutoff, now, tz)}截单,下次开团早点来哦~"


# ---------------------------------------------------------------------------------------------------------- answers


async def answer(services: Services, group_name: str, understanding: Understanding, now: datetime) -> str | None:
    """The reply to `understanding` in `group_name` at `now`; None when the data cannot answer it (stay silent)."""
    config = services.config
    tz = config.tz
    group = config.group(group_name)
    intent = understanding.intent
    buy, product = subject(config, group_name, understanding.product, now)

    if intent == "faq":
        index = understanding.faq_index
        return config.faq[index].answer if index is not None and 0 <= index < len(config.faq) else None
    if intent == "pickup_place":
        if group is None or group.pickup is None:
            return None
        return f"自提点:{group.pickup.place}(自提时间{group.pickup.time})"
    if intent == "pickup_time":
        pickup = _pickup(group)
        if pickup is None:
            return None
        if buy is not None and buy.arrival is not None and now < buy.arrival:
            return f"{pickup}。【{buy.title}】预计{_when(buy.arrival, now, tz)}到货,到了群里通知"
        return pickup
    if intent == "after_sales":
        leaders = group.leaders if group else []
        what = product if understanding.product else "商品"
        notify = "已通知团长" + (" " + " ".join(f"@{name}" for name in leaders) if leaders else "")
        return services.config.questions.after_sales.format(what=what) + notify
    if intent == "price":
        return await _price(services, buy, product)
    if buy is None:
        if understanding.product is not None and intent in ("stock", "how_to_order"):
            return f"这期团购没有{understanding.product},有了会在群里通知~"
        return NO_BUY
    if intent == "stock":
        assert product is not None
        if understanding.product is not None and _item(buy, product) is None:
            return f"这期团购没有{product},有了会在群里通知~"
        if buy.cutoff is not None and now >= buy.cutoff:
            return _closed(buy, now, tz)
        left = await units_left(services.stock, buy, product)
        unit = _unit(config, buy, product)
        if left is None:
            until = f",{_when(buy.cutoff, now, tz)}截单前都可以接龙" if buy.cutoff else ",接龙就行"
            return f"{product}还有货{until}"
        if left <= 0:
            return f"{product}已经抢完了,下次早点来哦~"
        return f"{product}还剩{left}{unit},要的抓紧接龙~"
    if intent == "cutoff":
        if buy.cutoff is None:
            return f"【{buy.title}】截单时间团长会在群里通知"
        if now >= buy.cutoff:
            return _closed(buy, now, tz)
        return f"【{buy.title}】{_when(buy.cutoff, now, tz)}截单,还剩{_remaining(buy.cutoff - now)}"
    if intent == "arrival":
        if buy.arrival is None:
            return f"【{buy.title}】到货时间团长确认后会在群里通知"
        if now < buy.arrival:
            return f"【{buy.title}】预计{_when(buy.arrival, now, tz)}到货,到了群里通知"
        pickup = _pickup(group)
        return f"【{buy.title}】已于{_when(buy.arrival, now, tz)}到货" + (f",{pickup}" if pickup else "")
    if intent == "how_to_order":
        if buy.cutoff is not None and now >= buy.cutoff:
            return _closed(buy, now, tz)
        until = f",{_when(buy.cutoff, now, tz)}截单" if buy.cutoff else ""
        return f"复制群里最新的接龙,在最后加一行写上楼栋、称呼和数量就行,{example_line(config, buy)}{until}"
    if intent == "group_status":
        async with services.db.sessions() as session:
            summary = await load_summary(session, config, buy)
        return f"【{buy.title}】{status_line(summary.status, buy)}"
    return None


async def _price(services: Services, buy: Buy | None, product: str | None) -> str | None:
    config = services.config
    if product is None:
        return NO_BUY
    catalogue = config.product(product)
    spec = f"({catalogue.spec})" if catalogue and catalogue.spec else ""
    item = _item(buy, product) if buy else None
    if buy is None or item is None:
        if catalogue is None:
            return None
        return f"{product}参考价{fmt_qty(catalogue.price)}元/{catalogue.unit}{spec},这期团购里没有,开团会在群里通知"
    unit = _unit(config, buy, product)
    price = item.price if item.price is not None else (catalogue.price if catalogue else None)
    if price is None:
        return None
    if not buy.ladder:
        return f"{product}{fmt_qty(price)}元/{unit}{spec}"
    async with services.db.sessions() as session:
        summary = await load_summary(session, config, buy)
    status = summary.status
    current = status.price if status.price is not None else price
    text = f"{product}现在{fmt_qty(current)}元/{unit}{spec},已有{status.members}人"
    if status.target is not None and status.next_price is not None:
        text += f",再{status.missing}人降到{fmt_qty(status.next_price)}元"
    return text
