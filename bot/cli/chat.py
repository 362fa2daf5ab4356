"""`tuanbot chat`: an interactive group on the simulator. You type as a member; the bot answers as it would in WeChat.

Commands: `/as NAME` speak as someone else (a leader's name makes you a leader), `/group NAME` switch group,
`/time YYYY-MM-DD HH:MM` or `/time +2h` move the clock, `/wait` let queued messages (the digest) go out, `/quit`.
A message may span lines: type `\\n` inside a line, or end a line with `\\` to continue on the next.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.app import App, resolve_data_dir
from bot.channels.sim import SimChannel
from bot.clock import VirtualClock
from bot.config import Config, ConfigError, load_config
from bot.logs import REHEARSAL_LOG_FILE, setup_logging

_REL = re.compile(r"^\+(\d+)\s*([smhd])$")


def _move(clock: VirtualClock, config: Config, arg: str) -> str | None:
    rel = _REL.match(arg)
    if rel:
        n, unit = int(rel.group(1)), rel.group(2)
        clock.advance_to(
            clock.now() + timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})
        )
        return None
    try:
        when = datetime.strptime(arg, "%Y-%m-%d %H:%M").replace(tzinfo=config.tz)
    except ValueError:
        return "用法: /time 2026-11-26 09:00 或 /time +2h"
    if when < clock.now():
        return "时间只能往前走"
    clock.advance_to(when)
    return None


async def run_chat(
    config_path: Path,
    *,
    data_dir: str | Path | None,
    group: str | None,
    name: str | None,
    start: datetime | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout  # resolved per call: a default bound at import would keep a stale stream
    data = resolve_data_dir(data_dir)
    setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never into the live bot's operator log
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not config.groups:
        print(f"{config_path}: no groups configured, nothing to chat in", file=sys.stderr)
        return 1
    topic = group or config.groups[0].name
    if config.group(topic) is None:
        print(f"no group named {topic!r} in {config_path}", file=sys.stderr)
        return 1
    db_path = data / "chat.db"
    for stale in (db_path, data / "chat.db-wal", data / "chat.db-shm"):
        stale.unlink(missing_ok=True)
    clock = VirtualClock(start.replace(tzinfo=start.tzinfo or config.tz) if start else datetime.now(config.tz))
    channel = SimChannel.for_config(config, clock)
    app = App(config, channel, clock, data, database=f"sqlite+aiosqlite:///{db_path}")
    await app.start()
    me = name or "邻居小王"
    interactive = stdin.isatty()
    print(f"[{topic}] 你是 {me}。/as 名字 换人, /time +2h 拨钟, /wait 等机器人发完, /quit 退出", file=out)
    shown = 0
    pending: list[str] = []
    try:
        while True:
            if interactive:
                print(f"{clock.now().astimezone(config.tz):%m-%d %H:%M} {me}> ", end="", file=out, flush=True)
            raw = stdin.readline()
            if not raw:
                break
            line = raw.rstrip("\n")
            if line.endswith("\\"):
                pending.append(line[:-1])
                continue
            text = "\n".join([*pending, line]).replace("\\n", "\n")
            pending = []
            if not text.strip():
                continue
            if text.startswith("/"):
                cmd, _, arg = text[1:].partition(" ")
                arg = arg.strip()
                if cmd == "quit":
                    break
                if cmd == "as" and arg:
                    me = arg
                elif cmd == "group" and config.group(arg):
                    topic = arg
                elif cmd == "time":
                    err = _move(clock, config, arg)
                    if err:
                        print(err, file=out)
                elif cmd == "wait":
                    await app.sender.flush(horizon=timedelta(minutes=10))
                else:
                    print("命令: /as 名字, /group 群名, /time …, /wait, /quit", file=out)
            else:
                clock.advance(1)
                event = channel.message(topic, me, text)
                shown += 1  # your own line is on your screen already
                await app.handle(event)
                await app.sender.flush()
            for ln in channel.transcript[shown:]:
                if ln.from_bot:
                    body = ln.text.replace("\n", "\n    ")
                    print(f"🤖 {ln.who} [{ln.at.astimezone(config.tz):%H:%M}]: {body}", file=out)
            shown = len(channel.transcript)
    finally:
        await app.sender.flush(horizon=timedelta(minutes=10))
        for ln in channel.transcript[shown:]:
            if ln.from_bot:
                print(f"🤖 {ln.who}: {ln.text}", file=out)
        await app.drain()
        await app.close()
    return 0
