"""Parsers for the value formats a leader writes in config.yaml: offsets, durations, weekly times, cron, prices."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import BeforeValidator, Field, PlainValidator

DEFAULT_TIMEZONE = "Asia/Shanghai"

# The timezone and base directory of the config being validated. Set by `Config`'s wrap validator so that nested
# models (a buy's `opens`, a column's `file`) can be validated without threading them through every constructor.
current_timezone: ContextVar[ZoneInfo | None] = ContextVar("current_timezone", default=None)
current_base_dir: ContextVar[Path | None] = ContextVar("current_base_dir", default=None)


def active_timezone() -> ZoneInfo:
    return current_timezone.get() or ZoneInfo(DEFAULT_TIMEZONE)


# ---------------------------------------------------------------------------------------------------------- durations

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPAN_RE = re.compile(r"(\d+)\s*([smhd])")
_OFFSET_RE = re.compile(r"^([+-])?\s*((?:\d+\s*[smhd]\s*)+)$")


def _span(body: str) -> timedelta:
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _SPAN_RE.findall(body))
    return timedelta(seconds=seconds)


def parse_offset(value: object) -> timedelta:
    """ "-10m", "-2h", "0", "+5m", "-1h30m" -> a signed timedelta (negative = before)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"0", "+0", "-0"}:
            return timedelta(0)
        m = _OFFSET_RE.match(text)
        if m:
            span = _span(m.group(2))
            return -span if m.group(1) == "-" else span
    raise ValueError(f"expected an offset like -10m, -2h, 0 or +5m, got {value!r}")


def parse_duration(value: object) -> timedelta:
    """ "30s", "10m", "2h", "1d", "1h30m" -> a positive timedelta."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError("expected a positive duration")
        return value
    if isinstance(value, str):
        m = _OFFSET_RE.match(value.strip().lower())
        if m and m.group(1) is None:
            span = _span(m.group(2))
            if span > timedelta(0):
                return span
    raise ValueError(f"expected a duration like 30s, 10m, 2h or 1d, got {value!r}")


def format_offset(offset: timedelta) -> str:
    """The canonical spelling of an offset, as used in job ids: "-10m", "0", "+5m", "-1h30m"."""
    total = int(offset.total_seconds())
    if total == 0:
        return "0"
    sign = "-" if total < 0 else "+"
    rest = abs(total)
    parts = []
    for unit in ("d", "h", "m", "s"):
        n, rest = divmod(rest, _UNIT_SECONDS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return sign + "".join(parts)


def parse_send_spacing(value: object) -> tuple[float, float]:
    """ "0.3s-1.2s" (or "1s", or [0.3, 1.2]) -> (low, high) seconds of random pause between two sends."""
    numbers: list[float] | None = None
    if isinstance(value, list | tuple) and len(value) == 2 and all(_is_number(v) for v in value):
        numbers = [float(v) for v in value]
    elif _is_number(value):
        numbers = [float(value), float(value)]  # type: ignore[arg-type]
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*s?\s*(?:-\s*(\d+(?:\.\d+)?)\s*s?\s*)?", value)
        if m:
            low = float(m.group(1))
            numbers = [low, float(m.group(2)) if m.group(2) else low]
    if numbers is None:
        raise ValueError(f"expected a pause range like 0.3s-1.2s, got {value!r}")
    low, high = numbers
    if low < 0 or high < low:
        raise ValueError(f"expected low <= high and both >= 0, got {value!r}")
    return (low, high)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------------- clock and dates

_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_clock(text: str) -> time:
    """ "09:00" / "9:00" -> datetime.time."""
    m = _TIME_RE.match(text.strip())
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"expected a time of day like 09:00, got {text!r}")


def parse_datetime(value: object) -> datetime:
    """ "YYYY-MM-DD HH:MM" (or a YAML timestamp) -> an aware datetime in the config's timezone."""
    tz = active_timezone()
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=tz)
            except ValueError:
                continue
    if isinstance(value, date):
        raise ValueError(f"expected a date and time like 2026-11-26 09:00, got only a date ({value})")
    raise ValueError(f"expected a date and time like 2026-11-26 09:00, got {value!r}")


# -------------------------------------------------------------------------------------------------------- weekly time

WEEKDAY_NAMES_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAY_WORDS: dict[str, int] = {}
for _i, _zh in enumerate("一二三四五六日"):
    for _prefix in ("周", "星期", "礼拜"):
        _WEEKDAY_WORDS[_prefix + _zh] = _i
for _prefix in ("周", "星期", "礼拜"):
    _WEEKDAY_WORDS[_prefix + "天"] = 6
for _i, _en in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")):
    _WEEKDAY_WORDS[_en] = _i
    _WEEKDAY_WORDS[_en[:3]] = _i
_WEEKDAY_WORDS.update({"tues": 1, "thur": 3, "thurs": 3})


_DAILY_WORDS = frozenset({"每天", "每日", "天天", "daily", "everyday", "every day"})


def parse_weekly(value: object) -> tuple[int | None, time]:
    """ "周一 09:00", "星期日 21:30", "mon 09:00", "Friday 19:30" -> (weekday 0=Mon, time);
    "每天 07:45", "daily 07:45" -> (None, time): every day."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([^\d]+?)\s*(\d{1,2}[:：]\d{2})\s*", value)
        word = " ".join(m.group(1).lower().split()) if m else ""
        if m and word in _DAILY_WORDS:
            return None, parse_clock(m.group(2))
        if m and word in _WEEKDAY_WORDS:
            return _WEEKDAY_WORDS[word], parse_clock(m.group(2))
    raise ValueError(
        f"expected a weekly time like 周一 09:00 or mon 09:00, or a daily one like 每天 07:45 or daily 07:45, "
        f'got {value!r}; for any other pattern use cron: instead of at: (e.g. cron: "45 7 * * mon-fri" '
        "for weekdays at 07:45)"
    )


# --------------------------------------------------------------------------------------------------------------- cron

_CRON_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # standard crontab numbering: 0 (and 7) = Sunday


def _standard_dow(field: str) -> str:
    """Rewrite numeric day-of-week values in crontab numbering (0/7 = Sunday) as names.

    APScheduler 3 numbers weekdays from Monday = 0 (its own docs call this a historical mistake), so a leader's
    "0 9 * * 1" would fire on Tuesdays. Names mean the same thing to both, so numbers are turned into names.
    """
    if not any(c.isdigit() for c in field):
        return field
    days: list[int] = []
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                low, high = 0, 6
            elif "-" in body:
                a, b = body.split("-", 1)
                low, high = int(a), int(b)
            else:
                low = int(body)
                high = 6 if step_text else low
        except ValueError:  # a name mixed with a number, such as "mon-5"
            raise ValueError(f"bad day of week {part!r}: use 0-7 (0 and 7 = Sunday) or sun-sat") from None
        if not (0 <= low <= 7 and 0 <= high <= 7) or low > high or step < 1:
            raise ValueError(f"bad day of week {part!r}: use 0-7 (0 and 7 = Sunday) or sun-sat")
        days.extend(d % 7 for d in range(low, high + 1, step))
    return ",".join(_CRON_DOW_NAMES[d] for d in sorted(set(days)))


def cron_trigger(expr: str, timezone: tzinfo | str) -> CronTrigger:
    """A five-field crontab expression -> CronTrigger, with crontab's weekday numbering (0 and 7 = Sunday)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected five cron fields (minute hour day month weekday), got {len(fields)}")
    fields[4] = _standard_dow(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def validate_cron(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'expected a cron expression like "30 19 * * fri", got {value!r}')
    try:
        cron_trigger(value, active_timezone())
    except ValueError as exc:
        raise ValueError(f"bad cron expression {value!r}: {exc}") from exc
    return " ".join(value.split())


# ------------------------------------------------------------------------------------------------------ money, lists


def to_decimal(value: object) -> object:
    """YAML floats such as 39.9 become Decimal("39.9"), not the binary float's expansion; "¥39.9" and "39.9元" too."""
    if isinstance(value, bool):
        return value  # let pydantic reject it
    if isinstance(value, float | int):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
        try:
            return Decimal(text)
        except InvalidOperation:
            return value
    return value


def parse_groups(value: object) -> list[str] | Literal["all"]:
    """`all`, a list of group names, or one group name."""
    if value == "all":
        return "all"
    if isinstance(value, str) and value.strip():
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str | int) and str(v).strip() for v in value):
        return [str(v) for v in value]
    raise ValueError(f"expected all or a list of group names, got {value!r}")


def one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


Offset = Annotated[timedelta, PlainValidator(parse_offset)]
Duration = Annotated[timedelta, PlainValidator(parse_duration)]
AwareDatetime = Annotated[datetime, PlainValidator(parse_datetime)]
Price = Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0, decimal_places=2)]
GroupsSpec = Annotated[list[str] | Literal["all"], PlainValidator(parse_groups)]
SendSpacing = Annotated[tuple[float, float], PlainValidator(parse_send_spacing)]
CronExpr = Annotated[str, PlainValidator(validate_cron)]


def coerce_weekly(value: Any) -> Any:
    if isinstance(value, str):
        weekday, clock = parse_weekly(value)
        return {"weekday": weekday, "time": clock}
    return value
