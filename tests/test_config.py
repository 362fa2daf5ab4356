"""config.yaml loading: the shared contract's meanings, the root example, and errors that name file and line."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import (
    CheckResult,
    Config,
    ConfigError,
    Problem,
    QuietHours,
    WeeklyTime,
    check_config,
    cron_trigger,
    format_offset,
    load_config,
    parse_config_text,
    parse_duration,
    parse_offset,
    parse_weekly,
)
from bot.lifecycle import Lifecycle
from tests.conftest import CONTRACT
from tests.harness import CONFIG as HARNESS_CONFIG
from tests.harness import BotHarness, chain

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def contract() -> Config:
    result = check_config(CONTRACT)
    assert result.errors == []
    assert result.warnings == []
    assert result.config is not None
    return result.config


def at(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


# ------------------------------------------------------------------------------------------------ the shared contract


def test_contract_general_sections(contract: Config) -> None:
    assert contract.timezone == "Asia/Shanghai"
    assert contract.tz == SHANGHAI
    assert contract.bot.name == "小团"
    assert contract.source == CONTRACT.resolve()
    limits = contract.limits
    assert (limits.per_group_per_minute, limits.per_account_per_minute) == (6, 20)
    assert limits.same_text_window == timedelta(minutes=10)
    assert limits.send_spacing == (0.3, 1.2)


def test_contract_quiet_hours_wrap_past_midnight(contract: Config) -> None:
    quiet = contract.quiet_hours
    assert quiet is not None
    assert (quiet.start, quiet.end) == (time(22, 0), time(8, 0))
    assert quiet.contains(time(22, 0))
    assert quiet.contains(time(3, 0))
    assert not quiet.contains(time(8, 0))
    assert not quiet.contains(time(12, 0))
    assert contract.in_quiet_hours(datetime(2026, 11, 29, 15, 0, tzinfo=ZoneInfo("UTC")))  # 23:00 in Shanghai


def test_contract_catalogue_prices_are_exact_decimals(contract: Config) -> None:
    strawberry = contract.catalogue[0]
    assert strawberry.price == Decimal("39.9")
    assert strawberry.aliases == ["丹东草莓", "99草莓", "红颜草莓"]
    assert (strawberry.unit, strawberry.spec) == ("盒", "约3斤/盒")
    assert [p.price for p in contract.catalogue] == [Decimal("39.9"), Decimal("29.9"), Decimal("36"), Decimal("69")]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("草莓", "草莓"), ("99草莓", "草莓"), ("沙糖桔", "砂糖橘"), ("稻花香", "五常大米"), ("蓝莓", None)],
)
def test_contract_product_lookup_by_name_or_alias(contract: Config, word: str, expected: str | None) -> None:
    product = contract.product(word)
    assert (product.name if product else None) == expected


def test_contract_groups(contract: Config) -> None:
    first, second = contract.groups
    assert first.name == "阳光花园1号群"
    assert first.leaders == ["张姐"]
    assert first.pickup is not None
    assert (first.pickup.place, first.pickup.time) == ("阳光花园东门快递柜旁", "17:00-20:00")
    assert second.leaders == ["张姐", "李哥"]
    assert contract.group("阳光花园2号群") is second
    assert contract.group("阳光花园9号群") is None


def test_contract_fixed_buy(contract: Config) -> None:
    buy = contract.buys[0]
    assert (buy.id, buy.title) == ("caomei-1128", "周六丹东草莓团")
    assert buy.groups == ["阳光花园1号群", "阳光花园2号群"]
    assert [(i.product, i.price, i.stock) for i in buy.items] == [("草莓", Decimal("39.9"), 120)]
    assert buy.opens == at("2026-11-26 09:00")
    assert buy.cutoff == at("2026-11-27 20:00")
    assert buy.arrival == at("2026-11-28 16:00")
    assert buy.cutoff is not None
    assert buy.cutoff.utcoffset() == timedelta(hours=8)
    assert buy.min_members == 10
    assert buy.ladder == []


def test_contract_ladder_buy_in_all_groups(contract: Config) -> None:
    buy = contract.buys[1]
    assert buy.groups == "all"
    assert [g.name for g in contract.groups_of(buy.groups)] == ["阳光花园1号群", "阳光花园2号群"]
    assert buy.opens is None
    assert buy.cutoff == at("2026-11-30 21:00")
    assert [(t.members, t.price) for t in buy.ladder] == [(3, Decimal("62")), (5, Decimal("55"))]
    assert buy.items[0].price == Decimal("69")
    assert buy.items[0].unit == "袋"  # filled in from the catalogue


def test_contract_columns(contract: Config) -> None:
    monday, friday = contract.columns
    assert monday.groups == "all"
    assert monday.at == WeeklyTime(weekday=0, time=time(9, 0))
    assert monday.cron is None
    assert monday.read_text().startswith("【周一食谱日】今天教大家用{product:土鸡蛋}")
    assert friday.groups == ["阳光花园1号群"]
    assert friday.cron == "30 19 * * fri"
    assert friday.file == "columns/friday.md"
    assert friday.file_path == (CONTRACT.parent / "columns" / "friday.md").resolve()
    assert friday.read_text() == (CONTRACT.parent / "columns" / "friday.md").read_text(encoding="utf-8")


def test_contract_flash_sale(contract: Config) -> None:
    sale = contract.flash_sales[0]
    assert (sale.id, sale.product, sale.price, sale.stock) == ("orange-flash-1129", "砂糖橘", Decimal("19.9"), 50)
    assert sale.groups == "all"
    assert (sale.start, sale.end) == (at("2026-11-29 20:00"), at("2026-11-29 20:30"))
    assert sale.alerts == [timedelta(minutes=-10), timedelta(0)]


def test_contract_reminders_nudges_faq(contract: Config) -> None:
    assert contract.reminders.cutoff == [timedelta(hours=-2), timedelta(minutes=-30)]
    nudges = contract.nudges
    assert nudges is not None
    assert nudges.when_missing == [1, 2]
    assert nudges.cooldown == timedelta(hours=2)
    assert nudges.text.format(missing=2, title="周六丹东草莓团") == "仅差2人成团!周六丹东草莓团 快来接龙~"
    assert [f.question for f in contract.faq] == [["可以送货上门吗", "能送到家吗", "送货吗"], ["能开发票吗", "开票"]]
    assert contract.faq[1].answer == "可以开电子发票,请私信团长抬头和税号。"


def test_config_is_frozen(contract: Config) -> None:
    with pytest.raises(ValueError, match="frozen"):
        contract.timezone = "UTC"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- the root config.yaml


def test_root_config_loads_clean() -> None:
    result = check_config(REPO / "config.yaml")
    assert [str(p) for p in result.errors + result.warnings] == []
    config = result.config
    assert config is not None
    sections = ("quiet_hours", "catalogue", "groups", "buys", "columns", "flash_sales", "nudges", "faq")
    assert all(getattr(config, name) for name in sections)
    assert config.reminders.cutoff
    assert any(b.ladder for b in config.buys)
    assert any(b.min_members for b in config.buys)
    assert any(c.at for c in config.columns)
    assert any(c.cron for c in config.columns)
    assert any(c.file and c.read_text() for c in config.columns)


# ---------------------------------------------------------------------------------------------------- small configs


def test_catalogue_only_is_valid_and_defaults_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    config = load_config("catalogue_only.yaml")
    assert config.product("丹东草莓") is config.catalogue[0]
    assert config.timezone == "Asia/Shanghai"
    assert config.bot.name == "小团"
    assert config.quiet_hours is None
    assert config.nudges is None
    assert config.wechat is None
    assert config.limits.same_text_window == timedelta(minutes=10)
    assert config.groups == []
    assert config.buys == []
    assert config.reminders.cutoff == []


def test_other_timezone_makes_times_aware_there() -> None:
    config = parse_config_text(
        "timezone: Europe/Berlin\n"
        "flash_sales:\n"
        "  - {id: f, product: x, price: 1, stock: 1, groups: all, start: 2026-11-29 20:00, end: 2026-11-29 20:30}\n"
    )
    sale = config.flash_sales[0]
    assert sale.start.tzinfo == ZoneInfo("Europe/Berlin")
    assert sale.alerts == [timedelta(0)]


def test_yaml_timestamps_strings_and_single_values_are_accepted() -> None:
    config = parse_config_text(
        "groups:\n  - {name: g, leaders: 张姐, room_id: 123}\n"
        "buys:\n"
        "  - {id: 1128, title: t, groups: g, items: [{product: x, price: 9.99}], opens: 2026-11-26 09:00:00,"
        " cutoff: '2026-11-27 20:00'}\n"
        "faq:\n  - {question: 送货吗, answer: 送}\n"
        "quiet_hours: 23:00-07:00\n"
        "limits: {send_spacing: 1s}\n"
    )
    buy = config.buys[0]
    assert buy.id == "1128"
    assert buy.groups == ["g"]
    assert buy.opens == at("2026-11-26 09:00")
    assert buy.cutoff == at("2026-11-27 20:00")
    assert buy.items[0].price == Decimal("9.99")
    assert config.groups[0].leaders == ["张姐"]
    assert config.groups[0].room_id == "123"
    assert config.group("123") is config.groups[0]
    assert config.faq[0].question == ["送货吗"]
    assert config.quiet_hours == QuietHours(start=time(23, 0), end=time(7, 0))
    assert config.limits.send_spacing == (1.0, 1.0)


def test_empty_sections_mean_defaults() -> None:
    config = parse_config_text("catalogue:\nfaq:\nlimits:\n")
    assert config.catalogue == []
    assert config.faq == []
    assert config.limits.per_group_per_minute == 6


def test_empty_file_is_valid_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    result = check_config(path)
    assert result.config is not None
    assert [str(p) for p in result.warnings] == [f"{path}:1: the file holds no settings"]


# ------------------------------------------------------------------------------------------- errors with file:line


ERROR_CASES = {
    "unknown_key.yaml": ["unknown_key.yaml:9: catalogue[1].prise: unknown field (did you mean price?)"],
    "missing_key.yaml": [
        "missing_key.yaml:5: catalogue[1].unit: required field is missing",
        "missing_key.yaml:10: groups[0].pickup.time: required field is missing",
    ],
    "wrong_type.yaml": [
        "wrong_type.yaml:2: limits.per_group_per_minute: expected a whole number, got 'six'",
        "wrong_type.yaml:3: limits.per_account_per_minute: must be at least 1, got 0",
        "wrong_type.yaml:7: catalogue[0].price: expected a number, got '三十六'",
        "wrong_type.yaml:8: groups: expected a list, got '阳光花园1号群'",
    ],
    "bad_values.yaml": [
        "bad_values.yaml:2: limits.same_text_window: expected a duration like 30s, 10m, 2h or 1d, got 10",
        "bad_values.yaml:4: reminders.cutoff[1]: expected an offset like -10m, -2h, 0 or +5m, got '30 minutes'",
        "bad_values.yaml:7: nudges.cooldown: expected a duration like 30s, 10m, 2h or 1d, got '2 hours'",
        "bad_values.yaml:12: columns[0].at: expected a weekly time like 周一 09:00 or mon 09:00, got '周八 09:00'",
        "bad_values.yaml:16: columns[1].cron: bad cron expression '30 19 * * fri *':"
        " expected five cron fields (minute hour day month weekday), got 6",
        "bad_values.yaml:20: columns[2].cron: bad cron expression '30 25 * * fri':"
        " Error validating expression '25': the last value (25) is higher than the maximum value (23)",
    ],
    "broken.yaml": [
        "broken.yaml:4: invalid YAML: expected <block end>, but found '<block mapping start>'"
        " (while parsing a block collection)"
    ],
    "tabs.yaml": ["tabs.yaml:4: tab character in indentation: indent with spaces, not tabs"],
    "duplicate_key.yaml": ["duplicate_key.yaml:5: catalogue[0].unit: duplicate key unit (first at line 3)"],
    "missing_file.yaml": ["missing_file.yaml:7: columns[0].file: file not found: columns/nope.md"],
    "duplicate_buy.yaml": ["duplicate_buy.yaml:10: buys[1].id: duplicate buy id caomei-1128 (also buys[0])"],
    "cutoff_before_opens.yaml": [
        "cutoff_before_opens.yaml:9: buys[0].cutoff: cutoff 2026-11-26 20:00 is not after opens 2026-11-27 09:00"
    ],
    "not_mapping.yaml": [
        "not_mapping.yaml:1: the top level must be a mapping of sections (timezone:, catalogue:, groups:, …),"
        " not a list"
    ],
}


@pytest.mark.parametrize(("name", "expected"), ERROR_CASES.items(), ids=list(ERROR_CASES))
def test_errors_name_file_line_path(monkeypatch: pytest.MonkeyPatch, name: str, expected: list[str]) -> None:
    monkeypatch.chdir(FIXTURES)
    result = check_config(name)
    assert result.config is None
    assert [str(p) for p in result.errors] == expected
    with pytest.raises(ConfigError) as info:
        load_config(name)
    assert str(info.value) == "\n".join(expected)
    assert info.value.problems == result.errors


def test_problem_fields() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("bot:\n  nmae: 小团\n", file="config.yaml")
    assert info.value.problems == [Problem("config.yaml", 2, "bot.nmae", "unknown field (did you mean name?)")]


def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = check_config(missing)
    assert result.config is None
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith(f"{missing}: cannot read the file:")
    with pytest.raises(ConfigError):
        load_config(missing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "timezone: Asia/Shanghia\n",
            "<string>:1: timezone: unknown timezone 'Asia/Shanghia' (did you mean Asia/Shanghai?)",
        ),
        ("quiet_hours: 22:00\n", "<string>:1: quiet_hours: expected a window like \"22:00-08:00\", got '22:00'"),
        ("source: x.yaml\n", "<string>:1: source: unknown field"),
        (
            "a: [1, 2\n",
            "<string>:2: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
        ),
        ("a: 1\n---\nb: 2\n", "<string>:2: invalid YAML: only one document is allowed (remove the second ---)"),
        (
            "nudges: {when_missing: [1], cooldown: 2h, text: '差{n}人'}\n",
            "<string>:1: nudges.text: unknown placeholder {n}; use {missing} and {title}",
        ),
        (
            "buys:\n  - {id: 'a:b', title: t, groups: all, items: [{product: x, price: 1}]}\n",
            "<string>:2: buys[0].id: must be non-empty and hold no ':' (it is part of job ids), got 'a:b'",
        ),
        ("buys:\n  - {id: b, title: t, groups: all, items: []}\n", "<string>:2: buys[0].items: must not be empty"),
        (
            "buys:\n  - id: b\n    title: t\n    groups: all\n    items: [{product: 蓝莓}]\n",
            "<string>:5: buys[0].items[0]: no price: 蓝莓 is not in the catalogue, so give price:",
        ),
        (
            "buys:\n  - {id: b, title: t, groups: all, items: [{product: x, price: 1}], opens: 2026-11-26}\n",
            "<string>:2: buys[0].opens: expected a date and time like 2026-11-26 09:00, got only a date (2026-11-26)",
        ),
        (
            "buys:\n  - id: b\n    title: t\n    groups: all\n    items: [{product: x, price: 1}]\n    ladder:\n"
            "      - {members: 5, price: 62}\n      - {members: 3, price: 55}\n",
            "<string>:8: buys[0].ladder[1].members: ladder tiers must have strictly increasing members",
        ),
        (
            "flash_sales:\n  - id: f\n    product: x\n    price: 1\n    stock: 1\n    groups: all\n"
            "    start: 2026-11-29 20:00\n    end: 2026-11-29 19:00\n",
            "<string>:8: flash_sales[0].end: end 2026-11-29 19:00 is not after start 2026-11-29 20:00",
        ),
        (
            "columns:\n  - {name: c, groups: all, at: 周一 09:00, cron: '0 9 * * mon', text: x}\n",
            "<string>:2: columns[0].cron: give either at: or cron:, not both",
        ),
        (
            "columns:\n  - {name: c, groups: all, at: 周一 09:00}\n",
            "<string>:2: columns[0]: a column needs text: or file:",
        ),
        (
            "catalogue:\n  - {name: 橘, unit: 箱, price: 1}\n  - {name: 桔, aliases: [橘], unit: 箱, price: 1}\n",
            "<string>:3: catalogue[1].aliases[0]: alias 橘 already names catalogue[0] (橘)",
        ),
        (
            "catalogue:\n  - {name: 橘, unit: 箱, price: 1.999}\n",
            "<string>:2: catalogue[0].price: at most 2 decimal places, got 1.999",
        ),
        ("a: &x [*x]\n", "<string>:1: a[0]: recursive alias"),
    ],
)
def test_more_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text)
    assert str(info.value) == expected


def test_several_problems_are_reported_in_line_order() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("limits:\n  per_group_per_minute: 0\nbot:\n  nmae: x\ntimezone: Mars/Base\n", file="c.yaml")
    assert [p.line for p in info.value.problems] == [2, 4, 5]


# ---------------------------------------------------------------------------------------------------------- warnings


def test_warnings_do_not_stop_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    result = check_config("warnings.yaml")
    assert result.errors == []
    assert result.config is not None
    assert [str(p) for p in result.warnings] == [
        "warnings.yaml:9: buys[0].groups[1]: unknown group 阳光花园3号群 (did you mean 阳光花园1号群?):"
        " not in groups:, so nothing is sent there",
        "warnings.yaml:12: buys[0].items[1].product: unknown product 蓝莓: not in the catalogue",
        "warnings.yaml:16: columns[0].at: fires at 周日 22:30, inside quiet_hours 22:00-08:00 (it still goes out)",
        "warnings.yaml:26: flash_sales[0].alerts[1]: alert at 2026-11-29 22:30 is inside quiet_hours 22:00-08:00"
        " (it still goes out)",
    ]
    assert load_config("warnings.yaml") == result.config


def test_reminder_and_nudge_warnings() -> None:
    text = (
        "quiet_hours: 22:00-08:00\n"
        "buys:\n"
        "  - {id: b, title: t, groups: all, items: [{product: x, price: 1}], min_members: 5,"
        " opens: 2026-11-26 22:30, cutoff: 2026-11-26 23:30}\n"
        "columns:\n  - {name: c, groups: all, cron: '0 7 * * *', text: x}\n"
        "reminders:\n  cutoff: [-30m, -2h]\n"
        "nudges: {when_missing: [1], cooldown: 2h, text: x}\n"
    )
    result = _check(text)
    assert [str(p) for p in result.warnings] == [
        "<string>:3: buys[0].groups: groups: all, but no groups are configured",
        "<string>:3: buys[0].items[0].product: unknown product x: not in the catalogue",
        "<string>:5: columns[0].groups: groups: all, but no groups are configured",
        "<string>:5: columns[0].cron: fires at 周一 07:00, inside quiet_hours 22:00-08:00 (it still goes out)",
        "<string>:7: reminders.cutoff[0]: the -30m reminder for b falls at 2026-11-26 23:00,"
        " inside quiet_hours 22:00-08:00; it will not be sent",
        "<string>:7: reminders.cutoff[1]: the -2h reminder for b (2026-11-26 21:30) is before it opens; skipped",
        "<string>:8: nudges: buy b is open only inside quiet_hours 22:00-08:00; its nudges can never be sent",
    ]


def _check(text: str) -> CheckResult:
    from bot.config.loader import _check_text

    return _check_text(text, "<string>", None, None)


# ------------------------------------------------------------------------------------------------------ value parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-10m", timedelta(minutes=-10)),
        ("-2h", timedelta(hours=-2)),
        ("0", timedelta(0)),
        (0, timedelta(0)),
        ("+5m", timedelta(minutes=5)),
        ("-1h30m", timedelta(minutes=-90)),
        ("30s", timedelta(seconds=30)),
    ],
)
def test_parse_offset(text: str | int, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0", "-10m", "10", "10 min", "", "m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周一 09:00", (0, time(9, 0))),
        ("周日 21:30", (6, time(21, 30))),
        ("周天 8:05", (6, time(8, 5))),
        ("星期三 12:00", (2, time(12, 0))),
        ("礼拜五 19:30", (4, time(19, 30))),
        ("mon 09:00", (0, time(9, 0))),
        ("Sun 21:30", (6, time(21, 30))),
        ("friday 19:30", (4, time(19, 30))),
        ("周六18:00", (5, time(18, 0))),
    ],
)
def test_parse_weekly(text: str, expected: tuple[int, time]) -> None:
    assert parse_weekly(text) == expected


@pytest.mark.parametrize("text", ["周八 09:00", "mon", "周一 25:00", "09:00", "someday 09:00"])
def test_parse_weekly_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a weekly time|expected a time of day"):
        parse_weekly(text)


@pytest.mark.parametrize(
    ("expr", "weekday"), [("0 9 * * 1", 0), ("0 9 * * 0", 6), ("0 9 * * 7", 6), ("0 9 * * mon", 0), ("0 9 * * 5", 4)]
)
def test_cron_uses_crontab_weekday_numbers(expr: str, weekday: int) -> None:
    # APScheduler 3 on its own reads "1" as Tuesday; a leader copying a crontab line means Monday.
    fire = cron_trigger(expr, SHANGHAI).get_next_fire_time(None, at("2026-11-30 10:00"))
    assert fire is not None
    assert fire.weekday() == weekday


def test_cron_weekday_ranges_and_steps() -> None:
    trigger = cron_trigger("0 9 * * 1-5", SHANGHAI)
    fire = trigger.get_next_fire_time(None, at("2026-11-28 00:00"))  # a Saturday
    assert fire == at("2026-11-30 09:00")
    trigger = cron_trigger("0 9 * * */3", SHANGHAI)  # Sunday, Wednesday, Saturday
    fire = trigger.get_next_fire_time(None, at("2026-11-30 00:00"))
    assert fire == at("2026-12-02 09:00")


@given(st.integers(min_value=-10 * 86400, max_value=10 * 86400))
def test_offset_format_round_trips(seconds: int) -> None:
    offset = timedelta(seconds=seconds)
    assert parse_offset(format_offset(offset)) == offset


@given(st.times(), st.times(), st.times())
def test_quiet_hours_contains_matches_minutes_of_day(start: time, end: time, t: time) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        return
    quiet = QuietHours(start=start, end=end)

    def minute(x: time) -> float:
        return x.hour * 60 + x.minute + (x.second + x.microsecond / 1e6) / 60

    length = (minute(end) - minute(start)) % 1440
    assert quiet.contains(t) == ((minute(t) - minute(start)) % 1440 < length)


# ------------------------------------------------------------------------------------------------------ hostile YAML

# Seven levels of nine aliases: 9**7 = 4.8 million strings once expanded (the probe of issue 17: 4.4 GB, MemoryError).
BILLION_LAUGHS = "timezone: Asia/Shanghai\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip([None, "a", "b", "c", "d", "e", "f"], ["a", "b", "c", "d", "e", "f", "g"], strict=True)
)
DEEP = "timezone: Asia/Shanghai\nbot:\n  name: " + "[" * 50_000 + "]" * 50_000 + "\n"


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(BILLION_LAUGHS, file="bomb.yaml")
    assert str(caught.value) == (
        "bomb.yaml:7: aliases (*e) would expand the file past 100,000 values (a YAML alias bomb); "
        "write the values out or use fewer aliases"
    )


def test_nesting_fifty_thousand_deep_is_a_line_not_a_recursion_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(DEEP, file="deep.yaml")
    assert str(caught.value) == "deep.yaml:3: nested more than 64 levels deep; a config is a few levels deep"


def test_aliases_and_merge_keys_of_a_real_config_still_load() -> None:
    config = parse_config_text(
        "catalogue:\n"
        "  - &fruit {name: 草莓, unit: 盒, price: 39.9}\n"
        "  - {<<: *fruit, name: 蓝莓}\n"
        "groups: [{name: 一群, leaders: &leaders [王姐, 李姐]}, {name: 二群, leaders: *leaders}]\n"
    )
    assert [p.name for p in config.catalogue] == ["草莓", "蓝莓"]
    assert config.catalogue[1].unit == "盒"
    assert config.groups[1].leaders == ["王姐", "李姐"]


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("bomb.yaml", BILLION_LAUGHS, ":7: aliases (*e) would expand the file past 100,000 values"),
        ("deep.yaml", DEEP, ":3: nested more than 64 levels deep"),
    ],
)
def test_tuanbot_check_refuses_hostile_yaml_within_bounded_memory(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    """`tuanbot check` as a leader runs it, under a 1 GB address-space limit: the probe needed 4.4 GB."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    limit = 1 << 30
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),  # noqa: PLW1509
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{path}{says}" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


async def test_a_running_bot_keeps_answering_while_an_alias_bomb_is_reloaded(data_dir: Path, tmp_path: Path) -> None:
    """The file watch sees a bomb: the reload is refused at its line, the running config stays, members are answered."""
    path = tmp_path / "config.yaml"
    path.write_text(HARNESS_CONFIG, encoding="utf-8")
    async with BotHarness(data_dir, config=load_config(path)) as bot:
        life = Lifecycle(bot.app)
        assert not await life.check_file()  # the watch's first look: nothing changed
        bomb = HARNESS_CONFIG + BILLION_LAUGHS.removeprefix("timezone: Asia/Shanghai\n")
        path.write_text(bomb, encoding="utf-8")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        reload = asyncio.create_task(life.check_file())  # one step of the file watch
        await bot.say("张姐", chain("#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒", "张姐 草莓1盒"))
        bot.expect_said(["✅ 已记录:张姐 草莓1盒\n合计:草莓1盒\n【周六丹东草莓团】已有1人,还差4人成团"])
        assert not await reload
        line = bomb.splitlines().index("f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]") + 1
        (failed,) = bot.logged("config_reload_failed")
        assert failed["problems"] == [
            f"{path}:{line}: aliases (*e) would expand the file past 100,000 values (a YAML alias bomb); "
            "write the values out or use fewer aliases"
        ]
        assert bot.app.services.config.source == path.resolve()
        assert [b.id for b in bot.app.services.config.buys] == ["caomei"]
