"""A leader's buy commands, pure: `开团`, `截单`, `延长截单`, `库存`, `加库存` as typed on a phone (with or without
`@小团`, `#`, spaces, full-width characters) → a typed command, or None when the text is no such command."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.parsing.commands import read_command
from bot.parsing.when import parse_when

VERBS = ("延长截单", "加库存", "开团", "截单", "库存")
_PRICE = re.compile(r"^[¥￥]?(?P<price>\d+(?:\.\d{1,2})?)(?:元|块)?(?:/|每)(?P<unit>[^\d\s/]{1,3})$")
_STOCK = re.compile(r"^(?:库存|限量)(?P<n>\d+)\D{0,2}$")
_MEMBERS = re.compile(r"^(?:成团|满)?(?P<n>\d+)人(?:成团)?$")
_UNITS = re.compile(r"^(?P<name>.*?)\s*(?P<n>\d+)\s*(?P<unit>[^\d\s]{0,2})$")


@dataclass
class NewItem:
    product: str
    price: Decimal | None = None
    unit: str | None = None
    stock: int | None = None


@dataclass
class BuyCommand:
    """`verb` with its arguments: `name` a buy (id, title or product; "" = the only open one), `when` a time,
    `product`/`units` for the stock commands, and for a buy made in chat its title, items and rules."""

    verb: str
    name: str = ""
    when: datetime | None = None
    when_text: str = ""  # as typed, for "没看懂" when `when` could not be read
    product: str = ""
    units: int | None = None
    title: str = ""
    items: list[NewItem] = field(default_factory=list)
    min_members: int | None = None
    problem: str = ""  # what the leader should fix, when the words were not understood


def read_buy_command(text: str, now: datetime, bot_name: str = "") -> BuyCommand | None:
    """The command, read as `bot.parsing.commands` reads every leader command (`开团了吗` / `截单了没` are
    questions, not commands)."""
    read = read_command(text, bot_name)
    verb, rest = read.verb, read.arg
    if verb not in VERBS:
        return None
    if verb in ("库存", "加库存"):
        return _stock(verb, rest)
    if verb == "截单":
        return BuyCommand(verb, name=rest)
    if verb == "延长截单":
        return _extend(rest, now)
    return _open(rest, now)


def _stock(verb: str, rest: str) -> BuyCommand | None:
    m = _UNITS.match(rest)
    if m is None or not m.group("name").strip():
        return None  # 库存还有多少: a question
    words = m.group("name").split()
    name, product = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else ("", words[0])
    return BuyCommand(verb, name=name, product=product, units=int(m.group("n")))


def _extend(rest: str, now: datetime) -> BuyCommand:
    rest = rest.removeprefix("到").strip()
    when = parse_when(rest, now)
    if when is not None:
        return BuyCommand("延长截单", when=when, when_text=rest)
    words = rest.split()
    for cut in range(1, len(words)):  # `延长截单 草莓团 周五 20:00`: the buy first, the time after
        tail = " ".join(words[cut:]).removeprefix("到")
        when = parse_when(tail, now)
        if when is not None:
            return BuyCommand("延长截单", name=" ".join(words[:cut]), when=when, when_text=tail)
    name, tail = (words[0], " ".join(words[1:])) if len(words) > 1 else ("", rest)
    return BuyCommand("延长截单", name=name, when_text=tail, problem="time")


def _open(rest: str, now: datetime) -> BuyCommand:
    words = rest.split()
    if len(words) <= 1:
        return BuyCommand("开团", name=rest)
    command = BuyCommand("开团", title=words[0])
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        if (m := _STOCK.match(word)) is not None and command.items:
            command.items[-1].stock = int(m.group("n"))
        elif (m := _MEMBERS.match(word)) is not None:
            command.min_members = int(m.group("n"))
        elif (m := _PRICE.match(word)) is not None and command.items:
            command.items[-1].price = Decimal(m.group("price"))
            command.items[-1].unit = m.group("unit")
        elif word.startswith("截单") or word.endswith("截单"):
            text = word.removeprefix("截单").removesuffix("截单")
            if not text and i < len(words):  # `截单 周五20:00` or `截单 周五 20:00`
                text = words[i]
                i += 1
                if parse_when(text, now) is None and i < len(words):
                    text, i = f"{text} {words[i]}", i + 1
            command.when_text = text
            command.when = parse_when(text, now)
            if command.when is None:
                command.problem = "time"
        else:
            command.items.append(NewItem(word))
    if not command.items:
        command.problem = "items"
    return command
