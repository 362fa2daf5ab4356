"""The services handlers and jobs are given (built once per process by `bot.app.App`), with each feature's typed
memory. A leaf: it imports nothing from handlers/, scheduler/, notices or the composition root."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.clock import Clock
from bot.core.events import Subscribers
from bot.core.leaders import LeaderRegistry
from bot.logs import get_logger
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ChainState
from bot.parsing.products import ProductMatcher
from bot.sender import Sender
from storage.db import Database
from storage.journal import MessageJournal
from storage.models import Group as GroupRow
from storage.shared_state import SharedState
from storage.stock import Stock

if TYPE_CHECKING:
    from bot.config import Config, Group


class GroupRegistry:
    """Which configured group a room is. A room is matched by its topic the first time, then by its id, so a
    renamed room keeps being served."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config
        self._by_room: dict[str, str] = {}
        self._ids: dict[str, int] = {}
        self._binding: dict[str, asyncio.Task[bool]] = {}  # a room seen first in a burst is bound once, for all
        self.paused: set[str] = set()  # groups whose leader paused the bot (`暂停`)

    async def load(self, now_fn: Clock) -> None:
        async with self.db.transaction() as session:
            rows = {row.name: row for row in await session.scalars(select(GroupRow))}
            for group in self.config.groups:
                row = rows.get(group.name)
                if row is None:
                    row = GroupRow(name=group.name, room_id=group.room_id, created_at=now_fn.now())
                    session.add(row)
                elif group.room_id and row.room_id != group.room_id:
                    row.room_id = group.room_id
                await session.flush()
                self._ids[group.name] = row.id
                if row.room_id:
                    self._by_room[row.room_id] = group.name
                if row.paused:
                    self.paused.add(group.name)
                else:
                    self.paused.discard(group.name)

    def is_paused(self, name: str) -> bool:
        return name in self.paused

    async def set_paused(self, name: str, paused: bool) -> None:
        """A leader's 暂停 / 恢复: kept in the store, so a restart keeps the group as the leader left it."""
        async with self.db.transaction() as session:
            row = await session.scalar(select(GroupRow).where(GroupRow.name == name))
            if row is not None:
                row.paused = paused
        (self.paused.add if paused else self.paused.discard)(name)

    def id_of(self, name: str) -> int:
        return self._ids[name]

    def name_of(self, group_id: int) -> str:
        return next(name for name, gid in self._ids.items() if gid == group_id)

    def room_of(self, name: str) -> str | None:
        for room, group_name in self._by_room.items():
            if group_name == name:
                return room
        return None

    async def resolve(self, room_id: str, topic: str) -> Group | None:
        name = self._by_room.get(room_id)
        if name is None:
            group = self.config.group(topic) if topic else None
            if group is None:
                return None  # unserved
            binding = self._binding.get(room_id)
            if binding is None:
                binding = self._binding[room_id] = asyncio.create_task(self._bind(group.name, room_id, topic))
                binding.add_done_callback(lambda _: self._binding.pop(room_id, None))
            if not await asyncio.shield(binding):
                return None  # a second room wearing a served room's name
            name = group.name
        return self.config.group(name)

    async def _bind(self, name: str, room_id: str, topic: str) -> bool:
        if self.room_of(name) is not None:
            return False
        async with self.db.transaction() as session:
            row = await session.scalar(select(GroupRow).where(GroupRow.name == name))
            if row is not None:
                row.room_id, row.topic = room_id, topic
        self._by_room[room_id] = name
        get_logger("tuanbot.groups").info("room_bound", group=name, room=room_id, topic=topic)
        return True


READERS_KEPT = 64


@dataclass
class ChainMemory:
    """What the 接龙 path keeps between messages. All of it can be rebuilt from the store and the config."""

    matcher: ProductMatcher | None = None  # one per loaded config
    readers: OrderedDict[tuple[int, str], ChainReader] = field(default_factory=OrderedDict)  # per chain, LRU
    states: dict[tuple[str, int], ChainState] = field(default_factory=dict)  # per (buy, group)
    member_ids: dict[tuple[int, str], int] = field(default_factory=dict)  # (group id, wxid) → member row
    digest_pending: dict[str, datetime] = field(default_factory=dict)  # coalesce key → the queued digest's time
    digest_rendered: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # digest row → (order, version)
    #: `tuanbot rebuild` only: the lines the live bot refused by the member cap, as (buy, message id, line key); the
    #: cap's window after a restart depends on when the live bot was away, which the messages do not say
    decided_refusals: frozenset[tuple[str, str, str]] | None = None

    def forget_config(self) -> None:
        """The catalogue changed: the matcher and the readers using it are built again."""
        self.matcher = None
        self.readers.clear()

    def forget_unsure(self, state_key: tuple[str, int]) -> None:
        """A transaction rolled back: what was learnt inside it is not true; ask the store again."""
        self.states.pop(state_key, None)
        self.member_ids.clear()
        self.digest_pending.clear()


@dataclass
class FlashMemory:
    """What the flash-sale path keeps between a notice's rendering and its sending."""

    #: notice row → the status it told and the claims it named (marked told once the notice is said)
    told: dict[int, tuple[str, list[int]]] = field(default_factory=dict)


@dataclass
class Services:
    """Everything handlers and jobs are given. Built once per process by `App`."""

    config: Config
    db: Database
    clock: Clock
    data_dir: Path
    sender: Sender
    groups: GroupRegistry
    shared: SharedState  # handled marks, rate-limit slots: in process, or on Redis when processes share one
    stock: Stock  # SQL counters (the truth), with a Redis gate when configured
    journal: MessageJournal  # the inbound message log: stored before handling, marked after
    leaders: LeaderRegistry  # who may run leader commands (display names bound to the wxid that first used them)
    self_id: str | None = None
    plan: Config | None = None  # the YAML as loaded; `config` is it with leaders' chat changes on it (#15, overlay)
    subscribers: Subscribers = field(default_factory=Subscribers)
    chain: ChainMemory = field(default_factory=ChainMemory)
    flash: FlashMemory = field(default_factory=FlashMemory)

    def product_matcher(self) -> ProductMatcher:
        """One matcher per loaded config (jieba with the catalogue as its user dictionary, cache in the data dir)."""
        if self.chain.matcher is None:
            products = [(p.name, tuple(p.aliases)) for p in self.config.catalogue]
            self.chain.matcher = ProductMatcher(products, cache_dir=self.data_dir)
        return self.chain.matcher

    def forget(self) -> None:
        """Drop every feature's memory, as a restart would (it is rebuilt from the store)."""
        self.chain = ChainMemory()
        self.flash = FlashMemory()
