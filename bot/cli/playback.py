"""The one engine that plays a group's day through the real bot (dispatch, handlers, store, sender, scheduler) on
the simulator with a clock it moves: `tuanbot replay` (a transcript), `tuanbot demo` (the bundled transcript) and
`tuanbot chat` (you, on a clock that follows real time) all run on it.

Moving the clock to a moment: every scheduled post due meanwhile fires at its own time (through
`BotScheduler.run_job`, what APScheduler calls in a live bot), and the sender says what is due in between, with its
real rate limits, anti-ban pauses and quiet hours. A message is handled at its own time, and what the bot says in
answer goes out before the clock moves on.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.channels.sim import BOT_ID, SimChannel
from bot.cli.transcript import Event, derived_wxid
from bot.clock import VirtualClock
from bot.config import Config
from bot.events import Inbound, Kind, Outbound
from bot.sender import SenderLimits
from scheduler.plan import next_firings
from scheduler.service import BotScheduler

WEEKDAYS = "一二三四五六日"
PRIVATE = "私聊"


@dataclass(frozen=True)
class Said:
    """One message of the conversation: a member's (`from_bot` False) or the bot's."""

    at: datetime
    group: str | None  # None: a private message
    who: str  # the speaker's display name
    text: str
    from_bot: bool
    to: str | None = None  # a private message's addressee (display name)
    mentions: tuple[str, ...] = ()  # display names
    file: str | None = None


class PlaybackChannel(SimChannel):
    """The simulator channel, remembering what the bot said with its mentions as display names."""

    def __init__(self, clock: VirtualClock, *, bot_name: str) -> None:
        super().__init__(clock, bot_name=bot_name)
        self.conversation: list[Said] = []
        self.names: dict[str, str] = {BOT_ID: bot_name}  # wxid → display name

    def heard(self, said: Said) -> None:
        self.conversation.append(said)

    async def send(self, out: Outbound) -> None:
        await super().send(out)
        topic = self.rooms.get(out.room_id)  # None: not a room, a person (by contact id), one to one
        to = None if topic is not None else self.names.get(out.room_id, out.room_id)
        mentions = tuple(self.names.get(m, m) for m in out.mentions)
        file = Path(out.file).name if out.file else None  # the file's name: its path is the throwaway dir's
        now = self.clock.now()
        self.conversation.append(Said(now, topic, self.bot_name, out.text, True, to=to, mentions=mentions, file=file))


class Playback:
    """A bot on the simulator whose clock only moves when told (`run_until`, `deliver`)."""

    def __init__(
        self, config: Config, data_dir: Path, database: str, start: datetime, *, limits: SenderLimits | None = None
    ) -> None:
        self.config = config
        self.clock = VirtualClock(start)
        self.channel = PlaybackChannel(self.clock, bot_name=config.bot.name)
        self.app = App(
            config, self.channel, self.clock, data_dir, database=database, limits=limits, use_redis=False
        )  # offline: no Redis, whatever the environment says
        self.app.sender.rng = random.Random(0)  # the anti-ban pauses, the same on every run
        self.app.services.self_id = BOT_ID  # so an @小团 in a transcript is a mention of the bot
        self.scheduler = BotScheduler(self.app.services)  # fired on this clock below, never on the wall clock
        self._fired_through = start - timedelta(microseconds=1)  # posts due at the very start go out first
        self._seen: set[str] = set()
        self._applied = config  # the config the jobs were last applied from

    @property
    def conversation(self) -> list[Said]:
        return self.channel.conversation

    async def start(self) -> None:
        await self.app.start()
        for group in self.config.groups:  # the bot is in every configured group from the start
            await self.app.services.groups.resolve(self.channel.room(group.name, group.room_id), group.name)
        self._applied = self.app.services.config
        self.scheduler.apply(self._applied)

    async def close(self) -> None:
        await self.app.drain()
        await self.app.close()

    async def run_until(self, when: datetime) -> None:
        """Move the clock to `when`: scheduled posts fire at their times, queued messages go out when due."""
        while True:
            plan, start = self._plan(), self._fired_through + timedelta(microseconds=1)
            due = next_firings(plan, start=start, count=1)
            if not due or due[0][0] > when:
                break
            fire_at = due[0][0]
            await self._send_until(fire_at)
            self.clock.advance_to(fire_at)
            # every job due at this moment (two buys closing at 20:00, a buy's cutoff in each of its groups)
            at_once = next_firings(plan, start=start, count=max(len(self.scheduler.specs), 1))
            for spec in [spec for moment, spec in at_once if moment == fire_at]:
                await self.scheduler.run_job(spec.id)
            self._fired_through = fire_at
        await self._send_until(when)
        self.clock.advance_to(when)
        self._fired_through = max(self._fired_through, when)

    def _plan(self) -> Config:
        """The plan with what leaders changed in chat (a buy opened, closed or moved there): the jobs follow it, as
        the live scheduler's `PlanChanged` subscriber makes them."""
        config = self.app.services.config
        if config is not self._applied:
            self._applied = config
            self.scheduler.apply(config)
        return config

    async def settle(self, limit: timedelta) -> None:
        """Move the clock on until what the bot has queued has gone out (the digest), at most `limit` on."""
        deadline = self.clock.now() + limit
        while True:
            wait = await self.app.sender.send_due()
            if wait is None or self.clock.now() + timedelta(seconds=wait) > deadline:
                return
            await self.run_until(self.clock.now() + timedelta(seconds=max(wait, 0.001)))

    async def _send_until(self, deadline: datetime) -> None:
        """What the sender has due before `deadline`, said at its time (limits wait on this clock)."""
        while True:
            wait = await self.app.sender.send_due()
            if wait is None or self.clock.now() + timedelta(seconds=wait) > deadline:
                return
            await self.clock.sleep(max(wait, 0.001))  # time always moves: a stale "due now" cannot spin here

    async def deliver(self, event: Event) -> str:
        """The message at its time, handled by the bot, then what the bot says at once. Returns the dispatch outcome
        (`duplicate` for a redelivered id: the conversation shows a message once)."""
        await self.run_until(event.at)
        self.channel.names.setdefault(event.wxid, event.sender)
        if event.private:  # one to one: the conversation is the sender's contact id, as WeChat gives it
            room, topic = event.wxid, ""
        else:
            assert event.group is not None
            group = self.config.group(event.group)
            room = self.channel.room(event.group, group.room_id if group else None)
            topic = self.channel.rooms[room]
        mentions = tuple(self._wxid_of(name) for name in event.mentions)
        inbound = Inbound(
            msg_id=event.id,
            room_id=room,
            room_topic=topic,
            sender_id=event.wxid,
            sender_name=event.sender,
            text=event.text,
            ts=event.at,
            kind=Kind.NATIVE_CHAIN if event.native else Kind.TEXT,
            mentions=mentions,
            private=event.private,
        )
        if event.id not in self._seen:
            self._seen.add(event.id)
            to = self.config.bot.name if event.private else None
            self.channel.heard(Said(event.at, event.group, event.sender, event.text, False, to, event.mentions))
        outcome = await self.app.handle(inbound)
        await self._send_until(self.clock.now())
        return outcome

    def _wxid_of(self, name: str) -> str:
        if name == self.config.bot.name:
            return BOT_ID
        known = next((wxid for wxid, shown in self.channel.names.items() if shown == name), None)
        return known or derived_wxid(name)


class Printer:
    """The conversation as a member scrolling the group sees it: a heading per day and group, `HH:MM  who: text`."""

    def __init__(self, out: TextIO | None, config: Config) -> None:
        self.out = out or sys.stdout
        self.tz = config.tz
        self.bot = config.bot.name
        self.day: str | None = None
        self.shown = 0

    def flush(self, conversation: list[Said]) -> None:
        for said in conversation[self.shown :]:
            self.line(said)
        self.shown = len(conversation)

    def line(self, said: Said) -> None:
        local = said.at.astimezone(self.tz)
        day = f"{local:%m月%d日} 周{WEEKDAYS[local.weekday()]} · {said.group or PRIVATE}"
        if day != self.day:
            self.day = day
            print(f"\n—— {day} ——", file=self.out)
        who = f"🤖 {said.who}" if said.from_bot else said.who
        if said.group is None:
            who += f" → {said.to or self.bot}"
        if said.file:
            said = replace(said, text=f"[文件] {said.file}")
        # the bot's mentions are written before its text, as WeChat shows them; a member's are in their text already
        text = "".join(f"@{name} " for name in said.mentions) * said.from_bot + said.text
        text_lines = text.split("\n")
        print(f"{local:%H:%M}  {who}: " + text_lines[0], file=self.out)
        for rest in text_lines[1:]:
            print(" " * 8 + rest, file=self.out)
