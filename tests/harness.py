"""A bot on the simulator for tests: a member says this → the bot says exactly that, with the store read back.

Strict by default: `expect_said` consumes what the bot said since the last look and fails on a missing, different or
extra message, and leaving the harness fails if the bot said something no test looked at or a handler raised.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog
from sqlalchemy import select

from bot.app import App
from bot.channels.sim import SimChannel, private_topic
from bot.clock import VirtualClock
from bot.config import Config, parse_config_text
from bot.dispatch import Handler
from bot.events import Kind, Outbound
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


WAIT_S = 5.0  # how long a test waits for a live loop to do what it must (generous: a shared machine can be slow)

# Log events that mean code raised where it should not have: a test fails on one unless it says it expects it.
FAILURE_EVENTS = frozenset(
    {
        "handler_failed",
        "worker_failed",
        "after_sent_failed",
        "send_loop_failed",
        "job_failed",
        "scheduler_task_failed",
        "callback_failed",
    }
)


@dataclass(frozen=True)
class Starts:
    """A message that begins with `prefix` (for a message whose tail a test cannot know, e.g. a file path)."""

    prefix: str

    def __repr__(self) -> str:
        return f"Starts({self.prefix!r}…)"


Expected = str | Starts | re.Pattern[str]


def _matches(expected: Expected, text: str) -> bool:
    if isinstance(expected, str):
        return text == expected
    if isinstance(expected, Starts):
        return text.startswith(expected.prefix)
    return expected.fullmatch(text) is not None


class _LogTap:
    """A structlog processor that keeps a copy of every event (and lets it through unchanged). Tests read the log
    through `BotHarness.logged`, not structlog's `capture_logs`: that one would take the tap out while it runs."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        self.events.append(dict(event_dict))
        return event_dict

    def install(self) -> None:
        processors = structlog.get_config()["processors"]
        if self not in processors:
            processors.insert(0, self)  # in place: loggers bound earlier hold this very list

    def remove(self) -> None:
        processors = structlog.get_config()["processors"]
        while self in processors:
            processors.remove(self)


class _Channel(SimChannel):
    """The simulator, telling a waiting test when the bot said something (so no test sleeps to let a send happen)."""

    def __init__(self, clock: VirtualClock, *, bot_name: str) -> None:
        super().__init__(clock, bot_name=bot_name)
        self.sent = asyncio.Event()

    async def send(self, out: Outbound) -> None:
        await super().send(out)
        self.sent.set()


def to(name: str) -> str:
    """The private conversation with `name`, where `expect_said` looks for what the bot told them one to one."""
    return private_topic(name)


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
        strict: bool = True,
    ) -> None:
        """`strict=False` is for load and fault tests where how many messages the bot says is not the point: what
        it said need not be looked at. A handler that raises still fails the test unless `expect_failures` says so."""
        self.strict = strict
        self._looked_at: set[int] = set()  # the bot's lines in the transcript a test has looked at, by index
        self._log = _LogTap()
        self._failures_expected = 0
        self.config = parse_config_text(config, file="test.yaml") if isinstance(config, str) else config
        self.clock = VirtualClock(start or at("2026-11-26 10:00"))
        self.channel = _Channel(self.clock, bot_name=self.config.bot.name)
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
        self._log.install()
        try:
            await self.app.start()
        except BaseException:
            self._log.remove()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.app.drain()
            await self.app.close()
        finally:
            self._log.remove()
        if not exc or exc[0] is None:  # a test that failed already says why; this would only add noise
            self.check()

    def check(self) -> None:
        """Fail on what no test looked at: a message the bot said (when strict), a handler that raised."""
        failures = self.failures()
        if failures:
            pytest.fail(f"code raised during the test (use expect_failures if it is meant to): {failures}")
        unread = self._unread(None)
        if self.strict and unread:
            lines = [self.channel.transcript[i] for i in unread]
            said = "\n".join(f"  [{line.topic}] {line.text!r}" for line in lines)
            pytest.fail(f"the bot said {len(unread)} message(s) no test looked at:\n{said}")

    # --- what the bot said --------------------------------------------------------------------------------------

    def _unread(self, group: str | None) -> list[int]:
        return [
            i
            for i, line in enumerate(self.channel.transcript)
            if line.from_bot and i not in self._looked_at and (group is None or line.topic == group)
        ]

    def expect_said(self, expected: Sequence[Expected], group: str | None = "阳光花园1号群") -> list[str]:
        """Everything the bot said in `group` (None: in every group, in order) since the last look is exactly
        `expected`, one entry a message: a str is the whole text, `Starts` its beginning, a pattern must match it
        whole. The messages are looked at (consumed) either way; returns their texts."""
        unread = self._unread(group)
        self._looked_at.update(unread)
        said = [self.channel.transcript[i].text for i in unread]
        if len(said) != len(expected) or not all(_matches(e, t) for e, t in zip(expected, said, strict=False)):
            where = "everywhere" if group is None else group
            lines = [f"the bot said in {where}:"] + [f"  {t!r}" for t in said] + ["expected:"]
            lines += [f"  {e!r}" for e in expected]
            pytest.fail("\n".join(lines))
        return said

    def consume(self, group: str | None = None) -> list[str]:
        """What the bot said (in `group`, or anywhere) since the last look, looked at without checking: for a test's
        setup whose replies other tests check exactly (say why at the call)."""
        unread = self._unread(group)
        self._looked_at.update(unread)
        return [self.channel.transcript[i].text for i in unread]

    def expect_silence(self, group: str | None = None) -> None:
        """The bot said nothing (in `group`, or anywhere) since the last look."""
        self.expect_said([], group)

    def said(self, group: str | None = "阳光花园1号群") -> list[str]:
        """Everything the bot said in `group` (None: everywhere), looked at or not; it does not count as a look."""
        return self.channel.said(group)

    async def wait_said(self, count: int, group: str | None = "阳光花园1号群") -> None:
        """Wait (real time: for a live send loop) until the bot has said `count` messages in `group` in all; fail
        after WAIT_S seconds. Waits on the sends themselves, so the order is guaranteed, not hoped for."""
        try:
            async with asyncio.timeout(WAIT_S):
                while len(self.channel.said(group)) < count:
                    self.channel.sent.clear()
                    await self.channel.sent.wait()
        except TimeoutError:
            pytest.fail(f"the bot said {self.channel.said(group)} in {WAIT_S}s, not {count} message(s)")

    # --- the operator's log, and code that raised ---------------------------------------------------------------

    def log_mark(self) -> int:
        """Where the log is now: `logged(..., since=mark)` reads what came after."""
        return len(self._log.events)

    def logged(self, *events: str, since: int = 0) -> list[dict[str, Any]]:
        """The log events named (all, when none is named) since `since`, in order."""
        return [e for e in self._log.events[since:] if not events or e.get("event") in events]

    def failures(self) -> list[dict[str, Any]]:
        """Failure events logged so far beyond the ones the test said it expects."""
        return self.logged(*FAILURE_EVENTS)[self._failures_expected :]

    def expect_failures(self, event: str, count: int = 1) -> list[dict[str, Any]]:
        """The next `count` failure events logged are `event` (a test that makes a handler raise on purpose)."""
        got = self.failures()[:count]
        if len(got) != count or any(e["event"] != event for e in got):
            pytest.fail(f"expected {count} {event!r} event(s), logged: {self.failures()}")
        self._failures_expected += count
        return got

    async def say(
        self,
        who: str,
        text: str,
        group: str = "阳光花园1号群",
        *,
        msg_id: str | None = None,
        kind: Kind = Kind.TEXT,
        settle: bool = True,
        wxid: str | None = None,
    ) -> str:
        """`who` says `text` in `group`; returns what dispatch did. With `settle`, lets the bot's replies out.
        `wxid`: another account under the same display name (a member renamed after a leader)."""
        self.clock.advance(1)
        result = await self.app.handle(self.channel.message(group, who, text, msg_id=msg_id, kind=kind, wxid=wxid))
        if settle:
            await self.settle()
        return result

    async def say_private(self, who: str, text: str, *, msg_id: str | None = None, settle: bool = True) -> str:
        """`who` writes to the bot one to one; what the bot answers them is `expect_said(..., to(who))`."""
        self.clock.advance(1)
        result = await self.app.handle(self.channel.private(who, text, msg_id=msg_id))
        if settle:
            await self.settle()
        return result

    def files(self, group: str | None) -> list[str]:
        """The files the bot sent in `group` (or to a person: `to(name)`), by path, looked at or not."""
        return [ln.file for ln in self.channel.transcript if ln.from_bot and ln.file and ln.topic == group]

    async def settle(self, horizon: timedelta = timedelta(minutes=2)) -> None:
        await self.app.sender.flush(horizon=horizon)

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
