"""`tuanbot schedule` (a leader checks the plan before going live) and `tuanbot reload` (SIGHUP to the running bot)."""

from __future__ import annotations

import argparse
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.schedule import add_commands
from bot.startup import PidFile, pid_path
from scheduler.plan import JOB_KINDS
from tests.scheduler.conftest import G1, WEEK

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tuanbot")
    parser.add_argument("--data-dir")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS)
    add_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def week_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(WEEK, encoding="utf-8")
    return path


def test_schedule_json_lists_the_next_firings_in_time_order(
    week_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("schedule", "--config", str(week_file), "--next", "6", "--from", "2026-11-30T00:00", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["at"], r["group"], r["kind"]) for r in rows] == [
        ("2026-11-30T09:00:00+08:00", G1, "buy_open"),
        ("2026-11-30T09:00:00+08:00", "阳光花园2号群", "buy_open"),
        ("2026-11-30T10:00:00+08:00", G1, "column"),
        ("2026-11-30T10:00:00+08:00", "阳光花园2号群", "column"),
        ("2026-12-02T18:00:00+08:00", G1, "cutoff_reminder"),
        ("2026-12-02T18:00:00+08:00", "阳光花园2号群", "cutoff_reminder"),
    ]
    assert rows[0]["job"] == f"buy_open:caomei:{G1}"
    assert rows[0]["text"] == "#接龙 周六丹东草莓团"
    assert rows[2]["text"] == "【周一食谱日】11月30日周一,用土鸡蛋(36元/盒)做番茄炒蛋~"
    assert {r["kind"] for r in rows} <= set(JOB_KINDS)


def test_schedule_table_reads_as_a_plan(week_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("schedule", "--config", str(week_file), "--next", "13", "--from", "2026-11-30 00:00") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("the next 13 posts from 2026-11-30 00:00 (Asia/Shanghai)")
    assert out[1].split() == ["时间", "群", "类型", "kind", "内容"]
    assert out[2].split()[:5] == ["11-30", "周一", "09:00", G1, "开团"]
    assert out[-1].split()[:4] == ["12-05", "周六", "16:00", "阳光花园2号群"]
    assert len(out) == 15


def test_schedule_on_the_sample_config(capsys: pytest.CaptureFixture[str]) -> None:
    sample = REPO / "config.yaml"
    if not sample.exists():
        pytest.skip("no sample config.yaml in the repository")
    assert run("schedule", "--config", str(sample), "--next", "20", "--from", "2026-11-30T00:00", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 20
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    assert all(r["text"] for r in rows)


def test_schedule_refuses_a_broken_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(WEEK.replace("price: 39.9, stock: 100", "price: -1"), encoding="utf-8")
    assert run("schedule", "--config", str(bad)) == 1
    assert f"{bad}:" in capsys.readouterr().err
    assert run("schedule", "--config", str(REPO / "tests/fixtures/config/catalogue_only.yaml"), "--from", "x") == 2


@pytest.fixture
def sighup() -> Iterator[list[int]]:
    received: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, _frame: received.append(signum))
    yield received
    signal.signal(signal.SIGHUP, previous)


def test_reload_signals_the_running_bot(tmp_path: Path, sighup: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    pid = PidFile(tmp_path)
    pid.acquire()  # this test process plays the running bot
    assert run("reload", "--data-dir", str(tmp_path)) == 0
    assert sighup == [signal.SIGHUP]
    assert f"pid {os.getpid()}" in capsys.readouterr().out
    pid.release()
    assert not pid_path(tmp_path).exists()


def test_reload_without_a_running_bot_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--data-dir", str(tmp_path), "reload") == 1
    assert "no running bot" in capsys.readouterr().err
    pid_path(tmp_path).write_text("999999999\n", encoding="utf-8")
    assert run("reload", "--data-dir", str(tmp_path)) == 1
    assert "stale pid file" in capsys.readouterr().err


def test_a_second_bot_cannot_take_a_running_bots_data_dir(tmp_path: Path) -> None:
    from bot.startup import PidFile, SetupError, running_pid

    first = PidFile(tmp_path)
    first.acquire()
    assert running_pid(pid_path(tmp_path)) == os.getpid()
    with pytest.raises(SetupError, match="another tuanbot"):
        PidFile(tmp_path).acquire()  # even the same pid number in another process would be refused: the lock is held
    first.release()
    assert running_pid(pid_path(tmp_path)) is None
    again = PidFile(tmp_path)
    again.acquire()  # free again
    again.release()
