"""`tuanbot chat`: the interactive face of `tuanbot replay`. You type as a member; the real bot (the same playback
engine as replay and the demo) answers as it would in WeChat, on a clock that follows real time from `--at` (default
now): the scheduler runs, so a post due while you type goes out at its time. It writes into a throwaway data dir
unless `--data-dir` is given, never into the live bot's.

Commands: `/as NAME` speak as someone else (a leader's name makes you a leader), `/group NAME` switch group,
`/time YYYY-MM-DD HH:MM` or `/time +2h` move the clock on (posts due meanwhile go out), `/wait` let what the bot has
queued go out (the digest; at most 10 minutes on), `/quit`.

A pasted multi-line 接龙 is one message. At a terminal a paste is recognised by the terminal's bracketed-paste marks,
or else by its lines arriving together: a line that arrives within `PASTE_GAP` (50 ms) of the one before belongs to
the same message (no one types a line that fast). From a pipe or a file every line is a message; there, and when
typing, write `\\n` inside a line, or end a line with `\\` to continue on the next.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.app import resolve_data_dir
from bot.cli.playback import Playback, Said
from bot.cli.transcript import Event
from bot.config import Config, ConfigError, load_config
from bot.logs import REHEARSAL_LOG_FILE, setup_logging

PASTE_GAP = 0.05  # seconds: lines closer than this arrived together (a paste), not typed one by one
TICK = 1.0  # seconds: how often the clock catches up with real time while you think
WAIT_LIMIT = timedelta(minutes=10)
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
_REL = re.compile(r"^\+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ChatTime:
    """The chat's clock: real time, from wherever the chat last put it (`--at`, `/time`)."""

    def __init__(self, start: datetime) -> None:
        self._base, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def set(self, when: datetime) -> None:
        if when > self.now():
            self._base, self._t0 = when, time.monotonic()


def _target(now: datetime, config: Config, arg: str) -> datetime | str:
    """Where `/time ARG` moves the clock, or what is wrong with ARG."""
    rel = _REL.match(arg)
    if rel:
        return now + timedelta(**{_UNITS[rel.group(2)]: int(rel.group(1))})
    try:
        when = datetime.strptime(arg, "%Y-%m-%d %H:%M").replace(tzinfo=config.tz)
    except ValueError:
        return "用法: /time 2026-11-26 09:00 或 /time +2h"
    return when if when >= now else "时间只能往前走"


class Lines:
    """stdin, read on a thread so the clock runs while you think: each line with the moment it arrived."""

    def __init__(self, stdin: TextIO) -> None:
        self.queue: asyncio.Queue[tuple[str | None, float]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read() -> None:
            while True:
                raw = stdin.readline()
                loop.call_soon_threadsafe(self.queue.put_nowait, (raw or None, time.monotonic()))
                if not raw:
                    return

        threading.Thread(target=read, name="chat-stdin", daemon=True).start()

    async def get(self, within: float | None) -> tuple[str | None, float] | None:
        """The next line, or None when none arrives `within` seconds (None: wait for it)."""
        try:
            async with asyncio.timeout(within):
                return await self.queue.get()
        except TimeoutError:
            return None


async def read_message(lines: Lines, interactive: bool, tick: Callable[[], Awaitable[None]]) -> str | None:
    """The next message: one line, or several when pasted (see the module doc). None at the end of input.
    `tick` is awaited while nothing arrives (the clock catches up with real time)."""
    pending: list[str] = []
    pasting = False
    while True:
        got = await lines.get(None if pending or not interactive else TICK)
        if got is None:
            await tick()
            continue
        raw, arrived = got
        if raw is None:
            return "\n".join(pending).replace("\\n", "\n") if pending else None
        line = raw.rstrip("\n")
        if PASTE_START in line:
            pasting, line = True, line.replace(PASTE_START, "")
        if PASTE_END in line:
            pasting, line = False, line.replace(PASTE_END, "")
            pending.append(line)
            return "\n".join(pending)
        if line.endswith("\\") and not pasting:
            pending.append(line[:-1])
            continue
        pending.append(line)
        if pasting:
            continue
        if interactive:  # more lines of the same paste arrive at once
            nxt = await lines.get(PASTE_GAP)
            while nxt is not None and nxt[0] is not None and nxt[1] - arrived < PASTE_GAP:
                pending.append(nxt[0].rstrip("\n"))
                arrived = nxt[1]
                nxt = await lines.get(PASTE_GAP)
            if nxt is not None:
                lines.queue.put_nowait(nxt)  # not part of the paste: the next message (or the end)
        return "\n".join(pending).replace("\\n", "\n")


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
    """Like replay, the chat writes into a throwaway data dir unless `data_dir` is given (never the live bot's)."""
    with tempfile.TemporaryDirectory(prefix="tuanbot-chat-") as scratch:
        data = _data_dir(data_dir, scratch)
        setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never the live bot's operator log
        try:
            return await _chat(config_path, data, group, name, start, stdin or sys.stdin, out or sys.stdout)
        finally:
            setup_logging(None, console=None)  # the log file is closed before a throwaway dir goes


def _data_dir(data_dir: str | Path | None, scratch: str) -> Path:
    return resolve_data_dir(data_dir) if data_dir else Path(scratch)


async def _chat(
    config_path: Path,
    data: Path,
    group: str | None,
    name: str | None,
    start: datetime | None,
    stdin: TextIO,
    out: TextIO,
) -> int:
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
    clock = ChatTime(start.replace(tzinfo=start.tzinfo or config.tz) if start else datetime.now(config.tz))
    playback = Playback(config, data, f"sqlite+aiosqlite:///{db_path}", clock.now())
    await playback.start()
    me = name or "邻居小王"
    interactive = stdin.isatty()
    shown = 0

    def show_bot(*, prompt: bool) -> None:
        nonlocal shown
        new = [s for s in playback.conversation[shown:] if s.from_bot]
        shown = len(playback.conversation)
        if new and prompt:
            print(file=out)  # off the prompt line
        for said in new:
            print(_bot_line(said, config), file=out)
        if prompt and interactive:
            local = clock.now().astimezone(config.tz)
            print(f"[{topic}] {local:%m-%d %H:%M} {me}> ", end="", file=out, flush=True)

    async def catch_up(*, prompt: bool = True) -> None:
        await playback.run_until(clock.now())
        if any(s.from_bot for s in playback.conversation[shown:]):
            show_bot(prompt=prompt)

    lines = Lines(stdin)
    print(f"[{topic}] 你是 {me}。/as 名字 换人, /time +2h 拨钟, /wait 等机器人发完, /quit 退出", file=out)
    serial = 0
    try:
        await catch_up(prompt=False)
        show_bot(prompt=True)
        while True:
            text = await read_message(lines, interactive, catch_up)
            if text is None:
                break
            if not text.strip():
                show_bot(prompt=True)
                continue
            if text.startswith("/") and "\n" not in text:
                cmd, _, arg = text[1:].partition(" ")
                arg = arg.strip()
                if cmd == "quit":
                    break
                if cmd == "as" and arg:
                    me = arg
                elif cmd == "group" and config.group(arg):
                    topic = arg
                elif cmd == "time":
                    moved = _target(clock.now(), config, arg)
                    if isinstance(moved, str):
                        print(moved, file=out)
                    else:
                        clock.set(moved)
                elif cmd == "wait":
                    await playback.settle(WAIT_LIMIT)
                    clock.set(playback.clock.now())
                else:
                    print("命令: /as 名字, /group 群名, /time …, /wait, /quit", file=out)
                await catch_up(prompt=False)
            else:
                serial += 1
                at = max(clock.now(), playback.clock.now())
                await playback.deliver(
                    Event(line=serial, at=at, sender=me, text=text, group=topic, msg_id=f"chat-{serial}")
                )
                clock.set(playback.clock.now())
            show_bot(prompt=True)
    finally:
        await playback.settle(WAIT_LIMIT)
        show_bot(prompt=False)
        await playback.close()
    return 0


def _bot_line(said: Said, config: Config) -> str:
    text = "".join(f"@{m} " for m in said.mentions) + said.text
    where = f"{said.group} " if said.group else f"私聊→{said.to} "
    return f"🤖 {said.who} [{where}{said.at.astimezone(config.tz):%H:%M}]: " + text.replace("\n", "\n    ")
