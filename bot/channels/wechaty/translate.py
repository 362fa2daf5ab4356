"""Translating wechaty objects into the bot's plain data and back: a message into `Inbound`, `Outbound` into a send.

Both directions need room topics and contact display names; they are cached here for one connection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.events import Inbound, Kind, Outbound
from bot.parsing.native import looks_native

#: WeChat separates an @mention from the text with a four-per-em space (what room.say writes too)
AT_SEPARATOR = chr(0x2005)


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


class Translator:
    """Wechaty messages, rooms and contacts → plain data; `Outbound` → the gateway's send call."""

    def __init__(self) -> None:
        self._topics: dict[str, str] = {}  # room id → topic, refreshed by room-topic events
        self._names: dict[str, str] = {}  # contact id → display name

    def clear(self) -> None:
        """A new connection: what the old one cached may be stale."""
        self._topics.clear()
        self._names.clear()

    def inbound(self, msg: Any, self_id: str | None) -> Inbound | None:
        """The message as an `Inbound` (a private one: `private`, its conversation the sender); None for the bot's
        own."""
        payload = msg.payload
        room_id = (payload.room_id or "").strip()
        sender_id = (payload.from_id or "").strip()
        if sender_id and sender_id == self_id:
            return None  # WeChat echoes the bot's own messages: answering them would never end
        private = not room_id
        if private and not sender_id:
            return None  # a private message from nobody: nothing to answer
        text = msg.text() or ""
        topic = ""
        if private:
            room_id = sender_id
        elif (cached := self._topics.get(room_id)) is not None:
            topic = cached
        else:
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
            private=private,
        )

    def topic_of(self, room: Any) -> str:
        """The room's topic, cached on first sight."""
        cached = self._topics.get(room.room_id)
        if cached is not None:
            return cached
        topic = (room.payload.topic if room.payload is not None else "") or ""
        self._topics[room.room_id] = topic
        return topic

    def known_topic(self, room_id: str) -> str:
        return self._topics.get(room_id, "")

    def renamed(self, room_id: str, topic: str) -> None:
        self._topics[room_id] = topic

    def forget_names(self, contact_ids: list[str]) -> None:
        """Members who joined or left: their display names are read afresh next time."""
        for contact_id in contact_ids:
            self._names.pop(contact_id, None)

    async def name_of(self, client: Any, contact_id: str) -> str:
        if not contact_id:
            return ""
        name = self._names.get(contact_id)
        if name is None:
            contact = client.Contact.load(contact_id)
            await contact.ready()
            name = (contact.payload.name if contact.payload is not None else "") or contact_id
            self._names[contact_id] = name
        return name

    async def say(self, client: Any, out: Outbound) -> None:
        """`room.say(text, mention_ids)` without its last step: room.say fetches the sent message back afterwards,
        and a failure there would make the sender retry a message that was already said."""
        if out.file is not None:  # a file (the 导出 workbook): a FileBox, named as the file is
            from wechaty_puppet import FileBox

            await client.puppet.message_send_file(conversation_id=out.room_id, file=FileBox.from_file(out.file))
            return
        text = out.text
        mentions = list(out.mentions)
        if mentions:
            names = [await self.name_of(client, contact_id) for contact_id in mentions]
            text = AT_SEPARATOR.join("@" + name for name in names) + " " + text
        await client.puppet.message_send_text(conversation_id=out.room_id, message=text, mention_ids=mentions or None)
