"""`tuanbot` — the command line: check, demo, chat, logs, parse, ask, replay, run."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import read_settings


def _config_path(value: str | None) -> Path:
    return read_settings().config_path(value)


def cmd_check(args: argparse.Namespace) -> int:
    from bot.config import check_config
    from scheduler.plan import planned_jobs

    path = _config_path(args.config)
    result = check_config(path)
    for problem in result.errors:
        print(problem)
    for problem in result.warnings:
        print(f"{problem} (warning)")
    if result.errors or result.config is None:
        print(f"{path}: {len(result.errors)} error(s); the bot will not start with this config")
        return 1
    cfg = result.config
    jobs = planned_jobs(cfg)
    print(
        f"{path}: ok — {len(cfg.groups)} groups, {len(cfg.catalogue)} products, {len(cfg.buys)} buys, "
        f"{len(cfg.flash_sales)} flash sales, {len(cfg.columns)} columns, {len(jobs)} scheduled jobs"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.cli.demo import run_demo

    return asyncio.run(run_demo(args.config, data_dir=args.data_dir))


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.cli.chat import run_chat

    start = None
    if args.at:
        try:
            start = datetime.fromisoformat(args.at.strip())
        except ValueError:
            print(f"--at: not a time: {args.at!r} (e.g. '2026-11-26 09:00')", file=sys.stderr)
            return 2
    return asyncio.run(
        run_chat(_config_path(args.config), data_dir=args.data_dir, group=args.group, name=args.as_, start=start)
    )


def cmd_logs(args: argparse.Namespace) -> int:
    from bot.core.paths import resolve_data_dir
    from bot.logs import LOG_FILE, REHEARSAL_LOG_FILE, format_record, matches, parse_since, read_records

    path = resolve_data_dir(args.data_dir) / (REHEARSAL_LOG_FILE if args.rehearsal else LOG_FILE)
    if not path.exists():
        hint = "run `tuanbot demo` first" if args.rehearsal else "no `tuanbot run` here yet; rehearsals: --rehearsal"
        print(f"no log yet at {path} ({hint})", file=sys.stderr)
        return 1
    try:
        since = datetime.now(UTC) - parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        for record in read_records(path, follow=args.follow):
            if matches(record, group=args.group, event=args.event, level=args.level, since=since):
                print(format_record(record), flush=args.follow)
    except KeyboardInterrupt:
        return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    data_help = "where the bot writes (database, log); default $TUANBOT_DATA or ./data"
    parser = argparse.ArgumentParser(prog="tuanbot", description="WeChat community group-buying bot")
    parser.add_argument("--data-dir", help=data_help)
    common = argparse.ArgumentParser(add_help=False)  # so `tuanbot demo --data-dir X` works too
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_help)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", parents=[common], help="validate a config and summarise it")
    p.add_argument("config", nargs="?", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("demo", parents=[common], help="play a sample group day offline on the simulator")
    p.add_argument("--config", help="play the day on this config instead of the bundled sample")
    p.set_defaults(func=cmd_demo)

    from bot.cli.replay import SCRATCH_HELP

    p = sub.add_parser("chat", help="an interactive group on the simulator (replay's engine, live)")
    p.add_argument("--data-dir", default=argparse.SUPPRESS, help=SCRATCH_HELP)
    p.add_argument("--config")
    p.add_argument("--group", help="the group to talk in (default: the first)")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who you are (default: a member; /as NAME switches)")
    p.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="where the chat's clock starts (default: now)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("logs", parents=[common], help="read the operator log in the data dir")
    p.add_argument("--group")
    p.add_argument("--event")
    p.add_argument("--level", choices=["debug", "info", "warning", "error"])
    p.add_argument("--since", help="only the last 30s / 10m / 2h / 1d")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--rehearsal", action="store_true", help="what ask, chat, demo, parse and replay logged instead")
    p.set_defaults(func=cmd_logs)

    from bot.backend import add_command as add_backend
    from bot.cli.ask import add_command as add_ask
    from bot.cli.parse import add_command as add_parse
    from bot.cli.rebuild import add_command as add_rebuild
    from bot.cli.replay import add_command as add_replay
    from bot.cli.schedule import add_commands as add_schedule
    from bot.cli.sync import add_command as add_sync

    add_parse(sub, common)
    add_ask(sub, common)
    add_rebuild(sub, common)
    add_replay(sub, common)
    add_schedule(sub, common)
    add_backend(sub, common)
    add_sync(sub, common)

    from bot.cli.run import add_command as add_run

    add_run(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:  # `tuanbot logs | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code
