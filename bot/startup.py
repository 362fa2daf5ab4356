"""What `tuanbot run` checks before it starts, and `tuanbot reload` relies on: the gateway's token and endpoint, and
one bot per data dir (the locked pid file)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.channels.wechaty import WechatySettings, parse_endpoint
from bot.settings import read_settings

if TYPE_CHECKING:
    from bot.config import Config

ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"
PID_FILE = "tuanbot.pid"
SIDE_DIR = ".wechaty"  # python-wechaty's own files, kept inside the data dir


class SetupError(Exception):
    """`tuanbot run` cannot start as configured; the message says what to do."""


def connection_settings(config: Config, data_dir: Path, environ: Mapping[str, str] | None = None) -> WechatySettings:
    """Token and endpoint from the environment, else from the config's `wechat:` section. Both are required."""
    # The token is a secret: read here, where it is used, never kept in the settings (see bot/settings.py).
    token_env = (os.environ if environ is None else environ).get(ENV_TOKEN)
    section = config.wechat
    token = (token_env or (section.token if section else None) or "").strip()
    endpoint_env = read_settings(environ).wechaty_endpoint
    endpoint = (endpoint_env or (section.endpoint if section else None) or "").strip()
    if not token:
        raise SetupError(
            f"no gateway token: set {ENV_TOKEN} (or wechat.token in the config) to the token your wechaty gateway "
            "was started with"
        )
    if not endpoint:
        raise SetupError(
            f"no gateway endpoint: set {ENV_ENDPOINT} (or wechat.endpoint in the config) to the gateway's host:port, "
            "e.g. 127.0.0.1:8788; without one python-wechaty would look the token up online"
        )
    try:
        parse_endpoint(endpoint)
    except ValueError as exc:
        raise SetupError(f"bad gateway endpoint: {exc}") from None
    return WechatySettings(endpoint=endpoint, token=token, side_dir=data_dir / SIDE_DIR)


def pid_path(data_dir: Path) -> Path:
    return data_dir / PID_FILE


class PidFile:
    """`<data dir>/tuanbot.pid` while the bot runs, locked (`flock`) for the process's whole life: a second bot on the
    same data dir cannot take it, even when both start at once, and a pid left by a crash is known to be stale (its
    lock died with its process), so `tuanbot reload` never signals a stranger that reused the number."""

    def __init__(self, data_dir: Path) -> None:
        self.path = pid_path(data_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SetupError(
                f"another tuanbot (pid {other}) runs on this data dir ({self.path}); one bot per account"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)  # closing drops the lock
        self._fd = None


def running_pid(path: Path) -> int | None:
    """The pid of the bot holding `path`'s lock, or None when no bot runs (no file, or a stale one)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else None
        return None  # we could lock it: whoever wrote it is gone
    finally:
        os.close(fd)
