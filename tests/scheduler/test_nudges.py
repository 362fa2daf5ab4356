"""成团 nudges: once when a buy is `when_missing` short, not again inside the cool-down, never at night."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.config import parse_config_text
from bot.notices.nudges import maybe_nudge
from tests.harness import CONFIG, BotHarness, at, chain

H = "#接龙 周六丹东草莓团"
NUDGES = """
nudges:
  when_missing: [1]
  cooldown: 2h
  text: "仅差{missing}人成团!{title} 快来接龙~"
"""
LINES = ["张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "6号楼 何姐 草莓1盒", "2栋 陈叔 草莓1盒"]


NUDGE = "仅差1人成团!周六丹东草莓团 快来接龙~"
DIGEST = re.compile(r"(?s)(✅ 已记录|✏️ 已修改):.*")  # the 接龙 confirmation: its text is tests/test_chain_orders.py's


async def order(bot: BotHarness, n: int, who: str = "王阿姨", group: str = "阳光花园1号群") -> None:
    """The chain now holds the first `n` lines (the 接龙 handler nudges after order changes)."""
    await bot.say(who, chain(H, *LINES[:n]), group)


async def test_a_nudge_fires_once_at_threshold_minus_one_and_not_again_in_its_cooldown(data_dir: Path) -> None:
    config = parse_config_text(CONFIG + NUDGES)  # caomei forms at 5 members
    async with BotHarness(data_dir, config=config) as bot:
        for n in (1, 2, 3):
            await order(bot, n)
            bot.expect_said([DIGEST])  # no nudge: 2 or more short
        await order(bot, 4)  # 1 short
        bot.expect_said([DIGEST, NUDGE])
        await bot.say("何姐", chain(H, *LINES[:3], "6号楼 何姐 草莓2盒"), settle=False)  # an edit: still 1 short
        assert not await maybe_nudge(bot.app.services, config.buys[0], "阳光花园1号群")
        bot.clock.advance(3600)
        assert not await maybe_nudge(bot.app.services, config.buys[0], "阳光花园1号群")
        await bot.settle()
        bot.expect_said([DIGEST])  # the edit's confirmation, no second nudge
        bot.clock.advance(3600 + 60)  # the cool-down is over and the buy is still 1 short
        assert await maybe_nudge(bot.app.services, config.buys[0], "阳光花园1号群")
        await bot.settle()
        bot.expect_said([NUDGE])
        bot.clock.advance(3 * 3600)
        await order(bot, 5)
        bot.expect_said([DIGEST])  # formed: nothing to nudge
        bot.expect_silence("阳光花园2号群")  # the nudge is per group: nobody ordered in group 2


async def test_the_cooldown_is_per_buy_and_group(data_dir: Path) -> None:
    config = parse_config_text(CONFIG + NUDGES)
    async with BotHarness(data_dir, config=config) as bot:
        await bot.say("路人甲", "大家好", "阳光花园2号群")
        await order(bot, 4)  # 1 short: group 1, where the lines are, is nudged by the 接龙 handler
        bot.expect_said([NUDGE, DIGEST])  # the first digest waits its interval (30s); the nudge does not
        assert await maybe_nudge(bot.app.services, config.buys[0], "阳光花园2号群")  # 成团 counts the whole buy
        await bot.settle()
        bot.expect_said([NUDGE], "阳光花园2号群")
        bot.expect_silence()


async def test_a_ladder_nudges_towards_its_next_tier(data_dir: Path) -> None:
    ladder = CONFIG.replace("    min_members: 5\n", "    ladder: [{members: 3, price: 35}, {members: 6, price: 32}]\n")
    config = parse_config_text(ladder + NUDGES)
    async with BotHarness(data_dir, config=config) as bot:
        await order(bot, 1)
        bot.expect_said([DIGEST])
        await order(bot, 2)
        bot.expect_said([DIGEST, "再1人全团降到35元!周六丹东草莓团 快来接龙~"])  # never "成团": nothing to form


async def test_a_formed_buy_with_a_ladder_is_nudged_only_toward_its_next_price(data_dir: Path) -> None:
    ladder = CONFIG.replace("    min_members: 5\n", "    min_members: 2\n    ladder: [{members: 4, price: 35}]\n")
    config = parse_config_text(ladder + NUDGES)
    async with BotHarness(data_dir, config=config) as bot:
        await order(bot, 1)
        bot.expect_said([NUDGE, DIGEST])  # 1 short of forming: the leader's 成团 text (the first digest waits 30s)
        await order(bot, 2)
        bot.expect_said([DIGEST])  # formed, 2 short of the tier: not in when_missing
        bot.clock.advance(2 * 3600 + 60)  # past the cool-down of the first nudge
        await order(bot, 3)
        bot.expect_said([DIGEST, "再1人全团降到35元!周六丹东草莓团 快来接龙~"])


async def test_no_nudge_at_night_without_rooms_or_config_or_when_closed(data_dir: Path) -> None:
    config = parse_config_text(CONFIG + NUDGES)
    async with BotHarness(data_dir, config=config, start=at("2026-11-26 21:30")) as bot:
        await order(bot, 3)
        bot.expect_said([DIGEST])
        bot.clock.advance_to(at("2026-11-26 23:00"))
        await order(bot, 4)  # quiet hours
        bot.expect_said([DIGEST])  # a confirmation is an answer: it goes out at night, a nudge does not
        assert not await maybe_nudge(bot.app.services, config.buys[0], "阳光花园2号群")  # room never seen
        bot.clock.advance_to(at("2026-11-27 08:00"))
        assert await maybe_nudge(bot.app.services, config.buys[0], "阳光花园1号群")  # morning: it goes out
        await bot.settle()
        bot.expect_said([NUDGE])
        bot.clock.advance_to(at("2026-11-27 20:00") + timedelta(hours=3))
        assert not await maybe_nudge(bot.app.services, config.buys[0], "阳光花园1号群")  # closed
        await bot.settle()
        bot.expect_silence()
    (data_dir / "plain").mkdir()
    async with BotHarness(data_dir / "plain") as bot:  # no nudges: section
        await order(bot, 4)
        bot.expect_said([DIGEST])


async def test_the_nudge_counts_members_as_the_summary_does(data_dir: Path) -> None:
    """`load_status` (a nudge's look at the buy, after every order change) reads only the active orders' labels,
    and must say what `汇总` says: one member per label across the buy's groups, a blank label counting alone."""
    from bot.domain.summary import load_status, load_summary
    from storage.models import ChainLine, Order

    config = parse_config_text(CONFIG + NUDGES)
    buy = config.buys[0]
    labels = [
        ("阳光花园1号群", "张姐", "active"),
        ("阳光花园1号群", "\u3000张姐 ", "active"),  # the same label once stripped: one member
        ("阳光花园1号群", "", "active"),
        ("阳光花园1号群", " ", "active"),  # two blank labels: two members
        ("阳光花园1号群", "李姐", "waiting"),
        ("阳光花园1号群", "王阿姨", "cancelled"),
        ("阳光花园2号群", "陈叔", "active"),
    ]
    async with BotHarness(data_dir, config=config) as bot:
        now = bot.clock.now()
        async with bot.app.db.transaction() as s:
            for i, (group, who, status) in enumerate(labels):
                group_id = bot.app.services.groups.id_of(group)
                line = ChainLine(
                    buy_id=buy.id, group_id=group_id, key=f"k{i}", raw=who, who=who, first_msg_id=f"m{i}",
                    status="active", created_at=now,
                )  # fmt: skip
                s.add(line)
                await s.flush()
                s.add(
                    Order(
                        buy_id=buy.id, group_id=group_id, chain_line_id=line.id, participant=who, status=status,
                        created_at=now, updated_at=now,
                    )
                )  # fmt: skip
        async with bot.app.db.sessions() as s:
            status = await load_status(s, config, buy)
            assert status == (await load_summary(s, config, buy)).status
        assert (status.members, status.missing) == (4, 1)
