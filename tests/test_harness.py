"""The test harness itself: "receive this → the bot says exactly that" fails on a missing, wrong or extra message,
on a message no test looked at, and on a handler that raised — so a test built on it can fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.dispatch import Context
from bot.events import Outbound
from tests.harness import BotHarness, Starts

G1, G2 = "阳光花园1号群", "阳光花园2号群"


class Twice:
    """Answers every message twice: the extra reply a loose `any(...)` check would let through."""

    name = "twice"

    def wants(self, ctx: Context) -> bool:
        return True

    async def handle(self, ctx: Context) -> None:
        for text in ("收到", f"收到 {ctx.event.msg_id}"):
            await ctx.services.sender.enqueue(Outbound(ctx.event.room_id, text), group=ctx.group.name, kind="reply")


class Broken:
    name = "broken"

    def wants(self, ctx: Context) -> bool:
        return True

    async def handle(self, ctx: Context) -> None:
        raise RuntimeError("boom")


async def test_exactly_what_was_said_passes_and_is_consumed(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[Twice()]) as bot:
        await bot.say("王阿姨", "早", msg_id="m1")
        assert bot.expect_said(["收到", Starts("收到 m")]) == ["收到", "收到 m1"]
        bot.expect_silence()  # looked at: the next look starts after them
        await bot.say("王阿姨", "早", group=G2, msg_id="m2")
        bot.expect_said(["收到", re.compile(r"收到 m\d")], group=None)


@pytest.mark.parametrize(
    "expected",
    [
        ["收到"],  # one missing: the extra reply is what `any(...)` hid
        ["收到", "收到 m1", "收到"],  # one too many
        ["收到", "收到 m2"],  # one different
        ["收到 m1", "收到"],  # the order matters
    ],
)
async def test_anything_but_exactly_what_was_said_fails(data_dir: Path, expected: list[str]) -> None:
    async with BotHarness(data_dir, handlers=[Twice()]) as bot:
        await bot.say("王阿姨", "早", msg_id="m1")
        with pytest.raises(pytest.fail.Exception, match="the bot said in 阳光花园1号群"):
            bot.expect_said(expected)


async def test_a_message_no_test_looked_at_fails_the_test_at_exit(data_dir: Path) -> None:
    bot = await BotHarness(data_dir, handlers=[Twice()]).__aenter__()
    await bot.say("王阿姨", "早", group=G2)
    bot.expect_silence(G1)  # silent in group 1; group 2 was never looked at
    with pytest.raises(pytest.fail.Exception, match="2 message\\(s\\) no test looked at"):
        await bot.__aexit__(None, None, None)


async def test_a_load_test_may_opt_out_of_looking(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[Twice()], strict=False) as bot:
        await bot.say("王阿姨", "早")


async def test_a_handler_that_raised_fails_the_test(data_dir: Path) -> None:
    bot = await BotHarness(data_dir, handlers=[Broken()], strict=False).__aenter__()  # even if what is said is not
    assert await bot.say("捣蛋鬼", "\x00\x01") == "handled"  # what dispatch reports, whatever happened
    with pytest.raises(pytest.fail.Exception, match="handler_failed"):
        await bot.__aexit__(None, None, None)


async def test_a_test_that_means_a_handler_to_raise_says_so(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=[Broken()]) as bot:
        await bot.say("王阿姨", "早", msg_id="m-broken")
        [failure] = bot.expect_failures("handler_failed")
        assert (failure["handler"], failure["msg_id"]) == ("broken", "m-broken")
        with pytest.raises(pytest.fail.Exception, match="expected 1 'handler_failed'"):
            bot.expect_failures("handler_failed")  # only one was logged
