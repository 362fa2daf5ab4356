"""One bot process's life: everything started in order, the one `reload()`, everything stopped in reverse order.

`tuanbot run` builds a `Lifecycle` around the app, the scheduler, the backend sync worker and the WeChat channel.
SIGHUP (`tuanbot reload`), the config-file watch and the tests all reload through `Lifecycle.reload`: the file is read
and validated off the event loop, then the whole validated config is swapped into the services, the store and the
scheduler in one step — or the old one is kept and the log says why, with file and line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import App
from bot.channels.wechaty import ChannelFatal, WechatyChannel, WechatySettings
from bot.clock import SystemClock
from bot.config import check_config
from bot.domain.store_setup import reconfigure
from bot.logs import get_logger
from bot.rooms import RoomPolicy
from bot.settings import Settings
from scheduler.lock import make_lock
from scheduler.service import BotScheduler
from storage.sync import SyncWorker

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.services import Services

ENV_BACKEND_TOKEN = "TUANBOT_BACKEND_TOKEN"
EXIT_FATAL = 3  # the gateway refused us (wrong token)


class Lifecycle:
    """One running bot. Starts the store and shared state (`App.start`), the sender, the scheduler (with the config
    file watch), the backend sync worker, the messages the last run stored but never handled, then the channel;
    stops them in reverse order; owns `reload()`.

    `channel` is the live channel `run()` drives (`tuanbot run`); without one (tests) the lifecycle still reloads.
    """

    def __init__(
        self,
        app: App,
        channel: WechatyChannel | None = None,
        *,
        scheduler: BotScheduler | None = None,
        sync: SyncWorker | None = None,
        drain_timeout: float = 15.0,
        watch_interval: float = 2.0,
    ) -> None:
        self.app = app
        self.channel = channel
        self.scheduler = scheduler
        self.sync = sync
        self.drain_timeout = drain_timeout
        self.watch_interval = watch_interval
        self.log = get_logger("tuanbot.run")
        self._stop = asyncio.Event()
        self._sync_stop = asyncio.Event()
        self._reloading = asyncio.Lock()
        self._watched: tuple[Path, tuple[int, int] | None] | None = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def services(self) -> Services:
        return self.app.services

    # --- start and stop -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Store and shared state, sender, scheduler and file watch, sync worker, channel: in this order."""
        await self.app.start()
        if self.channel is not None:
            self.channel.attach(RoomPolicy(self.app))
        self._spawn("sender", self.app.sender.run())
        if self.scheduler is not None:
            await self.scheduler.start()
        source = self.services.config.source
        if source is not None:
            self._watched = (source, _stamp(source))
            self._spawn("watch", self._watch())
        if self.sync is not None:
            await self.sync.__aenter__()
            self._spawn("sync", self._guarded(self.sync.run(self._sync_stop), "sync"))
        await self.handle_left_over()
        if self.channel is not None:
            self._spawn("channel", self.channel.run())

    async def handle_left_over(self) -> int:
        """The messages the journal holds but the last run never handled (it was killed between storing and
        handling, or stopped during a store outage): queued for their rooms' workers in arrival order, before the
        channel brings anything new; the journal's marks make each handled exactly once. How many there were."""
        left = await self.services.journal.unhandled()
        if left:
            self.log.warning("messages_left_over", count=len(left), msg_ids=[e.msg_id for e in left[:50]])
            for event in left:
                self.app.submit(event)
        return len(left)

    async def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT or until the channel gives up, stop. The process's exit code."""
        assert self.channel is not None, "run() drives a live channel"
        self.install_signals()
        code = 0
        try:
            await self.start()
            channel = self._tasks["channel"]
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
            await self.stop()
            stop.cancel()
            await asyncio.gather(stop, return_exceptions=True)
        finally:
            self.remove_signals()
            await self.app.close()
        self.log.info("bot_stopped", exit_code=code)
        return code

    async def stop(self) -> None:
        """Stop taking messages, finish the ones in hand, let the sender say what is due, then stop the rest."""
        if self.channel is not None:
            self.channel.stop_inbound()  # no new messages; the ones already queued per room are finished
        try:
            await asyncio.wait_for(self.app.drain(), self.drain_timeout)
        except TimeoutError:
            self.log.warning("drain_timeout", seconds=self.drain_timeout)
        await self._let_sender_finish()
        self.app.sender.stop()
        for name in ("watch", "sync"):
            if name in self._tasks:
                self._tasks[name].cancel()
        if self.scheduler is not None:
            await self._guarded(self.scheduler.shutdown(), "scheduler")
        if self.sync is not None:
            self._sync_stop.set()
            await self._guarded(self.sync.__aexit__(), "sync")
        others = [t for name, t in self._tasks.items() if name != "channel"]
        await asyncio.gather(*others, *self._background, return_exceptions=True)
        if self.channel is not None:
            await self.channel.close()
        channel = self._tasks.get("channel")
        if channel is not None:
            if not channel.done():
                channel.cancel()
            await asyncio.gather(channel, return_exceptions=True)
        self._tasks.clear()

    async def _let_sender_finish(self) -> None:
        """Wait (bounded) until nothing is due in the outbound queue: the running send loop says it. Messages meant
        for later, or that cannot go now, stay queued in the store and go out after the next start."""
        if self.channel is None or not self.channel.online:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        while loop.time() < deadline and self.channel.online:
            if not await self.app.sender.due_count():
                return
            await asyncio.sleep(0.05)
        self.log.warning("sender_not_drained", seconds=self.drain_timeout)

    # --- signals --------------------------------------------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            self.log.info("bot_stopping", reason=reason)
        self._stop.set()

    def request_reload(self, via: str = "SIGHUP") -> None:
        """Reload in the background (a signal handler cannot wait); `reload()` logs what came of it."""
        self.log.info("config_reload_requested", via=via)
        task = asyncio.create_task(self._guarded(self.reload(), "reload"), name="reload")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    def remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)

    # --- reload ---------------------------------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Reload the file the running config came from. True if the new config now runs."""
        source = self.services.config.source
        if source is None:
            self.log.warning("config_reload_failed", reason="the running config was not loaded from a file")
            return False
        return await self.reload_from(source)

    async def reload_from(self, path: str | Path) -> bool:
        """Read and validate `path` off the loop, then swap the whole config in; on errors keep the running one and
        log each problem (FILE:LINE). One reload at a time."""
        async with self._reloading:
            result = await asyncio.to_thread(check_config, path)
            if result.config is None:
                problems = [str(p) for p in result.errors]
                self.log.error("config_reload_failed", file=str(path), problems=problems, kept="the running config")
                return False
            await self.swap(result.config)
            jobs = len(self.scheduler.specs) if self.scheduler is not None else 0
            self.log.info("config_reloaded", file=str(path), jobs=jobs, warnings=[str(p) for p in result.warnings])
            return True

    async def swap(self, config: Config) -> None:
        """Make `config` the running one: services, group registry, sender's quiet hours, buy rows, then the jobs."""
        await reconfigure(self.services, config)
        if self.scheduler is not None:
            self.scheduler.apply(self.services.config)  # the plan with the leaders' chat changes on it (#15)
            await self.scheduler.catch_up()  # a buy added with its opening just past still gets its header

    async def check_file(self) -> bool:
        """One step of the file watch: reload when the config file changed since last seen. True if reloaded."""
        if self._watched is None:
            source = self.services.config.source
            if source is None:
                return False
            self._watched = (source, _stamp(source))
            return False
        path, seen = self._watched
        stamp = _stamp(path)
        if stamp == seen or stamp is None:
            return False
        self._watched = (path, stamp)
        self.log.info("config_reload_requested", via="file_watch", file=str(path))
        return await self.reload_from(path)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_interval)
            try:
                await self.check_file()
            except Exception:
                self.log.exception("config_watch_failed")

    # --- helpers --------------------------------------------------------------------------------------------------

    def _spawn(self, name: str, work: Coroutine[Any, Any, Any]) -> None:
        self._tasks[name] = asyncio.create_task(work, name=name)

    async def _guarded(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        try:
            await work
        except Exception:
            self.log.exception("callback_failed", hook=what)


def sync_worker(services: Services) -> SyncWorker | None:
    """The backend sync worker, when the config names a backend and its token is set."""
    backend = services.config.backend
    if backend is None:
        return None
    # The token is a secret: read where it is used, never kept in the settings (see bot/settings.py).
    token = os.environ.get(ENV_BACKEND_TOKEN)
    if not token:
        get_logger("tuanbot.run").warning("sync_disabled", reason=f"{ENV_BACKEND_TOKEN} is not set", url=backend.url)
        return None
    return SyncWorker(services.db, backend.url, token, services.clock)


async def run_bot(config: Config, data_dir: Path, connection: WechatySettings, env: Settings) -> int:
    """`tuanbot run`'s process: the app on the WeChat channel, the leader's week (holding the Redis leader lock when
    processes share a Redis) and the backend sync, until SIGTERM/SIGINT."""
    channel = WechatyChannel(connection)
    app = App(config, channel, SystemClock(), data_dir, settings=env)
    scheduler = BotScheduler(app.services, make_lock(env.redis_url or config.redis))
    return await Lifecycle(app, channel, scheduler=scheduler, sync=sync_worker(app.services)).run()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
