"""Dispatch: self, unserved rooms, stored dedupe, one error path, store outages, renamed rooms, operator logs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.dispatch import Context
from bot.events import Outbound
from bot.logs import LOG_FILE, setup_logging
from storage.db import Database
from storage.models import MessageLog
from tests.harness import BotHarness


class Echo:
    """Answers every text with its length: enough to see which messages reached the handlers."""

    name = "echo"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def wants(self, ctx: Context) -> bool:
        return True

    async def handle(self, ctx: Context) -> None:
        self.seen.append(ctx.event.msg_id)
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, f"收到{len(ctx.event.text)}字 {ctx.event.msg_id}"),
            group=ctx.group.name,
            kind="reply",
        )


class Broken:
    """Takes the messages that say `坏` and fails on them."""

    name = "broken"

    def wants(self, ctx: Context) -> bool:
        return ctx.event.text == "坏"

    async def handle(self, ctx: Context) -> None:
        raise RuntimeError("boom")


class FlakyStore(Echo):
    """Fails like a database that is down, `times` times, then answers like `Echo`."""

    name = "flaky_store"

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times
        self.calls = 0

    async def handle(self, ctx: Context) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise OperationalError("INSERT …", {}, Exception("database is locked"))
        await super().handle(ctx)


async def _handled(bot: BotHarness) -> int:
    async with bot.app.db.sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(MessageLog).where(MessageLog.handled_at.is_not(None))) or 0
        )


async def test_the_bot_never_reads_its_own_messages(data_dir: Path) -> None:
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        event = bot.channel.message("阳光花园1号群", "小团", "你好")
        mine = dataclasses.replace(event, is_self=True)
        assert await bot.app.handle(mine) == "self"
        await bot.settle()
        bot.expect_silence()  # a bot that answered itself would talk to itself forever
        assert echo.seen == []


async def test_unserved_rooms_are_ignored_and_not_stored(data_dir: Path) -> None:
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        assert await bot.say("王阿姨", "草莓还有吗", group="隔壁小区群") == "unserved"
        assert echo.seen == []
        bot.expect_silence()
        async with bot.app.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(MessageLog)) == 0


async def test_a_message_delivered_twice_is_handled_once_even_after_restart(data_dir: Path) -> None:
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        await bot.say("王阿姨", "早", msg_id="m1")
        bot.expect_said(["收到1字 m1"])
        await bot.say("王阿姨", "早", msg_id="m1")
        bot.expect_silence()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        await bot.say("王阿姨", "早", msg_id="m1")
        bot.expect_silence()
    assert echo.seen == ["m1"]


async def test_a_failing_handler_is_logged_and_its_room_moves_on(data_dir: Path) -> None:
    setup_logging(data_dir, console=None)
    echo = Echo()
    async with BotHarness(data_dir, handlers=[Broken(), echo]) as bot:
        await bot.say("王阿姨", "坏", msg_id="m-broken")
        bot.expect_failures("handler_failed")
        bot.expect_silence()  # the message was Broken's: no later route answers it instead
        await bot.say("王阿姨", "早", msg_id="m-next")
        bot.expect_said(["收到1字 m-next"])
        assert echo.seen == ["m-next"]
        assert await _handled(bot) == 2
    records = [json.loads(line) for line in (data_dir / LOG_FILE).read_text().splitlines()]
    failed = [r for r in records if r["event"] == "handler_failed"]
    assert failed
    assert failed[0]["msg_id"] == "m-broken"
    assert failed[0]["handler"] == "broken"
    assert "RuntimeError: boom" in failed[0]["exception"]


async def test_the_first_route_that_takes_a_message_is_the_only_one_to_handle_it(data_dir: Path) -> None:
    """One visible order: a message two filters would take goes to the first; a filter that raises is logged and
    passes the message on."""

    class Takes(Echo):
        def __init__(self, name: str, word: str) -> None:
            super().__init__()
            self.name, self.word = name, word

        def wants(self, ctx: Context) -> bool:
            return self.word in ctx.event.text

    class BadFilter(Echo):
        name = "bad_filter"

        def wants(self, ctx: Context) -> bool:
            raise ValueError("a filter that breaks")

    first, second, catch_all = Takes("first", "草莓"), Takes("second", "还有"), Echo()
    async with BotHarness(data_dir, handlers=[first, BadFilter(), second, catch_all]) as bot:
        await bot.say("王阿姨", "草莓还有吗", msg_id="m1")
        await bot.say("王阿姨", "蓝莓还有吗", msg_id="m2")
        await bot.say("王阿姨", "早", msg_id="m3")
        bot.expect_failures("handler_failed", 2)  # the bad filter, for m2 and m3 (m1 never reached it)
        bot.expect_said(["收到5字 m1", "收到5字 m2", "收到1字 m3"])
    assert (first.seen, second.seen, catch_all.seen) == (["m1"], ["m2"], ["m3"])


async def test_a_store_outage_leaves_the_message_unhandled_until_the_store_returns(data_dir: Path) -> None:
    flaky = FlakyStore(times=2)
    async with BotHarness(data_dir, handlers=[flaky]) as bot:
        await bot.say("王阿姨", "1. 王阿姨 草莓1盒", msg_id="m-outage")
        assert flaky.calls == 3  # handled again until the store took it
        assert await _handled(bot) == 1
        bot.expect_said(["收到11字 m-outage"])  # the member hears one answer, not one per attempt


async def test_a_renamed_room_keeps_being_served(data_dir: Path) -> None:
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        await bot.say("王阿姨", "早", msg_id="a")
        bot.expect_said(["收到1字 a"])
        room = bot.channel.room("阳光花园1号群")
        bot.channel.rename(room, "阳光花园1号群🍓草莓季")
        await bot.say("王阿姨", "早", group="阳光花园1号群🍓草莓季", msg_id="b")
        bot.expect_said(["收到1字 b"], group="阳光花园1号群🍓草莓季")
        # another room that takes the old name is not the served group
        bot.channel.room("阳光花园1号群", room_id="99999@chatroom")
        await bot.say("路人", "早", group="阳光花园1号群", msg_id="c")
        bot.expect_silence()
    assert echo.seen == ["a", "b"]


async def test_operator_log_lines_carry_ids_and_mask_phones(data_dir: Path) -> None:
    setup_logging(data_dir, console=None)
    async with BotHarness(data_dir, handlers=[Echo()]) as bot:
        await bot.say("王阿姨", "我的电话13812345678,送到3栋", msg_id="m-phone")
        bot.expect_said(["收到20字 m-phone"])  # the member's own text is not masked: only the operator's log is
    text = (data_dir / LOG_FILE).read_text()
    assert "13812345678" not in text
    assert "138****5678" in text
    received = [json.loads(line) for line in text.splitlines() if '"message_received"' in line]
    assert received[0]["group"] == "阳光花园1号群"
    assert received[0]["member"] == "王阿姨"
    assert received[0]["msg_id"] == "m-phone"
    assert {"time", "level", "event"} <= received[0].keys()


async def test_a_shutdown_that_cannot_wait_names_the_messages_it_leaves(data_dir: Path) -> None:
    setup_logging(data_dir, console=None)
    in_hand = asyncio.Event()

    class Stuck:  # m0's handler never finishes: the shutdown cannot wait for it, however fast the machine
        name = "stuck"

        def wants(self, ctx: Context) -> bool:
            return True

        async def handle(self, ctx: Context) -> None:
            in_hand.set()
            await asyncio.Event().wait()

    async with BotHarness(data_dir, handlers=[Stuck()]) as bot:
        for i in range(3):
            bot.app.submit(bot.channel.message("阳光花园1号群", "王阿姨", f"第{i}条", msg_id=f"m{i}"))
        await asyncio.wait_for(in_hand.wait(), 5)  # m0 is in hand, m1 and m2 wait in the room's queue
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(bot.app.drain(), 0.05)
    records = [json.loads(line) for line in (data_dir / LOG_FILE).read_text().splitlines()]
    unhandled = [r for r in records if r["event"] == "messages_unhandled"]
    assert unhandled[0]["msg_ids"] == ["m1", "m2"]


async def test_a_burst_shares_its_commits_and_every_message_is_handled_once(data_dir: Path) -> None:
    """Group commit: a hundred messages at once are stored and marked in a few transactions, not two hundred;
    a message delivered twice inside the burst is still handled once."""
    from sqlalchemy import event as sa_event

    seen: list[str] = []

    class Seen:  # writes nothing itself: every commit counted is dispatch's own
        name = "seen"

        def wants(self, ctx: Context) -> bool:
            return True

        async def handle(self, ctx: Context) -> None:
            seen.append(ctx.event.msg_id)

    async with BotHarness(data_dir, handlers=[Seen()]) as bot:
        commits = 0

        def count(_conn: object) -> None:
            nonlocal commits
            commits += 1

        sa_event.listen(bot.app.db.engine.sync_engine, "commit", count)
        events = [bot.channel.message("阳光花园1号群", f"邻居{i}", "抢", msg_id=f"burst{i}") for i in range(100)]
        results = await asyncio.gather(*(bot.app.handle(e) for e in [*events, events[7], events[42]]))
        assert results.count("handled") == 100
        assert results.count("duplicate") == 2
        assert sorted(seen) == sorted(f"burst{i}" for i in range(100))
        assert await _handled(bot) == 100
        assert commits <= 50  # one by one, it would be 200: a record and a mark per message


async def test_a_second_delivery_while_the_first_is_in_hand_is_a_duplicate(data_dir: Path) -> None:
    in_hand, release = asyncio.Event(), asyncio.Event()

    class Held:
        name = "held"
        calls = 0

        def wants(self, ctx: Context) -> bool:
            return True

        async def handle(self, ctx: Context) -> None:
            Held.calls += 1
            in_hand.set()
            await release.wait()

    async with BotHarness(data_dir, handlers=[Held()]) as bot:
        first = asyncio.create_task(bot.say("王阿姨", "早", msg_id="twice"))
        await asyncio.wait_for(in_hand.wait(), 5)  # stored, and its handler is still at work
        assert await bot.say("王阿姨", "早", msg_id="twice") == "duplicate"
        release.set()
        assert await first == "handled"
        assert Held.calls == 1


async def test_a_store_outage_at_record_time_fails_the_whole_batch_and_each_retry_succeeds(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        journal = bot.app.services.journal
        real = journal._record_many
        failures = 1

        async def down_once(batch: list) -> list[bool]:  # type: ignore[type-arg]
            nonlocal failures
            if failures:
                failures -= 1
                raise OperationalError("INSERT …", {}, Exception("database is locked"))
            return await real(batch)

        monkeypatch.setattr(journal._records, "_flush", down_once)
        events = [bot.channel.message("阳光花园1号群", f"邻居{i}", "早", msg_id=f"o{i}") for i in range(5)]
        results = await asyncio.gather(*(bot.app.handle(e) for e in events))  # App.handle retries the outage
        assert results == ["handled"] * 5
        assert sorted(echo.seen) == [f"o{i}" for i in range(5)]


class BreaksAConstraint:
    """Stores a row that is there already (the message's own log row): a real IntegrityError, every time."""

    name = "breaks_a_constraint"

    def wants(self, ctx: Context) -> bool:
        return ctx.event.text == "坏"

    async def handle(self, ctx: Context) -> None:
        e = ctx.event
        row = dict(room_id=e.room_id, room_topic=e.room_topic, sender_id=e.sender_id, sender_name=e.sender_name)
        async with ctx.services.db.transaction() as s:
            s.add(MessageLog(msg_id=e.msg_id, kind="text", text=e.text, ts=e.ts, received_at=e.ts, **row))


async def test_a_handler_breaking_a_constraint_is_its_own_error_and_its_room_moves_on(data_dir: Path) -> None:
    """An IntegrityError is no store outage: retrying the message would fail the same way forever and hold up every
    message behind it in its room. It is that handler's error: logged with the message id, the other handlers run,
    the message is marked handled, and the next message of the room is handled too."""
    setup_logging(data_dir, console=None)
    echo = Echo()
    async with BotHarness(data_dir, handlers=[BreaksAConstraint(), echo]) as bot:
        for msg_id, text in (("d1", "坏"), ("d2", "早"), ("d3", "坏")):
            bot.app.submit(bot.channel.message("阳光花园1号群", "王阿姨", text, msg_id=msg_id))
        async with asyncio.timeout(10):  # the room's queue empties: d1 did not hold it up (it was retried forever)
            await bot.app.drain()
        assert echo.seen == ["d2"]
        assert await _handled(bot) == 3
        bot.expect_failures("handler_failed", 2)
        await bot.settle()
        bot.expect_said(["收到1字 d2"])
    records = [json.loads(line) for line in (data_dir / LOG_FILE).read_text().splitlines()]
    failed = [r for r in records if r["event"] == "handler_failed"]
    assert [(r["msg_id"], r["handler"]) for r in failed] == [
        ("d1", "breaks_a_constraint"),
        ("d3", "breaks_a_constraint"),
    ]
    assert "IntegrityError" in failed[0]["exception"]
    assert not [r for r in records if r["event"] in ("store_unavailable", "handler_store_error")]


def _wait_50ms_for_sqlites_lock(db: Database) -> None:
    """Connections opened from now on wait 50 ms for another writer's lock (not the engine's 5 s): runs after the
    engine's own pragmas."""
    sa_event.listen(db.engine.sync_engine, "connect", lambda conn, _: conn.cursor().execute("PRAGMA busy_timeout=50"))


async def test_a_database_locked_by_another_process_leaves_the_message_for_a_retry(data_dir: Path) -> None:
    """A real outage: another process holds SQLite's write lock while a handler writes. The message stays unhandled
    (and its reply unqueued) until the lock is gone, then it is handled and answered once."""
    setup_logging(data_dir, console=None)
    echo = Echo()
    async with BotHarness(data_dir, handlers=[echo]) as bot:
        db = bot.app.db
        _wait_50ms_for_sqlites_lock(db)
        await db.engine.dispose()  # the pooled connections go; new ones wait 50 ms
        other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
        real_enqueue = bot.app.sender.enqueue

        met_the_lock = asyncio.Event()

        async def enqueue_under_a_lock(*args: Any, **kwargs: Any) -> Any:
            if not echo.seen[1:]:  # the first time: the other process takes the write lock just before, for 0.3 s
                other.execute("BEGIN IMMEDIATE")
                asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
                try:
                    return await real_enqueue(*args, **kwargs)
                finally:
                    met_the_lock.set()
            return await real_enqueue(*args, **kwargs)

        bot.app.sender.enqueue = enqueue_under_a_lock  # type: ignore[method-assign]
        try:
            task = asyncio.create_task(bot.say("王阿姨", "早", msg_id="m-locked"))
            async with asyncio.timeout(10):
                await met_the_lock.wait()  # the first attempt failed on the lock (released 0.3 s after it was taken)
            assert not task.done()
            handled_at = other.execute("SELECT handled_at FROM messages WHERE msg_id = 'm-locked'").fetchall()
            assert handled_at == [(None,)]  # stored, not handled
            assert await task == "handled"
        finally:
            other.close()
        assert len(echo.seen) >= 2  # handled again once the lock was gone
        assert await _handled(bot) == 1
        bot.expect_said(["收到1字 m-locked"])
    records = [json.loads(line) for line in (data_dir / LOG_FILE).read_text().splitlines()]
    assert [r["msg_id"] for r in records if r["event"] == "handler_store_error"][:1] == ["m-locked"]
    assert not [r for r in records if r["event"] == "handler_failed"]
