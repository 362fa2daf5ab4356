"""A leader's orders for a neighbour, pure: `代报 LABEL 商品数量` and `取消 LABEL [商品]` as typed on a phone (with or
without `@小团`, `#`, spaces, full-width characters) → a typed command, or None when the text is no such command.

- `代报 3栋王阿姨 车厘子2盒`, `代订 老周 草莓1`, `帮3栋王阿姨报名车厘子2盒`, `帮 3栋 王阿姨 报 车厘子 2盒`: `line` is
  the order as a 接龙 line would hold it (`3栋王阿姨 车厘子2盒`); the 接龙 entry reader reads its label and items.
- `取消 老周`, `取消老周的订单`, `取消 3栋王阿姨 车厘子`, `取消老周的草莓`: `label`, and `product` when one is named.
A bare `取消` (a member's own cancel) and `帮我…` are no such command; `帮…` is one only when an order follows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_PREFIX = re.compile(r"^\s*(?:@\S+?(?:\s+|(?=[#＃]|代报|代订|帮|替|取消))|@\S+$)?[#＃]?\s*")
_PROXY = re.compile(r"^(?:代报名?|代订|代下单|代接龙|帮报|帮订)\s*(?P<line>.+)$")
_HELP_FOR = re.compile(r"^(?:帮|替|给)\s*(?P<who>.+?)\s*(?:报名|报上|报|订|下单|接龙|登记)\s*[:：]?\s*(?P<what>.+)$")
_CANCEL = re.compile(r"^(?:帮\s*)?取消\s*(?P<body>.+)$")
_ORDER_WORDS = re.compile(r"\s*(?:的)?(?:订单|单子|接龙|报名|的单|全部|所有)$")
_NOT_A_LABEL = frozenset(("我", "我们", "俺", "自己", "大家", "一下", "下", "了", "吧"))
_QUESTION_END = re.compile(r"[?？吗呢吧了啊呀么]$")
_QTY_TAIL = re.compile(r"\s*[0-9]+(?:\.[0-9]+)?\s*[^\s0-9]{0,2}$")  # `取消 老周 草莓1盒`: the product is what counts


@dataclass(frozen=True)
class ProxyCommand:
    verb: str  # 代报 | 取消
    line: str = ""  # 代报: the order as a 接龙 line (label and items)
    label: str = ""  # 取消: the participant label as typed
    product: str = ""  # 取消: the product named ("" = every order of the participant)
    loose: bool = False  # 代报 in the `帮X报Y` form: a command only when Y reads as an order


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), the `@小团` / `#` in front off."""
    return _PREFIX.sub("", unicodedata.normalize("NFKC", text).strip(), count=1).strip()


def read_proxy_command(text: str, products: Iterable[str] = ()) -> ProxyCommand | None:
    """The command in `text`, or None. `products`: the catalogue's names and aliases (for `取消 LABEL 商品`)."""
    if "\n" in text.strip() or len(text) > 200:
        return None  # a 接龙 or a long message: never a one-line command
    t = normalize(text)
    proxy = _PROXY.match(t)
    if proxy:
        return ProxyCommand("代报", line=_squeeze(proxy.group("line")))
    helped = _HELP_FOR.match(t)
    if helped and not helped.group("who").startswith(("取消", "我")):
        who = helped.group("who").strip(" ,，:：")
        if who and who not in _NOT_A_LABEL:
            return ProxyCommand("代报", line=_squeeze(f"{who} {helped.group('what')}"), loose=True)
    cancel = _CANCEL.match(t)
    if cancel:
        return _cancel(cancel.group("body"), products)
    return None


def _cancel(body: str, products: Iterable[str]) -> ProxyCommand | None:
    body = _squeeze(body).strip(" ,，。!！~")
    if not body or _QUESTION_END.search(body):
        return None  # `取消了吗`: a question
    body = _ORDER_WORDS.sub("", body).strip()
    names = set(products)
    if body in names:
        return None  # `取消 草莓`: the sender's own order of a product, not a neighbour's
    label, product = body, ""
    if "的" in body:
        head, _, tail = body.rpartition("的")
        label, product = head.strip(), tail.strip()
    else:
        bare = _QTY_TAIL.sub("", body)
        for name in sorted(names, key=len, reverse=True):
            if name and bare.endswith(name) and len(bare) > len(name):
                label, product = bare[: -len(name)].strip(), name
                break
    if not label or label in _NOT_A_LABEL:
        return None
    return ProxyCommand("取消", label=label, product=product)


def _squeeze(text: str) -> str:
    return " ".join(text.split())
