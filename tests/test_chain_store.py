"""The 接龙 store path: one digest waits for every line, also across a restart; the same rows on SQLite and PostgreSQL;
the outbox rows commit or roll back with the order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.models import ChainLine, Member, Order, OrderLine, OutboundMessage, SyncOutbox
from tests.harness import CONFIG, BotHarness, chain

H = "#接龙 周六丹东草莓团"
STOCKED = CONFIG.replace("items: [{product: 草莓, price: 39.9}]", "items: [{product: 草莓, price: 39.9, stock: 4}]")


async def test_a_digest_queued_before_a_restart_takes_every_line_after_it(data_dir: Path) -> None:
    async with BotHarness(data_dir, strict=False) as bot:  # what it says: tests/test_chain_orders.py
        lines = ["3栋 王阿姨 草莓2盒"]
        await bot.say("王阿姨", chain(H, *lines), settle=False)
        bot.app.services.chain.digest_pending.clear()  # as after a restart: the store knows a digest is queued
        for i in range(5):
            lines.append(f"{i + 1}栋 邻居{i} 草莓1盒")
            await bot.say(f"邻居{i}", chain(H, *lines), settle=False)
        async with bot.app.db.sessions() as s:
            queued = await s.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.kind == "digest")
            )
        assert queued == 1
        await bot.settle(horizon=timedelta(minutes=1))
        assert "邻居4 草莓1盒" in bot.said()[-1]


async def test_the_store_path_writes_the_same_rows_on_sqlite_and_postgres(
    data_dir: Path, db_target: tuple[str, dict[str, Any]]
) -> None:
    url, kwargs = db_target
    async with BotHarness(data_dir, config=STOCKED, database=url, engine_kwargs=kwargs, strict=False) as bot:
        lines = ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓2盒"]
        await bot.say("王阿姨", chain(H, lines[0]))
        await bot.say("李姐", chain(H, *lines))
        bot.app.services.forget()  # a restart: member ids and chain state come from the store again
        lines.append("3栋 王阿姨 蓝莓1盒")  # 王阿姨's second line: the member row exists, no second one
        await bot.say("王阿姨", chain(H, *lines))
        lines.append("6号楼 何姐 草莓1盒")  # past the stock: waits
        await bot.say("何姐", chain(H, *lines))
        lines[1] = "5-1201 李姐 不要了"  # a cancel gives 2 boxes back: 何姐 moves up
        await bot.say("李姐", chain(H, *lines))
        assert await bot.orders() == [
            ("3栋 王阿姨", ["草莓2盒"]),
            ("3栋 王阿姨", ["蓝莓1盒"]),
            ("6号楼 何姐", ["草莓1盒"]),
        ]
        async with bot.app.db.sessions() as s:
            members = {m.name: m.id for m in await s.scalars(select(Member))}
            orders = list(await s.scalars(select(Order).order_by(Order.id)))
            lines_of = {ol.order_id: ol for ol in await s.scalars(select(OrderLine))}
            chain_lines = {cl.id: cl for cl in await s.scalars(select(ChainLine))}
            synced = [r.idempotency_key for r in await s.scalars(select(SyncOutbox).order_by(SyncOutbox.id))]
        assert set(members) == {"王阿姨", "李姐", "何姐"}
        assert [o.member_id for o in orders] == [members[n] for n in ("王阿姨", "李姐", "王阿姨", "何姐")]
        assert [(o.status, o.version) for o in orders] == [
            ("active", 1),
            ("cancelled", 2),
            ("active", 1),
            ("active", 2),  # waited, then promoted
        ]
        for order in orders:
            assert lines_of[order.id].chain_line_id == order.chain_line_id
            assert chain_lines[order.chain_line_id].who == order.participant
            assert order.created_at.tzinfo is not None
        assert synced == ["order:1:v1", "order:2:v1", "order:3:v1", "order:4:v1", "order:2:v2", "order:4:v2"]
