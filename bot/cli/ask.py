"""`tuanbot ask`: what the bot would answer to a member's message, through the real handlers, store and sender on the
simulator (a fresh SQLite database in the data dir), so the answers are the ones a group would see."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.app import App, resolve_data_dir
from bot.channels.sim import SimChannel
from bot.clock import VirtualClock
from bot.config import Config, ConfigError, load_config
from bot.logs import REHEARSAL_LOG_FILE, setup_logging
from bot.sender import SenderLimits
from bot.settings import read_settings

MEMBER = "邻居"


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ask", parents=[common], help="what the bot answers to a member's message (offline)")
    p.add_argument("--config", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.add_argument("--group", help="the group asked in (default: the first configured group)")
    p.add_argument(
        "--at", metavar="'YYYY-MM-DD HH:MM'", help="the moment of asking, in the config's timezone (default: now)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per message")
    p.add_argument("text", nargs="*", help="the message; without it, one message per line from stdin")
    p.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace) -> int:
    path = read_settings().config_path(args.config)
    texts: Iterable[str] = [" ".join(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    return asyncio.run(
        run_ask(path, texts, data_dir=getattr(args, "data_dir", None), group=args.group, at=args.at, as_json=args.json)
    )


def _line(stream: TextIO, text: str) -> None:
    """Command output (user-facing, not the operator log)."""
    stream.write(text + "\n")
    stream.flush()


def _moment(config: Config, at: str | None) -> datetime:
    if not at:
        return datetime.now(config.tz)
    return datetime.strptime(at.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=config.tz)


async def run_ask(
    config_path: Path,
    texts: Iterable[str],
    *,
    data_dir: str | Path | None,
    group: str | None = None,
    at: str | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    from handlers.chain_orders import ChainOrders
    from handlers.leader_commands import LeaderCommands
    from handlers.questions import Questions, read_question

    out = out or sys.stdout
    data = resolve_data_dir(data_dir)
    setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never into the live bot's operator log
    try:
        config = load_config(config_path)
        start = _moment(config, at)
    except ConfigError as exc:
        _line(sys.stderr, str(exc))
        return 1
    except ValueError:
        _line(sys.stderr, f"--at: expected 'YYYY-MM-DD HH:MM', got {at!r}")
        return 2
    if not config.groups:
        _line(sys.stderr, f"{config_path}: no groups configured, nobody to ask in")
        return 1
    topic = group or config.groups[0].name
    group_config = config.group(topic)
    if group_config is None:
        _line(sys.stderr, f"no group named {topic!r} in {config_path}")
        return 1
    db_path = data / "ask.db"
    for stale in (db_path, data / "ask.db-wal", data / "ask.db-shm"):
        stale.unlink(missing_ok=True)
    clock = VirtualClock(start)
    channel = SimChannel.for_config(config, clock)
    # Each line is asked on its own: no repeat window, no identical-text suppression, no rate limit.
    app = App(
        config,
        channel,
        clock,
        data,
        handlers=[ChainOrders(), LeaderCommands(), Questions(window=timedelta(0))],
        limits=SenderLimits(
            per_group_per_minute=10_000,
            per_account_per_minute=10_000,
            same_text_window=timedelta(0),
            spacing=(0.0, 0.0),
        ),
        database=f"sqlite+aiosqlite:///{db_path}",
    )
    await app.start()
    try:
        for text in texts:
            if not text.strip():
                continue
            clock.advance(1)
            shown = len(channel.transcript)
            event = channel.message(topic, MEMBER, text)
            understanding = read_question(app.services, group_config, event)
            await app.handle(event)
            await app.sender.flush()
            said = [ln.text for ln in channel.transcript[shown:] if ln.from_bot and ln.topic == topic]
            reply = "\n".join(said) if said else None
            if as_json:
                record = {
                    "text": text,
                    "question": understanding.answerable,
                    "intent": understanding.intent,
                    "product": understanding.product,
                    "answer": reply,
                    "confidence": understanding.confidence,
                }
                _line(out, json.dumps(record, ensure_ascii=False))
            else:
                _line(out, reply if reply is not None else "(不回答)")
    finally:
        await app.drain()
        await app.close()
    return 0
