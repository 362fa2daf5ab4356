"""What a member's question or a leader's command is about: the buy or buys, the product, the flash sales.

A text that names a buy (its id or title, `早餐组合几点截单`) or a product (`脐橙`, found by the question reader or
written after a command) is about the buy that sells it; one that names none is about every open buy of the group
(soonest cutoff first), else the latest that has closed. `秒杀` (or a sale's product while it runs) names the
group's flash sales. Pure over the config: no store, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.buys import buys_of_group, current_buy, has_started, is_open

if TYPE_CHECKING:
    from bot.config import Buy, Config, FlashSale

__all__ = ["FLASH_WORDS", "Subject", "buys_for_command", "buys_named", "sales_of", "sells", "subject_of"]

#: words that name the flash sales of a group (`秒杀几点开始`, `抢购还有吗`)
FLASH_WORDS = re.compile(r"秒杀|抢购|开抢|限时")
_TITLE_HEAD = re.compile(
    r"^(?:本周|下周|这周|周[一二三四五六日天末]|星期[一二三四五六日天]|今日|今天|明日|明天|本期|这期)"
)
_TITLE_TAIL = re.compile(r"(?:阶梯团|拼团|团购|接龙|团)$")


@dataclass(frozen=True)
class Subject:
    buys: tuple[Buy, ...]  # several only when nothing was named and several are open (soonest cutoff first)
    product: str | None  # the product named (canonical name), None when none was
    sales: tuple[FlashSale, ...] = ()  # the flash sales asked about (by 秒杀 or their product): running, coming, ended
    named: bool = False  # the text named a buy or a product

    @property
    def buy(self) -> Buy | None:
        return self.buys[0] if self.buys else None


def sells(buy: Buy, product: str) -> bool:
    return any(item.product == product for item in buy.items)


def _core(title: str) -> str:
    """A title as members shorten it: `周六丹东草莓团` → `丹东草莓`, `五常大米阶梯团` → `五常大米`."""
    return _TITLE_TAIL.sub("", _TITLE_HEAD.sub("", title.strip()))


def _names_buy(buy: Buy, text: str) -> bool:
    if buy.title in text:
        return True
    ident = re.escape(buy.id.lower())  # a whole word: the id `a` is not in `hao`
    if len(buy.id) >= 3 and re.search(rf"(?<![a-z0-9]){ident}(?![a-z0-9])", text.lower()):
        return True
    core = _core(buy.title)
    if len(core) >= 2 and core in text:
        return True
    tail = re.search(r"[\u4e00-\u9fff]{2}团$", buy.title)  # `阶梯团` of `五常大米阶梯团`, `早餐团`, `水果团`
    return tail is not None and tail.group(0) in text


def _by_cutoff(buys: list[Buy]) -> list[Buy]:
    return sorted(buys, key=lambda b: b.cutoff.timestamp() if b.cutoff else float("inf"))


def _prefer_open(buys: list[Buy], now: datetime) -> list[Buy]:
    """The open ones among `buys` (soonest cutoff first), else the latest that has started, else the first."""
    if not buys:
        return []
    open_now = [b for b in buys if is_open(b, now)]
    if open_now:
        return _by_cutoff(open_now)
    started = [b for b in buys if has_started(b, now)]
    if started:
        return [max(started, key=lambda b: b.cutoff or now)]
    return [buys[0]]


def buys_named(config: Config, group: str, text: str, now: datetime) -> list[Buy]:
    """The group's buys whose id or title (or its core, `丹东草莓` of `周六丹东草莓团`) the text names; open first."""
    return _prefer_open([b for b in buys_of_group(config, group) if _names_buy(b, text)], now)


def sales_of(config: Config, group: str, now: datetime, product: str | None) -> tuple[FlashSale, ...]:
    """The group's flash sales (of `product`, when named) worth talking about now: running, coming, the last one
    that ended today."""
    mine = [s for s in config.flash_sales if group in {g.name for g in config.groups_of(s.groups)}]
    if product is not None:
        mine = [s for s in mine if s.product == product]
    today = now.astimezone(config.tz).date()
    running = [s for s in mine if s.start <= now < s.end]
    coming = sorted((s for s in mine if s.start > now), key=lambda s: s.start)
    ended = sorted(
        (s for s in mine if s.end <= now and s.end.astimezone(config.tz).date() == today), key=lambda s: s.end
    )
    return tuple(running + coming + ended[-1:])


def subject_of(config: Config, group: str, now: datetime, product: str | None, text: str = "") -> Subject:
    """What a question in `group` at `now` is about, from the product the reader found and the text itself."""
    sales: tuple[FlashSale, ...] = ()
    if FLASH_WORDS.search(text):
        sales = sales_of(config, group, now, product)
    elif product is not None:
        sales = sales_of(config, group, now, product)
    named = buys_named(config, group, text, now) if text else []
    if named:
        return Subject(tuple(named), product, sales, named=True)
    if product is not None:
        selling = [b for b in buys_of_group(config, group) if sells(b, product)]
        started = [b for b in selling if has_started(b, now)]
        return Subject(tuple(_prefer_open(started, now)), product, sales, named=True)
    open_now = [b for b in buys_of_group(config, group) if is_open(b, now)]
    if open_now:
        return Subject(tuple(_by_cutoff(open_now)), None, sales)
    latest = current_buy(config, group, now)
    return Subject((latest,) if latest else (), None, sales)


def buys_for_command(config: Config, group: str, arg: str, now: datetime) -> list[Buy]:
    """The buys a leader's `汇总 X` / `导出 X` means: X is a buy's id or title exactly, else a buy whose title, title
    core or product (name or alias) X names; open ones first. Without X: every open buy, else the latest closed."""
    buys = buys_of_group(config, group)
    if not arg:
        open_now = [b for b in buys if is_open(b, now)]
        if open_now:
            return _by_cutoff(open_now)
        latest = current_buy(config, group, now)
        return [latest] if latest else []
    exact = [b for b in buys if arg in (b.id, b.title)]
    if exact:
        return exact[:1]
    return _prefer_open([b for b in buys if _names_buy(b, arg) or arg in b.title or _sells_named(config, b, arg)], now)


def _sells_named(config: Config, buy: Buy, word: str) -> bool:
    for item in buy.items:
        product = config.product(item.product)
        names = product.names if product else (item.product,)
        if any(word == name or (len(word) >= 2 and word in name) for name in names):
            return True
    return False
