"""`tuanbot run`: the bot in real WeChat groups, through a wechaty puppet-service gateway (see docs/wechat.md).

One process per WeChat account. It connects with `WECHATY_PUPPET_SERVICE_TOKEN` and `WECHATY_PUPPET_SERVICE_ENDPOINT`
(or the config's `wechat:` section), keeps the connection alive, and on SIGTERM/SIGINT stops taking messages,
finishes the ones in hand, lets the sender say what is due, and exits 0. SIGHUP reloads the config
(`bot.lifecycle.Lifecycle` owns all of that; this module parses the command and checks what it needs first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

EXIT_CONFIG = 1  # the config does not load
EXIT_USAGE = 2  # token or endpoint missing or malformed, or another bot runs on this data dir


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"tuanbot run: {message}\n")
    return code


def cmd_run(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config
    from bot.core.paths import resolve_data_dir
    from bot.lifecycle import run_bot
    from bot.logs import get_logger, setup_logging
    from bot.settings import read_settings
    from bot.startup import PidFile, SetupError, connection_settings

    env = read_settings()
    path = env.config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        return _fail(f"{path}: the config does not load:\n{exc}", EXIT_CONFIG)
    except OSError as exc:
        return _fail(f"cannot read the config {path}: {exc}", EXIT_CONFIG)
    data_dir = resolve_data_dir(getattr(args, "data_dir", None), env)
    try:
        settings = connection_settings(config, data_dir)
    except SetupError as exc:
        return _fail(str(exc), EXIT_USAGE)
    setup_logging(data_dir, console=sys.stderr)
    pid = PidFile(data_dir)
    try:
        pid.acquire()
    except SetupError as exc:
        return _fail(str(exc), EXIT_USAGE)
    get_logger("tuanbot.run").info(
        "bot_run", config=str(path), data_dir=str(data_dir), endpoint=settings.endpoint, pid=os.getpid()
    )
    try:
        return asyncio.run(run_bot(config, data_dir, settings, env))
    finally:
        pid.release()


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `tuanbot run` on the CLI's subparsers (`common` carries --data-dir)."""
    p = sub.add_parser("run", parents=[common], help="run the bot in real WeChat groups (wechaty gateway)")
    p.add_argument("--config", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.set_defaults(func=cmd_run)
