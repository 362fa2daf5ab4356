"""A leader's payment commands, pure: `已收 LABEL [金额]` (and the ways a leader says it in passing: `王阿姨已付`,
`收到王阿姨的钱`) and `未付 [团] [发群]`, as typed on a phone (with or without `@小团`, `#`, spaces, full-width
characters) → a typed command, or None when the text is no such command."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

_PREFIX = re.compile(r"^\s*(?:@\S+\s+|@\S+?(?=[#＃]|已收|未付|收到))?[#＃]?\s*")
#: `已收 3栋王阿姨`, `已收款 老周 62`, `已收到 老周 ¥62.5`
_RECEIVED = re.compile(r"^(?:已收款|已收到|已收)(?:\s+|$)(?P<rest>.*)$")
#: `收到王阿姨的钱`, `收到 老周 的转账 62` (a bare `收到` is "got it", never a payment)
_GOT = re.compile(r"^收到\s*(?P<label>.+?)\s*(?:的钱|的款|的货款|的转账|转账|的红包|付款)\s*(?P<amount>.*)$")
#: `王阿姨已付`, `3栋 王阿姨 已付款 79.8`, `老周付了`
_PAID = re.compile(r"^(?P<label>.+?)\s*(?:已付款|已付|已转账|已转|付了|付过了)\s*(?P<amount>.*)$")
#: `未付`, `未付 车厘子`, `未付款 发群`, `谁没付`, `谁还没付款`
_UNPAID = re.compile(r"^(?:未付款|未付|谁还没付款|谁还没付|谁没付款|谁没付)(?:\s+(?P<rest>.*))?$")
_AMOUNT = re.compile(r"^[¥]?(?P<n>\d{1,6}(?:\.\d{1,2})?)(?:元|块)?$")
#: the trailing amount of `已收 老周 62` / `已收 老周 ¥62` / `已收 老周62元`
_TAIL = re.compile(r"(?:\s+[¥]?|[¥])(?P<n>\d{1,6}(?:\.\d{1,2})?)(?:元|块)?$|(?P<m>\d{1,6}(?:\.\d{1,2})?)(?:元|块)$")
#: asks for the list in the group itself (by default it goes to the leader privately)
TO_GROUP = ("发群里", "发到群里", "发群", "群里", "群发")
_PARTICLES = re.compile(r"^[了啦哈,\s]+|[了啦哈~!。,.\s]+$")
_NOT_LABELS = {"我", "你", "他", "她", "都", "全", "大家", "都已", "钱", "款", "货款"}


@dataclass(frozen=True)
class PaymentCommand:
    """`已收`: `label` paid (`amount` when the leader wrote one). `未付`: the unpaid list of the buy `buy` names
    ("" = the buys with money owing), posted in the group when `to_group`. `loose` marks a form a leader may say in
    passing (`王阿姨已付`): acted on only when the label is found."""

    verb: str
    label: str = ""
    amount: Decimal | None = None
    buy: str = ""
    to_group: bool = False
    loose: bool = False


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC: `￥` is `¥`), the `@小团` / `#` in front off."""
    return _PREFIX.sub("", unicodedata.normalize("NFKC", text).strip(), count=1).strip()


def read_payment_command(text: str) -> PaymentCommand | None:
    if "\n" in text.strip():
        return None  # a list (a 接龙 copy) is never a payment command
    t = normalize(text)
    m = _UNPAID.match(t)
    if m is not None:
        words = (m.group("rest") or "").split()
        to_group = any(w in TO_GROUP for w in words)
        return PaymentCommand("未付", buy=" ".join(w for w in words if w not in TO_GROUP), to_group=to_group)
    m = _RECEIVED.match(t)
    if m is not None:
        label, amount = _split_amount(m.group("rest").strip())
        return PaymentCommand("已收", label=label, amount=amount)
    for pattern in (_GOT, _PAID):
        m = pattern.match(t)
        if m is None:
            continue
        label, tail = m.group("label").strip(), _PARTICLES.sub("", m.group("amount")).strip()
        amount = _amount(tail) if tail else None
        if (tail and amount is None) or not label or label in _NOT_LABELS or len(label) > 30:
            return None
        return PaymentCommand("已收", label=label, amount=amount, loose=True)
    return None


def _amount(text: str) -> Decimal | None:
    m = _AMOUNT.match(text.replace(" ", ""))
    return Decimal(m.group("n")) if m else None


def _split_amount(rest: str) -> tuple[str, Decimal | None]:
    """`老周 62` → (老周, 62); `3栋王阿姨` → (3栋王阿姨, None): an amount is a number set apart from the label by a
    space or `¥`, or followed by 元/块 (`3栋` is an address, never 3元)."""
    m = _TAIL.search(rest)
    if m is None:
        return rest, None
    label = rest[: m.start()].strip()
    if not label:
        return rest, None
    return label, Decimal(m.group("n") or m.group("m"))
