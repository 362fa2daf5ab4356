"""`tuanbot demo`: a realistic group day played offline on the simulator, through the real dispatch, handlers,
store, sender and scheduler, on a virtual clock (so a day takes a second): the bundled transcript
(`bot/sample/demo_day.jsonl`) played by `tuanbot replay`'s engine. Prints the conversation, then the summary read
back from the database (`demo.db` in the data dir, which `tuanbot rebuild --demo` checks)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.app import resolve_data_dir
from bot.cli.playback import Printer
from bot.cli.replay import load, play
from bot.cli.transcript import Event
from bot.config import Buy, Config, ConfigError, load_config
from bot.domain.buys import buys_of_group
from bot.domain.summary import fmt_qty
from bot.logs import REHEARSAL_LOG_FILE, get_logger, setup_logging
from bot.notices.posts import post_text
from scheduler.plan import planned_jobs

DEMO_DB = "demo.db"  # the demo's own database in the data dir, fresh each run (never the bot's tuanbot.db)


def bundled_config() -> Path:
    return Path(str(resources.files("bot") / "sample" / "demo.yaml"))


def demo_buy(config: Config) -> tuple[str, Buy]:
    """The demo's group and buy: the first group, and its first buy with items and a cutoff."""
    if not config.groups:
        raise ValueError("the demo needs at least one group in the config")
    group = config.groups[0]
    buys = [b for b in buys_of_group(config, group.name) if b.cutoff is not None and b.items]
    if not buys:
        raise ValueError(f"the demo needs a buy with items and a cutoff in group {group.name}")
    return group.name, buys[0]


def _say(at: datetime, who: str, text: str) -> tuple[datetime, str, str]:
    return (at, who, text)


def _chain(header: str, lines: list[str]) -> str:
    return header + "\n\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def script_for(config: Config) -> tuple[str, Buy, list[Event]]:
    """The day as a transcript, built from the config: its first group, that group's first buy with a cutoff (the
    bundled `demo_day.jsonl` is this day on the bundled config)."""
    group_name, buy = demo_buy(config)
    group = config.group(group_name)
    assert group is not None
    assert buy.cutoff is not None
    product_name = buy.items[0].product
    product = config.product(product_name)
    unit = buy.items[0].unit or (product.unit if product else "份")
    price = buy.items[0].price or (product.price if product else None)
    leader = group.leaders[0] if group.leaders else "团长"
    t0 = buy.opens or buy.cutoff - timedelta(hours=12)
    header = _opening_header(config, buy, group.name, t0, product_name, unit, price)
    lines = [f"{leader} {product_name}1{unit}"]
    steps: list[tuple[datetime, str, str]] = [
        _say(t0 - timedelta(minutes=30), "王阿姨", "早上好呀各位邻居☀️"),
        _say(t0 - timedelta(minutes=20), "陈叔", "今天东门在修路,大家出门绕一下"),
        _say(t0 + timedelta(minutes=1), leader, _chain(header, lines)),  # copies the header the bot posted
    ]
    lines.append(f"3栋 王阿姨 {product_name}2{unit}")
    steps.append(_say(t0 + timedelta(minutes=5), "王阿姨", _chain(header, lines)))
    # 李姐 and 何姐 copy the same message and both append line 3: a race; both orders must be kept.
    race_li = [*lines, f"5-1201 李姐 {product_name}1{unit}"]
    race_he = [*lines, f"6号楼2单元 何姐 {product_name}两{unit}"]
    steps.append(_say(t0 + timedelta(minutes=9), "李姐", _chain(header, race_li)))
    steps.append(_say(t0 + timedelta(minutes=9, seconds=2), "何姐", _chain(header, race_he)))
    # 陈叔 copies 何姐's message, which lacks 李姐's line: that is not a cancellation.
    lines = [*race_he, f"2栋 陈叔 {product_name}3{unit}"]
    steps.append(_say(t0 + timedelta(minutes=15), "陈叔", _chain(header, lines)))
    steps.append(_say(t0 + timedelta(minutes=20), "小周", "李姐你家的猫找到了吗?"))  # chatter: the bot stays silent
    steps.append(_say(t0 + timedelta(minutes=22), "李姐", "找到啦,躲在楼道里😂"))
    steps.append(
        _say(t0 + timedelta(minutes=25), "刘妈妈", f"{product_name}还有吗?")
    )  # a question: answered from stock
    steps.append(_say(t0 + timedelta(minutes=26), "刘妈妈", "几点截单呀"))
    # 王阿姨 changes her own line from 2 to 3: her order is updated, not doubled.
    lines = [ln.replace(f"王阿姨 {product_name}2{unit}", f"王阿姨 {product_name}3{unit}") for ln in lines]
    steps.append(_say(t0 + timedelta(minutes=40), "王阿姨", _chain(header, lines)))
    lines = [*lines, f"8栋 小周 {product_name}1{unit}"]
    steps.append(_say(t0 + timedelta(hours=1), "小周", _chain(header, lines)))
    # 陈叔 cancels his own line.
    lines = [ln.replace(f"2栋 陈叔 {product_name}3{unit}", "2栋 陈叔 不要了") for ln in lines]
    steps.append(_say(t0 + timedelta(hours=2), "陈叔", _chain(header, lines)))
    # After the cutoff: a late line is answered once as too late and not taken.
    late = [*lines, f"1-302 刘妈妈 {product_name}1{unit}"]
    steps.append(_say(buy.cutoff + timedelta(minutes=10), "刘妈妈", _chain(header, late)))
    end = buy.cutoff + timedelta(minutes=30)
    sale = next((s for s in config.flash_sales if group.name in {g.name for g in config.groups_of(s.groups)}), None)
    if sale is not None:  # the evening's 限时秒杀: first come by arrival, a wait list, a give-back
        sale_product = config.product(sale.product)
        sale_unit = sale_product.unit if sale_product else "份"
        at = sale.start + timedelta(seconds=5)
        steps.append(_say(at, "王阿姨", "抢"))
        steps.append(_say(at + timedelta(seconds=1), "李姐", f"{sale.product}+2"))
        steps.append(_say(at + timedelta(seconds=3), "何姐", f"我要一{sale_unit}"))
        steps.append(_say(at + timedelta(minutes=3), "李姐", "不要了"))
        end = max(end, sale.end + timedelta(minutes=5))
    steps.append(_say(end, "小周", "汇总"))  # not a leader: nothing
    steps.append(_say(end + timedelta(minutes=1), leader, "汇总"))
    events = [
        Event(line=i, at=at, sender=who, text=text, group=group.name) for i, (at, who, text) in enumerate(steps, 1)
    ]
    return group.name, buy, events


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


def bundled_transcript() -> Path:
    return Path(str(resources.files("bot") / "sample" / "demo_day.jsonl"))


async def run_demo(config_path: str | None, *, data_dir: str | Path | None, out: TextIO | None = None) -> int:
    """The bundled transcript on the bundled config, played by `tuanbot replay`'s engine; with `config_path`, the same
    day written for that config (`script_for`)."""
    out = out or sys.stdout  # resolved per call: a default bound at import would keep a stale stream
    data = resolve_data_dir(data_dir)
    path = Path(config_path) if config_path else bundled_config()
    try:
        if config_path is None:
            loaded = load(path, bundled_transcript(), sys.stderr)
            if loaded is None:
                return 1
            config, events = loaded
            group_name, buy = demo_buy(config)
        else:
            config = load_config(path)
            group_name, buy, events = script_for(config)
    except (ConfigError, ValueError) as exc:
        print(f"tuanbot demo: {exc}", file=sys.stderr)
        return 1
    db_path = data / DEMO_DB
    for stale in (db_path, data / f"{DEMO_DB}-wal", data / f"{DEMO_DB}-shm"):
        stale.unlink(missing_ok=True)  # the demo's own database, fresh each run
    setup_logging(data, console=None, file=REHEARSAL_LOG_FILE)  # never the live bot's operator log
    get_logger("tuanbot.demo").info("demo_started", config=str(path), group=group_name, buy=buy.id)
    print(f"tuanbot demo — {path.name}: a day in {group_name} ({buy.title}), offline on the simulator", file=out)
    played = await play(
        config, events, data_dir=data, database=f"sqlite+aiosqlite:///{db_path}", printer=Printer(out, config)
    )
    for summary in played.summaries:
        print(f"\n== 汇总 read back from the database ({db_path}) ==", file=out)
        print(summary, file=out)
    print("\nthe orders in the rehearsal log: tuanbot logs --rehearsal --event order_created", file=out)
    print("recomputed from the messages: tuanbot rebuild --demo (prints nothing when they match)", file=out)
    if config_path is None:
        print(f"the same day as a transcript: tuanbot replay --config {path} {bundled_transcript()}", file=out)
    return 0
