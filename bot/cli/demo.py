"""`tuanbot demo`: a realistic group day played offline on the simulator, through the real dispatch, handlers,
store and sender, on a virtual clock (so a day takes a second). Prints the conversation, then the summary read back
from the database."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.app import App, resolve_data_dir
from bot.channels.sim import Line, SimChannel
from bot.clock import VirtualClock
from bot.config import Buy, Config, ConfigError, load_config
from bot.domain.buys import buys_of_group
from bot.domain.summary import fmt_qty, format_summary, load_summary
from bot.logs import REHEARSAL_LOG_FILE, get_logger, setup_logging
from bot.notices.posts import post_text
from scheduler.plan import next_firings, planned_jobs
from scheduler.service import BotScheduler

WEEKDAYS = "一二三四五六日"
DEMO_DB = "demo.db"  # the demo's own database in the data dir, fresh each run (never the bot's tuanbot.db)


def bundled_config() -> Path:
    return Path(str(resources.files("bot") / "sample" / "demo.yaml"))


@dataclass(frozen=True)
class Step:
    at: datetime
    who: str
    text: str


def _chain(header: str, lines: list[str]) -> str:
    return header + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def script_for(config: Config) -> tuple[str, Buy, list[Step]]:
    """The day, built from the config: its first group, that group's first buy with a cutoff."""
    if not config.groups:
        raise ValueError("the demo needs at least one group in the config")
    group = config.groups[0]
    buys = [b for b in buys_of_group(config, group.name) if b.cutoff is not None and b.items]
    if not buys:
        raise ValueError(f"the demo needs a buy with items and a cutoff in group {group.name}")
    buy = buys[0]
    assert buy.cutoff is not None
    product_name = buy.items[0].product
    product = config.product(product_name)
    unit = buy.items[0].unit or (product.unit if product else "份")
    price = buy.items[0].price or (product.price if product else None)
    leader = group.leaders[0] if group.leaders else "团长"
    t0 = buy.opens or buy.cutoff - timedelta(hours=12)
    header = _opening_header(config, buy, group.name, t0, product_name, unit, price)
    lines = [f"{leader} {product_name}1{unit}"]
    steps = [
        Step(t0 - timedelta(minutes=30), "王阿姨", "早上好呀各位邻居☀️"),
        Step(t0 - timedelta(minutes=20), "陈叔", "今天东门在修路,大家出门绕一下"),
        Step(t0 + timedelta(minutes=1), leader, _chain(header, lines)),  # copies the header the bot posted
    ]
    lines.append(f"3栋 王阿姨 {product_name}2{unit}")
    steps.append(Step(t0 + timedelta(minutes=5), "王阿姨", _chain(header, lines)))
    # 李姐 and 何姐 copy the same message and both append line 3: a race; both orders must be kept.
    race_li = [*lines, f"5-1201 李姐 {product_name}1{unit}"]
    race_he = [*lines, f"6号楼2单元 何姐 {product_name}两{unit}"]
    steps.append(Step(t0 + timedelta(minutes=9), "李姐", _chain(header, race_li)))
    steps.append(Step(t0 + timedelta(minutes=9, seconds=2), "何姐", _chain(header, race_he)))
    # 陈叔 copies 何姐's message, which lacks 李姐's line: that is not a cancellation.
    lines = [*race_he, f"2栋 陈叔 {product_name}3{unit}"]
    steps.append(Step(t0 + timedelta(minutes=15), "陈叔", _chain(header, lines)))
    steps.append(Step(t0 + timedelta(minutes=20), "小周", "李姐你家的猫找到了吗?"))  # chatter: the bot stays silent
    steps.append(Step(t0 + timedelta(minutes=22), "李姐", "找到啦,躲在楼道里😂"))
    steps.append(
        Step(t0 + timedelta(minutes=25), "刘妈妈", f"{product_name}还有吗?")
    )  # a question: answered from stock
    steps.append(Step(t0 + timedelta(minutes=26), "刘妈妈", "几点截单呀"))
    # 王阿姨 changes her own line from 2 to 3: her order is updated, not doubled.
    lines = [ln.replace(f"王阿姨 {product_name}2{unit}", f"王阿姨 {product_name}3{unit}") for ln in lines]
    steps.append(Step(t0 + timedelta(minutes=40), "王阿姨", _chain(header, lines)))
    lines = [*lines, f"8栋 小周 {product_name}1{unit}"]
    steps.append(Step(t0 + timedelta(hours=1), "小周", _chain(header, lines)))
    # 陈叔 cancels his own line.
    lines = [ln.replace(f"2栋 陈叔 {product_name}3{unit}", "2栋 陈叔 不要了") for ln in lines]
    steps.append(Step(t0 + timedelta(hours=2), "陈叔", _chain(header, lines)))
    # After the cutoff: a late line is answered once as too late and not taken.
    late = [*lines, f"1-302 刘妈妈 {product_name}1{unit}"]
    steps.append(Step(buy.cutoff + timedelta(minutes=10), "刘妈妈", _chain(header, late)))
    end = buy.cutoff + timedelta(minutes=30)
    sale = next((s for s in config.flash_sales if group.name in {g.name for g in config.groups_of(s.groups)}), None)
    if sale is not None:  # the evening's 限时秒杀: first come by arrival, a wait list, a give-back
        sale_product = config.product(sale.product)
        sale_unit = sale_product.unit if sale_product else "份"
        at = sale.start + timedelta(seconds=5)
        steps.append(Step(at, "王阿姨", "抢"))
        steps.append(Step(at + timedelta(seconds=1), "李姐", f"{sale.product}+2"))
        steps.append(Step(at + timedelta(seconds=3), "何姐", f"我要一{sale_unit}"))
        steps.append(Step(at + timedelta(minutes=3), "李姐", "不要了"))
        end = max(end, sale.end + timedelta(minutes=5))
    steps.append(Step(end, "小周", "汇总"))  # not a leader: nothing
    steps.append(Step(end + timedelta(minutes=1), leader, "汇总"))
    return group.name, buy, steps


def _opening_header(
    config: Config, buy: Buy, group: str, at: datetime, product: str, unit: str, price: Decimal | None
) -> str:
    """The 接龙 header members copy: the one the bot posts when the buy opens, else one written like it."""
    spec = next(
        (s for s in planned_jobs(config) if s.kind == "buy_open" and s.ref == buy.id and s.group == group), None
    )
    text = post_text(config, spec, at) if spec is not None else None
    if text:
        return text.split("\n\n")[0]
    assert buy.cutoff is not None
    cutoff = buy.cutoff.astimezone(config.tz).strftime("%m月%d日%H:%M")
    priced = f"{fmt_qty(price)}元/{unit}" if price else ""
    return f"#接龙 {buy.title}\n{product} {priced}\n{cutoff}截单\n例 3栋 王阿姨 {product}1{unit}"


class Printer:
    def __init__(self, out: TextIO, config: Config) -> None:
        self.out = out
        self.tz = config.tz
        self.day: str | None = None

    def line(self, ln: Line) -> None:
        local = ln.at.astimezone(self.tz)
        day = f"{local:%m月%d日} 周{WEEKDAYS[local.weekday()]} · {ln.topic}"
        if day != self.day:
            self.day = day
            print(f"\n—— {day} ——", file=self.out)
        who = f"🤖 {ln.who}" if ln.from_bot else ln.who
        head = f"{local:%H:%M}  {who}: "
        text_lines = ln.text.split("\n")
        print(head + text_lines[0], file=self.out)
        for rest in text_lines[1:]:
            print(" " * 8 + rest, file=self.out)


async def run_demo(config_path: str | None, *, data_dir: str | Path | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # resolved per call: a default bound at import would keep a stale stream
    data = resolve_data_dir(data_dir)
    setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never into the live bot's operator log
    path = Path(config_path) if config_path else bundled_config()
    try:
        config = load_config(path)
        group_name, buy, steps = script_for(config)
    except (ConfigError, ValueError) as exc:
        print(f"tuanbot demo: {exc}", file=sys.stderr)
        return 1
    db_path = data / DEMO_DB
    for stale in (db_path, data / f"{DEMO_DB}-wal", data / f"{DEMO_DB}-shm"):
        stale.unlink(missing_ok=True)  # the demo's own database, fresh each run
    clock = VirtualClock(steps[0].at)
    channel = SimChannel.for_config(config, clock)
    app = App(config, channel, clock, data, database=f"sqlite+aiosqlite:///{db_path}")
    printer = Printer(out, config)
    get_logger("tuanbot.demo").info("demo_started", config=str(path), group=group_name, buy=buy.id)
    print(f"tuanbot demo — {path.name}: a day in {group_name} ({buy.title}), offline on the simulator", file=out)
    await app.start()
    scheduler = BotScheduler(app.services)  # fired on the demo's clock below, not on the wall clock

    async def play_until(when: datetime) -> None:
        """Let the scheduler's posts and the sender's queue happen up to `when`, in time order."""
        for fire_at, spec in next_firings(config, start=clock.now(), count=200):
            if fire_at > when:
                break
            await app.sender.flush(horizon=fire_at - clock.now())
            clock.advance_to(fire_at)
            await scheduler.fire(spec, fire_at)
            await app.sender.flush()
        await app.sender.flush(horizon=when - clock.now())
        clock.advance_to(when)

    try:
        shown = 0
        await app.handle(channel.message(group_name, "王阿姨", "[表情]"))  # the room is known before the day starts
        channel.transcript.clear()
        for step in steps:
            await play_until(step.at)
            await app.handle(channel.message(group_name, step.who, step.text))
            await app.sender.flush()
            for ln in channel.transcript[shown:]:
                printer.line(ln)
            shown = len(channel.transcript)
        await play_until(clock.now() + timedelta(minutes=5))
        for ln in channel.transcript[shown:]:
            printer.line(ln)
        async with app.db.sessions() as session:
            summary = await load_summary(session, config, buy)
        print(f"\n== 汇总 read back from the database ({db_path}) ==", file=out)
        print(format_summary(summary, buy), file=out)
        print("\nthe orders in the operator log: tuanbot logs --event order_created", file=out)
        print("recomputed from the messages: tuanbot rebuild --demo (prints nothing when they match)", file=out)
    finally:
        await app.drain()
        await app.close()
    return 0
