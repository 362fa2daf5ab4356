"""The simulator channel: a local stand-in for WeChat rooms, for the demo, `tuanbot chat` and the tests.

It makes `Inbound` events the way a real room would (ids, topics, times) and records what the bot says, so a test
reads as "a member says this → the bot says that".
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.events import Inbound, Kind, Outbound

if TYPE_CHECKING:
    from bot.config import Config

BOT_ID = "wxid_tuanbot"


@dataclass(frozen=True)
class Line:
    """One line of a room's conversation, as a member would see it."""

    at: datetime
    room_id: str
    topic: str
    who: str
    text: str
    from_bot: bool
    file: str | None = None  # the file the bot sent (its path)
    mentions: tuple[str, ...] = ()  # whom the bot @-mentioned (wxids)


def private_topic(name: str) -> str:
    """How a one-to-one conversation with `name` is shown (a transcript's "room" for private messages)."""
    return f"私聊·{name}"


class SimChannel:
    def __init__(self, clock: Clock, *, bot_name: str = "小团") -> None:
        self.clock = clock
        self.bot_name = bot_name
        self.rooms: dict[str, str] = {}  # room id → topic
        self.transcript: list[Line] = []
        self._ids = itertools.count(1)
        self._members: dict[str, str] = {}  # name → wxid
        self.fail_next = 0  # tests: make the next N sends fail

    @classmethod
    def for_config(cls, config: Config, clock: Clock) -> SimChannel:
        """The simulator for `config`'s groups: a group the config names by `room_id:` talks from that room, as it
        would in WeChat (a made-up id would be a second room wearing the served room's name, and get no answer)."""
        channel = cls(clock, bot_name=config.bot.name)
        for group in config.groups:
            if group.room_id:
                channel.room(group.name, group.room_id)
        return channel

    def room(self, topic: str, room_id: str | None = None) -> str:
        """The id of the room with this topic (created on first use, like a group the bot is in)."""
        for rid, t in self.rooms.items():
            if t == topic:
                return rid
        rid = room_id or f"{int(hashlib.sha1(topic.encode()).hexdigest()[:10], 16)}@chatroom"  # stable across runs
        self.rooms[rid] = topic
        return rid

    def rename(self, room_id: str, topic: str) -> None:
        self.rooms[room_id] = topic

    def wxid(self, name: str) -> str:
        """A member's account id, the same for the same name in every run (a restart meets the same people)."""
        return self._members.setdefault(name, f"wxid_{hashlib.sha1(name.encode()).hexdigest()[:10]}")

    def message(
        self,
        topic: str,
        who: str,
        text: str,
        *,
        kind: Kind = Kind.TEXT,
        msg_id: str | None = None,
        mentions: tuple[str, ...] = (),
        wxid: str | None = None,
    ) -> Inbound:
        """What a member saying `text` in room `topic` looks like to the bot (and the line in the transcript).
        `wxid` gives the sender another account than the one their name had so far (a member renamed after
        someone else)."""
        rid = self.room(topic)
        now = self.clock.now()
        event = Inbound(
            msg_id=msg_id or f"sim-{next(self._ids)}",
            room_id=rid,
            room_topic=self.rooms[rid],
            sender_id=wxid or self.wxid(who),
            sender_name=who,
            text=text,
            ts=now,
            kind=kind,
            mentions=mentions,
        )
        self.transcript.append(Line(now, rid, self.rooms[rid], who, text, from_bot=False))
        return event

    def private(self, who: str, text: str, *, msg_id: str | None = None, kind: Kind = Kind.TEXT) -> Inbound:
        """`who` writing to the bot one to one (the conversation is their contact id)."""
        wxid, now = self.wxid(who), self.clock.now()
        event = Inbound(
            msg_id=msg_id or f"sim-{next(self._ids)}",
            room_id=wxid,
            room_topic="",
            sender_id=wxid,
            sender_name=who,
            text=text,
            ts=now,
            kind=kind,
            private=True,
        )
        self.transcript.append(Line(now, wxid, private_topic(who), who, text, from_bot=False))
        return event

    async def send(self, out: Outbound) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("simulated channel failure")
        topic = self.rooms.get(out.room_id)
        if topic is None:  # not a room: a person, by contact id
            name = next((n for n, wxid in self._members.items() if wxid == out.room_id), out.room_id)
            topic = private_topic(name)
        line = Line(
            self.clock.now(), out.room_id, topic, self.bot_name, out.text, True, file=out.file, mentions=out.mentions
        )
        self.transcript.append(line)

    def said(self, topic: str | None = None) -> list[str]:
        """What the bot said (in one room, or everywhere), in order."""
        return [ln.text for ln in self.transcript if ln.from_bot and (topic is None or ln.topic == topic)]
