"""A time as a leader types it on the phone (`周五20:00`, `今晚8点`, `明天中午12点`, `12月5日 20:00`), pure: the
text and "now" in, an aware datetime out (None when it is not a time). The clock part is the config's
`parse_clock`."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta

from bot.config.values import parse_clock

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_WEEKDAYS = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6}

_WHEN = re.compile(
    r"^(?:(?P<rel>今天|今晚|明天|明晚|后天)"
    r"|(?P<next>下)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"
    r"|(?:(?P<y>\d{4})[-/年])?(?P<mo>\d{1,2})(?:月|[-/])(?P<d>\d{1,2})[日号]?)?"
    r"\s*(?P<part>早上|上午|中午|下午|傍晚|晚上)?\s*"
    r"(?P<h>\d{1,2}|[零一二两三四五六七八九十]{1,3})(?:(?P<sep>[:点时])(?P<m>\d{1,2}|半)?分?)?$"
)


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _DIGITS.get(text[1:], 99)
    if text.endswith("十"):
        return _DIGITS.get(text[:-1], 99) * 10
    if "十" in text:
        tens, ones = text.split("十", 1)
        return _DIGITS.get(tens, 99) * 10 + _DIGITS.get(ones, 99)
    return _DIGITS.get(text)


def parse_when(text: str, now: datetime) -> datetime | None:
    """The moment `text` names, seen from `now` (aware, in the config's zone). A time of day alone is the next one
    to come; a weekday is this week's unless it has passed (then next week's); 下周五 is next week's."""
    t = unicodedata.normalize("NFKC", text).strip().removeprefix("到").removeprefix("至").removesuffix("截单")
    t = t.strip().replace("：", ":")
    m = _WHEN.match(t)
    if m is None:
        return None
    hour = _number(m.group("h"))
    minute_text = m.group("m")
    if m.group("sep") is None:
        return None  # "20" or "五" alone is no time: 20:00, 20点, 八点
    minute = 30 if minute_text == "半" else int(minute_text) if minute_text else 0
    if hour is None:
        return None
    part, rel = m.group("part"), m.group("rel")
    if hour < 12 and (part in ("下午", "傍晚", "晚上") or rel in ("今晚", "明晚")):
        hour += 12
    elif part == "中午" and hour < 6:
        hour += 12
    try:
        clock = parse_clock(f"{hour}:{minute:02d}")
    except ValueError:
        return None
    today = now.date()
    if rel is not None:
        day = today + timedelta(days={"今天": 0, "今晚": 0, "明天": 1, "明晚": 1, "后天": 2}[rel])
        return _at(now, day, clock)
    if m.group("wd") is not None:
        weekday = _WEEKDAYS[m.group("wd")]
        if m.group("next"):
            day = today + timedelta(days=7 - today.weekday() + weekday)
            return _at(now, day, clock)
        day = today + timedelta(days=(weekday - today.weekday()) % 7)
        moment = _at(now, day, clock)
        return moment if moment > now else moment + timedelta(days=7)
    if m.group("mo") is not None:
        year = int(m.group("y")) if m.group("y") else today.year
        try:
            moment = _at(now, today.replace(year=year, month=int(m.group("mo")), day=int(m.group("d"))), clock)
        except ValueError:
            return None
        if m.group("y") is None and moment < now - timedelta(days=180):
            moment = moment.replace(year=year + 1)  # 1月3日 said in December
        return moment
    moment = _at(now, today, clock)
    return moment if moment > now else moment + timedelta(days=1)


def _at(now: datetime, day: object, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=now.tzinfo)  # type: ignore[arg-type]
