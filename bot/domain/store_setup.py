"""The rows and counters a config needs in the store, and swapping in a new config (the one reload path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.overlay import apply_chat_changes
from storage.models import GroupBuy
from storage.stock import buy_key, flash_key

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.services import Services


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


async def prepare_store(services: Services) -> None:
    """The group rows (and the rooms bound to them), then the buy rows and stock counters: at start and on reload.
    First the leaders' chat changes are laid on the plan (#15: `bot.domain.overlay`), so they survive both."""
    await apply_chat_changes(services)
    await services.groups.load(services.clock)
    await apply_config_to_store(services)


async def reconfigure(services: Services, config: Config) -> None:
    """Make `config` the running one: services, group registry, sender's quiet hours, what was built from the old
    catalogue, the group rows, then the buy rows and counters."""
    services.config = config
    services.plan = config  # the new YAML plan; `prepare_store` lays the chat changes on it (#15)
    services.groups.config = config
    services.sender.in_quiet_hours = config.in_quiet_hours
    services.chain.forget_config()  # the product matcher and the chain readers using it
    await prepare_store(services)
