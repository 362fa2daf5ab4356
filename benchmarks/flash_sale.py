"""2,000 members rush a 100-unit 限时秒杀 at once, through the real handler path, on PostgreSQL with and without the
Redis gate in front of the SQL stock counter.

    python benchmarks/flash_sale.py [--attempts 2000] [--stock 100] [--json] [--profile redis|sql]

Each run uses a fresh PostgreSQL schema (`TUANBOT_BENCH_PG`, default the test server) and, for the Redis gate, a
redis-server of its own on a spare loopback port (or `--redis URL`; keys then live under a unique sale id). The
attempts are chat messages (`抢`, one in five `要2箱`) from distinct members, all handled concurrently:

- `dispatch`: `App.handle`, as the bot does for a message: dedupe, message log, the `FlashSales` handler (parse, take
  stock, the claim and its outbox row in one transaction, the reply or the digest queued), the handled mark.
- `handler`: the `FlashSales` handler alone with the `Context` dispatch would give it: no message log, no mark.

Both backends keep the claims in SQL; "redis" means the Redis counter turns the crowd away before SQL. Afterwards the
claims and the SQL counter are checked: `confirmed` is the units claimed, `oversold` the units beyond the stock.
With `--json` the last line is a JSON list, one object per backend: `attempts_per_s` is the handler path (the
issue's "real handler path"), `dispatch_attempts_per_s` the whole of `App.handle` around it, measured alongside.

Within one room the live bot handles messages one after another (a room's order is kept), so batches form only
across rooms and processes: this measures a sale running in many groups at once, not one room's queue.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.channels.sim import SimChannel  # noqa: E402
from bot.clock import VirtualClock  # noqa: E402
from bot.config import parse_config_text  # noqa: E402
from bot.dispatch import Context  # noqa: E402
from bot.events import Inbound  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from bot.sender import SenderLimits  # noqa: E402
from handlers.flash_sale import FlashSales  # noqa: E402
from storage.models import FlashClaim, StockCounter  # noqa: E402
from tests.harness import CONFIG, at  # noqa: E402

PG_URL = os.environ.get("TUANBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
GROUPS = ("阳光花园1号群", "阳光花园2号群")


def sale_config(sale_id: str, stock: int) -> str:
    return (
        CONFIG.replace(
            "  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}",
            "  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}\n"
            "  - {name: 砂糖橘, aliases: [沙糖桔], unit: 箱, price: 29.9}",
        )
        + f"""flash_sales:
  - id: {sale_id}
    product: 砂糖橘
    price: 19.9
    stock: {stock}
    groups: all
    start: 2026-11-26 20:00
    end: 2026-11-26 20:30
"""
    )


@asynccontextmanager
async def pg_schema() -> AsyncIterator[dict[str, Any]]:
    import asyncpg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"connect_args": {"server_settings": {"search_path": schema}}}
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@asynccontextmanager
async def own_redis(url: str | None) -> AsyncIterator[str]:
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed; pass --redis URL")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        *[binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        await proc.wait()


async def one_run(
    backend: str, path: str, attempts: int, stock: int, redis_url: str | None, data: Path, profile: bool
) -> dict[str, Any]:
    sale_id = f"o{uuid.uuid4().hex[:8]}"
    if backend == "redis":
        os.environ["TUANBOT_REDIS_URL"] = redis_url or ""
    else:
        os.environ.pop("TUANBOT_REDIS_URL", None)
    config = parse_config_text(sale_config(sale_id, stock), file="bench.yaml")
    clock = VirtualClock(at("2026-11-26 20:00"))
    channel = SimChannel(clock)
    async with pg_schema() as kwargs:
        app = App(
            config,
            channel,
            clock,
            data,
            limits=SenderLimits(spacing=(0.0, 0.0)),
            database=PG_URL,
            engine_kwargs=kwargs,
        )
        await app.start()
        try:
            events = [
                channel.message(GROUPS[i % 2], f"邻居{i}", "要2箱" if i % 5 == 0 else "抢") for i in range(attempts)
            ]
            handler = FlashSales()
            contexts = [await _context(app, e) for e in events] if path == "handler" else []
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            started = time.perf_counter()
            if path == "dispatch":
                results = await asyncio.gather(*(app.handle(e) for e in events))
                assert all(r == "handled" for r in results), set(results)
            else:
                await asyncio.gather(*(handler.handle(ctx) for ctx in contexts))
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(40)
                print(out.getvalue(), file=sys.stderr)
            async with app.db.sessions() as s:
                confirmed = int(
                    await s.scalar(
                        select(func.coalesce(func.sum(FlashClaim.qty), 0)).where(
                            FlashClaim.sale_id == sale_id, FlashClaim.status == "confirmed"
                        )
                    )
                    or 0
                )
                claims = int(await s.scalar(select(func.count()).where(FlashClaim.sale_id == sale_id)) or 0)
                counter = await s.get(StockCounter, f"flash:{sale_id}")
            left = counter.left if counter is not None else None
            if backend == "redis" and redis_url:
                gate = app.services.shared
                await gate.redis.delete(f"{gate.prefix}stock:flash:{sale_id}")  # type: ignore[attr-defined]
        finally:
            await app.drain()
            await app.close()
    return {
        "backend": backend,
        "path": path,
        "attempts": attempts,
        "stock": stock,
        "confirmed": confirmed,
        "oversold": max(0, confirmed - stock),
        "claims_recorded": claims,
        "counter_left": left,
        "counter_agrees": left is not None and stock - left == confirmed,
        "seconds": round(elapsed, 3),
        "attempts_per_s": round(attempts / elapsed, 1),
    }


async def _context(app: App, event: Inbound) -> Context:
    """What dispatch hands the handler, built without dispatch's message log."""
    services = app.services
    group = await services.groups.resolve(event.room_id, event.room_topic)
    assert group is not None
    log = app.dispatcher.log.bind(group=group.name, member=event.sender_name, msg_id=event.msg_id)
    return Context(event=event, group=group, group_id=services.groups.id_of(group.name), services=services, log=log)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--redis", metavar="URL", help="a Redis to use (default: a redis-server of its own)")
    parser.add_argument("--profile", choices=["redis", "sql"], help="cProfile the dispatch run of this backend")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        setup_logging(data, console=None)  # the operator's JSON log, written as the bot writes it
        async with own_redis(args.redis) as redis_url:
            for backend in ("redis", "sql"):
                for path in ("dispatch", "handler"):
                    profile = args.profile == backend and path == "dispatch"
                    results.append(await one_run(backend, path, args.attempts, args.stock, redis_url, data, profile))
                    if not args.json:
                        print(results[-1])
    summary = []
    for backend in ("redis", "sql"):
        full = next(r for r in results if r["backend"] == backend and r["path"] == "dispatch")
        bare = next(r for r in results if r["backend"] == backend and r["path"] == "handler")
        summary.append(
            {
                "backend": backend,
                "attempts": full["attempts"],
                "stock": full["stock"],
                "confirmed": bare["confirmed"],
                "oversold": bare["oversold"],
                "attempts_per_s": bare["attempts_per_s"],
                "dispatch_attempts_per_s": full["attempts_per_s"],
                "dispatch": {k: full[k] for k in ("confirmed", "oversold")},
                "checks": {
                    "claims_recorded": full["claims_recorded"] == full["attempts"],
                    "counter_agrees": full["counter_agrees"] and bare["counter_agrees"],
                },
            }
        )
    print(json.dumps(summary, ensure_ascii=False) if args.json else json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
