"""`tuanbot logs`: the operator reads the data dir's JSON log, filtered."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import LOG_FILE, REHEARSAL_LOG_FILE, format_record, mask_phones, parse_since


def _write(data_dir: Path, *records: dict[str, object]) -> None:
    with (data_dir / LOG_FILE).open("w", encoding="utf-8") as fh:
        fh.write("this line is not JSON and is skipped\n")
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def test_filters_by_event_group_level_and_age(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(hours=3)).isoformat()
    _write(
        data_dir,
        {"time": now.isoformat(), "level": "info", "event": "order_created", "group": "1号群", "who": "王阿姨"},
        {"time": now.isoformat(), "level": "info", "event": "order_created", "group": "2号群", "who": "李姐"},
        {"time": old, "level": "info", "event": "order_created", "group": "1号群", "who": "旧单"},
        {"time": now.isoformat(), "level": "error", "event": "handler_failed", "group": "1号群"},
    )
    assert main(["--data-dir", str(data_dir), "logs", "--event", "order_created", "--group", "1号群"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "王阿姨" in out[0]
    assert "旧单" in out[1]
    assert main(["logs", "--data-dir", str(data_dir), "--event", "order_created", "--since", "1h"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["logs", "--data-dir", str(data_dir), "--level", "error"]) == 0
    assert "handler_failed" in capsys.readouterr().out


def test_no_log_yet_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "--data-dir", str(tmp_path / "empty")]) == 1
    assert "no log yet" in capsys.readouterr().err


def test_bad_since_is_a_clear_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(data_dir)
    assert main(["logs", "--data-dir", str(data_dir), "--since", "yesterday"]) == 2
    assert "--since takes a duration" in capsys.readouterr().err


def test_helpers() -> None:
    assert parse_since("10m") == timedelta(minutes=10)
    assert mask_phones("电话13912345678和15000001111") == "电话139****5678和150****1111"
    assert mask_phones("订单号201234567890123") == "订单号201234567890123"  # not a phone: too long



def test_a_time_is_shown_in_the_machine_zone_with_its_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        line = format_record({"time": "2026-11-26T01:00:00Z", "level": "info", "event": "order_created", "n": 2})
    finally:
        monkeypatch.undo()
        time.tzset()
    assert line == "2026-11-26 09:00:00+08:00 INFO order_created n=2"


def test_rehearsals_never_write_into_the_live_operator_log(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = data_dir / LOG_FILE
    live.write_text("", encoding="utf-8")  # a live bot's log in this data dir
    assert main(["ask", "--data-dir", str(data_dir), "草莓还有吗"]) == 0
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    assert live.read_text(encoding="utf-8") == ""
    rehearsed = [json.loads(x)["event"] for x in (data_dir / REHEARSAL_LOG_FILE).read_text("utf-8").splitlines()]
    assert "demo_started" in rehearsed
