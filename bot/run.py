"""`tuanbot run`: the bot in real WeChat groups, through a wechaty puppet-service gateway (see docs/wechat.md).

One process per WeChat account. It connects with `WECHATY_PUPPET_SERVICE_TOKEN` and `WECHATY_PUPPET_SERVICE_ENDPOINT`
(or the config's `wechat:` section), keeps the connection alive, and on SIGTERM/SIGINT stops taking messages,
finishes the ones in hand, lets the sender say what is due, and exits 0. SIGHUP runs the `on_reload` callbacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.channels.wechaty import ChannelFatal, WechatyChannel, WechatySettings, parse_endpoint
from bot.events import Inbound, Outbound
from bot.logs import get_logger
from bot.settings import Settings, read_settings

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Config

ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"
PID_FILE = "tuanbot.pid"
SIDE_DIR = ".wechaty"  # python-wechaty's own files, kept inside the data dir

EXIT_CONFIG = 1  # the config does not load
EXIT_USAGE = 2  # token or endpoint missing or malformed, or another bot runs on this data dir
EXIT_FATAL = 3  # the gateway refused us (wrong token)

GREETING = "大家好,我是{name},本群的团购小助手~接龙下单我会自动登记,有问题可以@我。"


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


class RoomPolicy:
    """What the bot does with what the channel reports: messages go to the app, invitations are accepted from
    leaders only, a served room the bot lands in is greeted once, and a renamed room stays served."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.services = app.services
        self.log = get_logger("tuanbot.rooms")

    def inbound(self, event: Inbound) -> None:
        self.app.submit(event)

    async def logged_in(self, self_id: str) -> None:
        self.services.self_id = self_id

    def _leads(self, inviter_id: str, inviter_name: str) -> list[str]:
        return [g.name for g in self.services.config.groups if inviter_id in g.leaders or inviter_name in g.leaders]

    async def invited(self, topic: str, inviter_id: str, inviter_name: str) -> bool:
        groups = self._leads(inviter_id, inviter_name)
        if not groups:
            self.log.info("room_invitation_declined", topic=topic, inviter=inviter_name, reason="not_a_leader")
            return False
        self.log.info("room_invitation_accepted", topic=topic, inviter=inviter_name, leader_of=groups)
        return True

    async def joined(self, room_id: str, topic: str, inviter_id: str, inviter_name: str) -> None:
        group = await self.services.groups.resolve(room_id, topic)
        if group is None:
            self.log.warning(
                "room_joined_unserved",
                room=room_id,
                topic=topic,
                inviter=inviter_name,
                hint="add it under groups: in the config (name = the topic, or room_id) to serve it",
            )
            return
        self.log.info("room_joined", group=group.name, room=room_id, topic=topic, inviter=inviter_name)
        text = GREETING.format(name=self.services.config.bot.name)
        await self.services.sender.enqueue(
            Outbound(room_id, text), group=group.name, kind="greeting", key=f"greet:{room_id}"
        )

    async def left(self, room_id: str, topic: str) -> None:
        self.log.warning("room_left", room=room_id, topic=topic)

    async def renamed(self, room_id: str, topic: str, old_topic: str) -> None:
        groups = self.services.groups
        # A served room renamed before the bot heard anything in it: bind it by its old name first, so it is then
        # known by id and keeps being served under the new one.
        group = await groups.resolve(room_id, old_topic) if old_topic else None
        group = group or await groups.resolve(room_id, topic)
        self.log.info(
            "room_renamed", room=room_id, topic=topic, old_topic=old_topic, group=group.name if group else None
        )


class Runner:
    """One `tuanbot run` process: the app, the sender loop, the channel, and the signals.

    Extension points (the scheduler hooks in here): `extra_tasks` are started with the bot and cancelled at shutdown,
    `on_reload` callbacks run on SIGHUP (`tuanbot reload`), `on_stop` callbacks run at shutdown before the store closes;
    `on_started` callbacks get the runner once the app is up (its `app`, `channel`) and may append to the others.
    """

    def __init__(
        self,
        config: Config,
        data_dir: Path,
        settings: WechatySettings,
        *,
        env: Settings | None = None,
        drain_timeout: float = 15.0,
    ):
        self.config = config
        self.env = env or read_settings()
        self.data_dir = data_dir
        self.settings = settings
        self.drain_timeout = drain_timeout
        self.channel = WechatyChannel(settings)
        self.app: App | None = None
        self.on_started: list[Callable[[Runner], Awaitable[None]]] = []
        self.extra_tasks: list[Callable[[], Awaitable[None]]] = []
        self.on_reload: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.log = get_logger("tuanbot.run")
        self._stop = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()

    def request_stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            self.log.info("bot_stopping", reason=reason)
        self._stop.set()

    def request_reload(self) -> None:
        self.log.info("reload_requested", callbacks=len(self.on_reload))
        for callback in self.on_reload:
            task = asyncio.ensure_future(self._guarded(callback, "on_reload"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _guarded(self, callback: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await callback()
        except Exception:
            self.log.exception("callback_failed", hook=what)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)

    async def run(self) -> int:
        from bot.app import App
        from bot.clock import SystemClock

        app = self.app = App(self.config, self.channel, SystemClock(), self.data_dir, settings=self.env)
        self._install_signals()
        code = 0
        try:
            await app.start()
            self.channel.attach(RoomPolicy(app))
            for hook in self.on_started:
                await hook(self)
            sender = asyncio.create_task(app.sender.run(), name="sender")
            channel = asyncio.create_task(self.channel.run(), name="channel")
            extras = [asyncio.create_task(self._guarded(f, "extra_task")) for f in self.extra_tasks]
            stop = asyncio.create_task(self._stop.wait(), name="stop")
            await asyncio.wait({channel, stop}, return_when=asyncio.FIRST_COMPLETED)
            if channel.done() and not channel.cancelled():
                exc = channel.exception()
                if isinstance(exc, ChannelFatal):
                    sys.stderr.write(f"tuanbot run: {exc}\n")
                    self.log.error("channel_fatal", error=str(exc))
                    code = EXIT_FATAL
                elif exc is not None:
                    self.log.error("channel_failed", error=repr(exc))
                    code = EXIT_FATAL
            await self._shutdown(app, sender, channel, extras, stop)
        finally:
            self._remove_signals()
            await app.close()
        self.log.info("bot_stopped", exit_code=code)
        return code

    async def _shutdown(
        self,
        app: App,
        sender: asyncio.Task[None],
        channel: asyncio.Task[None],
        extras: list[asyncio.Task[None]],
        stop: asyncio.Task[bool],
    ) -> None:
        self.channel.stop_inbound()  # no new messages; the ones already queued per room are finished
        try:
            await asyncio.wait_for(app.drain(), self.drain_timeout)
        except TimeoutError:
            self.log.warning("drain_timeout", seconds=self.drain_timeout)
        await self._let_sender_finish(app)
        app.sender.stop()
        for task in extras:
            task.cancel()
        for callback in self.on_stop:
            await self._guarded(callback, "on_stop")
        await asyncio.gather(sender, *extras, return_exceptions=True)
        await self.channel.close()
        stop.cancel()
        if not channel.done():
            channel.cancel()
        await asyncio.gather(channel, stop, return_exceptions=True)

    async def _let_sender_finish(self, app: App) -> None:
        """Wait (bounded) until nothing is due in the outbound queue: the running send loop says it. Messages meant
        for later, or that cannot go now, stay queued in the store and go out after the next start."""
        if not self.channel.online:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        while loop.time() < deadline and self.channel.online:
            if not await app.sender.due_count():
                return
            await asyncio.sleep(0.05)
        self.log.warning("sender_not_drained", seconds=self.drain_timeout)


class PidFile:
    """`<data dir>/tuanbot.pid` while the bot runs, locked (`flock`) for the process's whole life: a second bot on the
    same data dir cannot take it, even when both start at once, and a pid left by a crash is known to be stale (its
    lock died with its process), so `tuanbot reload` never signals a stranger that reused the number."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / PID_FILE
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"tuanbot run: {message}\n")
    return code


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import resolve_data_dir
    from bot.config import ConfigError, load_config
    from bot.logs import setup_logging

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
    runner = Runner(config, data_dir, settings, env=env)
    attach_scheduler_and_sync(runner)
    try:
        return asyncio.run(runner.run())
    finally:
        pid.release()


def attach_scheduler_and_sync(runner: Runner) -> None:
    """The leader's week (the scheduler, holding the Redis leader lock when processes share a Redis) and the
    backend sync worker start once the app is up and stop with it; SIGHUP / `tuanbot reload` reloads the plan."""

    async def started(r: Runner) -> None:
        from scheduler.lock import make_lock
        from scheduler.runtime import BotScheduler
        from storage.sync import SyncWorker

        assert r.app is not None
        services = r.app.services
        scheduler = BotScheduler(services, make_lock(r.env.redis_url or r.config.redis))
        await scheduler.start()

        async def reload() -> None:
            await scheduler.reload()  # a bad edit keeps the old plan and logs why, with file and line

        r.on_reload.append(reload)
        r.on_stop.append(scheduler.shutdown)
        # The token is a secret: read where it is used, never kept in the settings (see bot/settings.py).
        backend, token = r.config.backend, os.environ.get("TUANBOT_BACKEND_TOKEN")
        if backend is None:
            return
        if not token:
            r.log.warning("sync_disabled", reason="TUANBOT_BACKEND_TOKEN is not set", url=backend.url)
            return
        worker = SyncWorker(services.db, backend.url, token, services.clock)
        await worker.__aenter__()
        stop = asyncio.Event()

        async def stop_sync() -> None:
            stop.set()
            await worker.__aexit__()

        r.extra_tasks.append(lambda: worker.run(stop))
        r.on_stop.append(stop_sync)

    runner.on_started.append(started)


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `tuanbot run` on the CLI's subparsers (`common` carries --data-dir)."""
    p = sub.add_parser("run", parents=[common], help="run the bot in real WeChat groups (wechaty gateway)")
    p.add_argument("--config", help="config file (default $TUANBOT_CONFIG or ./config.yaml)")
    p.set_defaults(func=cmd_run)


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.run run …`: the same command without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="tuanbot")
    parser.add_argument("--data-dir")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS)
    add_command(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
