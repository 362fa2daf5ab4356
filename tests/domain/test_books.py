"""The order book and the flash-sale book driven directly, in a unit of work of their own: the events they return."""

from __future__ import annotations

from pathlib import Path

from bot.core.events import (
    DomainEvent,
    FlashCancelled,
    FlashClaimed,
    OrderCancelled,
    OrderChanged,
    OrderCreated,
    SoldOut,
    WaiterPromoted,
)
from bot.domain.flash import Take, cancel_claim, take_batch
from bot.domain.orders import OrderBook, load_state
from bot.domain.unit_of_work import unit_of_work
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ChainState
from tests.harness import CONFIG, BotHarness, at, chain, with_flash_sale

H = "#接龙 周六丹东草莓团"
G1 = "阳光花园1号群"
STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")
SALE = with_flash_sale(CONFIG, stock=3, start="2026-11-26 20:00", end="2026-11-26 20:30")


class Chain:
    """One chain of group 1, its copies handed to the order book as the handler would."""

    def __init__(self, bot: BotHarness, state: ChainState) -> None:
        self.bot, self.state = bot, state
        self.reader = ChainReader(bot.app.services.product_matcher(), default_product="草莓")

    async def copy(self, who: str, *lines: str) -> list[DomainEvent]:
        services = self.bot.app.services
        text = chain(H, *lines)
        self.bot.clock.advance(1)
        event = self.bot.channel.message(G1, who, text)
        changes = self.state.fold(self.reader.read_copy(text), event.sender_id, event.sender_name, late=False)
        buy = services.config.buys[0]
        async with unit_of_work(services) as uow:
            book = OrderBook(uow, buy, G1, services.groups.id_of(G1), event)
            return await book.apply(changes, services.clock.now())


async def _chain(bot: BotHarness) -> Chain:
    services = bot.app.services
    return Chain(bot, await load_state(services, "caomei", services.groups.id_of(G1)))


async def test_a_copy_with_one_new_line_creates_an_order_and_an_edit_changes_it(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        book = await _chain(bot)
        created = await book.copy("王阿姨", "3栋 王阿姨 草莓2盒")
        assert [type(e) for e in created] == [OrderCreated]
        first = created[0]
        assert isinstance(first, OrderCreated)
        assert (first.buy_id, first.group, first.who, first.waiting) == ("caomei", G1, "3栋 王阿姨", False)
        assert await book.copy("李姐", "3栋 王阿姨 草莓2盒") == []  # the same list again: nothing new
        edited = await book.copy("王阿姨", "3栋 王阿姨 草莓3盒")
        assert [type(e) for e in edited] == [OrderChanged]
        assert isinstance(edited[0], OrderChanged)
        assert edited[0].order_id == first.order_id
        assert await bot.orders() == [("3栋 王阿姨", ["草莓3盒"])]


async def test_cancelling_a_stocked_order_promotes_the_waiter(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=STOCKED) as bot:
        book = await _chain(bot)
        lines = ["3栋 王阿姨 草莓4盒"]
        assert [type(e) for e in await book.copy("王阿姨", *lines)] == [OrderCreated]
        lines.append("6号楼 何姐 草莓1盒")
        waiting = await book.copy("何姐", *lines)
        assert len(waiting) == 1
        assert isinstance(waiting[0], OrderCreated)
        assert waiting[0].waiting
        lines[0] = "3栋 王阿姨 不要了"
        events = await book.copy("王阿姨", *lines)
        assert [type(e) for e in events] == [OrderCancelled, WaiterPromoted]
        promoted = events[1]
        assert isinstance(promoted, WaiterPromoted)
        assert (promoted.kind, promoted.who, promoted.items, promoted.group) == ("order", "6号楼 何姐", "草莓1盒", G1)
        assert await bot.orders() == [("6号楼 何姐", ["草莓1盒"])]


async def test_the_next_copy_heals_a_missed_edit_and_a_copiers_mistake_survives_no_restart(data_dir: Path) -> None:
    """#17: 王阿姨's edit was missed (李姐's copy carries it): her one order changes. A copier then drops her unit:
    no second order, also for a state loaded from the store after a restart; her cancel then ends her one order."""
    async with BotHarness(data_dir) as bot:
        book = await _chain(bot)
        created = await book.copy("王阿姨", "3栋 王阿姨 草莓2盒")
        edited = await book.copy("李姐", "3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒")
        assert [type(e) for e in edited] == [OrderChanged, OrderCreated]
        assert isinstance(edited[0], OrderChanged)
        assert isinstance(created[0], OrderCreated)
        assert edited[0].order_id == created[0].order_id
        assert [
            type(e) for e in await book.copy("陈叔", "3栋 王阿姨 草莓3", "5-1201 李姐 草莓1盒", "2栋 陈叔 草莓1盒")
        ] == [OrderCreated]
        book = await _chain(bot)  # a restart: the state comes back from the store
        assert await book.copy(
            "何姐", "3栋 王阿姨 草莓3", "5-1201 李姐 草莓1盒", "2栋 陈叔 草莓1盒", "6号楼 何姐 草莓1盒"
        )
        assert await bot.orders() == [
            ("3栋 王阿姨", ["草莓3盒"]),
            ("5-1201 李姐", ["草莓1盒"]),
            ("2栋 陈叔", ["草莓1盒"]),
            ("6号楼 何姐", ["草莓1盒"]),
        ]
        cancelled = await book.copy(
            "王阿姨", "3栋 王阿姨 不要了", "5-1201 李姐 草莓1盒", "2栋 陈叔 草莓1盒", "6号楼 何姐 草莓1盒"
        )
        assert [type(e) for e in cancelled] == [OrderCancelled]
        assert [who for who, _ in await bot.orders()] == ["5-1201 李姐", "2栋 陈叔", "6号楼 何姐"]


async def test_an_edit_back_changes_the_order_back_also_after_a_restart(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        book = await _chain(bot)
        await book.copy("王阿姨", "3栋 王阿姨 草莓1盒")
        assert [type(e) for e in await book.copy("王阿姨", "3栋 王阿姨 草莓4盒")] == [OrderChanged]
        assert [type(e) for e in await book.copy("王阿姨", "3栋 王阿姨 草莓1盒")] == [OrderChanged]
        assert await bot.orders() == [("3栋 王阿姨", ["草莓1盒"])]
        assert [type(e) for e in await book.copy("王阿姨", "3栋 王阿姨 草莓4盒")] == [OrderChanged]
        book = await _chain(bot)  # a restart: the earlier texts' rows are in the store
        assert [type(e) for e in await book.copy("王阿姨", "3栋 王阿姨 草莓1盒")] == [OrderChanged]
        assert await bot.orders() == [("3栋 王阿姨", ["草莓1盒"])]


def _take(bot: BotHarness, name: str, qty: int) -> Take:
    services = bot.app.services
    sale = services.config.flash_sales[0]
    now = services.clock.now()
    msg_id = f"{name}-{qty}-{now.timestamp()}"
    return Take(sale, qty, now, G1, services.groups.id_of(G1), "room-1", f"wxid_{name}", name, msg_id)


async def test_the_last_units_sell_out_once_and_a_give_back_promotes_the_first_waiter(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=SALE, start=at("2026-11-26 20:00")) as bot:
        services = bot.app.services
        async with unit_of_work(services) as uow:
            taken, events = await take_batch(
                uow, [_take(bot, "王阿姨", 2), _take(bot, "李姐", 1), _take(bot, "何姐", 1)]
            )
        assert [t.status for t in taken] == ["confirmed", "confirmed", "waiting"]
        assert [t.left for t in taken] == [1, 0, None]
        claims = [e for e in events if isinstance(e, FlashClaimed)]
        assert [c.waiting for c in claims] == [False, False, True]
        assert [e for e in events if isinstance(e, SoldOut)] == [SoldOut("orange")]
        bot.clock.advance(1)
        async with unit_of_work(services) as uow:
            again, events = await take_batch(uow, [_take(bot, "陈叔", 1)])
        assert [t.status for t in again] == ["waiting"]
        assert not any(isinstance(e, SoldOut) for e in events)  # sold out once, not per later attempt
        async with unit_of_work(services) as uow:
            events = await cancel_claim(uow, ["orange"], "wxid_王阿姨", G1, services.clock.now())
        assert [type(e) for e in events] == [FlashCancelled, WaiterPromoted, WaiterPromoted]  # 2 units back
        promoted = [e for e in events if isinstance(e, WaiterPromoted)]
        assert [(p.kind, p.who) for p in promoted] == [("flash", "何姐"), ("flash", "陈叔")]  # in arrival order
        assert promoted[0].id == taken[2].claim_id
        assert promoted[0].items.startswith("砂糖橘1")
