"""The text of every scheduled post, pure: config, the job, its fire time and live values in, the message out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.config.posts import COLUMN_PLACEHOLDERS, COLUMN_PRODUCT_PLACEHOLDERS
from bot.domain.buys import buys_of_group, is_open
from bot.domain.summary import BuySummary, fmt_qty, format_summary, status_line
from bot.domain.units import configured_stock

if TYPE_CHECKING:
    from bot.config import Buy, BuyItem, Config, FlashSale, Group, Nudges
    from bot.domain.buys import GroupStatus
    from scheduler.plan import JobSpec

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class Live:
    """Values read from the store when a job fires. The defaults are what a plan with no orders yet shows
    (`tuanbot schedule`): no summary, the configured stock."""

    summary: BuySummary | None = None  # the buy's summary in the job's group (cutoff, cutoff reminders)
    stock: Mapping[str, Decimal] = field(default_factory=dict)  # catalogue name -> units left, where tracked
    flash_left: int | None = None  # units of the flash sale left


# ---------------------------------------------------------------------------------------------------- formatting


def price_text(price: Decimal | None) -> str:
    return f"{fmt_qty(price)}元" if price is not None else "价格见群公告"


def day_text(moment: datetime, config: Config) -> str:
    """12月3日(周四)"""
    local = moment.astimezone(config.tz)
    return f"{local.month}月{local.day}日({WEEKDAYS_ZH[local.weekday()]})"


def when_text(moment: datetime, config: Config) -> str:
    """12月3日(周四) 20:00"""
    return f"{day_text(moment, config)} {moment.astimezone(config.tz):%H:%M}"


def near_when_text(moment: datetime, at: datetime, config: Config) -> str:
    """`moment` as seen from `at`: 今天20:30 / 明天20:00 / 12月3日(周四) 20:00"""
    local, here = moment.astimezone(config.tz), at.astimezone(config.tz)
    days = (local.date() - here.date()).days
    if days == 0:
        return f"{'今晚' if local.hour >= 18 else '今天'}{local:%H:%M}"
    if days == 1:
        return f"明天{local:%H:%M}"
    return when_text(moment, config)


def span_text(span: timedelta) -> str:
    """2小时, 30分钟, 1小时30分钟, 1天"""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins else ""]
    return "".join(parts) or "不到1分钟"


def _unit(config: Config, product_name: str, item: BuyItem | None = None) -> str:
    if item is not None and item.unit:
        return item.unit
    product = config.product(product_name)
    return product.unit if product else "份"


def item_text(config: Config, item: BuyItem) -> str:
    """智利车厘子 118元/盒(2斤/盒 JJ级)"""
    product = config.product(item.product)
    spec = f"({product.spec})" if product and product.spec else ""
    return f"{item.product} {price_text(item.price)}/{_unit(config, item.product, item)}{spec}"


# ---------------------------------------------------------------------------------------------------------- buys


def buy_open_text(config: Config, buy: Buy, group: Group) -> str:
    """The 接龙 header members copy: title, items and prices, rules, cutoff, pickup and an 例 line."""
    lines = [f"#接龙 {buy.title}"]
    for item in buy.items:
        stock = f",限量{item.stock}{_unit(config, item.product, item)}" if item.stock is not None else ""
        lines.append(item_text(config, item) + stock)
    if buy.ladder:
        tiers = ",".join(f"{t.members}人{fmt_qty(t.price)}元" for t in buy.ladder)
        lines.append(f"阶梯价:{tiers}(人越多越便宜)")
    if buy.min_members is not None:
        lines.append(f"满{buy.min_members}人成团")
    if buy.cutoff is not None:
        lines.append(f"截单:{when_text(buy.cutoff, config)}")
    if buy.arrival is not None:
        lines.append(f"到货:{when_text(buy.arrival, config)}")
    if group.pickup is not None:
        lines.append(f"自提:{group.pickup.place} {group.pickup.time}")
    lines.append(example_line(config, buy))
    return "\n".join(lines)


def example_line(config: Config, buy: Buy) -> str:
    if buy.example:
        example = buy.example.strip()
        return example if example.startswith("例") else f"例 {example}"
    first = buy.items[0]
    return f"例 3栋 王阿姨 {first.product}1{_unit(config, first.product, first)}"


def cutoff_reminder_text(config: Config, buy: Buy, at: datetime, live: Live) -> str:
    assert buy.cutoff is not None
    left = buy.cutoff - at
    if left <= timedelta(0):
        return f"⏰ {buy.title} 已截单"
    lines = [f"⏰ {buy.title} 还有{span_text(left)}截单({near_when_text(buy.cutoff, at, config)})"]
    if live.summary is not None:
        lines.append(status_line(live.summary.status, buy))
    lines.append("还没接龙的邻居抓紧啦~")
    return "\n".join(lines)


def cutoff_text(buy: Buy, live: Live) -> str:
    head = f"【截单】{buy.title} 已截单,之后的接龙不再记录"
    if live.summary is None:
        return head
    return head + "\n" + format_summary(live.summary, buy, closed=True)  # short of 成团: 未成团, not 还差


def arrival_text(config: Config, buy: Buy, group: Group) -> str:
    lines = [f"📦 到货啦!{buy.title} 已到货"]
    if group.pickup is not None:
        day = f"{day_text(buy.arrival, config)} " if buy.arrival else ""
        lines.append(f"自提地点:{group.pickup.place}")
        lines.append(f"自提时间:{day}{group.pickup.time}")
    else:
        lines.append("取货地点和时间请留意团长通知")
    lines.append("请报接龙时的名字取货,有问题@团长~")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- flash sales


def _flash_head(config: Config, sale: FlashSale) -> str:
    unit = _unit(config, sale.product)
    product = config.product(sale.product)
    was = f"(原价{fmt_qty(product.price)}元)" if product and product.price > sale.price else ""
    return f"{sale.product} {fmt_qty(sale.price)}元/{unit}{was}"


def flash_alert_text(config: Config, sale: FlashSale, at: datetime, live: Live) -> str:
    tz = config.tz
    unit = _unit(config, sale.product)
    until = f"{sale.end.astimezone(tz):%H:%M}"
    offset = at - sale.start
    if offset < timedelta(0):
        first = f"⚡ 秒杀预告:{_flash_head(config, sale)},{span_text(-offset)}后开抢"
        second = f"{near_when_text(sale.start, at, config)}-{until},限量{sale.stock}{unit},接龙下单,先到先得~"
    elif at < sale.end:
        left = sale.stock if live.flash_left is None else live.flash_left
        verb = "开抢啦" if offset == timedelta(0) else "进行中"
        first = f"⚡ 秒杀{verb}:{_flash_head(config, sale)},还剩{left}{unit}"
        second = f"{until}结束,接龙下单,先到先得~"
    else:
        return flash_end_text(sale)
    return f"{first}\n{second}"


def flash_end_text(sale: FlashSale) -> str:
    return f"⏱ {sale.product}限时秒杀已结束,谢谢大家捧场~"


def sold_out_text(sale: FlashSale) -> str:
    return f"🈵 {sale.product}秒杀已抢光!没抢到的邻居别急,下次早点来~"


# ------------------------------------------------------------------------------------------------------ columns

# The placeholders `tuanbot check` lets through (bot/config/posts.py lists them), and nothing else.
_PLACEHOLDER = re.compile(
    r"\{(" + "|".join([*COLUMN_PLACEHOLDERS, *(rf"{kind}:[^{{}}\n]+" for kind in COLUMN_PRODUCT_PLACEHOLDERS)]) + r")\}"
)


def open_buy_lines(config: Config, group: str, at: datetime, *, inline: bool = False) -> list[str]:
    """`{buys}`: the group's open buys with their prices, a line each (`inline`: short, for the middle of a line)."""
    lines = []
    for buy in buys_of_group(config, group):
        if not is_open(buy, at):
            continue
        if inline:
            items = "、".join(f"{i.product}{price_text(i.price)}/{_unit(config, i.product, i)}" for i in buy.items)
            lines.append(f"{buy.title} {items}")
            continue
        items = "、".join(f"{i.product} {price_text(i.price)}/{_unit(config, i.product, i)}" for i in buy.items)
        ladder = f"(阶梯价低至{fmt_qty(min(t.price for t in buy.ladder))}元)" if buy.ladder else ""
        cutoff = f",{when_text(buy.cutoff, config)}截单" if buy.cutoff else ""
        lines.append(f"· {buy.title}:{items}{ladder}{cutoff}")
    return lines


def product_text(config: Config, group: str, at: datetime, name: str) -> str:
    """`{product:NAME}`: 土鸡蛋(36元/盒), at the price of the group's open buy when one sells it."""
    product = config.product(name)
    if product is None:
        return name
    price: Decimal | None = product.price
    unit = product.unit
    for buy in buys_of_group(config, group):
        if is_open(buy, at):
            for item in buy.items:
                if item.product == product.name:
                    price, unit = item.price or price, item.unit or unit
    return f"{product.name}({price_text(price)}/{unit})"


def render_template(template: str, config: Config, group: str, at: datetime, live: Live | None = None) -> str:
    """Fill `{buys}`, `{product:NAME}`, `{stock:NAME}`, `{date}`, `{weekday}`; any other braces are left as written."""
    live = live or Live()
    local = at.astimezone(config.tz)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "date":
            return f"{local.month}月{local.day}日"
        if name == "weekday":
            return WEEKDAYS_ZH[local.weekday()]
        if name == "buys":
            # Alone at the end of its line: a line per buy. Inside a sentence ("今天在团:{buys},有问题@小团"):
            # the same buys, short and on the one line, so the leader's sentence still reads.
            line_end = template.find("\n", match.end())
            inline = bool(template[match.end() : None if line_end < 0 else line_end].strip())
            lines = open_buy_lines(config, group, at, inline=inline)
            if not lines:
                return "暂无在团商品"
            if inline:
                return ";".join(lines)
            line_start = template.rfind("\n", 0, match.start()) + 1
            lead = "\n" if template[line_start : match.start()].strip() else ""
            return lead + "\n".join(lines)
        kind, _, arg = name.partition(":")
        arg = arg.strip()
        if kind == "product":
            return product_text(config, group, at, arg)
        product = config.product(arg)
        canonical = product.name if product else arg
        left = live.stock.get(canonical, configured_stock(config, group, at).get(canonical))
        if left is None:
            return "充足"
        return f"{fmt_qty(max(left, Decimal(0)))}{product.unit if product else ''}"

    return _PLACEHOLDER.sub(fill, template).strip()


# ------------------------------------------------------------------------------------------------------- nudges


def nudge_text(nudges: Nudges, buy: Buy, status: GroupStatus) -> str:
    if status.formed and status.next_price is not None:  # nothing left to form: the next tier is the threshold
        return nudges.tier_text.format(missing=status.missing, title=buy.title, price=fmt_qty(status.next_price))
    return nudges.text.format(missing=status.missing, title=buy.title)


# ---------------------------------------------------------------------------------------------------- dispatching


def post_text(config: Config, spec: JobSpec, at: datetime, live: Live | None = None) -> str | None:
    """The post a job makes at `at`, or None when the item it names is gone from the config."""
    live = live or Live()
    group = config.group(spec.group)
    if group is None:
        return None
    if spec.kind == "column":
        column = next((c for c in config.columns if c.name == spec.ref), None)
        if column is None:
            return None
        return render_template(column.read_text(), config, spec.group, at, live)
    if spec.kind in ("flash_alert", "flash_end"):
        sale = next((s for s in config.flash_sales if s.id == spec.ref), None)
        if sale is None:
            return None
        return flash_alert_text(config, sale, at, live) if spec.kind == "flash_alert" else flash_end_text(sale)
    buy = next((b for b in config.buys if b.id == spec.ref), None)
    if buy is None:
        return None
    if spec.kind == "buy_open":
        return buy_open_text(config, buy, group)
    if spec.kind == "cutoff_reminder":
        return cutoff_reminder_text(config, buy, at, live)
    if spec.kind == "cutoff":
        return cutoff_text(buy, live)
    if spec.kind == "arrival":
        return arrival_text(config, buy, group)
    raise ValueError(f"unknown job kind {spec.kind!r}")


__all__ = [
    "Live",
    "arrival_text",
    "buy_open_text",
    "configured_stock",
    "cutoff_reminder_text",
    "cutoff_text",
    "flash_alert_text",
    "flash_end_text",
    "nudge_text",
    "open_buy_lines",
    "post_text",
    "render_template",
    "sold_out_text",
]
