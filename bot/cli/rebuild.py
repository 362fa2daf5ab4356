"""`tuanbot rebuild [--buy ID]`: recompute every order from the stored messages and print how the stored orders
differ — nothing when all is well.

The recomputation is the real pipeline, not a second implementation of the rules: the message log is replayed,
in arrival order and on a virtual clock set to each message's time, through a fresh bot with the same config and
an empty scratch database; then both sets of orders (接龙 orders and flash-sale claims) are compared. It is the
recovery check after a bug or an outage, and the proof that what was stored is what the messages meant.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select

from bot.app import App, resolve_data_dir
from bot.channels.sim import SimChannel
from bot.cli.existing_store import store_is_there
from bot.clock import VirtualClock
from bot.config import Config, ConfigError, load_config
from bot.domain.units import items_label
from bot.logs import setup_logging
from bot.sender import SenderLimits
from bot.settings import read_settings
from handlers.chain_caps import REFUSED
from storage.db import Database, database_url
from storage.journal import inbound_of
from storage.models import ChainLine, FlashClaim, Group, MessageLog, Order

OrderKey = tuple[str, str, str, str, str]  # buy, group, participant, status, items


@dataclass(frozen=True)
class Difference:
    buy: str
    group: str
    participant: str
    status: str
    items: str
    stored: int
    rebuilt: int

    def __str__(self) -> str:
        where = f"{self.buy} {self.group}: {self.participant} {self.items} ({self.status})"
        if self.rebuilt == 0:
            return f"- {where}: stored ×{self.stored}, not in the messages"
        if self.stored == 0:
            return f"+ {where}: in the messages ×{self.rebuilt}, not stored"
        return f"~ {where}: stored ×{self.stored}, rebuilt ×{self.rebuilt}"


async def snapshot(db: Database, buy: str | None = None) -> Counter[OrderKey]:
    """The orders in a store, as comparable tuples (cancelled ones left out: only what is owed counts)."""
    found: Counter[OrderKey] = Counter()
    async with db.sessions() as session:
        query = select(Order, Group.name).join(Group, Group.id == Order.group_id).where(Order.status != "cancelled")
        if buy is not None:
            query = query.where(Order.buy_id == buy)
        for order, group in (await session.execute(query)).all():
            items = items_label(order.lines)
            found[(order.buy_id, group, order.participant, order.status, items)] += 1
        claims = select(FlashClaim, Group.name).join(Group, Group.id == FlashClaim.group_id)
        claims = claims.where(FlashClaim.status.not_in(("cancelled", "refused")))  # refused: too many asked
        if buy is not None:
            claims = claims.where(FlashClaim.sale_id == buy)
        for claim, group in (await session.execute(claims)).all():
            found[(claim.sale_id, group, claim.name, claim.status, f"×{claim.qty}")] += 1
    return found


async def refused_lines(db: Database) -> frozenset[tuple[str, str, str]]:
    """The lines the live bot refused by the member cap (`handlers/chain_caps.py`): (buy, message, line key)."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(ChainLine.buy_id, ChainLine.first_msg_id, ChainLine.key).where(ChainLine.status == REFUSED)
        )
        return frozenset((buy, msg, key) for buy, msg, key in rows)


async def rebuild(config: Config, db: Database, *, buy: str | None = None, scratch: Path) -> list[Difference]:
    async with db.sessions() as session:
        messages = list(await session.scalars(select(MessageLog).order_by(MessageLog.id)))
    stored = await snapshot(db, buy)
    if not messages:
        rebuilt: Counter[OrderKey] = Counter()
    else:
        clock = VirtualClock(messages[0].received_at)
        app = App(
            config,
            SimChannel(clock),
            clock,
            scratch,
            limits=SenderLimits(spacing=(0.0, 0.0)),
            database=f"sqlite+aiosqlite:///{scratch / 'rebuild.db'}",
            use_redis=False,  # a replay in a scratch store: the live handled marks and stock are not its own
        )
        await app.start()
        app.services.chain.decided_refusals = await refused_lines(db)
        try:
            for row in messages:
                clock.advance_to(row.received_at)
                await app.handle(inbound_of(row))
            rebuilt = await snapshot(app.db, buy)
        finally:
            await app.drain()
            await app.close()
    differences = []
    for key in sorted(set(stored) | set(rebuilt)):
        if stored[key] != rebuilt[key]:
            differences.append(Difference(*key, stored=stored[key], rebuilt=rebuilt[key]))
    return differences


async def run_rebuild(config_path: Path, *, data_dir: str | None, buy: str | None, database: str | None) -> int:
    data = resolve_data_dir(data_dir)
    setup_logging(None, console=None)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    url = database or database_url(data, config.database)
    if not await store_is_there("rebuild", url, "nothing to rebuild"):
        return 2
    db = Database(url)
    await db.open()
    try:
        async with db.sessions() as session:
            stored_messages = await session.scalar(select(func.count()).select_from(MessageLog))
        if not stored_messages:
            where = make_url(url).render_as_string(hide_password=True)
            print(f"tuanbot rebuild: {where} holds no messages: nothing to rebuild", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory() as tmp:
            differences = await rebuild(config, db, buy=buy, scratch=Path(tmp))
    finally:
        await db.close()
    for difference in differences:
        print(difference)
    if differences:
        print(f"{len(differences)} difference(s) between the stored orders and the messages", file=sys.stderr)
        return 1
    return 0


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rebuild", parents=[common], help="recompute orders from the stored messages; print differences")
    p.add_argument("--config", help="the config the bot runs with (default $TUANBOT_CONFIG or ./config.yaml)")
    p.add_argument("--buy", help="only this buy (or flash sale) id")
    p.add_argument("--database", help="the store to check (default: the bot's, from the config or the data dir)")
    p.add_argument("--demo", action="store_true", help="check the last `tuanbot demo` (its config and database)")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    config, database = args.config, args.database
    if args.demo:
        from bot.cli.demo import DEMO_DB, bundled_config

        config = config or str(bundled_config())
        database = database or f"sqlite:///{resolve_data_dir(args.data_dir) / DEMO_DB}"
    path = read_settings().config_path(config)
    return asyncio.run(run_rebuild(path, data_dir=args.data_dir, buy=args.buy, database=database))
