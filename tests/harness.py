"""A bot on the simulator for tests: a member says this → the bot says that, with the store read back."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.channels.sim import SimChannel
from bot.clock import VirtualClock
from bot.config import Config, parse_config_text
from bot.dispatch import Handler
from bot.events import Kind
from bot.sender import SenderLimits
from storage.models import Order

TZ = ZoneInfo("Asia/Shanghai")

CONFIG = """
timezone: Asia/Shanghai
bot: {name: 小团}
quiet_hours: "22:00-08:00"
limits: {per_group_per_minute: 6, per_account_per_minute: 20, same_text_window: 10m}
chain: {digest_every: 30s}
catalogue:
  - {name: 草莓, aliases: [丹东草莓], unit: 盒, price: 39.9}
  - {name: 蓝莓, aliases: [智利蓝莓], unit: 盒, price: 25}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
    pickup: {place: 东门快递柜旁, time: "17:00-20:00"}
  - name: 阳光花园2号群
    leaders: [李哥]
buys:
  - id: caomei
    title: 周六丹东草莓团
    groups: [阳光花园1号群, 阳光花园2号群]
    items: [{product: 草莓, price: 39.9}]
    opens: 2026-11-26 09:00
    cutoff: 2026-11-27 20:00
    min_members: 5
"""


def with_flash_sale(config: str, *, stock: int, start: str, end: str, sale_id: str = "orange") -> str:
    """The config with 砂糖橘 in the catalogue and a 限时秒杀 of it in every group."""
    catalogue = "  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}\n"
    assert catalogue in config
    orange = "  - {name: 砂糖橘, aliases: [沙糖桔], unit: 箱, price: 29.9}\n"
    sale = (
        f"flash_sales:\n  - id: {sale_id}\n    product: 砂糖橘\n    price: 19.9\n    stock: {stock}\n"
        f"    groups: all\n    start: {start}\n    end: {end}\n"
    )
    return config.replace(catalogue, catalogue + orange) + sale


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


class BotHarness:
    def __init__(
        self,
        data_dir: Path,
        *,
        config: Config | str = CONFIG,
        start: datetime | None = None,
        database: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        handlers: list[Handler] | None = None,
        limits: SenderLimits | None = None,
    ) -> None:
        self.config = parse_config_text(config, file="test.yaml") if isinstance(config, str) else config
        self.clock = VirtualClock(start or at("2026-11-26 10:00"))
        self.channel = SimChannel(self.clock, bot_name=self.config.bot.name)
        self.data_dir = data_dir
        self.app = App(
            self.config,
            self.channel,
            self.clock,
            data_dir,
            handlers=handlers,
            limits=limits or SenderLimits(spacing=(0.0, 0.0), same_text_window=timedelta(minutes=10)),
            database=database or f"sqlite+aiosqlite:///{data_dir / 'test.db'}",
            engine_kwargs=engine_kwargs,
        )

    async def __aenter__(self) -> BotHarness:
        await self.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.drain()
        await self.app.close()

    async def say(
        self,
        who: str,
        text: str,
        group: str = "阳光花园1号群",
        *,
        msg_id: str | None = None,
        kind: Kind = Kind.TEXT,
        settle: bool = True,
    ) -> str:
        """`who` says `text` in `group`; returns what dispatch did. With `settle`, lets the bot's replies out."""
        self.clock.advance(1)
        result = await self.app.handle(self.channel.message(group, who, text, msg_id=msg_id, kind=kind))
        if settle:
            await self.settle()
        return result

    async def settle(self, horizon: timedelta = timedelta(minutes=2)) -> None:
        await self.app.sender.flush(horizon=horizon)

    def said(self, group: str | None = "阳光花园1号群") -> list[str]:
        return self.channel.said(group)

    async def orders(self, buy_id: str = "caomei", status: str | None = "active") -> list[tuple[str, list[str]]]:
        """(participant, ["草莓2盒", …]) per order, oldest first."""
        async with self.app.db.sessions() as session:
            query = select(Order).where(Order.buy_id == buy_id).order_by(Order.id)
            if status is not None:
                query = query.where(Order.status == status)
            rows = list(await session.scalars(query))
        return [(o.participant, [f"{ln.product}{_q(ln.qty)}{ln.unit or ''}" for ln in o.lines]) for o in rows]


def _q(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def chain(header: str, *lines: str) -> str:
    return header + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
