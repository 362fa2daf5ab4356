"""Wiring: the services a handler may use, the one visible list of handlers, and the inbound workers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.channels.base import Channel
from bot.clock import Clock
from bot.dispatch import Dispatcher, Handler, StoreUnavailable
from bot.events import Inbound
from bot.logs import get_logger
from bot.sender import Sender, SenderLimits
from storage.db import Database, database_url
from storage.journal import MessageJournal
from storage.models import Group as GroupRow
from storage.models import GroupBuy
from storage.shared import MemoryState, RedisState, SharedState
from storage.stock import Stock, buy_key, flash_key

if TYPE_CHECKING:
    from bot.config import Config, Group


def resolve_data_dir(cli_value: str | Path | None) -> Path:
    """`--data-dir`, else `TUANBOT_DATA`, else `./data`: everything the bot writes lives there."""
    raw = cli_value or os.environ.get("TUANBOT_DATA") or "data"
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_handlers() -> list[Handler]:
    """Every handler, in the order they see a message. Add a feature here and nowhere else."""
    from handlers.chain_orders import ChainOrders
    from handlers.flash_sale import FlashSales
    from handlers.leader_commands import LeaderCommands
    from handlers.questions import Questions

    return [
        ChainOrders(),  # 接龙 lists → orders of the group's open buy, confirmed in a digest
        FlashSales(),  # 抢 / +1 / 要2箱 during a 限时秒杀: atomic stock, wait list, sold-out once
        LeaderCommands(),  # 汇总 … (leaders only)
        Questions(),  # 草莓还有吗? 几点自提? → one short answer from live data; chatter gets silence
    ]


def register_renderers(services: Services) -> None:
    """Outbound kinds whose text is written when they are sent, not when they are queued."""
    from handlers.chain_orders import DIGEST, digest_sent, render_digest
    from handlers.flash_sale import FLASH_DIGEST, FLASH_WAITLIST, render_flash_digest, render_waitlist, waitlist_sent

    services.sender.renderers[DIGEST] = lambda row: render_digest(services, row)
    services.sender.after_sent[DIGEST] = lambda row: digest_sent(services, row)
    services.sender.renderers[FLASH_DIGEST] = lambda row: render_flash_digest(services, row)
    services.sender.renderers[FLASH_WAITLIST] = lambda row: render_waitlist(services, row)
    services.sender.after_sent[FLASH_WAITLIST] = lambda row: waitlist_sent(services, row)


async def apply_config_to_store(services: Services) -> None:
    """The `group_buys` rows orders point to and the stock counters the config names: made at start and on a
    reload (a counter that exists keeps what was taken; only a new buy or sale gets a fresh one)."""
    config = services.config
    async with services.db.transaction() as session:
        for buy in config.buys:
            row = await session.get(GroupBuy, buy.id)
            if row is None:
                row = GroupBuy(id=buy.id, title=buy.title)
                session.add(row)
            row.title, row.opens, row.cutoff, row.min_members = buy.title, buy.opens, buy.cutoff, buy.min_members
    for buy in config.buys:
        for item in buy.items:
            if item.stock is not None:
                await services.stock.ensure(buy_key(buy.id, item.product), item.stock)
    for sale in config.flash_sales:
        await services.stock.ensure(flash_key(sale.id), sale.stock)


class GroupRegistry:
    """Which configured group a room is. A room is matched by its topic the first time, then by its id, so a
    renamed room keeps being served."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config
        self._by_room: dict[str, str] = {}
        self._ids: dict[str, int] = {}
        self._binding: dict[str, asyncio.Task[bool]] = {}  # a room seen first in a burst is bound once, for all

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
    self_id: str | None = None
    caches: dict[str, object] = field(default_factory=dict)


class App:
    """One bot process: the store, the sender, the dispatcher, and a worker per room (messages of one room are
    handled in order; rooms do not wait for each other)."""

    def __init__(
        self,
        config: Config,
        channel: Channel,
        clock: Clock,
        data_dir: Path,
        *,
        handlers: Sequence[Handler] | None = None,
        limits: SenderLimits | None = None,
        database: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        use_redis: bool = True,
    ) -> None:
        self.db = Database(database or database_url(data_dir, config.database), **(engine_kwargs or {}))
        redis_url = (os.environ.get("TUANBOT_REDIS_URL") or config.redis) if use_redis else None
        redis_state = RedisState(redis_url) if redis_url else None
        limits = limits or SenderLimits(
            per_group_per_minute=config.limits.per_group_per_minute,
            per_account_per_minute=config.limits.per_account_per_minute,
            same_text_window=config.limits.same_text_window,
            spacing=config.limits.send_spacing,
        )
        shared: SharedState = redis_state or MemoryState()
        sender = Sender(self.db, channel, clock, limits, in_quiet_hours=config.in_quiet_hours, shared=shared)
        self.services = Services(
            config=config,
            db=self.db,
            clock=clock,
            data_dir=data_dir,
            sender=sender,
            groups=GroupRegistry(self.db, config),
            shared=shared,
            stock=Stock(self.db, gate=redis_state),
            journal=MessageJournal(self.db, shared),
        )
        self.dispatcher = Dispatcher(self.services, handlers if handlers is not None else default_handlers())
        register_renderers(self.services)
        self.log = get_logger("tuanbot.app")
        self._queues: dict[str, asyncio.Queue[Inbound | None]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def sender(self) -> Sender:
        return self.services.sender

    async def start(self) -> None:
        await self.db.open()
        await self.services.groups.load(self.services.clock)
        await apply_config_to_store(self.services)
        self.log.info("bot_started", database=self.db.dialect, groups=[g.name for g in self.services.config.groups])

    async def handle(self, event: Inbound) -> str:
        """Handle one event now, retrying while the store is unavailable (the message is not lost meanwhile)."""
        delay = 0.5
        while True:
            try:
                return await self.dispatcher.feed(event)
            except StoreUnavailable as exc:
                if self._stopping:
                    self.log.error("message_unhandled", msg_id=event.msg_id, reason="store_unavailable")
                    return "failed"
                self.log.warning("store_unavailable", msg_id=event.msg_id, retry_in=delay, error=str(exc)[:200])
                await self.services.clock.sleep(delay)
                delay = min(delay * 2, 10.0)

    def submit(self, event: Inbound) -> None:
        """Queue an event for its room's worker (used by live channels; the demo and tests call `handle`)."""
        if self._stopping:
            return
        queue = self._queues.get(event.room_id)
        if queue is None:
            queue = self._queues[event.room_id] = asyncio.Queue()
            self._workers[event.room_id] = asyncio.create_task(self._work(queue), name=f"room:{event.room_id}")
        queue.put_nowait(event)

    async def _work(self, queue: asyncio.Queue[Inbound | None]) -> None:
        while True:
            event = await queue.get()
            try:
                if event is None:
                    return
                await self.handle(event)
            except Exception:
                self.log.exception("worker_failed", msg_id=getattr(event, "msg_id", None))
            finally:
                queue.task_done()

    async def drain(self) -> None:
        """Stop taking messages, finish the ones in hand. If the caller gives up waiting (a shutdown with a time
        limit), the messages still waiting are named in the log: the gateway will not deliver them again."""
        self._stopping = True
        for queue in self._queues.values():
            queue.put_nowait(None)
        if not self._workers:
            return
        try:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
        except asyncio.CancelledError:
            for room, queue in self._queues.items():
                left = [e.msg_id for e in list(queue._queue) if e is not None]  # type: ignore[attr-defined]
                if left:
                    self.log.error("messages_unhandled", room=room, count=len(left), msg_ids=left[:50])
            raise

    async def close(self) -> None:
        await self.services.shared.close()
        await self.db.close()
