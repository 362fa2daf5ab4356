"""Group-buy rules that do not touch the store: which buy a chain belongs to, prices by ladder, 成团 status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Buy, Config


def buys_of_group(config: Config, group: str) -> list[Buy]:
    return [buy for buy in config.buys if group in {g.name for g in config.groups_of(buy.groups)}]


def is_open(buy: Buy, now: datetime) -> bool:
    return (buy.opens is None or buy.opens <= now) and (buy.cutoff is None or now < buy.cutoff)


def has_started(buy: Buy, now: datetime) -> bool:
    return buy.opens is None or buy.opens <= now


def current_buy(config: Config, group: str, now: datetime) -> Buy | None:
    """The buy a leader's `汇总` or a member's question means: the open one, else the latest that has closed."""
    started = [b for b in buys_of_group(config, group) if has_started(b, now)]
    open_now = [b for b in started if is_open(b, now)]
    if open_now:
        return open_now[0]
    closed = [b for b in started if b.cutoff is not None]
    return max(closed, key=lambda b: b.cutoff or now) if closed else None


def names_of(config: Config, buy: Buy) -> set[str]:
    """The words that name a buy in a chain header: its id, title, products and their aliases."""
    names = {buy.id, buy.title}
    for item in buy.items:
        names.add(item.product)
        product = config.product(item.product)
        if product is not None:
            names.add(product.name)
            names.update(product.aliases)
    return {n for n in names if n}


def buy_named_in(config: Config, group: str, header: str, now: datetime) -> Buy | None:
    """The started buy of `group` whose title, id or products the chain header names (None if none or several)."""
    started = [b for b in buys_of_group(config, group) if has_started(b, now)]
    named = [b for b in started if any(n in header for n in names_of(config, b))]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:  # the most specific mention wins: a title beats a product name
        by_title = [b for b in named if b.title in header]
        if len(by_title) == 1:
            return by_title[0]
    return None


def single_open_buy(config: Config, group: str, now: datetime) -> Buy | None:
    open_now = [b for b in buys_of_group(config, group) if is_open(b, now)]
    return open_now[0] if len(open_now) == 1 else None


def single_product(buy: Buy) -> str | None:
    return buy.items[0].product if len(buy.items) == 1 else None


@dataclass(frozen=True)
class GroupStatus:
    """How far a buy is from forming (成团) or from its next ladder tier."""

    members: int
    target: int | None  # members needed for the next step (min_members or the next tier), None when nothing is next
    missing: int  # how many more members until `target` (0 when reached or no target)
    formed: bool  # min_members reached (or no minimum)
    price: Decimal | None  # the price every member pays now (ladder), else the item's price
    next_price: Decimal | None  # the ladder price at `target`


def group_status(buy: Buy, members: int, base_price: Decimal | None) -> GroupStatus:
    formed = buy.min_members is None or members >= buy.min_members
    price = base_price
    next_tier = None
    for tier in sorted(buy.ladder, key=lambda t: t.members):
        if members >= tier.members:
            price = tier.price
        elif next_tier is None:
            next_tier = tier
    if not formed and buy.min_members is not None:
        target: int | None = buy.min_members
        next_price = None
    elif next_tier is not None:
        target, next_price = next_tier.members, next_tier.price
    else:
        target, next_price = None, None
    missing = max(0, target - members) if target is not None else 0
    return GroupStatus(members, target, missing, formed, price, next_price)
