"""`tuanbot backend`: run the leader's backend service until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import read_settings

TOKEN_ENV = "TUANBOT_BACKEND_TOKEN"
DEFAULT_PORT = 8080


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backend",
        parents=[common],
        help="run the backend service (orders API, summaries, xlsx export)",
        description=f"Serves /api (bearer token from ${TOKEN_ENV}) and /healthz.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free one)")
    p.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default $TUANBOT_DATABASE_URL, else SQLite backend.db in the data dir)",
    )
    p.add_argument("--config", help="config.yaml whose buys give 成团 rules and prices to summaries")
    p.set_defaults(func=cmd_backend)


def backend_database_url(data_dir: Path, cli_value: str | None) -> str:
    """`--database`, else `TUANBOT_DATABASE_URL`, else SQLite `backend.db` in the data dir; given the async drivers."""
    from storage.db import async_url

    url = cli_value or read_settings().database_url
    return async_url(url) if url else f"sqlite+aiosqlite:///{data_dir / 'backend.db'}"


def cmd_backend(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_ENV, "").strip()  # a secret: read where used, never kept (bot/settings.py)
    if not token:
        sys.stderr.write(
            f"tuanbot backend: set {TOKEN_ENV} to the token clients must send (Authorization: Bearer …); "
            "the service does not start without one.\n"
        )
        return 2
    from bot.core.paths import resolve_data_dir
    from bot.logs import setup_logging

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    config = None
    if args.config:
        from bot.config import ConfigError, load_config

        try:
            config = load_config(args.config)
        except ConfigError as exc:
            sys.stderr.write(f"tuanbot backend: {args.config} is not a valid config:\n{exc}\n")
            return 2
    setup_logging(data_dir)
    from bot.backend.app import serve

    url = backend_database_url(data_dir, args.database)
    asyncio.run(serve(args.host, args.port, database_url=url, token=token, config=config))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot.backend`: the same command without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="tuanbot")
    parser.add_argument("--data-dir")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS)
    add_command(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(["backend", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.func(args)
    return code
