"""The pure scheduling plan: which jobs a config yields, their stable ids, triggers, and firing order."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.config import Config, load_config, parse_config_text
from scheduler.plan import JOB_KINDS, JobSpec, next_firings, planned_jobs
from tests.conftest import CONTRACT

REPO = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
G1, G2 = "阳光花园1号群", "阳光花园2号群"


def at(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def contract() -> Config:
    return load_config(CONTRACT)


@pytest.fixture(scope="module")
def jobs(contract: Config) -> list[JobSpec]:
    return planned_jobs(contract)


def test_contract_job_counts(jobs: list[JobSpec]) -> None:
    assert Counter(j.kind for j in jobs) == {
        "buy_open": 2,  # caomei-1128 in 2 groups; dami-1201 has no opens
        "cutoff_reminder": 8,  # 2 buys x 2 groups x [-2h, -30m]
        "cutoff": 4,
        "arrival": 2,  # only caomei-1128 has an arrival
        "column": 3,  # 周一食谱日 in all (2) groups + 周五新品预告 in one
        "flash_alert": 4,  # [-10m, 0] x all (2) groups
        "flash_end": 2,
    }
    assert {j.kind for j in jobs} <= set(JOB_KINDS)
    assert len({j.id for j in jobs}) == len(jobs)


def test_contract_caomei_jobs(jobs: list[JobSpec]) -> None:
    caomei = {j.id: j for j in jobs if j.ref == "caomei-1128"}
    assert set(caomei) == {
        *(f"buy_open:caomei-1128:{g}" for g in (G1, G2)),
        *(f"cutoff_reminder:caomei-1128:{o}:{g}" for o in ("-2h", "-30m") for g in (G1, G2)),
        *(f"cutoff:caomei-1128:{g}" for g in (G1, G2)),
        *(f"arrival:caomei-1128:{g}" for g in (G1, G2)),
    }
    reminder = caomei[f"cutoff_reminder:caomei-1128:-2h:{G2}"]
    assert (reminder.kind, reminder.group, reminder.ref) == ("cutoff_reminder", G2, "caomei-1128")
    assert isinstance(reminder.trigger, DateTrigger)
    assert reminder.trigger.run_date == at("2026-11-27 18:00")
    assert caomei[f"buy_open:caomei-1128:{G1}"].trigger.get_next_fire_time(None, at("2026-11-01 00:00")) == at(
        "2026-11-26 09:00"
    )


def test_contract_ids_in_full(jobs: list[JobSpec]) -> None:
    ids = {j.id for j in jobs}
    assert {
        f"buy_open:caomei-1128:{G1}",
        f"cutoff_reminder:caomei-1128:-30m:{G1}",
        f"cutoff:caomei-1128:{G2}",
        f"arrival:caomei-1128:{G2}",
        f"cutoff_reminder:dami-1201:-2h:{G1}",
        f"cutoff:dami-1201:{G2}",
        f"column:周一食谱日:{G1}",
        f"column:周一食谱日:{G2}",
        f"column:周五新品预告:{G1}",
        f"flash_alert:orange-flash-1129:-10m:{G1}",
        f"flash_alert:orange-flash-1129:0:{G2}",
        f"flash_end:orange-flash-1129:{G2}",
    } <= ids
    assert f"column:周五新品预告:{G2}" not in ids
    assert not any(i.startswith("buy_open:dami-1201") or i.startswith("arrival:dami-1201") for i in ids)


def test_weekly_columns_use_cron_triggers_in_the_config_timezone(jobs: list[JobSpec]) -> None:
    columns = {j.id: j.trigger for j in jobs if j.kind == "column"}
    monday = columns[f"column:周一食谱日:{G1}"]
    friday = columns[f"column:周五新品预告:{G1}"]
    assert isinstance(monday, CronTrigger)
    assert isinstance(friday, CronTrigger)
    assert monday.timezone == SHANGHAI
    assert monday.get_next_fire_time(None, at("2026-11-26 00:00")) == at("2026-11-30 09:00")
    assert friday.get_next_fire_time(None, at("2026-11-26 00:00")) == at("2026-11-27 19:30")


def test_next_firings_order_from_a_known_start(contract: Config) -> None:
    firings = next_firings(contract, start=at("2026-11-27 18:00"), count=14)
    assert [(t.strftime("%m-%d %H:%M"), j.id) for t, j in firings] == [
        ("11-27 18:00", f"cutoff_reminder:caomei-1128:-2h:{G1}"),
        ("11-27 18:00", f"cutoff_reminder:caomei-1128:-2h:{G2}"),
        ("11-27 19:30", f"cutoff_reminder:caomei-1128:-30m:{G1}"),
        ("11-27 19:30", f"cutoff_reminder:caomei-1128:-30m:{G2}"),
        ("11-27 19:30", f"column:周五新品预告:{G1}"),
        ("11-27 20:00", f"cutoff:caomei-1128:{G1}"),
        ("11-27 20:00", f"cutoff:caomei-1128:{G2}"),
        ("11-28 16:00", f"arrival:caomei-1128:{G1}"),
        ("11-28 16:00", f"arrival:caomei-1128:{G2}"),
        ("11-29 19:50", f"flash_alert:orange-flash-1129:-10m:{G1}"),
        ("11-29 19:50", f"flash_alert:orange-flash-1129:-10m:{G2}"),
        ("11-29 20:00", f"flash_alert:orange-flash-1129:0:{G1}"),
        ("11-29 20:00", f"flash_alert:orange-flash-1129:0:{G2}"),
        ("11-29 20:30", f"flash_end:orange-flash-1129:{G1}"),
    ]
    assert all(t.tzinfo is not None for t, _ in firings)


def test_next_firings_weekly_jobs_repeat_after_the_one_offs(contract: Config) -> None:
    firings = next_firings(contract, start=at("2026-12-01 00:00"), count=6)
    assert [(t.strftime("%a %m-%d %H:%M"), j.id) for t, j in firings] == [
        ("Fri 12-04 19:30", f"column:周五新品预告:{G1}"),
        ("Mon 12-07 09:00", f"column:周一食谱日:{G1}"),
        ("Mon 12-07 09:00", f"column:周一食谱日:{G2}"),
        ("Fri 12-11 19:30", f"column:周五新品预告:{G1}"),
        ("Mon 12-14 09:00", f"column:周一食谱日:{G1}"),
        ("Mon 12-14 09:00", f"column:周一食谱日:{G2}"),
    ]


def test_next_firings_includes_a_firing_exactly_at_start_and_takes_naive_start(contract: Config) -> None:
    firings = next_firings(contract, start=datetime(2026, 11, 30, 21, 0), count=3)
    assert [j.id for _, j in firings] == [
        f"cutoff:dami-1201:{G1}",
        f"cutoff:dami-1201:{G2}",
        f"column:周五新品预告:{G1}",
    ]
    assert next_firings(contract, start=at("2026-11-30 21:00"), count=0) == []


def test_unknown_groups_plan_nothing_and_early_reminders_are_skipped() -> None:
    config = parse_config_text(
        "groups:\n  - name: g1\n"
        "buys:\n"
        "  - {id: b, title: t, groups: [g1, ghost], items: [{product: x, price: 1}],"
        " opens: 2026-11-30 19:30, cutoff: 2026-11-30 21:00}\n"
        "reminders:\n  cutoff: [-2h, -30m]\n"
    )
    assert [j.id for j in planned_jobs(config)] == ["buy_open:b:g1", "cutoff_reminder:b:-30m:g1", "cutoff:b:g1"]


def test_cron_columns_follow_crontab_weekday_numbers() -> None:
    config = parse_config_text(
        "groups:\n  - name: g1\ncolumns:\n  - {name: 早安, groups: all, cron: '30 8 * * 1-5', text: 早}\n"
    )
    firings = next_firings(config, start=at("2026-11-28 00:00"), count=3)  # a Saturday
    assert [t for t, _ in firings] == [at("2026-11-30 08:30"), at("2026-12-01 08:30"), at("2026-12-02 08:30")]


def test_catalogue_only_config_plans_nothing() -> None:
    config = parse_config_text("catalogue:\n  - {name: 草莓, unit: 盒, price: 39.9}\n")
    assert planned_jobs(config) == []
    assert next_firings(config, start=at("2026-11-30 00:00"), count=5) == []


def test_root_config_plan() -> None:
    config = load_config(REPO / "config.yaml")
    jobs = planned_jobs(config)
    assert len({j.id for j in jobs}) == len(jobs)
    assert {j.kind for j in jobs} == set(JOB_KINDS)
    assert {j.group for j in jobs} == {g.name for g in config.groups}
    week = next_firings(config, start=at("2026-11-30 00:00"), count=200)
    assert [t for t, _ in week] == sorted(t for t, _ in week)
