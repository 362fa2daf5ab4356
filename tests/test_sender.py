"""The one sender: limits, suppression, spacing, quiet hours, and a queue that survives a crash."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import bot.sender as sender_module
from bot.events import Outbound
from bot.sender import QueuedRow, SenderLimits
from storage.models import OutboundMessage
from tests.conftest import use_test_redis
from tests.harness import BotHarness, at

G1, G2 = "阳光花园1号群", "阳光花园2号群"


async def _room(bot: BotHarness, group: str) -> str:
    await bot.say("路人", "大家好", group)  # the room becomes known, as in WeChat
    room = bot.app.services.groups.room_of(group)
    assert room is not None
    return room


async def test_per_group_limit_spreads_a_burst_over_minutes(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        start = bot.clock.now()
        for i in range(10):
            await bot.app.sender.enqueue(Outbound(room, f"消息{i}"), group=G1, kind="reply")
        await bot.settle(horizon=timedelta(minutes=5))
        sent = [ln for ln in bot.channel.transcript if ln.from_bot]
        bot.expect_said([f"消息{i}" for i in range(10)], G1)
        assert all(ln.at - start < timedelta(minutes=1) for ln in sent[:6])
        assert sent[6].at - sent[0].at >= timedelta(minutes=1)  # the 7th waits for the window to slide


async def test_per_account_limit_holds_across_groups(data_dir: Path) -> None:
    limits = SenderLimits(per_group_per_minute=100, per_account_per_minute=3, spacing=(0.0, 0.0))
    async with BotHarness(data_dir, limits=limits, handlers=[]) as bot:
        r1, r2 = await _room(bot, G1), await _room(bot, G2)
        for i in range(3):
            await bot.app.sender.enqueue(Outbound(r1, f"一{i}"), group=G1, kind="reply")
            await bot.app.sender.enqueue(Outbound(r2, f"二{i}"), group=G2, kind="reply")
        await bot.settle(horizon=timedelta(minutes=5))
        sent = [ln for ln in bot.channel.transcript if ln.from_bot]
        bot.expect_said(["一0", "二0", "一1", "二1", "一2", "二2"], group=None)
        assert sent[3].at - sent[0].at >= timedelta(minutes=1)


async def test_identical_text_is_not_posted_twice_inside_the_window(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        await sender.enqueue(Outbound(room, "草莓到货啦"), group=G1, kind="arrival")
        await sender.enqueue(Outbound(room, "草莓到货啦"), group=G1, kind="arrival")
        other = await _room(bot, G2)
        await sender.enqueue(Outbound(other, "草莓到货啦"), group=G2, kind="arrival")  # another room: its own window
        await bot.settle()
        bot.expect_said(["草莓到货啦"], G1)
        bot.expect_said(["草莓到货啦"], G2)
        bot.clock.advance(11 * 60)
        await sender.enqueue(Outbound(room, "草莓到货啦"), group=G1, kind="arrival")
        await bot.settle()
        bot.expect_said(["草莓到货啦"], G1)
        async with bot.app.db.sessions() as s:
            reasons = list(
                await s.scalars(select(OutboundMessage.reason).where(OutboundMessage.status == "suppressed"))
            )
        assert reasons == ["same_text_window"]


async def test_a_reply_to_a_person_is_never_held_by_the_same_text_window(data_dir: Path) -> None:
    """A member asking what another asked a minute ago, a leader's second `汇总`: each asked and waits. Replies
    neither wait on the window nor claim it (a post with the same text still goes out)."""
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        await sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="reply")
        await sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="reply")
        await sender.enqueue(Outbound(room, "【汇总】草莓团"), group=G1, kind="summary")
        await sender.enqueue(Outbound(room, "【汇总】草莓团"), group=G1, kind="summary")
        await sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="column")
        await sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="column")
        await bot.settle()
        bot.expect_said(["草莓39.9元/盒", "草莓39.9元/盒", "【汇总】草莓团", "【汇总】草莓团", "草莓39.9元/盒"])


async def test_news_rendered_when_said_is_never_held_by_the_same_text_window(data_dir: Path) -> None:
    """A notice rendered at send time (the digest, the flash notices) has text only when it is news to the group:
    the same text again is a new change and goes out, before and after a restart; a post still keeps the window."""
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender

        async def render(row: QueuedRow) -> str | None:
            return "✅ 已记录:老周 草莓1盒"

        sender.render_with("news", render)
        for kind in ("news", "news", "arrival", "arrival"):
            await sender.enqueue(Outbound(room, "(占位)"), group=G1, kind=kind)
        await bot.settle()
        bot.expect_said(["✅ 已记录:老周 草莓1盒", "✅ 已记录:老周 草莓1盒", "(占位)"])
        clock = bot.clock
    async with BotHarness(data_dir, handlers=[], start=clock.now() + timedelta(minutes=3)) as bot:
        bot.app.sender.render_with("news", render)
        await bot.app.sender.enqueue(Outbound(room, "(占位)"), group=G1, kind="news")
        await bot.app.sender.enqueue(Outbound(room, "(占位)"), group=G1, kind="arrival")
        await bot.settle()
        bot.expect_said(["✅ 已记录:老周 草莓1盒"], group=None)  # the post said 3 minutes ago is still held


async def test_the_same_text_window_holds_across_a_restart(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        await bot.app.sender.enqueue(Outbound(room, "今晚8点截单"), group=G1, kind="reminder")
        await bot.app.sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="reply")
        await bot.settle()
        bot.expect_said(["今晚8点截单", "草莓39.9元/盒"])
        clock = bot.clock
    async with BotHarness(data_dir, handlers=[], start=clock.now() + timedelta(minutes=3)) as bot:
        await bot.app.sender.enqueue(Outbound(room, "今晚8点截单"), group=G1, kind="reminder")
        await bot.app.sender.enqueue(Outbound(room, "草莓39.9元/盒"), group=G1, kind="column")
        await bot.settle()
        # the reminder was posted 3 minutes ago, before the restart; the reply before it claimed no window
        bot.expect_said(["草莓39.9元/盒"], group=None)


async def test_random_spacing_between_sends(data_dir: Path) -> None:
    limits = SenderLimits(spacing=(0.5, 1.5))
    async with BotHarness(data_dir, limits=limits, handlers=[]) as bot:
        room = await _room(bot, G1)
        for i in range(4):
            await bot.app.sender.enqueue(Outbound(room, f"m{i}"), group=G1, kind="reply")
        await bot.settle()
        times = [ln.at for ln in bot.channel.transcript if ln.from_bot]
        bot.expect_said(["m0", "m1", "m2", "m3"])
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert len(gaps) == 3
        assert all(0.5 <= g <= 1.5 for g in gaps)


async def test_queued_before_a_crash_is_sent_after_restart_exactly_once(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        await bot.app.sender.enqueue(Outbound(room, "截单提醒:还有2小时"), group=G1, kind="reply", key="job:1")
        # the process dies here: nothing was sent
    async with BotHarness(data_dir, handlers=[]) as bot:
        again = await bot.app.sender.enqueue(Outbound(room, "截单提醒:还有2小时"), group=G1, kind="reply", key="job:1")
        assert again.outcome == "duplicate"
        await bot.settle()
        bot.expect_said(["截单提醒:还有2小时"], group=None)  # (this process has not seen the room's name yet)
    async with BotHarness(data_dir, handlers=[]) as bot:
        await bot.settle()
        bot.expect_silence()


async def test_a_failing_channel_keeps_the_message_and_retries(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        bot.channel.fail_next = 2
        await bot.app.sender.enqueue(Outbound(room, "你好"), group=G1, kind="reply")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["你好"])


async def test_nudges_wait_out_quiet_hours_but_answers_do_not(data_dir: Path) -> None:
    async with BotHarness(data_dir, start=at("2026-11-26 22:30"), handlers=[]) as bot:
        room = await _room(bot, G1)
        await bot.app.sender.enqueue(Outbound(room, "仅差1人成团!"), group=G1, kind="nudge")
        await bot.app.sender.enqueue(Outbound(room, "草莓39.9元一盒"), group=G1, kind="reply")
        await bot.settle()
        bot.expect_said(["草莓39.9元一盒"])


async def test_a_coalesced_message_is_updated_while_it_waits(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        later = bot.clock.now() + timedelta(seconds=30)
        sender = bot.app.sender
        first = await sender.enqueue(
            Outbound(room, "已记录:王阿姨"), group=G1, kind="notice", coalesce_key="d", not_before=later
        )
        second = await sender.enqueue(
            Outbound(room, "已记录:王阿姨、李姐"), group=G1, kind="notice", coalesce_key="d", not_before=later
        )
        assert first.row_id == second.row_id
        assert (first.outcome, second.outcome) == ("queued", "coalesced")
        await bot.settle()
        bot.expect_said(["已记录:王阿姨、李姐"])


async def test_two_processes_on_one_redis_share_the_group_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_redis(monkeypatch)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # which process says which is not the point: the count between them is (strict=False, checked below)
    async with (
        BotHarness(tmp_path / "a", handlers=[], strict=False) as one,
        BotHarness(tmp_path / "b", handlers=[], strict=False) as two,
    ):
        await one.app.services.shared.redis.flushdb()  # type: ignore[attr-defined]
        two.clock = one.clock  # one wall clock for both processes
        two.app.services.clock = two.app.sender.clock = one.clock
        rooms = [await _room(one, G1), await _room(two, G1)]
        for i in range(5):
            await one.app.sender.enqueue(Outbound(rooms[0], f"一{i}"), group=G1, kind="reply")
            await two.app.sender.enqueue(Outbound(rooms[1], f"二{i}"), group=G1, kind="reply")
        start = one.clock.now()
        await one.app.sender.send_due()
        await two.app.sender.send_due()
        sent = [ln for bot in (one, two) for ln in bot.channel.transcript if ln.from_bot]
        assert len(sent) == 6  # 6 per group per minute, counted across both processes
        assert all(ln.at - start < timedelta(seconds=1) for ln in sent)


async def test_the_live_send_loop_wakes_when_the_handlers_transaction_commits(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        real_send_due, turns, idle = sender.send_due, [], asyncio.Event()

        async def watched_send_due() -> float | None:
            turns.append(1)
            wait = await real_send_due()
            if wait is None:
                idle.set()  # nothing due: from here the loop waits to be woken, with no await in between
            return wait

        sender.send_due = watched_send_due  # type: ignore[method-assign]
        loop = asyncio.create_task(sender.run())
        await asyncio.wait_for(idle.wait(), 5)  # the loop is idle, waiting to be woken
        async with bot.app.db.transaction() as session:
            await sender.enqueue(Outbound(room, "收到"), group=G1, kind="reply", session=session)
            before = len(turns)
            for _ in range(20):  # a woken loop would take its turn within these; no real time passes
                await asyncio.sleep(0)
            assert len(turns) == before  # the transaction is still open: the loop was not woken
            bot.expect_silence()
        await bot.wait_said(1)  # the loop's own idle wake-up is 30 s away: only the commit can wake it this soon
        sender.stop()
        await loop
        bot.expect_said(["收到"])


async def test_a_reply_behind_a_rate_limited_group_is_sent_once(data_dir: Path) -> None:
    limits = SenderLimits(per_group_per_minute=1, same_text_window=timedelta(0), spacing=(0.0, 0.0))
    async with BotHarness(data_dir, handlers=[], limits=limits) as bot:
        r1, r2 = await _room(bot, G1), await _room(bot, G2)
        bot.clock.advance(120)  # the hello replies' minute is over
        for room, group, text in ((r1, G1, "一"), (r1, G1, "二"), (r2, G2, "B")):
            await bot.app.sender.enqueue(Outbound(room, text), group=group, kind="reply")
        await bot.app.sender.send_due()  # 一 goes; 二 waits for G1's minute; B goes from behind it
        await bot.app.sender.send_due()
        await bot.settle(horizon=timedelta(minutes=2))
        bot.expect_said(["一", "二"], G1)
        bot.expect_said(["B"], G2)


async def test_the_send_loop_survives_a_store_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        real_due, calls = sender._due, []

        failed = asyncio.Event()

        async def flaky_due(now: datetime) -> list[QueuedRow]:
            calls.append(now)
            if len(calls) == 1:
                failed.set()
                raise OSError("database is locked")
            return await real_due(now)

        monkeypatch.setattr(sender, "_due", flaky_due)
        sender._store_unknown = True  # as after a start: the loop's first look is at the store
        loop = asyncio.create_task(sender.run())
        await asyncio.wait_for(failed.wait(), 5)  # the loop's first look failed
        await sender.enqueue(Outbound(room, "还在"), group=G1, kind="reply")
        await bot.wait_said(1)
        sender.stop()
        await loop
        bot.expect_said(["还在"])  # the same loop, still alive, said it
        bot.expect_failures("send_loop_failed")  # and the operator was told of the failed look


async def test_due_count_says_when_the_sender_has_said_everything(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        await sender.enqueue(Outbound(room, "现在"), group=G1, kind="reply")
        later = bot.clock.now() + timedelta(hours=1)
        await sender.enqueue(Outbound(room, "一小时后"), group=G1, kind="reply", not_before=later)
        assert await sender.due_count() == 1  # what is meant for later does not hold a shutdown
        await bot.settle()
        assert await sender.due_count() == 0
        bot.expect_said(["现在"])


async def test_replies_handed_over_are_said_without_asking_the_store(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply path: a row committed by this process goes to the send loop in memory, and after the send the loop
    does not query the store again (it was two queries per reply); anything it was not handed is still found."""
    async with BotHarness(data_dir, handlers=[]) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        real_due, looks = sender._due, []

        async def counted_due(now: datetime) -> list[QueuedRow]:
            looks.append(now)
            return await real_due(now)

        monkeypatch.setattr(sender, "_due", counted_due)
        real_send_due, idle = sender.send_due, asyncio.Event()

        async def watched_send_due() -> float | None:
            wait = await real_send_due()
            if wait is None:
                idle.set()
            return wait

        sender.send_due = watched_send_due  # type: ignore[method-assign]
        loop = asyncio.create_task(sender.run())
        await asyncio.wait_for(idle.wait(), 5)
        looks.clear()  # its first look after the start
        for text in ("一", "二"):
            await sender.enqueue(Outbound(room, text), group=G1, kind="reply")
        await bot.wait_said(2)
        bot.expect_said(["一", "二"])
        assert looks == []
        async with bot.app.db.transaction() as session:  # queued by another process: found at the idle poll
            session.add(OutboundMessage(room_id=room, group_name=G1, text="三", mentions=[], kind="reply",
                                        status="queued", created_at=bot.clock.now(), attempts=0))  # fmt: skip
        monkeypatch.setattr(sender_module, "IDLE_POLL_S", 0.05)
        sender._wake.set()  # the loop goes back to its idle wait, now a short one
        await bot.wait_said(3)
        sender.stop()
        await loop
        bot.expect_said(["三"])


async def test_a_row_whose_send_failed_is_sent_while_other_replies_keep_coming(data_dir: Path) -> None:
    """A send that raised (here its renderer hit a store error once) leaves the row queued in the store and out of
    memory: the loop must look at the store again, even if a steady stream of replies keeps it busy."""
    limits = SenderLimits(per_group_per_minute=10**6, per_account_per_minute=10**6, spacing=(0.0, 0.0))
    async with BotHarness(data_dir, handlers=[], limits=limits) as bot:
        room = await _room(bot, G1)
        sender = bot.app.sender
        failures = [1]

        async def render(row: QueuedRow) -> str | None:
            if failures:
                failures.pop()
                raise OSError("database is locked")
            return row.text

        sender.render_with("special", render)
        loop = asyncio.create_task(sender.run())
        await sender.enqueue(Outbound(room, "特别通知"), group=G1, kind="special")
        replies: list[str] = []
        for i in range(60):  # a reply as soon as the last one is said: the loop never sits idle for its poll
            if "特别通知" in bot.said(G1):
                break
            await sender.enqueue(Outbound(room, f"回复{i}"), group=G1, kind="reply")
            replies.append(f"回复{i}")
            await bot.wait_said(len(replies) + ("特别通知" in bot.said(G1)))
        await bot.wait_said(len(replies) + 1)
        sender.stop()
        await loop
        said = bot.expect_said([re.compile("回复\\d+|特别通知")] * (len(replies) + 1))
        assert sorted(said) == sorted([*replies, "特别通知"])  # every reply once, and the failed row too
        bot.expect_failures("send_loop_failed")
