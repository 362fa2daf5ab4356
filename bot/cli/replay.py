"""`tuanbot replay [--config C] [--json] [--until ISO] [--data-dir D] FILE`: a transcript (docs/replay.md) played
through the real bot on a clock that follows it, offline, in a throwaway data dir unless `--data-dir` is given.

How a leader rehearses a week, how an operator reproduces a complaint, how tests drive a whole day. Without `--json`
it prints the conversation as the demo does, then each buy's summary read back from the store; with `--json`, one
object: what the bot said, every order with its amount, every buy with its total. Exit 0 on any transcript the
format allows; a malformed line is `FILE:LINE: message`, exit 1, and nothing is played.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.cli.playback import Playback, Printer, Said
from bot.cli.readout import read_buys, read_orders
from bot.cli.transcript import Event, TranscriptError, parse_time, read_transcript
from bot.config import Config, ConfigError, load_config
from bot.domain.buys import has_started, is_open
from bot.domain.summary import format_summary, load_summary
from bot.logs import REHEARSAL_LOG_FILE, setup_logging
from bot.settings import read_settings

RUN_ON = timedelta(hours=1)  # after the last event, so digests, reminders and the cutoff post go out
REPLAY_DB = "replay.db"
SCRATCH_HELP = "keep the database and the log here (default: a throwaway dir, never the live bot's data dir)"


@dataclass
class Played:
    """What a replayed day left: the conversation, and the store read back at its end."""

    conversation: list[Said]
    orders: list[dict[str, Any]]
    buys: list[dict[str, Any]]
    summaries: list[str] = field(default_factory=list)  # each started buy's 汇总, read back from the store
    end: datetime | None = None

    def to_json(self, config: Config) -> dict[str, Any]:
        said = [
            {
                "at": s.at.astimezone(config.tz).isoformat(timespec="seconds"),
                "group": s.group,
                "to": s.to,
                "text": s.text,
                "mentions": list(s.mentions),
                "file": s.file,
            }
            for s in self.conversation
            if s.from_bot
        ]
        return {"said": said, "orders": self.orders, "buys": self.buys}


async def play(
    config: Config,
    events: list[Event],
    *,
    data_dir: Path,
    database: str,
    until: datetime | None = None,
    printer: Printer | None = None,
    start: datetime | None = None,
) -> Played:
    """Play `events` (those up to `until`) through a fresh bot, then run on to `until` (default: an hour after the
    last event). `printer` gets the conversation as it happens."""
    first = start or (events[0].at if events else until) or datetime.now(config.tz)
    end = until or ((events[-1].at if events else first) + RUN_ON)
    playback = Playback(config, data_dir, database, first)
    await playback.start()
    try:
        for event in events:
            if event.at > end:
                break
            await playback.deliver(event)
            if printer is not None:
                printer.flush(playback.conversation)
        await playback.run_until(end)
        if printer is not None:
            printer.flush(playback.conversation)
        ended = playback.app.services.config  # the plan with what leaders changed in chat (a buy opened there)
        async with playback.app.db.sessions() as session:
            orders = await read_orders(session, ended)
            summaries = [  # a buy past its cutoff short of 成团 reads 未成团(差N人), as its cutoff post did
                format_summary(await load_summary(session, ended, buy), buy, closed=not is_open(buy, end))
                for buy in ended.buys
                if has_started(buy, end)
            ]
        return Played(list(playback.conversation), orders, read_buys(ended, orders, end), summaries, end)
    finally:
        await playback.close()


def load(config_path: Path, transcript: Path, err: TextIO) -> tuple[Config, list[Event]] | None:
    """The config and the transcript, checked; None (the problem on `err`) when either is wrong."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return None
    try:
        events = read_transcript(transcript, tz=config.tz, groups=[g.name for g in config.groups])
    except TranscriptError as exc:
        err.write(f"{exc}\n")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        err.write(f"{transcript}: cannot read it ({exc.__class__.__name__}: {exc})\n")
        return None
    return config, events


async def run_replay(
    transcript: Path,
    config_path: Path,
    *,
    data_dir: str | Path | None = None,
    until: str | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout  # resolved per call: a default bound at import would keep a stale stream
    err = err or sys.stderr
    loaded = load(config_path, transcript, err)
    if loaded is None:
        return 1
    config, events = loaded
    end = None
    if until:
        end = parse_time(until, config.tz)
        if end is None:
            err.write(f"--until: not an ISO time: {until!r} (e.g. 2026-12-01T22:00:00+08:00)\n")
            return 2
        if events and end < events[0].at:
            err.write(f"--until: {end.isoformat()} is before the first message ({events[0].at.isoformat()})\n")
            return 2
    with tempfile.TemporaryDirectory(prefix="tuanbot-replay-") as scratch:
        data, db_path = _fresh(data_dir, scratch)
        setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never the live bot's operator log
        printer = None if as_json else Printer(out, config)
        try:
            played = await play(config, events, data_dir=data, database=f"sqlite+aiosqlite:///{db_path}", until=end)
        finally:
            setup_logging(None, console=None)  # the log file is closed before a throwaway dir goes
        if printer is not None:
            printer.flush(played.conversation)
    if as_json:
        out.write(json.dumps(played.to_json(config), ensure_ascii=False, indent=2) + "\n")
    else:
        for summary in played.summaries:
            out.write(f"\n== 汇总 read back from the store ==\n{summary}\n")
    return 0


def _fresh(data_dir: str | Path | None, scratch: str) -> tuple[Path, Path]:
    """The data dir (`--data-dir`, else the throwaway one) and the replay's database in it, emptied."""
    data = Path(data_dir).expanduser().resolve() if data_dir else Path(scratch)
    data.mkdir(parents=True, exist_ok=True)
    db_path = data / REPLAY_DB
    for stale in (db_path, data / f"{REPLAY_DB}-wal", data / f"{REPLAY_DB}-shm"):
        stale.unlink(missing_ok=True)  # a replay starts from nothing, every time
    return data, db_path


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("replay", help="play a transcript (JSON lines) through the real bot, offline (docs/replay.md)")
    p.add_argument("--data-dir", default=argparse.SUPPRESS, help=SCRATCH_HELP)
    p.add_argument("--config", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.add_argument("--json", action="store_true", help="one JSON object: said, orders (with amounts), buys")
    p.add_argument("--until", metavar="ISO", help="run the clock on to here (default: an hour after the last message)")
    p.add_argument("file", help="the transcript: one JSON message per line, in time order")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    path = read_settings().config_path(args.config)
    return asyncio.run(
        run_replay(Path(args.file), path, data_dir=getattr(args, "data_dir", None), until=args.until, as_json=args.json)
    )
