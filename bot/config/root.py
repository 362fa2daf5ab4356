"""The root `Config`: the whole config.yaml validated once, its lookups, and the checks across sections."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.config.behaviour import BackendSync, BotSettings, ChainSettings, FaqEntry, Limits, QuestionSettings, WeChat
from bot.config.catalogue import Buy, Group, Product
from bot.config.posts import Column, FlashSale, Nudges, QuietHours, Reminders, column_product_placeholders
from bot.config.section import Finding, PathKey
from bot.config.values import DEFAULT_TIMEZONE, WEEKDAY_NAMES_ZH, cron_trigger, current_timezone, format_offset

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
    errors.extend(duplicates(config.model_dump(include=set(_UNIQUE_KEYS) | {"catalogue"})))


_UNIQUE_KEYS = {
    "groups": (("name", "group name"), ("room_id", "room_id")),
    "buys": (("id", "buy id"),),
    "columns": (("name", "column name"),),
    "flash_sales": (("id", "flash sale id"),),
}


def _entries(data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [e if isinstance(e, Mapping) else {} for e in value]


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def duplicates(data: Mapping[str, Any]) -> list[Finding]:
    """Products, aliases, group names, room ids, buy, column and flash sale ids given twice. Works on the raw
    YAML data as well as on a validated config's dump, so a duplicate is reported even when a field error
    elsewhere stops the other checks."""
    errors: list[Finding] = []
    catalogue = _entries(data, "catalogue")
    owner: dict[str, int] = {}
    for i, product in enumerate(catalogue):
        name = _text(product.get("name"))
        if name is None:
            continue
        if name in owner:
            j = owner[name]
            errors.append(Finding(("catalogue", i, "name"), f"duplicate product {name} (also catalogue[{j}])"))
        owner.setdefault(name, i)
    for i, product in enumerate(catalogue):
        aliases = product.get("aliases") or []
        for k, alias in enumerate(aliases if isinstance(aliases, list) else [aliases]):
            alias = _text(alias)
            if alias is None:
                continue
            j = owner.setdefault(alias, i)
            if j != i:
                name = _text(catalogue[j].get("name")) or alias
                message = f"alias {alias} already names catalogue[{j}] ({name})"
                errors.append(Finding(("catalogue", i, "aliases", k), message))
    for section, keys in _UNIQUE_KEYS.items():
        entries = _entries(data, section)
        for key, what in keys:
            seen: dict[str, int] = {}
            for i, entry in enumerate(entries):
                value = _text(entry.get(key))
                if value is None:
                    continue
                if value in seen:
                    errors.append(
                        Finding((section, i, key), f"duplicate {what} {value} (also {section}[{seen[value]}])")
                    )
                seen.setdefault(value, i)
    return errors


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

    def check_product(path: PathKey, name: str, found: list[Finding] = warnings) -> bool:
        if config.product(name) is None:
            message = f"unknown product {name}{_hint(name, product_names)}: not in the catalogue"
            found.append(Finding((*path, "product"), message))
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
        key = "text" if column.text is not None else "file"
        for kind, name in column_product_placeholders(column.read_text()):
            if config.product(name) is None:
                message = (
                    f"unknown product {name} in {{{kind}:{name}}}{_hint(name, product_names)}: not in the catalogue"
                )
                errors.append(Finding(("columns", i, key), message))
    for i, sale in enumerate(config.flash_sales):
        check_groups(("flash_sales", i), sale.groups)
        # a sale of a product the catalogue does not know has no unit, and 接龙 lines cannot name it: refused
        check_product(("flash_sales", i), sale.product, errors)


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
