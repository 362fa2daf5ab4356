"""The validated shape of config.yaml: pydantic models, one per section, plus the cross-reference checks."""

from __future__ import annotations

import datetime as dt
import difflib
import string
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config.values import (
    DEFAULT_TIMEZONE,
    WEEKDAY_NAMES_ZH,
    AwareDatetime,
    CronExpr,
    Duration,
    GroupsSpec,
    Offset,
    Price,
    SendSpacing,
    coerce_weekly,
    cron_trigger,
    current_base_dir,
    current_timezone,
    format_offset,
    one_or_many,
    parse_clock,
)

PathKey = tuple[str | int, ...]


class Finding(NamedTuple):
    """A problem found across sections, located by its path in the YAML (the loader maps it to a line)."""

    path: PathKey
    message: str


def at_field(field: str | PathKey, message: str) -> PydanticCustomError:
    """An error raised by a model validator that belongs to one of the model's keys, not to the whole mapping."""
    path = (field,) if isinstance(field, str) else field
    return PydanticCustomError("at_field", "{message}", {"message": message, "field": path})


def _no_colon(value: str) -> str:
    if ":" in value or not value.strip():
        raise ValueError(f"must be non-empty and hold no ':' (it is part of job ids), got {value!r}")
    return value


# Buy ids, flash sale ids and column names are parts of job ids such as "cutoff:{buy_id}:{group}".
JobKey = Annotated[str, AfterValidator(_no_colon)]


class _Section(BaseModel):
    # coerce_numbers_to_str: an alias such as 99 or a room id written without quotes is still text.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class BotSettings(_Section):
    name: str = Field(default="小团", min_length=1, description="members @ the bot by this name")


class QuietHours(_Section):
    """A daily window, written "22:00-08:00"; it may wrap past midnight."""

    start: dt.time
    end: dt.time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            for sep in ("-", "~", "～", "至", "到"):
                if sep in value:
                    a, b = value.split(sep, 1)
                    return {"start": parse_clock(a), "end": parse_clock(b)}
            raise ValueError(f'expected a window like "22:00-08:00", got {value!r}')
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return parse_clock(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time")
        return self

    def contains(self, t: dt.time) -> bool:
        t = t.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    @property
    def length(self) -> dt.timedelta:
        day = dt.date(2000, 1, 1)
        span = dt.datetime.combine(day, self.end) - dt.datetime.combine(day, self.start)
        return span if span > dt.timedelta(0) else span + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Limits(_Section):
    """The one sender's limits (anti-ban)."""

    per_group_per_minute: int = Field(default=6, ge=1)
    per_account_per_minute: int = Field(default=20, ge=1)
    same_text_window: Duration = dt.timedelta(minutes=10)
    send_spacing: SendSpacing = Field(default=(0.3, 1.2), description='random pause between two sends, "0.3s-1.2s"')


class Product(_Section):
    name: str = Field(min_length=1)
    aliases: Annotated[list[str], BeforeValidator(one_or_many)] = []
    unit: str = Field(min_length=1)
    price: Price
    spec: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class Pickup(_Section):
    place: str
    time: str


class Group(_Section):
    name: str = Field(min_length=1, description="matched against the room topic")
    room_id: str | None = None
    leaders: Annotated[list[str], BeforeValidator(one_or_many), Field(description="display names or wxids")] = []
    pickup: Pickup | None = None


class BuyItem(_Section):
    product: str
    price: Price | None = Field(default=None, description="defaults to the catalogue price")
    stock: int | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, description="defaults to the catalogue unit")


class LadderTier(_Section):
    members: int = Field(ge=1)
    price: Price


class Buy(_Section):
    id: JobKey
    title: str
    groups: GroupsSpec
    items: list[BuyItem] = Field(min_length=1)
    opens: AwareDatetime | None = None
    cutoff: AwareDatetime | None = None
    arrival: AwareDatetime | None = None
    min_members: int | None = Field(default=None, ge=1)
    ladder: list[LadderTier] = []
    example: str | None = Field(default=None, description="the 例 line the leader wants shown")

    @model_validator(mode="after")
    def _consistent(self) -> Buy:
        if self.opens and self.cutoff and self.cutoff <= self.opens:
            raise at_field(
                "cutoff", f"cutoff {self.cutoff:%Y-%m-%d %H:%M} is not after opens {self.opens:%Y-%m-%d %H:%M}"
            )
        for i in range(1, len(self.ladder)):
            if self.ladder[i].members <= self.ladder[i - 1].members:
                raise at_field(("ladder", i, "members"), "ladder tiers must have strictly increasing members")
        return self


class WeeklyTime(_Section):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    time: dt.time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return coerce_weekly(value)

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES_ZH[self.weekday]} {self.time:%H:%M}"


class Column(_Section):
    name: JobKey
    groups: GroupsSpec
    at: WeeklyTime | None = None
    cron: CronExpr | None = None
    text: str | None = None
    file: str | None = Field(default=None, description="relative to the config file's directory")

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _exactly_one(self) -> Column:
        if self.at is not None and self.cron is not None:
            raise at_field("cron", "give either at: or cron:, not both")
        if self.at is None and self.cron is None:
            raise ValueError("a column needs at: (weekly time) or cron:")
        if self.text is not None and self.file is not None:
            raise at_field("file", "give either text: or file:, not both")
        if self.text is None and self.file is None:
            raise ValueError("a column needs text: or file:")
        if self.file is not None:
            path = (current_base_dir.get() or Path.cwd()) / self.file
            if not path.is_file():
                raise at_field("file", f"file not found: {path}")
            try:
                path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise at_field("file", f"cannot read {path}: {exc}") from None
            self._path = path.resolve()
        return self

    @property
    def file_path(self) -> Path | None:
        """The resolved `file:`, or None for an inline `text:`."""
        return self._path

    def read_text(self) -> str:
        """The column's template: the inline text, or the file read now (so edits show up without a reload)."""
        if self._path is not None:
            return self._path.read_text(encoding="utf-8")
        return self.text or ""


class FlashSale(_Section):
    id: JobKey
    product: str
    price: Price
    stock: int = Field(ge=0)
    groups: GroupsSpec
    start: AwareDatetime
    end: AwareDatetime
    alerts: list[Offset] = Field(default_factory=lambda: [dt.timedelta(0)], description="offsets from start")

    @model_validator(mode="after")
    def _end_after_start(self) -> FlashSale:
        if self.end <= self.start:
            raise at_field("end", f"end {self.end:%Y-%m-%d %H:%M} is not after start {self.start:%Y-%m-%d %H:%M}")
        return self


class Reminders(_Section):
    cutoff: list[Offset] = Field(default=[], description="offsets from each buy's cutoff; negative = before")


class Nudges(_Section):
    """Event-driven "仅差N人成团" nudges, sent when a buy is this close to min_members or the next ladder tier."""

    when_missing: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    cooldown: Duration
    text: str

    @field_validator("text")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad placeholder: {exc}") from None
        unknown = sorted(names - {"missing", "title"})
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {{missing}} and {{title}}")
        return value


class FaqEntry(_Section):
    question: Annotated[list[str], BeforeValidator(one_or_many), Field(min_length=1)]
    answer: str


class ChainSettings(_Section):
    """How the bot confirms 接龙 orders (an extra section; the contract does not name it)."""

    digest_every: Duration = dt.timedelta(minutes=3)  # at most one confirmation digest per group this often


DEFAULT_AFTER_SALES = "抱歉给您添麻烦了!请把{what}的照片发到群里,写明数量,团长核实后给您补发或退款。"


class QuestionSettings(_Section):
    """How the bot answers members (an extra section)."""

    after_sales: str = Field(
        default=DEFAULT_AFTER_SALES, min_length=1, description="the reply to a complaint; {what} = product"
    )
    when_unsure: Literal["silence", "leader_note"] = Field(
        default="silence", description="a question the bot is not sure of: say nothing, or ask the leader in the group"
    )

    @field_validator("after_sales")
    @classmethod
    def _only_what(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad placeholder: {exc}") from None
        if names - {"what"}:
            raise ValueError(f"unknown placeholder {{{sorted(names - {'what'})[0]}}}; use {{what}} (the product)")
        return value


class BackendSync(_Section):
    """Where order changes are sent (an extra section): the token comes from TUANBOT_BACKEND_TOKEN, never the file."""

    url: str = Field(min_length=1, description="the backend's base URL, e.g. http://127.0.0.1:8080")


class WeChat(_Section):
    endpoint: str | None = None
    token: str | None = None


# Sections a leader may leave empty (`faq:` with every entry commented out) and still mean "the default".
_DEFAULTED_SECTIONS = (
    "questions",
    "bot",
    "limits",
    "chain",
    "catalogue",
    "groups",
    "buys",
    "columns",
    "flash_sales",
    "reminders",
    "faq",
)


class Config(BaseModel):
    """The whole config.yaml, validated once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = DEFAULT_TIMEZONE
    bot: BotSettings = BotSettings()
    quiet_hours: QuietHours | None = Field(
        default=None, description="no nudges and no reminders inside; answers, columns and flash alerts still go out"
    )
    limits: Limits = Limits()
    catalogue: list[Product] = []
    groups: list[Group] = []
    buys: list[Buy] = []
    columns: list[Column] = []
    flash_sales: list[FlashSale] = []
    reminders: Reminders = Reminders()
    nudges: Nudges | None = None
    faq: list[FaqEntry] = []
    chain: ChainSettings = ChainSettings()
    questions: QuestionSettings = QuestionSettings()
    database: str | None = Field(default=None, description="SQLAlchemy URL")
    redis: str | None = Field(default=None, description="redis:// URL shared by several bot processes (optional)")
    backend: BackendSync | None = None
    wechat: WeChat | None = None
    source: Path | None = Field(default=None, exclude=True, description="the file it was loaded from; not a YAML key")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if _zone(value) is None:
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"unknown timezone {value!r}{hint}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: ModelWrapValidatorHandler[Config]) -> Config:
        tz = None
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if not (v is None and k in _DEFAULTED_SECTIONS)}
            tz = _zone(data.get("timezone", DEFAULT_TIMEZONE))
        token = current_timezone.set(tz)
        try:
            config = handler(data)
        finally:
            current_timezone.reset(token)
        errors, _ = cross_check(config)
        if errors:
            raise PydanticCustomError(
                "config_conflicts", "{summary}", {"summary": "; ".join(f.message for f in errors), "findings": errors}
            )
        return config._with_item_defaults()

    def _with_item_defaults(self) -> Config:
        buys = []
        for buy in self.buys:
            items = []
            for item in buy.items:
                product = self.product(item.product)
                if product is not None and (item.price is None or item.unit is None):
                    item = item.model_copy(
                        update={"price": item.price or product.price, "unit": item.unit or product.unit}
                    )
                items.append(item)
            buys.append(buy.model_copy(update={"items": items}))
        return self.model_copy(update={"buys": buys})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def in_quiet_hours(self, moment: dt.datetime) -> bool:
        if self.quiet_hours is None:
            return False
        local = moment.astimezone(self.tz) if moment.tzinfo else moment
        return self.quiet_hours.contains(local.time())

    def groups_of(self, groups: list[str] | Literal["all"]) -> list[Group]:
        """The configured groups a `groups:` value names; "all" = every configured group; unknown names are dropped."""
        if groups == "all":
            return list(self.groups)
        found = (self.group(name) for name in groups)
        return [g for g in found if g is not None]

    def product(self, name_or_alias: str) -> Product | None:
        """The catalogue product with this exact name, else the one with this alias."""
        key = name_or_alias.strip()
        for product in self.catalogue:
            if product.name == key:
                return product
        for product in self.catalogue:
            if key in product.aliases:
                return product
        return None

    def group(self, name_or_room_id: str) -> Group | None:
        for group in self.groups:
            if group.name == name_or_room_id or (group.room_id is not None and group.room_id == name_or_room_id):
                return group
        return None

    def buy(self, buy_id: str) -> Buy | None:
        return next((b for b in self.buys if b.id == buy_id), None)


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------------------------- cross-reference checks


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _at(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def cross_check(config: Config) -> tuple[list[Finding], list[Finding]]:
    """Checks across sections: (errors, warnings), each located by YAML path."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    _check_unique(config, errors)
    _check_references(config, errors, warnings)
    _check_times(config, warnings)
    return errors, warnings


def _check_unique(config: Config, errors: list[Finding]) -> None:
    owner: dict[str, int] = {}
    for i, product in enumerate(config.catalogue):
        if product.name in owner:
            j = owner[product.name]
            errors.append(Finding(("catalogue", i, "name"), f"duplicate product {product.name} (also catalogue[{j}])"))
        owner.setdefault(product.name, i)
    for i, product in enumerate(config.catalogue):
        for k, alias in enumerate(product.aliases):
            j = owner.setdefault(alias, i)
            if j != i:
                message = f"alias {alias} already names catalogue[{j}] ({config.catalogue[j].name})"
                errors.append(Finding(("catalogue", i, "aliases", k), message))

    def unique(section: str, key: str, values: list[str | None], what: str) -> None:
        seen: dict[str, int] = {}
        for i, value in enumerate(values):
            if value is None:
                continue
            if value in seen:
                errors.append(Finding((section, i, key), f"duplicate {what} {value} (also {section}[{seen[value]}])"))
            seen.setdefault(value, i)

    unique("groups", "name", [g.name for g in config.groups], "group name")
    unique("groups", "room_id", [g.room_id for g in config.groups], "room_id")
    unique("buys", "id", [b.id for b in config.buys], "buy id")
    unique("columns", "name", [c.name for c in config.columns], "column name")
    unique("flash_sales", "id", [f.id for f in config.flash_sales], "flash sale id")


def _check_references(config: Config, errors: list[Finding], warnings: list[Finding]) -> None:
    product_names = [n for p in config.catalogue for n in p.names]
    group_names = [g.name for g in config.groups]

    def check_groups(path: PathKey, groups: list[str] | Literal["all"]) -> None:
        if groups == "all":
            if not config.groups:
                warnings.append(Finding((*path, "groups"), "groups: all, but no groups are configured"))
            return
        for k, name in enumerate(groups):
            if config.group(name) is None:
                message = f"unknown group {name}{_hint(name, group_names)}: not in groups:, so nothing is sent there"
                warnings.append(Finding((*path, "groups", k), message))

    def check_product(path: PathKey, name: str) -> bool:
        if config.product(name) is None:
            message = f"unknown product {name}{_hint(name, product_names)}: not in the catalogue"
            warnings.append(Finding((*path, "product"), message))
            return False
        return True

    for i, buy in enumerate(config.buys):
        check_groups(("buys", i), buy.groups)
        for j, item in enumerate(buy.items):
            if not check_product(("buys", i, "items", j), item.product) and item.price is None:
                message = f"no price: {item.product} is not in the catalogue, so give price:"
                errors.append(Finding(("buys", i, "items", j), message))
    for i, column in enumerate(config.columns):
        check_groups(("columns", i), column.groups)
    for i, sale in enumerate(config.flash_sales):
        check_groups(("flash_sales", i), sale.groups)
        check_product(("flash_sales", i), sale.product)


_REFERENCE_WEEK = dt.datetime(2026, 1, 5)  # a Monday: weekly and cron firings are sampled from here
_MAX_CRON_SAMPLES = 2000


def _check_times(config: Config, warnings: list[Finding]) -> None:
    quiet = config.quiet_hours
    tz = config.tz
    for i, buy in enumerate(config.buys):
        if buy.arrival and buy.cutoff and buy.arrival < buy.cutoff:
            warnings.append(Finding(("buys", i, "arrival"), f"arrival {_at(buy.arrival)} is before the cutoff"))
        for t in range(1, len(buy.ladder)):
            if buy.ladder[t].price >= buy.ladder[t - 1].price:
                warnings.append(Finding(("buys", i, "ladder", t, "price"), "a bigger tier should have a lower price"))
    for k, offset in enumerate(config.reminders.cutoff):
        for buy in config.buys:
            if buy.cutoff is None:
                continue
            moment = buy.cutoff + offset
            if buy.opens and moment < buy.opens:
                message = (
                    f"the {format_offset(offset)} reminder for {buy.id} ({_at(moment)}) is before it opens; skipped"
                )
                warnings.append(Finding(("reminders", "cutoff", k), message))
            elif quiet and quiet.contains(moment.astimezone(tz).time()):
                message = (
                    f"the {format_offset(offset)} reminder for {buy.id} falls at {_at(moment)}, "
                    f"inside quiet_hours {quiet}; it will not be sent"
                )
                warnings.append(Finding(("reminders", "cutoff", k), message))
    if quiet is None:
        return
    for i, column in enumerate(config.columns):
        firing = _column_quiet_firing(column, quiet, tz)
        if firing is not None:
            key = "at" if column.at is not None else "cron"
            message = f"fires at {firing}, inside quiet_hours {quiet} (it still goes out)"
            warnings.append(Finding(("columns", i, key), message))
    for i, sale in enumerate(config.flash_sales):
        for k, offset in enumerate(sale.alerts):
            moment = sale.start + offset
            if quiet.contains(moment.astimezone(tz).time()):
                message = f"alert at {_at(moment)} is inside quiet_hours {quiet} (it still goes out)"
                warnings.append(Finding(("flash_sales", i, "alerts", k), message))
    if config.nudges is not None:
        free = dt.timedelta(days=1) - quiet.length
        if free < dt.timedelta(hours=1):
            message = f"quiet_hours {quiet} leave only {int(free.total_seconds() // 60)} minutes a day for nudges"
            warnings.append(Finding(("nudges",), message))
        for buy in config.buys:
            nudged = buy.min_members is not None or buy.ladder
            if nudged and buy.opens and buy.cutoff and _always_quiet(buy.opens, buy.cutoff, quiet, tz):
                message = f"buy {buy.id} is open only inside quiet_hours {quiet}; its nudges can never be sent"
                warnings.append(Finding(("nudges",), message))


def _column_quiet_firing(column: Column, quiet: QuietHours, tz: ZoneInfo) -> str | None:
    if column.at is not None:
        return str(column.at) if quiet.contains(column.at.time) else None
    assert column.cron is not None
    trigger = cron_trigger(column.cron, tz)
    start = _REFERENCE_WEEK.replace(tzinfo=tz)
    moment = trigger.get_next_fire_time(None, start)
    for _ in range(_MAX_CRON_SAMPLES):
        if moment is None or moment - start > dt.timedelta(days=366):
            return None
        if quiet.contains(moment.time()):
            return f"{WEEKDAY_NAMES_ZH[moment.weekday()]} {moment:%H:%M}"
        moment = trigger.get_next_fire_time(moment, moment)
    return None


def _always_quiet(opens: dt.datetime, cutoff: dt.datetime, quiet: QuietHours, tz: ZoneInfo) -> bool:
    if cutoff - opens >= quiet.length:
        return False
    moment = opens
    while moment < cutoff:
        if not quiet.contains(moment.astimezone(tz).time()):
            return False
        moment += dt.timedelta(minutes=1)
    return True


__all__ = [
    "Buy",
    "BuyItem",
    "BotSettings",
    "Column",
    "Config",
    "FaqEntry",
    "Finding",
    "FlashSale",
    "Group",
    "LadderTier",
    "Limits",
    "Nudges",
    "Pickup",
    "Product",
    "QuietHours",
    "Reminders",
    "WeChat",
    "WeeklyTime",
    "cross_check",
]
