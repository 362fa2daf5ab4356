"""The composition root: builds the services, wires the notices onto the domain's events, lists the handlers,
and runs the inbound workers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.channels.base import Channel
from bot.clock import Clock
from bot.core.leaders import LeaderRegistry
from bot.core.paths import resolve_data_dir
from bot.core.services import GroupRegistry, Services
from bot.dispatch import Dispatcher, Handler, StoreUnavailable
from bot.domain.store_setup import apply_config_to_store, prepare_store
from bot.events import Inbound
from bot.logs import get_logger
from bot.notices.wiring import wire
from bot.sender import Sender, SenderLimits
from bot.settings import Settings, read_settings
from handlers.buy_commands import BuyCommands
from handlers.chain_orders import ChainOrders
from handlers.command_help import CommandHelp
from handlers.flash_sale import FlashSales
from handlers.forwarded import ForwardedChains
from handlers.free_text_orders import FreeTextOrders
from handlers.leader_commands import LeaderCommands
from handlers.payments import Payments
from handlers.proxy_orders import ProxyOrders
from handlers.questions import Questions
from storage.db import Database, database_url
from storage.journal import MessageJournal
from storage.shared_state import MemoryState, RedisState, SharedState
from storage.stock import Stock

if TYPE_CHECKING:
    from bot.config import Config

__all__ = ["App", "Services", "apply_config_to_store", "default_handlers", "resolve_data_dir"]


def default_handlers() -> list[Handler]:
    """The routes, in order: the first whose filter (`wants`) takes a message handles it, and no other does.
    Add a feature here and nowhere else; questions stay last, as the catch-all."""
    return [
        ProxyOrders(),  # 代报 LABEL 商品数量 / 取消 LABEL [商品] (leaders only; the participant's 接龙 line, #15)
        Payments(),  # 已收 LABEL / 未付 [团] (leaders only; one line, never a 接龙 copy; #15)
        ChainOrders(),  # 接龙 lists → orders of the group's open buy, confirmed in a digest
        FlashSales(),  # 抢 / +1 / 要2箱 during a 限时秒杀: atomic stock, wait list, sold-out once
        ForwardedChains(),  # a leader's privately forwarded 接龙 (chat record, card) → its tally; then 导出 → its xlsx
        BuyCommands(),  # 开团 截单 延长截单 库存 加库存 (leaders only; chat changes layered on the plan, #15)
        LeaderCommands(),  # 汇总 … (leaders only)
        FreeTextOrders(),  # +1 / 我要两盒草莓 / 不要了 outside the 接龙, while a buy is open (chain.free_text_orders)
        CommandHelp(),  # a leader's `#…` / `@小团 …` no command took, or private message: a short help (after them all)
        Questions(),  # 草莓还有吗? 几点自提? → one short answer from live data; chatter gets silence
    ]


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
        settings: Settings | None = None,
    ) -> None:
        settings = settings or read_settings()
        self.db = Database(database or database_url(data_dir, config.database, settings), **(engine_kwargs or {}))
        redis_url = (settings.redis_url or config.redis) if use_redis else None
        redis_state = RedisState(redis_url) if redis_url else None
        limits = limits or SenderLimits(
            per_group_per_minute=config.limits.per_group_per_minute,
            per_account_per_minute=config.limits.per_account_per_minute,
            same_text_window=config.limits.same_text_window,
            spacing=config.limits.send_spacing,
        )
        shared: SharedState = redis_state or MemoryState()
        sender = Sender(
            self.db,
            channel,
            clock,
            limits,
            in_quiet_hours=config.in_quiet_hours,
            shared=shared,
            kill_at=settings.kill_at,
        )
        self.services = Services(
            config=config,
            db=self.db,
            clock=clock,
            data_dir=data_dir,
            sender=sender,
            groups=GroupRegistry(self.db, config),
            shared=shared,
            stock=Stock(self.db, gate=redis_state),
            journal=MessageJournal(self.db, shared, kill_at=settings.kill_at),
            leaders=LeaderRegistry(self.db),
        )
        sender.is_paused = self.services.groups.is_paused
        self.dispatcher = Dispatcher(self.services, handlers if handlers is not None else default_handlers())
        wire(self.services)  # digests, nudges, flash notices: onto the domain's events and the sender's renderers
        self.log = get_logger("tuanbot.app")
        self._queues: dict[str, asyncio.Queue[Inbound | None]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def sender(self) -> Sender:
        return self.services.sender

    async def start(self) -> None:
        await self.db.open()
        await prepare_store(self.services)
        await self.services.leaders.load()
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
