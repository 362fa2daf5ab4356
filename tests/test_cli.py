"""The command line as leaders and operators use it: check, demo, chat, logs, run."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.chat import run_chat
from tests.conftest import CONTRACT, FIXTURES, REPO


def test_check_accepts_the_contract_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(CONTRACT)]) == 0
    out = capsys.readouterr().out
    assert "ok — 2 groups, 4 products, 2 buys" in out
    assert "scheduled jobs" in out


def test_check_passes_the_root_config_and_the_demo_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO / "config.yaml")]) == 0
    assert "warning" not in capsys.readouterr().out
    assert main(["check", str(REPO / "bot" / "sample" / "demo.yaml")]) == 0


def test_check_names_file_line_and_field_of_a_typo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "catalogue:\n"
        "  - name: 草莓\n"
        "    unit: 盒\n"
        "    price: 39.9\n"
        "  - name: 砂糖橘\n"
        "    unit: 箱\n"
        "    price: 29.9\n"
        "    spec: 5斤/箱\n"
        "    prise: 30\n",
        encoding="utf-8",
    )
    assert main(["check", str(cfg)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"{cfg}:9: catalogue[1].prise: unknown field (did you mean price?)" in lines


def test_check_reports_broken_yaml_at_its_line_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("groups:\n  - name: 1号群\n    leaders: [张姐\n  - name: 2号群\n", encoding="utf-8")
    assert main(["check", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{cfg}:")
    assert "Traceback" not in out


def test_check_warnings_print_but_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "groups: [{name: 1号群}]\n"
        "buys:\n"
        "  - id: b1\n"
        "    title: 榴莲团\n"
        "    groups: [1号群, 3号群]\n"
        "    items: [{product: 榴莲, price: 99}]\n",
        encoding="utf-8",
    )
    assert main(["check", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "(warning)" in out
    assert "3号群" in out
    assert "榴莲" in out


def test_run_says_plainly_what_is_missing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN", raising=False)
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    config = str(REPO / "bot" / "sample" / "demo.yaml")
    assert main(["run", "--config", config, "--data-dir", str(data_dir)]) == 2
    assert "no gateway token: set WECHATY_PUPPET_SERVICE_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "t0ken")
    assert main(["run", "--config", config, "--data-dir", str(data_dir)]) == 2
    assert "no gateway endpoint: set WECHATY_PUPPET_SERVICE_ENDPOINT" in capsys.readouterr().err


def test_the_demo_plays_a_day_and_its_orders_are_in_the_log(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    # the whole day, exactly: an extra, missing or changed line (the bot's or a member's) fails here
    expected = (FIXTURES / "demo_output.txt").read_text(encoding="utf-8")
    shown = out.replace(str(data_dir), "<data-dir>").replace(str(REPO / "bot" / "sample"), "<sample>")
    assert shown.splitlines() == expected.splitlines()
    summary = out.split("== 汇总 read back from the database")[1]
    # both racing members (李姐 and 何姐 appended "3." to the same copy) have their orders
    assert "5-1201 李姐 草莓1盒" in summary
    assert "6号楼2单元 何姐 草莓2盒" in summary
    assert "3栋 王阿姨 草莓3盒" in summary  # her edit, not a second order
    assert "陈叔" not in summary  # he cancelled
    assert "刘妈妈" not in summary  # too late
    assert "已有5人,未成团(差1人)" in summary  # closed one short of 成团: it did not form
    day = out.split("== 汇总 read back from the database")[0]
    bot_lines = [line for line in day.splitlines() if "🤖 小团:" in line]
    said = "\n".join(bot_lines)
    assert "09:00  🤖 小团: #接龙 丹东草莓团" in said  # the buy opens: the bot posts the header members copy
    assert "09:30  🤖 小团: 【今日在团】" in said  # the scheduled column
    assert "仅差1人成团!丹东草莓团" in said  # the nudge at 5 of 6 members
    assert "18:00  🤖 小团: ⏰ 丹东草莓团 还有2小时截单" in said  # the cutoff reminder
    assert "20:20  🤖 小团: ⚡ 秒杀预告:砂糖橘" in said  # the flash-sale alert, 10 minutes before
    assert said.count("秒杀已抢光") == 1  # the sold-out notice, once
    assert "何姐 有邻居退出,你候补成功啦:砂糖橘1箱" in said  # a give-back goes to the first waiter
    assert "李姐你家的猫" not in said  # chatter gets no answer
    assert main(["logs", "--data-dir", str(data_dir), "--rehearsal", "--event", "order_created"]) == 0
    logged = capsys.readouterr().out.splitlines()
    assert len(logged) == 6
    assert all("order_created" in line and "group=阳光花园1号群" in line for line in logged)


def test_the_demo_runs_from_any_directory_as_a_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "== 汇总" in proc.stdout
    assert (tmp_path / "data" / "demo.db").exists()


def test_chat_lets_a_leader_try_a_config(data_dir: Path) -> None:
    header = r"#接龙 丹东草莓团\n例 3栋 王阿姨 草莓1盒\n"
    script = "\n".join(
        [
            header + r"\n1. 3栋 王阿姨 草莓2盒",
            "/wait",
            "/as 张姐",
            "汇总",
            "/quit",
        ]
    )
    out = io.StringIO()
    code = asyncio.run(
        run_chat(
            REPO / "bot" / "sample" / "demo.yaml",
            data_dir=data_dir,
            group=None,
            name="王阿姨",
            start=datetime(2026, 11, 26, 10, 0),
            stdin=io.StringIO(script + "\n"),
            out=out,
        )
    )
    assert code == 0
    text = out.getvalue()
    assert "已记录:3栋 王阿姨 草莓2盒" in text
    assert "【汇总】丹东草莓团" in text


def test_schedule_json_carries_the_whole_post_unescaped(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(REPO / "bot" / "sample" / "demo.yaml")
    assert main(["schedule", "--config", config, "--from", "2026-11-26T09:00", "--next", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert "\\u" not in out  # Chinese as the leader reads it, not escaped
    rows = json.loads(out)
    column = rows[1]
    assert column["kind"] == "column"
    assert column["text"] == "【今日在团】11月26日 周四"  # the first line, as before
    assert column["body"] == (
        "【今日在团】11月26日 周四\n"
        "· 丹东草莓团:草莓 39.9元/盒,11月26日(周四) 20:00截单\n"
        "想要的邻居复制上面的接龙,加上自己的一行~"
    )
    assert rows[0]["body"].startswith("#接龙 丹东草莓团\n草莓 39.9元/盒")


def test_the_bundled_transcript_is_the_demo_day_written_for_the_bundled_config() -> None:
    # `tuanbot demo --config yours.yaml` writes the same day for another config; on the bundled one it is the file
    from bot.cli.demo import bundled_config, bundled_transcript, script_for
    from bot.cli.transcript import write_transcript
    from bot.config import load_config

    _group, _buy, events = script_for(load_config(bundled_config()))
    assert write_transcript(events) == bundled_transcript().read_text(encoding="utf-8")


class _Terminal(io.StringIO):
    """A terminal as `tuanbot chat` sees it: lines typed after a pause, or pasted (arriving together)."""

    def __init__(self, script: list[tuple[float, str]]) -> None:
        super().__init__()
        self.script = list(script)

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if not self.script:
            return ""
        pause, line = self.script.pop(0)
        time.sleep(pause)
        return line + "\n"


def _chat(data_dir: Path, stdin: io.StringIO, name: str = "王阿姨") -> str:
    out = io.StringIO()
    code = asyncio.run(
        run_chat(
            REPO / "bot" / "sample" / "demo.yaml",
            data_dir=data_dir,
            group=None,
            name=name,
            start=datetime(2026, 11, 26, 10, 0),
            stdin=stdin,
            out=out,
        )
    )
    assert code == 0
    return out.getvalue()


def test_chat_takes_a_pasted_jielong_as_one_message_and_prompts_with_the_group(data_dir: Path) -> None:
    paste = ["#接龙 丹东草莓团", "例 3栋 王阿姨 草莓1盒", "", "1. 张姐 草莓1盒", "2. 3栋 王阿姨 草莓2盒"]
    typed = [(0.3, paste[0]), *[(0.0, line) for line in paste[1:]], (0.5, "/wait"), (0.3, "/quit")]
    out = _chat(data_dir, _Terminal(typed))
    assert "[阳光花园1号群] 11-26 10:00 王阿姨> " in out  # the prompt shows the group
    # one message with both lines: one digest naming both orders (lines typed apart would be five messages)
    assert out.count("✅ 已记录") == 1
    assert "✅ 已记录:张姐 草莓1盒;3栋 王阿姨 草莓2盒" in out


def test_chat_takes_a_bracketed_paste_as_one_message(data_dir: Path) -> None:
    typed = [
        (0.1, "\x1b[200~#接龙 丹东草莓团"),
        (0.1, ""),  # slow lines: the terminal's paste marks decide, not the timing
        (0.1, "1. 3栋 王阿姨 草莓2盒\x1b[201~"),
        (0.1, "/wait"),
        (0.1, "/quit"),
    ]
    assert "✅ 已记录:3栋 王阿姨 草莓2盒" in _chat(data_dir, _Terminal(typed))


def test_chat_runs_the_scheduler_as_its_clock_moves(data_dir: Path) -> None:
    script = "\n".join(["/time 2026-11-26 18:01", "/time +2h", "/quit"]) + "\n"
    out = _chat(data_dir, io.StringIO(script))
    assert "🤖 小团 [阳光花园1号群 18:00]: ⏰ 丹东草莓团 还有2小时截单(今晚20:00)" in out
    assert "🤖 小团 [阳光花园1号群 20:00]: 【截单】丹东草莓团 已截单,之后的接龙不再记录" in out
    assert out.index("18:00]") < out.index("20:00]")
    assert "09:30" not in out  # the chat started at 10:00: the morning's column is not replayed


def test_chat_writes_nothing_into_the_live_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = tmp_path / "live"
    monkeypatch.setenv("TUANBOT_DATA", str(live))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = asyncio.run(
        run_chat(
            REPO / "bot" / "sample" / "demo.yaml",
            data_dir=None,
            group=None,
            name="王阿姨",
            start=datetime(2026, 11, 26, 10, 0),
            stdin=io.StringIO("#接龙 丹东草莓团\\n\\n1. 3栋 王阿姨 草莓2盒\n/wait\n/quit\n"),
            out=out,
        )
    )
    assert code == 0
    assert "已记录:3栋 王阿姨 草莓2盒" in out.getvalue()
    assert not live.exists()  # neither a database nor the operator log
    assert not (tmp_path / "data").exists()
