"""What the bot posts on its own and when: columns, flash sales, cutoff reminders, nudges, and quiet hours."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from bot.config.section import JobKey, Section, at_field
from bot.config.values import (
    WEEKDAY_NAMES_ZH,
    AwareDatetime,
    CronExpr,
    Duration,
    GroupsSpec,
    Offset,
    Price,
    coerce_weekly,
    current_base_dir,
    parse_clock,
)


class QuietHours(Section):
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


class WeeklyTime(Section):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    time: dt.time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return coerce_weekly(value)

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES_ZH[self.weekday]} {self.time:%H:%M}"


class Column(Section):
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


class FlashSale(Section):
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


class Reminders(Section):
    cutoff: list[Offset] = Field(default=[], description="offsets from each buy's cutoff; negative = before")


class Nudges(Section):
    """Event-driven "仅差N人成团" nudges, sent when a buy is this close to min_members or the next ladder tier."""

    when_missing: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    cooldown: Duration
    text: str
    # A buy already formed (or a ladder buy without min_members) is nudged toward its next price tier, never with
    # the 成团 text: it has nothing left to form.
    tier_text: str = "再{missing}人全团降到{price}元!{title} 快来接龙~"

    @field_validator("text", "tier_text")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        allowed = {"missing", "title"} | ({"price"} if info.field_name == "tier_text" else set())
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad placeholder: {exc}") from None
        unknown = sorted(names - allowed)
        if unknown:
            names_ = [f"{{{n}}}" for n in sorted(allowed)]
            known = ", ".join(names_[:-1]) + " and " + names_[-1]
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {known}")
        return value
