"""`tuanbot schedule` (the next firings of a plan, for a leader to check before going live) and `tuanbot reload`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Config, check_config
from bot.notices.posts import WEEKDAYS_ZH, post_text
from bot.settings import read_settings
from scheduler.plan import next_firings

_KIND_ZH = {
    "buy_open": "开团",
    "column": "栏目",
    "flash_alert": "秒杀提醒",
    "flash_end": "秒杀结束",
    "cutoff_reminder": "截单提醒",
    "cutoff": "截单汇总",
    "arrival": "到货通知",
}


def add_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("schedule", parents=[common], help="list the next scheduled posts of a config, in time order")
    p.add_argument("--config", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.add_argument("--next", type=int, default=20, metavar="N", help="how many firings (default 20)")
    p.add_argument("--from", dest="from_", metavar="ISO", help="start here instead of now (naive = the config's zone)")
    p.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("reload", parents=[common], help="make the running bot reload its config (SIGHUP)")
    p.set_defaults(func=cmd_reload)


# --- schedule ----------------------------------------------------------------------------------------------------


def schedule_rows(config: Config, *, start: datetime, count: int) -> list[dict[str, str]]:
    """The next `count` firings from `start`: at (ISO with the config's offset), group, kind, job, text (first line)
    and body (the whole post, as the group would read it: a leader proofreads a column in full)."""
    rows = []
    for moment, spec in next_firings(config, start=start, count=count):
        local = moment.astimezone(config.tz)
        text = post_text(config, spec, local) or ""
        rows.append(
            {
                "at": local.isoformat(),
                "group": spec.group,
                "kind": spec.kind,
                "job": spec.id,
                "text": _first(text),
                "body": text.strip(),
            }
        )
    return rows


def _first(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Pad (or cut, with …) to `width` terminal columns, counting a CJK character as two."""
    if _width(text) > width:
        out = ""
        for c in text:
            if _width(out + c) > width - 1:
                break
            out += c
        text = out + "…"
    return text + " " * (width - _width(text))


def format_table(config: Config, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing scheduled)"
    groups = max(_width(r["group"]) for r in rows)
    lines = [f"{_fit('时间', 17)}  {_fit('群', groups)}  {_fit('类型', 9)}  {_fit('kind', 15)}  内容"]
    for r in rows:
        local = datetime.fromisoformat(r["at"])
        when = f"{local:%m-%d} {WEEKDAYS_ZH[local.weekday()]} {local:%H:%M}"
        kind_zh = _KIND_ZH.get(r["kind"], r["kind"])
        lines.append(
            f"{_fit(when, 17)}  {_fit(r['group'], groups)}  {_fit(kind_zh, 9)}  {_fit(r['kind'], 15)}  "
            f"{_fit(r['text'], 64).rstrip()}"
        )
    return "\n".join(lines)


def _config_path(value: str | None) -> Path:
    return read_settings().config_path(value)


def cmd_schedule(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    result = check_config(path)
    if result.config is None:
        for problem in result.errors:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write(f"{path}: {len(result.errors)} error(s); fix them first (`tuanbot check {path}`)\n")
        return 1
    config = _with_chat_changes(result.config, args)
    if args.next < 1:
        sys.stderr.write("--next must be at least 1\n")
        return 2
    try:
        start = datetime.fromisoformat(args.from_) if args.from_ else datetime.now(config.tz)
    except ValueError:
        sys.stderr.write(f"--from: expected an ISO 8601 time like 2026-11-30T08:00, got {args.from_!r}\n")
        return 2
    if start.tzinfo is None:
        start = start.replace(tzinfo=config.tz)
    rows = schedule_rows(config, start=start, count=args.next)
    if args.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        head = (
            f"{path}: the next {len(rows)} posts from {start.astimezone(config.tz):%Y-%m-%d %H:%M} ({config.timezone})"
        )
        sys.stdout.write(head + "\n" + format_table(config, rows) + "\n")
    return 0


def _with_chat_changes(config: Config, args: argparse.Namespace) -> Config:
    """What leaders changed in chat (#15), as the running bot lays it on the plan, when the data dir has a store."""
    from bot.core.paths import resolve_data_dir
    from bot.domain.overlay import stored_plan
    from storage.db import database_url

    url = database_url(resolve_data_dir(getattr(args, "data_dir", None)), config.database)
    return asyncio.run(stored_plan(config, url))


# --- reload ------------------------------------------------------------------------------------------------------


def cmd_reload(args: argparse.Namespace) -> int:
    from bot.core.paths import resolve_data_dir
    from bot.startup import pid_path, running_pid

    path = pid_path(resolve_data_dir(getattr(args, "data_dir", None)))
    pid = running_pid(path)
    if pid is None:
        why = "a stale pid file: the bot that wrote it is gone" if path.exists() else "there is no pid file"
        sys.stderr.write(f"no running bot on this data dir ({path}: {why}); start it with `tuanbot run`\n")
        return 1
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        sys.stderr.write(f"no running bot: {path} names pid {pid}, which is not running (a stale pid file)\n")
        return 1
    except PermissionError:
        sys.stderr.write(f"pid {pid} (from {path}) belongs to another user; cannot signal it\n")
        return 1
    sys.stdout.write(
        f"asked the bot (pid {pid}) to reload its config; `tuanbot logs --event config_reloaded` shows the result\n"
    )
    return 0


__all__ = ["add_commands", "cmd_reload", "cmd_schedule", "format_table", "schedule_rows"]
