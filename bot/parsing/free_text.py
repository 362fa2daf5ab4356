"""A member's order or cancel said outside the 接龙 (`+1`, `草莓+1`, `要2盒草莓`, `我要两盒车厘子`, `不要了`) → what it
orders or cancels, or None for anything else.

Strict on purpose: every character of the message must be a product, a quantity, or one of the few words people wrap
an order in (`我要`, `来`, `帮我留`, `谢谢团长`, `哈`, emoji); anything left over (`我也想要一个这样的孩子`, `+1 同意`,
`草莓还有吗`, `我买了两盒草莓`) makes it chatter or a question, which the routes after this one read. Pure: the
products come from the catalogue's matcher (jieba for typos), the quantities from `bot.parsing.quantity`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from bot.parsing.products import ProductMatcher
from bot.parsing.quantity import QuantityForm, find_quantities, parse_number

__all__ = ["FreeCancel", "FreeOrder", "FreeText", "MAX_CHARS", "asks_own_orders", "own_words", "read_free_text"]

MAX_CHARS = 40  # an order said in words is short; a longer message is a story, a list or a question

# WeChat's reply to a quoted message (引用), as the gateway gives its text: the quote, a dashed line, the reply
_QUOTED = re.compile(r"「[^」]*」\n(?:- ){3,}-?\n(.*)", re.DOTALL)
_MENTION = re.compile(r"@[^\s\u2005@]+[\s\u2005]*")
_WECHAT_EMOJI = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]")  # [强] [抱拳] [玫瑰]: WeChat's emoji as text
_NOISE = re.compile(r"[\s,，.。!！~～、…:：;；]+")
# Words an order is wrapped in. Not `了` (`我买了两盒` is past), not `吗`/`?` (a question), not `想` (`我也想要…`).
_ORDER_WORDS = (
    "谢谢团长|谢谢|感谢|麻烦团长|麻烦了|麻烦|辛苦了|团长|亲|好的|嗯嗯|嗯|好嘞|好"
    "|我家|我们家|我也要|我还要|我要|还要|再要|再来|再加|也要|给我|帮我|替我|算我|我也|我来|我"
    "|预定|预订|定|订|购买|买|下单|报名|接龙|拿|留|来|要|加|\\+|算|冲|蹲|求|一下|吧|哈|啊|呀|哦|噢|呢|嘞|啦|的"
)
_WRAP = re.compile(f"(?:{_ORDER_WORDS})*")
_VERB = re.compile(r"要|来|订|定|买|下单|报名|接龙|留|加|算我|冲|蹲|求")
_CANCEL = re.compile(
    r"(?:我|我家|我们家|团长|麻烦|帮我|给我)*(?:就|还是|先)?"
    r"(?:不要了|不要啦|不要|取消了|取消掉|取消订单|取消|退掉|退订|退了|退出|不买了|不订了|不拿了|算了)"
    r"(?:订单|吧|哈|啊|呀|哦|了|谢谢|谢谢团长|不好意思|抱歉)*"
)
# 加一, +两, 来俩: a Chinese numeral with no unit after 加 or + (or 俩 after 来/要), which `find_quantities` leaves
_CN_PLUS = re.compile(r"(?<=[加+])[一二两俩三四五六七八九十](?![\u4e00-\u9fff])|(?<=[来要])俩")
_EACH = "各"
_PRODUCT = "\x00"  # where a product was named, in the text the quantities are read in
_GENERIC_UNITS = frozenset(("个", "份"))  # `来一个` / `一份`: one of the product, in its own unit
_OWN_ORDERS = re.compile(r"^我(?:刚才|刚刚|之前|已经)?(?:[+][0-9一]|加[1一])(?:上|过)?了?(?:吗|么|没|没有)$")


@dataclass(frozen=True)
class FreeOrder:
    """What an order said outside the 接龙 orders: (product or None when implied, qty, unit as written or None)."""

    items: tuple[tuple[str | None, Decimal, str | None], ...]

    @property
    def implied(self) -> bool:
        return any(product is None for product, _, _ in self.items)


@dataclass(frozen=True)
class FreeCancel:
    """`不要了` / `取消草莓`: the products named (none: the member's only order)."""

    products: tuple[str, ...]
    explicit: bool  # `取消订单`, or a product named: the member means an order, so "none" deserves an answer


FreeText = FreeOrder | FreeCancel


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", _MENTION.sub(" ", text))
    text = _WECHAT_EMOJI.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cf", "Mn"))
    return _NOISE.sub("", text)


def own_words(text: str) -> str:
    """The member's own words: a reply to a quoted message (`+1` under the leader's post) without the quote."""
    quoted = _QUOTED.fullmatch(text.strip())
    return quoted.group(1) if quoted else text


def asks_own_orders(text: str) -> bool:
    """`我+1了吗`, `我刚才+1上了没`: a member asking whether their order said outside the 接龙 counted."""
    text = own_words(text)
    return len(text) <= MAX_CHARS and _OWN_ORDERS.match(_clean(text)) is not None


def read_free_text(text: str, matcher: ProductMatcher, products: set[str] | None = None) -> FreeText | None:
    """The order or cancel `text` says, or None. `products`: the products that can be ordered now (the open buys'),
    so a product the catalogue knows but no open buy sells makes the text no order here."""
    text = own_words(text)
    if len(text) > MAX_CHARS or "\n" in text.strip():
        return None
    t = _clean(text)
    if not t or len(t) > MAX_CHARS:
        return None
    mentions = [m for m in matcher.find_all(t) if products is None or m.product in products]
    rest = t
    for m in reversed(mentions):
        rest = rest[: m.start] + _PRODUCT + rest[m.end :]  # a product's place, kept so quantities pair with it
    named = tuple(dict.fromkeys(m.product for m in mentions))
    bare = rest.replace(_PRODUCT, "")
    if _CANCEL.fullmatch(bare):
        return FreeCancel(named, explicit=bool(named) or "订单" in bare)
    return _order(rest, [m.product for m in mentions])


def _quantities(rest: str) -> list[tuple[int, int, Decimal, str | None]]:
    """(start, end, value, unit) of each quantity that stands where an order's count stands."""
    spans = []
    for span in find_quantities(rest):
        before = rest[: span.start]
        if span.form == QuantityForm.BARE and not before.endswith((_PRODUCT, "要", "来", "加")):
            continue  # a bare number counts only right after a product or a verb (`草莓2`, `要2`, `加1`)
        if span.form == QuantityForm.MULTIPLY and not before.endswith(_PRODUCT):
            continue
        start = span.start + 1 if span.form == QuantityForm.PLUS else span.start  # `+1`: the count after the sign
        spans.append((start, span.end, span.quantity.value, span.quantity.unit))
    for m in _CN_PLUS.finditer(rest):
        value = parse_number(m.group())
        if value is not None and not any(s <= m.start() < e for s, e, _, _ in spans):
            spans.append((m.start(), m.end(), value, None))
    return sorted(spans)


def _order(rest: str, products: list[str]) -> FreeOrder | None:
    """`rest`: the text with each product mention replaced by NUL; `products`: those mentions, in order."""
    spans = _quantities(rest)
    words, last = [], 0
    for start, end, _, _ in spans:
        words.append(rest[last:start])
        last = end
    words.append(rest[last:])
    wrap = "".join(words).replace(_PRODUCT, "")
    each = len(products) > 1 and len(spans) == 1 and _EACH in wrap
    if each:
        wrap = wrap.replace(_EACH, "", 1)
    if not _WRAP.fullmatch(wrap):
        return None  # something else is said: chatter or a question
    qtys = [(value, unit) for _, _, value, unit in spans]
    if any(v <= 0 or v > 999 or v * 2 != int(v * 2) for v, _ in qtys):
        return None
    plus = any(rest[s - 1 : s] in ("+", "加") for s, _, _, _ in spans if s > 0)  # `+1`, `加一`
    wants = plus or bool(_VERB.search(wrap))
    if not products:
        if len(qtys) != 1:
            return None
        value, unit = qtys[0]
        if not (wants or (unit is not None and unit != "个")):
            return None  # `2`, `两个`: a number alone is no order (`两盒`, `2份` are)
        return FreeOrder(((None, value, _unit(unit)),))
    if len(set(products)) != len(products):
        return None  # `草莓2盒草莓1盒`: say it in the 接龙
    if not qtys:
        return FreeOrder(tuple((p, Decimal(1), None) for p in products)) if wants else None  # `要草莓`; not `草莓`
    if each:
        value, unit = qtys[0]
        return FreeOrder(tuple((p, value, _unit(unit)) for p in products))
    if len(qtys) != len(products):
        return None
    # each product with the count beside it: after it (`草莓2盒`), or before it (`两盒草莓`), the same way throughout
    marks = [(pos, "p") for pos, ch in enumerate(rest) if ch == _PRODUCT] + [(s, "q") for s, _, _, _ in spans]
    tokens = [kind for _, kind in sorted(marks)]
    if any(tokens[k] == tokens[k + 1] for k in range(0, len(tokens) - 1, 2)):
        return None
    return FreeOrder(tuple((p, value, _unit(unit)) for p, (value, unit) in zip(products, qtys, strict=True)))


def _unit(unit: str | None) -> str | None:
    return None if unit in _GENERIC_UNITS else unit
