"""Keeping one live connection to the wechaty gateway: a fresh client per connection, a ping watchdog, reconnects.

Why the connection is supervised here and not by python-wechaty: its own recovery sleeps a fixed 60 s, restarts once,
dies if the gateway is still down, and after a reconnect its login handler fails silently. So each connection is a
fresh client whose event stream runs in a task we watch; when the stream ends, raises, or a ping goes unanswered,
the client is dropped and a new one is built after a short backoff with jitter (first retry well under a second).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from bot.channels.wechaty.errors import ChannelFatal, classify, describe
from bot.channels.wechaty.shims import forget_bound_objects, load_wechaty
from bot.logs import get_logger


@dataclass(frozen=True)
class WechatySettings:
    endpoint: str  # host:port of the gateway (plain gRPC, TLS off)
    token: str
    side_dir: Path  # where python-wechaty may write (`.wechaty/` in the data dir)
    first_retry: float = 0.5  # seconds before the first reconnect attempt (jittered down to half)
    max_retry: float = 3.0  # cap of the backoff between attempts
    ping_every: float = 10.0  # a connection that answers no ping within ping_timeout is dropped
    ping_timeout: float = 5.0
    send_wait: float = 5.0  # how long a send waits for a lost connection to come back before failing
    send_timeout: float = 15.0


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` → (host, port); ValueError with a readable message otherwise."""
    text = endpoint.strip()
    for scheme in ("grpc://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"the endpoint must be host:port (e.g. 127.0.0.1:8788), got {endpoint!r}")
    return host.strip("[]"), int(port)


def backoff_delays(first: float, cap: float, rng: random.Random | None = None) -> Callable[[int], float]:
    """Delay before reconnect attempt n (0-based): doubling from `first`, capped, each jittered to 50–100 %."""
    rng = rng or random.Random()

    def delay(attempt: int) -> float:
        return min(cap, first * 2 ** min(attempt, 16)) * rng.uniform(0.5, 1.0)

    return delay


class ClientEvents(Protocol):
    """Where a connection hands its client's events, each with the client it came from (so a late event of an old
    connection can be told apart from the current one's)."""

    def new_connection(self) -> None:
        """A fresh client is about to start: forget what the last one cached."""
        ...

    def arrived(self, msg_id: str) -> None:
        """A message event, called at emit time in stream order (before its message is fetched)."""
        ...

    async def logged_in(self, self_id: str) -> None: ...

    async def on_message(self, client: Any, msg: Any) -> None: ...

    async def on_room_invite(self, client: Any, invitation: Any) -> None: ...

    async def on_room_join(self, client: Any, room: Any, invitees: list[Any], inviter: Any) -> None: ...

    async def on_room_leave(self, client: Any, room: Any, leavers: list[Any]) -> None: ...

    async def on_room_topic(self, client: Any, room: Any, new_topic: str, old_topic: str) -> None: ...


class Connection:
    """The gateway connection, kept alive by `run()` until `close()`; `client` is the live client or None."""

    def __init__(self, settings: WechatySettings, events: ClientEvents, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.events = events
        self.host, self.port = parse_endpoint(settings.endpoint)
        self.log = get_logger("tuanbot.channel")
        self.self_id: str | None = None
        self.client: Any = None
        self._delay = backoff_delays(settings.first_retry, settings.max_retry, rng)
        self._online = asyncio.Event()  # logged in on a live connection: sends may go
        self._closing = asyncio.Event()
        self._connected_once = False
        self._logged_out = False
        self._down_since: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def online(self) -> bool:
        return self._online.is_set()

    async def until_online(self) -> None:
        """Returns once logged in on a live connection."""
        await self._online.wait()

    async def close(self) -> None:
        self._closing.set()
        await self._drop_client()

    async def run(self) -> None:
        """Keep a connection to the gateway until `close()`. Raises `ChannelFatal` when retrying cannot help."""
        wechaty = load_wechaty(self.settings.side_dir)
        attempt = 0
        started = time.monotonic()
        self.log.info("channel_connecting", endpoint=self.settings.endpoint)
        while not self._closing.is_set():
            reason = "stream ended"
            try:
                await self._probe()
                await self._session(wechaty)
            except ChannelFatal:
                raise
            except Exception as exc:  # every way a connection can fail: the answer is the same, retry
                reason = describe(exc)
            finally:
                await self._drop_client()
            if self._closing.is_set():
                break
            just_dropped = self._connected_once and self._down_since is None
            if just_dropped:  # it was up: an outage starts
                self._down_since = time.monotonic()
                self.log.warning("channel_disconnected", endpoint=self.settings.endpoint, reason=reason)
                attempt = 0
            delay = self._delay(attempt)
            attempt += 1
            if not just_dropped and (attempt in (1, 2, 5) or attempt % 20 == 0):
                down_for = time.monotonic() - (self._down_since or started)
                self.log.info(
                    "channel_connect_failed",
                    endpoint=self.settings.endpoint,
                    attempt=attempt,
                    down_seconds=round(down_for, 1),
                    retry_in=round(delay, 2),
                    reason=reason,
                )
            try:
                await asyncio.wait_for(self._closing.wait(), delay)
            except TimeoutError:
                pass

    async def _probe(self) -> None:
        """Is anything listening at the endpoint? (Cheaper and clearer than building a client to find out.)"""
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 3.0)
        except TimeoutError:
            raise ConnectionError(f"no answer from {self.host}:{self.port} within 3 s") from None
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass

    async def _session(self, wechaty: ModuleType) -> None:
        """One connection: a fresh client, its event stream in a task, a ping watchdog; returns when it ends."""
        forget_bound_objects(wechaty)
        self.events.new_connection()
        client = _new_client(wechaty, self)
        self.client = client
        await client.init_puppet()
        await client.init_puppet_event_bridge(client.puppet)
        puppet = client.puppet
        # Sync listeners run at emit time, in stream order (the bridge's own listeners are tasks that run later).
        puppet.on("message", lambda payload: self.events.arrived(payload.message_id))
        puppet.on("login", lambda payload: self._spawn(self._login(client, payload.contact_id)))
        puppet.on("logout", lambda payload: self._logout(client, getattr(payload, "data", None)))
        stream = asyncio.create_task(puppet.start(), name="wechaty-stream")
        watchdog = asyncio.create_task(self._watch(client), name="wechaty-watchdog")
        closing = asyncio.create_task(self._closing.wait(), name="wechaty-closing")
        try:
            done, _ = await asyncio.wait({stream, watchdog, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watchdog, closing):
                task.cancel()
            await asyncio.gather(stream, watchdog, closing, return_exceptions=True)
        if stream in done and not stream.cancelled() and stream.exception() is not None:
            raise classify(stream.exception())
        if watchdog in done and not watchdog.cancelled() and watchdog.exception() is not None:
            raise classify(watchdog.exception())

    async def _watch(self, client: Any) -> None:
        """Ping the gateway; an unanswered ping means a dead connection the stream has not noticed (a network cut)."""
        while True:
            await asyncio.sleep(self.settings.ping_every)
            stub = client.puppet.puppet_stub
            try:
                await asyncio.wait_for(stub.ding(data="tuanbot"), self.settings.ping_timeout)
            except TimeoutError:
                raise ConnectionError(f"no answer to a ping within {self.settings.ping_timeout} s") from None

    async def _drop_client(self) -> None:
        """Forget the current client and close its connection (no stop call: the gateway keeps the account)."""
        client, self.client = self.client, None
        self._online.clear()
        if client is None:
            return
        puppet = getattr(client, "_puppet", None)
        if puppet is None:
            return
        try:
            puppet._event_stream.remove_all_listeners()
            if puppet.channel is not None:
                puppet.channel.close()
                puppet.channel = None
            puppet._puppet_stub = None
        except Exception as exc:  # closing a half-dead connection: nothing useful to do about a failure
            self.log.debug("channel_close_failed", error=describe(exc))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _login(self, client: Any, contact_id: str) -> None:
        if client is not self.client:
            return
        self.self_id = contact_id
        self._online.set()
        if self._down_since is not None:
            outage = time.monotonic() - self._down_since
            self._down_since = None
            self.log.warning("channel_reconnected", endpoint=self.settings.endpoint, outage_seconds=round(outage, 2))
        elif not self._connected_once:
            self.log.info("channel_connected", endpoint=self.settings.endpoint, self_id=contact_id)
        elif self._logged_out:
            self.log.warning("channel_logged_in", endpoint=self.settings.endpoint, self_id=contact_id)
        self._logged_out = False
        self._connected_once = True
        try:
            await self.events.logged_in(contact_id)
        except Exception:
            self.log.exception("channel_hook_failed", hook="logged_in")

    def _logout(self, client: Any, reason: Any) -> None:
        if client is not self.client:
            return
        self._online.clear()
        self._logged_out = True
        self.log.warning("channel_logged_out", endpoint=self.settings.endpoint, reason=str(reason or ""))


def _new_client(wechaty: ModuleType, connection: Connection) -> Any:
    """A fresh python-wechaty client whose event handlers call back into `connection.events` (with the client)."""
    # Third-party, and importable only after `load_wechaty()` ran its shims: imported here, not at the top.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from wechaty_puppet.schemas.puppet import PuppetOptions

    events = connection.events

    class Client(wechaty.Wechaty):  # type: ignore[misc,name-defined]
        async def on_message(self, msg: Any) -> None:
            await events.on_message(self, msg)

        async def on_room_invite(self, room_invitation: Any) -> None:
            await events.on_room_invite(self, room_invitation)

        async def on_room_join(self, room: Any, invitees: Any, inviter: Any, date: Any) -> None:
            await events.on_room_join(self, room, invitees, inviter)

        async def on_room_leave(self, room: Any, leavers: Any, remover: Any, date: Any) -> None:
            await events.on_room_leave(self, room, leavers)

        async def on_room_topic(self, room: Any, new_topic: str, old_topic: str, changer: Any, date: Any) -> None:
            await events.on_room_topic(self, room, new_topic, old_topic)

        async def on_scan(self, qr_code: str, status: Any, data: Any = None) -> None:
            connection.log.warning("channel_scan_needed", status=str(status), qrcode=qr_code)

    # A fresh PuppetOptions each time: WechatyOptions' default instance is shared and mutated by every client.
    options = wechaty.WechatyOptions(
        puppet="wechaty-puppet-service",
        puppet_options=PuppetOptions(token=connection.settings.token, end_point=f"{connection.host}:{connection.port}"),
        # Our own never-started scheduler: the default one builds a SQLite job store per client.
        scheduler=AsyncIOScheduler(),
    )
    return Client(options)
