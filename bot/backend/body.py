"""What a POST /api/orders body may carry: a pydantic model with the ranges the store can hold, and one message.

Every value is checked before it reaches the database, so that a body the store cannot hold is a 422 naming the
field, never a 500 from the driver:
- `version` is a whole number from 1 to 2^31 - 1 (the column is a 32-bit INTEGER on PostgreSQL; SQLite would take
  up to 2^63 - 1, but one rule holds for both);
- text never holds NUL or an unpaired surrogate (PostgreSQL refuses the first, no UTF-8 encoder takes the second:
  neither can be written by a WeChat member, so they are refused, not cleaned); ids (group, buy, member, order_ref,
  product, unit) hold no control characters either (a CR/LF in a buy id would end up in the export's headers);
- `qty` is positive, finite, at most a million, and a whole number of its unit's steps (`units.qty_step`: halves of
  anything, tenths of 斤/kg, whole grams).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr
from pydantic import ValidationError as PydanticError

from bot.domain.summary import fmt_qty
from bot.domain.units import qty_allowed, qty_step

STATUSES = ("active", "waiting", "cancelled")
MAX_QTY = Decimal(1_000_000)  # a chain line is never a million boxes; bigger is a typo or an attack on the sums
VERSION_MAX = 2**31 - 1  # backend_orders.version is INTEGER: 32 bits on PostgreSQL
# Column sizes of storage.models.BackendOrder / BackendRequest.
KEY_MAX = 200
_TEXT_MAX = {"group": 200, "buy": 100, "member": 200, "participant": 500, "order_ref": 200}
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidOrder(ValueError):
    """A POST body that is not an order; `field` names the offending part (`items[0].qty`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def unstorable(text: str) -> str | None:
    """What in `text` no store can hold (NUL, an unpaired surrogate), or None."""
    m = _UNSTORABLE.search(text)
    if m is None:
        return None
    return "NUL" if m.group() == "\x00" else f"an unpaired surrogate (U+{ord(m.group()):04X})"


def _free_text(value: str) -> str:
    bad = unstorable(value)
    if bad is not None:
        raise ValueError(f"must not contain {bad}")
    return value.strip()


def _id_text(value: str) -> str:
    value = _free_text(value)
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs)")
    return value


def _limited(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value

    return AfterValidator(check)


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _qty(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    try:
        qty = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"must be a number, got {value!r}") from None
    if not qty.is_finite():
        raise ValueError(f"must be a finite number, got {value!r}")
    if qty <= 0:
        raise ValueError(f"must be positive, got {value!r}")
    if qty > MAX_QTY:
        raise ValueError(f"is implausibly large ({value!r})")
    return qty


IdText = Annotated[StrictStr, AfterValidator(_id_text)]
Required = AfterValidator(_not_empty)
GroupText = Annotated[IdText, _limited(_TEXT_MAX["group"]), Required]
BuyText = Annotated[IdText, _limited(_TEXT_MAX["buy"]), Required]
MemberText = Annotated[IdText, _limited(_TEXT_MAX["member"]), Required]
RefText = Annotated[IdText, _limited(_TEXT_MAX["order_ref"])]
FreeText = Annotated[StrictStr, AfterValidator(_free_text)]


class _ItemBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    product: Annotated[IdText, Required]
    qty: Annotated[Decimal, BeforeValidator(_qty)]
    unit: IdText | None = None


class _OrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    group: GroupText
    buy: BuyText
    member: MemberText
    participant: Annotated[FreeText, _limited(_TEXT_MAX["participant"])] | None = None
    items: list[_ItemBody]
    remark: FreeText | None = None
    status: Literal["active", "waiting", "cancelled"] = "active"
    order_ref: RefText | None = None
    version: Annotated[StrictInt, Field(ge=1, le=VERSION_MAX)] = 1


@dataclass(frozen=True)
class OrderItem:
    product: str
    qty: Decimal
    unit: str | None


@dataclass(frozen=True)
class OrderIn:
    """A validated POST body, defaults applied."""

    group: str
    buy: str
    member: str
    participant: str
    items: tuple[OrderItem, ...]
    remark: str
    status: str
    order_ref: str | None
    version: int

    def fingerprint(self) -> str:
        data = asdict(self)
        data["items"] = [{"product": i.product, "qty": fmt_qty(i.qty), "unit": i.unit} for i in self.items]
        canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for seg in loc:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _problem(exc: PydanticError) -> InvalidOrder:
    """The first thing wrong, said the way a sender can fix it."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    where, kind, value = _where(loc), err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        message = f"missing field {where!r}"
    elif kind == "value_error":
        message = f"{where!r} {ctx.get('error', err['msg'])}"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"{where!r} must be an object with product, qty, unit"
    elif kind == "list_type":
        message = f"{where!r} must be a list, not {type(value).__name__}"
    elif kind == "string_type":
        message = f"{where!r} must be a string, not {type(value).__name__}"
    elif kind == "literal_error":
        message = f"'status' must be one of {', '.join(STATUSES)}, got {value!r}"
    elif where == "version":
        message = f"'version' must be a whole number from 1 to {VERSION_MAX}, got {value!r}"
    else:
        message = f"{where!r}: {err['msg']}"
    return InvalidOrder(message, where or None)


def parse_order(body: Any) -> OrderIn:
    """The order a POST body describes, or InvalidOrder saying what is wrong with it."""
    if not isinstance(body, dict):
        raise InvalidOrder(f"the body must be a JSON object, not {type(body).__name__}")
    if body.get("items") is None:
        body = {k: v for k, v in body.items() if k != "items"}  # null is as missing
    try:
        parsed = _OrderBody.model_validate(body)
    except PydanticError as exc:
        raise _problem(exc) from None
    for i, item in enumerate(parsed.items):
        if not qty_allowed(item.qty, item.unit):
            where = f"items[{i}].qty"
            step = fmt_qty(qty_step(item.unit))
            raise InvalidOrder(
                f"{where!r} {fmt_qty(item.qty)} is not a quantity of {item.unit or 'a unit'}: order in steps of {step}",
                where,
            )
    return OrderIn(
        group=parsed.group,
        buy=parsed.buy,
        member=parsed.member,
        participant=parsed.participant or parsed.member,
        items=tuple(OrderItem(i.product, i.qty, i.unit or None) for i in parsed.items),
        remark=parsed.remark or "",
        status=parsed.status,
        order_ref=parsed.order_ref or None,
        version=parsed.version,
    )
