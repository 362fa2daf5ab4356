"""Answers to members' questions, from the leader's data and the store as they are now: one short message each.

What a question is about comes from `bot.domain.subject`: the buy or product it names, else every open buy (a line
each, soonest cutoff first). The leader's words win: a configured FAQ entry whose questions read as one of the
built-in intents (`坏了怎么办` beside the built-in after-sales text) answers that intent in the leader's words.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.answer_text import NO_BUY, item_of, remaining, unit, when
from bot.domain.my_orders import my_orders, my_orders_text
from bot.domain.offer_answers import flash_answer, price_answer, spec_answer, whats_on_answer
from bot.domain.subject import Subject, sales_of, subject_of
from bot.domain.summary import load_summary, status_line
from bot.domain.units import units_left
from bot.parsing.question import QuestionReader

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.config import Buy, Config, Group
    from bot.core.services import Services
    from bot.parsing.products import ProductMatcher
    from bot.parsing.question import Understanding

__all__ = ["Asker", "answer", "example_line", "leader_faq", "subject_of"]


@dataclass(frozen=True)
class Asker:
    """Who asked: `my_orders` answers with their own orders."""

    wxid: str
    name: str


# ------------------------------------------------------------------------------------------------------ formatting


def example_line(config: Config, buy: Buy) -> str:
    """The 例 line of a buy: the leader's `example`, else one built from its first item."""
    if buy.example:
        text = buy.example.strip()
        return text if text.startswith("例") else f"例 {text}"
    product = buy.items[0].product
    return f"例 3栋 王阿姨 {product}1{unit(config, buy, product)}"


def _pickup(group: Group | None) -> str | None:
    if group is None or group.pickup is None:
        return None
    return f"自提时间{group.pickup.time},自提点:{group.pickup.place}"


def _closed(buy: Buy, now: datetime, tz: ZoneInfo) -> str:
    assert buy.cutoff is not None
    return f"【{buy.title}】已于{when(buy.cutoff, now, tz)}截单,下次开团早点来哦~"


# ------------------------------------------------------------------------------------------- the leader's FAQ words

_ASKED = 0.3  # below this the keyword rules heard no question (a statement scores its rule's strength × 0.3)
Covered = tuple[frozenset[tuple[str, str | None]], ...]  # per FAQ entry: the (intent, product) pairs it covers
_OVERLAPS: weakref.WeakKeyDictionary[ProductMatcher, dict[tuple[object, ...], Covered]] = weakref.WeakKeyDictionary()


def _overlaps(services: Services) -> Covered:
    """Per FAQ entry: the built-in (intent, product) its own question variants read as, by the reader without FAQ."""
    matcher, faq, bot_name = services.product_matcher(), services.config.faq, services.config.bot.name
    key = (bot_name, tuple((tuple(e.question), e.answer) for e in faq))
    per_matcher = _OVERLAPS.setdefault(matcher, {})
    found = per_matcher.get(key)
    if found is None:
        # The keyword rules alone (no trained decision, no FAQ): an entry covers an intent when its own words are
        # that intent's keywords (`水果坏了怎么办`: 坏了). A trained decision puts every question in some intent, so an
        # invoice FAQ (`能开发票吗`) would cover after-sales. The variants are questions: any reading that asks counts.
        reader = QuestionReader(matcher, (), bot_name, model=False)
        readings = [[reader.understand(v) for v in entry.question] for entry in faq]
        found = tuple(
            frozenset((u.intent, u.product) for u in rs if u.intent and u.confidence >= _ASKED) for rs in readings
        )
        if len(per_matcher) >= 8:
            per_matcher.clear()
        per_matcher[key] = found
    return found


def leader_faq(services: Services, intent: str | None, product: str | None) -> str | None:
    """The leader's FAQ answer for a built-in intent when an FAQ entry covers it (its questions read as that
    intent, and name no other product), else None."""
    config = services.config
    if intent is None or intent == "faq" or not config.faq:
        return None
    for entry, covered in zip(config.faq, _overlaps(services), strict=True):
        if any(i == intent and (p is None or product is None or p == product) for i, p in covered):
            return entry.answer
    return None


def covered_intents(services: Services) -> list[set[str]]:
    """Per FAQ entry: the built-in intents its questions read as."""
    return [{intent for intent, _ in covered} for covered in _overlaps(services)]


# ---------------------------------------------------------------------------------------------------------- answers


async def answer(
    services: Services,
    group_name: str,
    understanding: Understanding,
    now: datetime,
    *,
    text: str = "",
    asker: Asker | None = None,
) -> str | None:
    """The reply to `understanding` (of `text`, asked by `asker`) in `group_name` at `now`; None when the data
    cannot answer it (stay silent)."""
    config = services.config
    group = config.group(group_name)
    intent = understanding.intent
    subject = subject_of(config, group_name, now, understanding.product, text)

    flash = await flash_answer(services, subject, intent, text, now)
    if flash is not None:
        return flash
    leaders = group.leaders if group else []
    if intent == "faq":
        index = understanding.faq_index
        if index is None or not 0 <= index < len(config.faq):
            return None
        complaint = "after_sales" in covered_intents(services)[index]  # the leader hears of it as of any complaint
        return config.faq[index].answer + (_notify(leaders) if complaint else "")
    words = leader_faq(services, intent, understanding.product)
    if words is not None:
        return words + (_notify(leaders) if intent == "after_sales" else "")
    if intent == "pickup_place":
        if group is None or group.pickup is None:
            return None
        return f"自提点:{group.pickup.place}(自提时间{group.pickup.time})"
    if intent == "pickup_time":
        return _pickup_time(group, subject, now, config.tz)
    if intent == "after_sales":
        what = understanding.product or "商品"
        return services.config.questions.after_sales.format(what=what) + _notify(leaders)
    if intent == "whats_on":
        return await whats_on_answer(services, group_name, now)
    if intent == "spec":
        return await spec_answer(services, subject)
    if intent == "price":
        return await price_answer(services, subject)
    if intent == "my_orders":
        if asker is None:
            return None
        # the sales that have started: a claim is an order too (unless the question names a buy)
        sales = [] if subject.named and not subject.product else sales_of(config, group_name, now, subject.product)
        sales = [s for s in sales if s.start <= now]
        if not subject.buys and not sales:
            return NO_BUY
        found = await my_orders(services, group_name, subject.buys, sales, asker.wxid, asker.name)
        return my_orders_text(found, subject.buys)
    if not subject.buys:
        if understanding.product is not None and intent in ("stock", "how_to_order"):
            return f"这期团购没有{understanding.product},有了会在群里通知~"
        return NO_BUY
    if intent == "how_to_order":
        return _how_to_order(config, subject, now)
    lines = [await _about(services, intent, buy, subject, group, now) for buy in subject.buys]
    said = [line for line in lines if line]
    return "\n".join(said) if said else None


def _notify(leaders: list[str]) -> str:
    return "已通知团长" + (" " + " ".join(f"@{name}" for name in leaders) if leaders else "")


def _pickup_time(group: Group | None, subject: Subject, now: datetime, tz: ZoneInfo) -> str | None:
    pickup = _pickup(group)
    if pickup is None:
        return None
    coming = [b for b in subject.buys if b.arrival is not None and now < b.arrival]
    if not coming:
        return pickup
    arrivals = [f"【{b.title}】预计{when(b.arrival, now, tz)}到货" for b in coming if b.arrival is not None]
    if len(arrivals) == 1:
        return f"{pickup}。{arrivals[0]},到了群里通知"
    return f"{pickup}\n" + "\n".join(arrivals) + "\n到了群里通知"


def _how_to_order(config: Config, subject: Subject, now: datetime) -> str:
    tz = config.tz
    if len(subject.buys) == 1:
        buy = subject.buys[0]
        if buy.cutoff is not None and now >= buy.cutoff:
            return _closed(buy, now, tz)
        until = f",{when(buy.cutoff, now, tz)}截单" if buy.cutoff else ""
        return f"复制群里最新的接龙,在最后加一行写上楼栋、称呼和数量就行,{example_line(config, buy)}{until}"
    lines = []
    for buy in subject.buys:
        until = f",{when(buy.cutoff, now, tz)}截单" if buy.cutoff else ""
        lines.append(f"【{buy.title}】{example_line(config, buy)}{until}")
    return "复制群里对应团的最新接龙,在最后加一行写上楼栋、称呼和数量就行:\n" + "\n".join(lines)


async def _about(
    services: Services, intent: str | None, buy: Buy, subject: Subject, group: Group | None, now: datetime
) -> str | None:
    """One buy's line for a question about the buy itself: stock, cutoff, arrival, 成团."""
    config = services.config
    tz = config.tz
    if intent == "stock":
        product = subject.product or buy.items[0].product
        if item_of(buy, product) is None:
            return f"这期团购没有{product},有了会在群里通知~"
        if buy.cutoff is not None and now >= buy.cutoff:
            return _closed(buy, now, tz)
        left = await units_left(services.stock, buy, product)
        if left is None:
            until = f",{when(buy.cutoff, now, tz)}截单前都可以接龙" if buy.cutoff else ",接龙就行"
            return f"{product}还有货{until}"
        if left <= 0:
            return f"{product}已经抢完了,下次早点来哦~"
        return f"{product}还剩{left}{unit(config, buy, product)},要的抓紧接龙~"
    if intent == "cutoff":
        if buy.cutoff is None:
            return f"【{buy.title}】截单时间团长会在群里通知"
        if now >= buy.cutoff:
            return _closed(buy, now, tz)
        return f"【{buy.title}】{when(buy.cutoff, now, tz)}截单,还剩{remaining(buy.cutoff - now)}"
    if intent == "arrival":
        if buy.arrival is None:
            return f"【{buy.title}】到货时间团长确认后会在群里通知"
        if now < buy.arrival:
            return f"【{buy.title}】预计{when(buy.arrival, now, tz)}到货,到了群里通知"
        pickup = _pickup(group)
        return f"【{buy.title}】已于{when(buy.arrival, now, tz)}到货" + (f",{pickup}" if pickup else "")
    if intent == "group_status":
        async with services.db.sessions() as session:
            summary = await load_summary(session, config, buy)
        closed = buy.cutoff is not None and now >= buy.cutoff  # past the cutoff: 未成团, not 还差N人
        return f"【{buy.title}】{status_line(summary.status, buy, closed)}"
    return None
