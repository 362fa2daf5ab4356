"""A 500-member 接龙 burst through the real pipeline (dispatch, parser, merge, SQLite store), against a naive
handler that re-parses every full message and rebuilds its merge state from the store, in the same run.

    python benchmarks/chain_burst.py [--members 500] [--json]

Two figures: end to end (dispatch, parse, merge, store — where the store's round trips dominate both handlers), and
the parse + merge engine alone on the same burst (what the incremental reader and the kept merge state save).

The burst: 500 members each copy the latest list they saw and append their line; one in ten copies a message one
or two behind (a race); every 40th message someone edits their line, every 50th someone cancels. Both handlers must
end with the same orders as the model of what the group meant. Times are per message of `App.handle`; the digest
the sender renders once per interval is not part of them. `last_over_first` compares the median of the last 20
join messages with the median of the first 20 (single messages are too noisy to compare one to one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.channels.sim import SimChannel  # noqa: E402
from bot.clock import VirtualClock  # noqa: E402
from bot.config import Buy, parse_config_text  # noqa: E402
from bot.dispatch import Context, Handler  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from bot.parsing.chain import parse_chain  # noqa: E402
from bot.parsing.chain_reader import ChainReader, Copy, _serials  # noqa: E402
from bot.parsing.entry import entry_reader  # noqa: E402
from bot.parsing.merge import ChainState, LineState, Seen  # noqa: E402
from bot.parsing.products import ProductMatcher  # noqa: E402
from bot.sender import SenderLimits  # noqa: E402
from handlers.chain_orders import ChainOrders  # noqa: E402
from handlers.leader_commands import LeaderCommands  # noqa: E402
from storage.models import Order  # noqa: E402
from tests.harness import CONFIG, at  # noqa: E402

GROUP = "阳光花园1号群"
HEADER = "#接龙 周六丹东草莓团\n草莓39.9元/盒,周五晚8点截单\n例 3栋 王阿姨 草莓1盒"


def burst(members: int, seed: int = 7) -> tuple[list[tuple[str, str, bool]], dict[str, str]]:
    """(sender, text, is_join) messages, and the model: participant → expected line content ('' = cancelled)."""
    rng = random.Random(seed)
    copies: list[list[str]] = [[]]
    messages: list[tuple[str, str, bool]] = []
    model: dict[str, str] = {}
    labels: list[tuple[str, str]] = []

    def text(lines: list[str]) -> str:
        return HEADER + "\n\n" + "\n".join(f"{n}. {ln}" for n, ln in enumerate(lines, 1))

    for i in range(members):
        name = f"邻居{i}"
        label = f"{i % 30 + 1}栋{i // 30 % 6 + 1}单元 {name}"
        lag = rng.choice([1, 2, 3]) if rng.random() < 0.1 else 0
        base = copies[max(0, len(copies) - 1 - lag)]
        line = f"{label} 草莓{rng.randint(1, 4)}盒"
        copy = [*base, line]
        # a copy made from an older message lacks lines others added meanwhile; the next copies carry everything
        merged = [*copies[-1], line] if lag else copy
        copies.append(merged)
        messages.append((name, text(copy), True))
        model[label] = line
        labels.append((name, label))
        if i % 40 == 39:  # someone changes their own line
            who, lab = labels[i - 5]
            old = model[lab]
            new = f"{lab} 草莓{int(old[-2]) % 4 + 1}盒"
            latest = [new if ln == old else ln for ln in copies[-1]]
            copies.append(latest)
            messages.append((who, text(latest), False))
            model[lab] = new
        if i % 50 == 49:  # someone cancels
            who, lab = labels[i - 7]
            old = model[lab]
            if old:
                latest = [f"{lab} 不要了" if ln == old else ln for ln in copies[-1]]
                copies.append(latest)
                messages.append((who, text(latest), False))
                model[lab] = ""
    return messages, model


class NaiveChainOrders(ChainOrders):
    """The same merge and store, without the two things that make a copy cheap: every message is parsed in full
    with no content cache, and the merge state is rebuilt from the store each time."""

    name = "naive_chain_orders"

    async def handle(self, ctx: Context) -> None:
        ctx.services.chain.states.clear()
        await super().handle(ctx)

    def _read(
        self, ctx: Context, matcher: ProductMatcher, now: datetime
    ) -> tuple[Buy, Copy, list[str | None] | None] | None:
        forget_contents(matcher)
        config = ctx.services.config
        buy = config.buy("caomei")
        assert buy is not None
        parsed = parse_chain(ctx.event.text, matcher, default_product="草莓")
        return buy, Copy(parsed, tuple(e.key for e in parsed.entries), next(_serials)), None


def forget_contents(matcher: ProductMatcher) -> None:
    """Forget every line read before (the content cache), keeping what is built once per catalogue."""
    entry_reader(matcher).forget()


async def run(handler: Handler, members: int, data: Path) -> dict[str, Any]:
    config = parse_config_text(CONFIG, file="bench.yaml")
    clock = VirtualClock(at("2026-11-26 10:00"))
    channel = SimChannel(clock)
    app = App(
        config,
        channel,
        clock,
        data,
        handlers=[handler, LeaderCommands()],
        limits=SenderLimits(spacing=(0.0, 0.0), per_group_per_minute=1000, per_account_per_minute=1000),
        database=f"sqlite+aiosqlite:///{data / (handler.name + '.db')}",
    )
    await app.start()
    app.services.product_matcher().warm_up()
    messages, model = burst(members)
    costs: list[float] = []
    joins: list[float] = []
    started = time.perf_counter()
    for sender, text, is_join in messages:
        clock.advance(2)
        event = channel.message(GROUP, sender, text)
        t0 = time.perf_counter()
        await app.handle(event)
        cost = time.perf_counter() - t0
        costs.append(cost)
        if is_join:
            joins.append(cost)
        await app.sender.flush(horizon=timedelta(0))
    total = time.perf_counter() - started
    async with app.db.sessions() as session:
        rows = list(await session.scalars(select(Order).where(Order.status == "active")))
        orders = await session.scalar(select(func.count()).select_from(Order))
    got = {o.participant: f"{o.participant} {o.lines[0].product}{int(o.lines[0].qty)}盒" for o in rows}
    want = {k: v for k, v in model.items() if v}
    await app.drain()
    await app.close()
    handled = sum(costs)
    return {
        "orders": int(orders or 0),
        "active": len(rows),
        "correct": got == want,
        "handle_s": handled,
        "total_s": total,
        "p50_ms": statistics.median(costs) * 1e3,
        "p99_ms": sorted(costs)[int(len(costs) * 0.99) - 1] * 1e3,
        "first_ms": statistics.median(joins[:20]) * 1e3,
        "last_ms": statistics.median(joins[-20:]) * 1e3,
        "messages": len(messages),
    }


def engine(members: int, runs: int = 3) -> dict[str, float]:
    """The same burst through parse + merge alone (no store): the incremental reader and the kept merge state,
    against a full re-parse without the content cache and a merge state rebuilt from every line known so far.
    Each side runs `runs` times from nothing (no line read before), the two sides taking turns; the fastest run of
    each counts (a run of the engine takes ~10 ms, where one collector pause would show)."""
    matcher = ProductMatcher([("草莓", ("丹东草莓",)), ("蓝莓", ()), ("土鸡蛋", ("鸡蛋",))])
    matcher.warm_up()
    messages, _ = burst(members)

    def ours() -> list[float]:
        forget_contents(matcher)
        reader, state = ChainReader(matcher, default_product="草莓"), ChainState()
        costs: list[float] = []
        for sender, text, _join in messages:
            t0 = time.perf_counter()
            state.fold(reader.read_copy(text), sender, sender)
            costs.append(time.perf_counter() - t0)
        return costs

    def naive() -> list[float]:
        known: list[LineState] = []
        costs: list[float] = []
        for sender, text, _join in messages:
            t0 = time.perf_counter()
            forget_contents(matcher)
            parsed = parse_chain(text, matcher, default_product="草莓")
            rebuilt = ChainState.of(LineState(ln.key, ln.who, ln.author, ln.status) for ln in known)
            rebuilt.apply([Seen(e) for e in parsed.entries], sender, sender)
            known = list(rebuilt.lines.values())
            costs.append(time.perf_counter() - t0)
        return costs

    # interleaved, so that both sides meet the same slow and fast spells of a shared machine
    pairs = [(ours(), naive()) for _ in range(runs)]
    best = min((o for o, _ in pairs), key=sum)
    best_naive = min((n for _, n in pairs), key=sum)
    return {
        "engine_first_ms": statistics.median(best[:20]) * 1e3,
        "engine_last_ms": statistics.median(best[-20:]) * 1e3,
        "engine_speedup_vs_naive": sum(best_naive) / sum(best),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        setup_logging(data, console=None)
        ours = await run(ChainOrders(), args.members, data)
        naive = await run(NaiveChainOrders(), args.members, data)
    parts = engine(args.members)
    print(
        f"  engine: parse + merge alone, first {parts['engine_first_ms']:.3f} ms, "
        f"last {parts['engine_last_ms']:.3f} ms per message; "
        f"{parts['engine_speedup_vs_naive']:.0f}x faster than re-parsing and re-merging every copy"
    )
    for name, r in (("tuanbot", ours), ("naive", naive)):
        print(
            f"{name:>8}: {r['messages']} messages, {r['orders']} orders ({r['active']} active), "
            f"correct={r['correct']}, "
            f"handle {r['handle_s']:.2f} s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
            f"first {r['first_ms']:.2f} ms, last {r['last_ms']:.2f} ms"
        )
    if not (ours["correct"] and naive["correct"]):
        print("orders differ from what the group meant", file=sys.stderr)
    result = {
        "orders": ours["orders"],
        "total_s": round(ours["total_s"], 3),
        "p50_ms": round(ours["p50_ms"], 3),
        "p99_ms": round(ours["p99_ms"], 3),
        "last_over_first": round(ours["last_ms"] / ours["first_ms"], 2),
        "speedup_vs_naive": round(naive["handle_s"] / ours["handle_s"], 1),
        "engine_speedup_vs_naive": round(parts["engine_speedup_vs_naive"], 1),
        "engine_last_over_first": round(parts["engine_last_ms"] / parts["engine_first_ms"], 2),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    asyncio.run(main())
