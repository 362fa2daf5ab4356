"""The real WeChat channel: a python-wechaty client of a puppet-service gateway, translated to `Inbound`/`Outbound`.

Only translation lives here (`translate.py` does the objects), plus handing events on in order; the connection is kept
alive by `connection.py`. What the bot does with a room it joins, which invitations it accepts, and what it answers
are the caller's (`ChannelEvents`). No wechaty object leaves this package.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Protocol

from bot.channels.base import ChannelSendError
from bot.channels.wechaty.arrival import ArrivalOrder
from bot.channels.wechaty.connection import Connection, WechatySettings
from bot.channels.wechaty.errors import describe
from bot.channels.wechaty.shims import accept_invitation, invitation_topic_and_inviter
from bot.channels.wechaty.translate import Translator
from bot.events import Inbound, Outbound
from bot.logs import get_logger


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


class WechatyChannel:
    """`Channel` for real WeChat through a wechaty puppet-service gateway. Run `run()` as a task; `close()` ends it."""

    def __init__(self, settings: WechatySettings, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.log = get_logger("tuanbot.channel")
        self.connection = Connection(settings, self, rng=rng)
        self._events: ChannelEvents | None = None
        self._accepting = True
        self._order = ArrivalOrder()
        self._objects = Translator()

    # --- wiring -----------------------------------------------------------------------------------------------

    def attach(self, events: ChannelEvents) -> None:
        self._events = events

    @property
    def online(self) -> bool:
        return self.connection.online

    @property
    def self_id(self) -> str | None:
        return self.connection.self_id

    def stop_inbound(self) -> None:
        """Stop handing messages on (shutdown: the ones in hand are finished, new ones are not taken)."""
        self._accepting = False

    async def run(self) -> None:
        """Keep a connection to the gateway until `close()`. Raises `ChannelFatal` when retrying cannot help."""
        await self.connection.run()

    async def close(self) -> None:
        self._accepting = False
        await self.connection.close()

    # --- what the connection reports (`ClientEvents`) ---------------------------------------------------------

    def new_connection(self) -> None:
        self._order.new_connection()
        self._objects.clear()

    def arrived(self, msg_id: str) -> None:
        self._order.arrived(msg_id)

    async def logged_in(self, self_id: str) -> None:
        if self._events is not None:
            await self._events.logged_in(self_id)

    # --- inbound ----------------------------------------------------------------------------------------------

    async def on_message(self, client: Any, msg: Any) -> None:
        ticket = self._order.ticket(msg.message_id)
        try:
            event = self._objects.inbound(msg, self.self_id)
            if event is None:
                return
            await self._order.wait_turn(ticket)
            if self._accepting and self._events is not None and client is self.connection.client:
                self._events.inbound(event)
        except Exception:
            self.log.exception("channel_message_failed", msg_id=getattr(msg, "message_id", None))
        finally:
            await self._order.done(ticket)

    async def on_room_invite(self, client: Any, invitation: Any) -> None:
        invitation_id = invitation.invitation_id
        try:
            topic, inviter_id = await invitation_topic_and_inviter(client, invitation_id)
            inviter_name = await self._objects.name_of(client, inviter_id)
            if self._events is not None and await self._events.invited(topic, inviter_id, inviter_name):
                await accept_invitation(client, invitation_id)
        except Exception:
            self.log.exception("channel_invitation_failed", invitation=invitation_id)

    async def on_room_join(self, client: Any, room: Any, invitees: list[Any], inviter: Any) -> None:
        try:
            topic = self._objects.topic_of(room)
            ids = [c.contact_id for c in invitees]
            self._objects.forget_names(ids)
            if self.self_id is not None and self.self_id in ids and self._events is not None:
                inviter_id = getattr(inviter, "contact_id", "") or ""
                inviter_name = await self._objects.name_of(client, inviter_id)
                await self._events.joined(room.room_id, topic, inviter_id, inviter_name)
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-join", room=getattr(room, "room_id", None))

    async def on_room_leave(self, client: Any, room: Any, leavers: list[Any]) -> None:
        try:
            ids = [c.contact_id for c in leavers]
            self._objects.forget_names(ids)
            if self.self_id is not None and self.self_id in ids and self._events is not None:
                await self._events.left(room.room_id, self._objects.known_topic(room.room_id))
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-leave", room=getattr(room, "room_id", None))

    async def on_room_topic(self, client: Any, room: Any, new_topic: str, old_topic: str) -> None:
        try:
            self._objects.renamed(room.room_id, new_topic or "")
            if self._events is not None:
                await self._events.renamed(room.room_id, new_topic or "", old_topic or "")
        except Exception:
            self.log.exception("channel_room_event_failed", event="room-topic", room=getattr(room, "room_id", None))

    # --- outbound ---------------------------------------------------------------------------------------------

    async def send(self, out: Outbound) -> None:
        if not self.connection.online:
            try:
                await asyncio.wait_for(self.connection.until_online(), self.settings.send_wait)
            except TimeoutError:
                raise ChannelSendError("not connected to the wechaty gateway") from None
        client = self.connection.client
        if client is None:
            raise ChannelSendError("not connected to the wechaty gateway")
        try:
            async with asyncio.timeout(self.settings.send_timeout):  # in this task: the request leaves sooner
                await self._objects.say(client, out)
        except Exception as exc:
            raise ChannelSendError(f"the gateway did not take the message: {describe(exc)}") from exc
