"""The real WeChat channel: a python-wechaty client of a puppet-service gateway, translated to `Inbound`/`Outbound`.

Only translation lives here, plus keeping the connection alive. What the bot does with a room it joins, which
invitations it accepts, and what it answers are the caller's (`ChannelEvents`). No wechaty object leaves this package.

Why the connection is supervised here and not by python-wechaty: its own recovery sleeps a fixed 60 s, restarts once,
dies if the gateway is still down, and after a reconnect its login handler fails silently. So each connection is a
fresh client whose event stream runs in a task we watch; when the stream ends, raises, or a ping goes unanswered,
the client is dropped and a new one is built after a short backoff with jitter (first retry well under a second).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from bot.channels.base import ChannelSendError
from bot.channels.wechaty.shims import accept_invitation, invitation_topic_and_inviter
from bot.events import Inbound, Kind, Outbound
from bot.logs import get_logger
from bot.parsing.native import looks_native

#: WeChat separates an @mention from the text with a four-per-em space (what room.say writes too)
AT_SEPARATOR = chr(0x2005)
_SEEN_IDS_KEPT = 50_000  # message ids remembered to drop a repeated delivery before it takes a turn


class ChannelFatal(Exception):
    """The channel cannot work with this configuration (e.g. the gateway rejects the token): retrying is pointless."""


class ChannelEvents(Protocol):
    """What the channel tells the bot besides messages. Plain data only; the bot decides what it means."""

    def inbound(self, event: Inbound) -> None:
        """A room message (never the bot's own), in the order the gateway delivered them."""
        ...

    async def logged_in(self, self_id: str) -> None: ...

    async def invited(self, topic: str, inviter_id: str, inviter_name: str) -> bool:
        """A room invitation for the bot; True accepts it."""
        ...

    async def joined(self, room_id: str, topic: str, inviter_id: str, inviter_name: str) -> None:
        """The bot is now a member of this room (accepted invitation, or added directly)."""
        ...

    async def left(self, room_id: str, topic: str) -> None:
        """The bot was removed from this room."""
        ...

    async def renamed(self, room_id: str, topic: str, old_topic: str) -> None: ...


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


class ArrivalOrder:
    """Hands messages on in the order the gateway sent them.

    python-wechaty runs one task per event and each task fetches its message before the handler sees it, so two
    messages a few milliseconds apart can reach the handler swapped. Each id gets a ticket when its event arrives;
    a handler waits until every earlier ticket is done (or `patience` runs out: a message that failed to load).
    """

    def __init__(self, patience: float = 1.0) -> None:
        self.patience = patience
        self._next = 0
        self._done_below = 0
        self._done: set[int] = set()
        self._tickets: dict[str, int] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._changed = asyncio.Condition()

    def arrived(self, msg_id: str) -> bool:
        """Give `msg_id` its ticket. False for an id seen before (python-wechaty drops those before any handler)."""
        if msg_id in self._seen:
            return False
        self._seen[msg_id] = None
        if len(self._seen) > _SEEN_IDS_KEPT:
            old, _ = self._seen.popitem(last=False)
            self._tickets.pop(old, None)  # a message that never reached a handler
        self._tickets[msg_id] = self._next
        self._next += 1
        return True

    def new_connection(self) -> None:
        """Messages of a dropped connection that never reached a handler are not waited for."""
        self._tickets.clear()
        self._done.clear()
        self._done_below = self._next

    def ticket(self, msg_id: str) -> int | None:
        return self._tickets.pop(msg_id, None)

    async def wait_turn(self, ticket: int | None) -> None:
        if ticket is None:
            return
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._done_below >= ticket), self.patience)
            except TimeoutError:
                self._done.update(range(self._done_below, ticket))  # give up on the stragglers
                self._advance()

    async def done(self, ticket: int | None) -> None:
        if ticket is None:
            return
        async with self._changed:
            self._done.add(ticket)
            self._advance()
            self._changed.notify_all()

    def _advance(self) -> None:
        while self._done_below in self._done:
            self._done.discard(self._done_below)
            self._done_below += 1


def _timestamp(value: Any) -> datetime:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    if seconds > 1e11:  # puppets send milliseconds (10^12..10^13) or seconds (10^9..10^10)
        seconds /= 1000
    if seconds <= 0:
        return datetime.now(UTC)
    return datetime.fromtimestamp(seconds, UTC)


def message_kind(type_name: str, text: str) -> Kind:
    """Text is text; the native 接龙 card is recognised by its content, whatever type the puppet gave it."""
    if looks_native(text):
        return Kind.NATIVE_CHAIN
    if type_name == "MESSAGE_TYPE_TEXT":
        return Kind.TEXT
    return Kind.OTHER


class WechatyChannel:
    """`Channel` for real WeChat through a wechaty puppet-service gateway. Run `run()` as a task; `close()` ends it."""

    def __init__(self, settings: WechatySettings, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.host, self.port = parse_endpoint(settings.endpoint)
        self.log = get_logger("tuanbot.channel")
        self.self_id: str | None = None
        self._events: ChannelEvents | None = None
        self._delay = backoff_delays(settings.first_retry, settings.max_retry, rng)
        self._client: Any = None
        self._online = asyncio.Event()  # logged in on a live connection: sends may go
        self._closing = asyncio.Event()
        self._accepting = True
        self._order = ArrivalOrder()
        self._topics: dict[str, str] = {}  # room id → topic, refreshed by room-topic events
        self._names: dict[str, str] = {}  # contact id → display name
        self._connected_once = False
        self._logged_out = False
        self._down_since: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- wiring -----------------------------------------------------------------------------------------------

    def attach(self, events: ChannelEvents) -> None:
        self._events = events

    @property
    def online(self) -> bool:
        return self._online.is_set()

    def stop_inbound(self) -> None:
        """Stop handing messages on (shutdown: the ones in hand are finished, new ones are not taken)."""
        self._accepting = False

    async def close(self) -> None:
        self._accepting = False
        self._closing.set()
        await self._drop_client()

    # --- supervision ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Keep a connection to the gateway until `close()`. Raises `ChannelFatal` when retrying cannot help."""
        from bot.channels.wechaty.shims import load_wechaty

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
                reason = _describe(exc)
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
        from bot.channels.wechaty.shims import forget_bound_objects

        forget_bound_objects(wechaty)
        self._order.new_connection()
        self._topics.clear()
        self._names.clear()
        client = _new_client(wechaty, self)
        self._client = client
        await client.init_puppet()
        await client.init_puppet_event_bridge(client.puppet)
        puppet = client.puppet
        # Sync listeners run at emit time, in stream order (the bridge's own listeners are tasks that run later).
        puppet.on("message", lambda payload: self._order.arrived(payload.message_id))
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
            raise _classify(stream.exception())
        if watchdog in done and not watchdog.cancelled() and watchdog.exception() is not None:
            raise _classify(watchdog.exception())

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
        client, self._client = self._client, None
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
            self.log.debug("channel_close_failed", error=_describe(exc))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _login(self, client: Any, contact_id: str) -> None:
        if client is not self._client:
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
        if self._events is not None:
            try:
                await self._events.logged_in(contact_id)
            except Exception:
                self.log.exception("channel_hook_failed", hook="logged_in")

    def _logout(self, client: Any, reason: Any) -> None:
        if client is not self._client:
            return
        self._online.clear()
        self._logged_out = True
        self.log.warning("channel_logged_out", endpoint=self.settings.endpoint, reason=str(reason or ""))

    # --- inbound ----------------------------------------------------------------------------------------------

    async def on_message(self, client: Any, msg: Any) -> None:
        ticket = self._order.ticket(msg.message_id)
        try:
            event = self._to_inbound(msg)
            if event is None:
                return
            await self._order.wait_turn(ticket)
            if self._accepting and self._events is not None and client is self._client:
                self._events.inbound(event)
        except Exception:
            self.log.exception("channel_message_failed", msg_id=getattr(msg, "message_id", None))
        finally:
            await self._order.done(ticket)

    def _to_inbound(self, msg: Any) -> Inbound | None:
        payload = msg.payload
        room_id = (payload.room_id or "").strip()
        if not room_id:
            return None  # a private message: the bot serves groups
        sender_id = (payload.from_id or "").strip()
        if sender_id and sender_id == self.self_id:
            return None  # WeChat echoes the bot's own messages: answering them would never end
        text = msg.text() or ""
        topic = self._topics.get(room_id)
        if topic is None:
            room = msg.room()
            topic = (room.payload.topic if room is not None and room.payload is not None else "") or ""
            self._topics[room_id] = topic
        name = self._names.get(sender_id)
        if name is None:
            talker = msg.talker()
            name = (talker.payload.name if talker.payload is not None else "") or sender_id
            self._names[sender_id] = name
        return Inbound(
            msg_id=str(payload.id or msg.message_id),
            room_id=room_id,
            room_topic=topic,
            sender_id=sender_id,
            sender_name=name,
            text=text,
            ts=_timestamp(payload.timestamp),
            kind=message_kind(getattr(msg.type(), "name", str(msg.type())), text),
            mentions=tuple(payload.mention_ids or ()),
        )

    async def on_room_invite(self, client: Any, invitation: Any) -> None:
        invitation_id = invitation.invitation_id
        try:
            topic, inviter_id = await invitation_topic_and_inviter(client, invitation_id)
            inviter_name = await self._name_of(client, inviter_id)
            if self._events is not None and await self._events.invited(topic, inviter_id, inviter_name):
                await accept_invitation(client, invitation_id)
        except Exception:
            self.log.exception("channel_invitation_failed", invitation=invitation_id)

    async def on_room_join(self, client: Any, room: Any, invitees: list[Any], inviter: Any) -> None:
        try:
            topic = self._remember_topic(room)
            ids = [c.contact_id for c in invitees]
            for contact_id in ids:
                self._names.pop(contact_id, None)
            if self.self_id is not None and self.self_id in ids and self._events is not None:
                inviter_id = getattr(inviter, "contact_id", "") or ""
                await self._events.joined(room.room_id, topic, inviter_id, await self._name_of(client, inviter_id))
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-join", room=getattr(room, "room_id", None))

    async def on_room_leave(self, client: Any, room: Any, leavers: list[Any]) -> None:
        try:
            ids = [c.contact_id for c in leavers]
            for contact_id in ids:
                self._names.pop(contact_id, None)
            if self.self_id is not None and self.self_id in ids and self._events is not None:
                await self._events.left(room.room_id, self._topics.get(room.room_id, ""))
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-leave", room=getattr(room, "room_id", None))

    async def on_room_topic(self, client: Any, room: Any, new_topic: str, old_topic: str) -> None:
        try:
            self._topics[room.room_id] = new_topic or ""
            if self._events is not None:
                await self._events.renamed(room.room_id, new_topic or "", old_topic or "")
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-topic", room=getattr(room, "room_id", None))

    def _remember_topic(self, room: Any) -> str:
        cached = self._topics.get(room.room_id)
        if cached is not None:
            return cached
        topic = (room.payload.topic if room.payload is not None else "") or ""
        self._topics[room.room_id] = topic
        return topic

    async def _name_of(self, client: Any, contact_id: str) -> str:
        if not contact_id:
            return ""
        name = self._names.get(contact_id)
        if name is None:
            contact = client.Contact.load(contact_id)
            await contact.ready()
            name = (contact.payload.name if contact.payload is not None else "") or contact_id
            self._names[contact_id] = name
        return name

    # --- outbound ---------------------------------------------------------------------------------------------

    async def send(self, out: Outbound) -> None:
        if not self._online.is_set():
            try:
                await asyncio.wait_for(self._online.wait(), self.settings.send_wait)
            except TimeoutError:
                raise ChannelSendError("not connected to the wechaty gateway") from None
        client = self._client
        if client is None:
            raise ChannelSendError("not connected to the wechaty gateway")
        try:
            async with asyncio.timeout(self.settings.send_timeout):  # in this task: the request leaves sooner
                await self._say(client, out)
        except Exception as exc:
            raise ChannelSendError(f"the gateway did not take the message: {_describe(exc)}") from exc

    async def _say(self, client: Any, out: Outbound) -> None:
        """`room.say(text, mention_ids)` without its last step: room.say fetches the sent message back afterwards,
        and a failure there would make the sender retry a message that was already said."""
        text = out.text
        mentions = list(out.mentions)
        if mentions:
            names = [await self._name_of(client, contact_id) for contact_id in mentions]
            text = AT_SEPARATOR.join("@" + name for name in names) + " " + text
        await client.puppet.message_send_text(conversation_id=out.room_id, message=text, mention_ids=mentions or None)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _classify(exc: BaseException | None) -> BaseException:
    """A rejected token is fatal; everything else is a connection problem to retry."""
    if exc is None:
        return ConnectionError("stream ended")
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    if isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED:
        return ChannelFatal(
            "the wechaty gateway rejected the token (UNAUTHENTICATED): check WECHATY_PUPPET_SERVICE_TOKEN "
            "(or wechat.token in the config) against the gateway's token"
        )
    return exc


def _new_client(wechaty: ModuleType, channel: WechatyChannel) -> Any:
    """A fresh python-wechaty client whose event handlers call back into `channel` (with the client, so a late
    event of an old connection can be told apart)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from wechaty_puppet.schemas.puppet import PuppetOptions

    class Client(wechaty.Wechaty):  # type: ignore[misc,name-defined]
        async def on_message(self, msg: Any) -> None:
            await channel.on_message(self, msg)

        async def on_room_invite(self, room_invitation: Any) -> None:
            await channel.on_room_invite(self, room_invitation)

        async def on_room_join(self, room: Any, invitees: Any, inviter: Any, date: Any) -> None:
            await channel.on_room_join(self, room, invitees, inviter)

        async def on_room_leave(self, room: Any, leavers: Any, remover: Any, date: Any) -> None:
            await channel.on_room_leave(self, room, leavers)

        async def on_room_topic(self, room: Any, new_topic: str, old_topic: str, changer: Any, date: Any) -> None:
            await channel.on_room_topic(self, room, new_topic, old_topic)

        async def on_scan(self, qr_code: str, status: Any, data: Any = None) -> None:
            channel.log.warning("channel_scan_needed", status=str(status), qrcode=qr_code)

    # A fresh PuppetOptions each time: WechatyOptions' default instance is shared and mutated by every client.
    options = wechaty.WechatyOptions(
        puppet="wechaty-puppet-service",
        puppet_options=PuppetOptions(token=channel.settings.token, end_point=f"{channel.host}:{channel.port}"),
        # Our own never-started scheduler: the default one builds a SQLite job store per client.
        scheduler=AsyncIOScheduler(),
    )
    return Client(options)
