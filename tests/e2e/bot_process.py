"""`tuanbot run` as a real process for the e2e tests: start it against a gateway, read its log and its store, stop it.

Stdlib only (plus the project, for the config text). The log is the operator log in the data dir (one JSON object per
line), so a test waits for what an operator would see: `channel_connected`, `order_created`, `room_joined_unserved`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
LOG_FILE = "tuanbot.log.jsonl"

Record = dict[str, Any]


def run_command() -> list[str]:
    """`tuanbot run`, as `python -m bot.cli run`."""
    return [sys.executable, "-m", "bot.cli", "run"]


def e2e_config(groups: list[dict[str, Any]], *, buy_groups: list[str] | None = None, extra: str = "") -> str:
    """A config for a live test: one open buy (草莓) in the given groups, fast digests, no sender spacing."""
    now = datetime.now(TZ)
    opens = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    cutoff = (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    group_lines = []
    for g in groups:
        line = f"  - name: {g['name']}"
        if g.get("leaders"):  # `leaders: []` is refused by check (nobody could run a command): leave it out
            line += f"\n    leaders: [{', '.join(g['leaders'])}]"
        if g.get("room_id"):
            line += f'\n    room_id: "{g["room_id"]}"'
        group_lines.append(line)
    names = buy_groups if buy_groups is not None else [g["name"] for g in groups]
    return f"""
timezone: Asia/Shanghai
bot: {{name: 小团}}
limits: {{per_group_per_minute: 1000, per_account_per_minute: 1000, same_text_window: 1s, send_spacing: 0s}}
chain: {{digest_every: 1s}}
catalogue:
  - {{name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}}
  - {{name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}}
groups:
{chr(10).join(group_lines)}
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [{", ".join(names)}]
    items: [{{product: 草莓, price: 39.9}}]
    opens: {opens}
    cutoff: {cutoff}
{extra}
"""


class BotProcess:
    """One `tuanbot run` process with its own data dir."""

    def __init__(
        self,
        workdir: Path,
        config_text: str,
        gateway_env: Mapping[str, str],
        *,
        extra_env: Mapping[str, str] | None = None,
        drop_env: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.config_path = workdir / "config.yaml"
        self.config_path.write_text(config_text, encoding="utf-8")
        self.console_path = workdir / "bot.console.log"
        env = {k: v for k, v in os.environ.items() if k not in {"TUANBOT_DATABASE_URL", "TUANBOT_DATA", *drop_env}}
        env.update(gateway_env)
        env.update(extra_env or {})
        env["PYTHONUNBUFFERED"] = "1"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tuanbot.db"

    def start(self) -> BotProcess:
        cmd = [*run_command(), "--config", str(self.config_path), "--data-dir", str(self.data_dir)]
        with open(self.console_path, "ab") as console:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=console, stderr=console
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        """Signal the bot and wait for it to exit; returns its exit code (SIGKILL after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def console(self) -> str:
        try:
            return self.console_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    # --- the operator log ------------------------------------------------------------------------------------------

    def records(self) -> list[Record]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written right now
        return out

    def events(self, name: str, **fields: Any) -> list[Record]:
        return [r for r in self.records() if r.get("event") == name and all(r.get(k) == v for k, v in fields.items())]

    def wait_event(
        self, name: str, timeout: float = 10.0, where: Callable[[Record], bool] | None = None, **fields: Any
    ) -> Record:
        deadline = time.monotonic() + timeout
        while True:
            for record in self.events(name, **fields):
                if where is None or where(record):
                    return record
            if not self.running():
                raise AssertionError(
                    f"the bot exited ({self.proc and self.proc.returncode}) before {name}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name} {fields or ''} within {timeout}s; log tail:\n{self.tail()}")
            time.sleep(0.02)

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.console().splitlines()[-n:])

    # --- the store -------------------------------------------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5) as conn:
            return list(conn.execute(sql, params))

    def orders(self, group: str) -> list[tuple[str, str]]:
        """(participant, status) of every order in `group`, oldest first."""
        return [
            (str(p), str(s))
            for p, s in self.query(
                "SELECT o.participant, o.status FROM orders o JOIN groups g ON g.id = o.group_id "
                "WHERE g.name = ? ORDER BY o.id",
                group,
            )
        ]

    def wait_orders(self, group: str, n: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.orders(group) if self.db_path.exists() else []
            if len(found) >= n:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} orders in {group} after {timeout}s, wanted {n}: {found}")
            time.sleep(0.02)
