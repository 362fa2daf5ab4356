"""Caps on a 接龙 flood (issue 17): one message reads at most `chain.max_lines` lines, one member's messages make at
most `chain.max_orders_per_member` orders per buy; the rest is refused and the leader told once. Driven as members
would send it, through the strict harness."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.cli.rebuild import rebuild
from bot.rooms import RoomPolicy
from tests.harness import CONFIG, BotHarness, chain, to

H = "#接龙 周六丹东草莓团\n例 3栋 王阿姨 草莓1盒"
SMALL_CAPS = CONFIG.replace(
    "chain: {digest_every: 30s}", "chain: {digest_every: 30s, max_lines: 4, max_orders_per_member: 2}"
)


def note(who: str, lines: int, *, max_lines: int = 1000, max_orders: int = 20) -> str:
    return (
        f"@张姐 团长请注意:{who}发的接龙有{lines}行超过上限(每条最多{max_lines}行,每人每团最多{max_orders}单),"
        "没有记录,请核对~"
    )


async def test_one_member_flooding_a_chain_gets_her_cap_and_the_leader_is_told_once(data_dir: Path) -> None:
    fake = [f"{i}栋 邻居{i} 草莓1盒" for i in range(1, 5001)]
    flood = chain(H, *fake)
    assert len(flood) > 100_000  # the probe: one 100,000-character chain of fake lines from one member
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", flood)
        await bot.settle(horizon=timedelta(minutes=1))
        # 1000 lines read; her own line (the copy's last new one) first, then 19 of the lines it carried
        kept = [*fake[:19], fake[999]]
        assert await bot.orders() == [(line.removesuffix(" 草莓1盒"), ["草莓1盒"]) for line in kept]
        listed = ";".join(kept[:8])
        bot.expect_said(
            [
                note("王阿姨", 4980),
                f"✅ 已记录:{listed} 等20位\n合计:草莓20盒\n【周六丹东草莓团】已有20人,已成团",
            ]
        )
        await bot.say("王阿姨", chain(H, *fake, "5001栋 邻居5001 草莓1盒"))  # again: refused, and nothing said
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_silence()
        assert len(await bot.orders()) == 20
        (data_dir / "scratch").mkdir()
        assert await rebuild(bot.config, bot.app.db, scratch=data_dir / "scratch") == []


async def test_a_member_past_her_cap_is_refused_even_after_a_restart_and_others_still_order(data_dir: Path) -> None:
    mine = ["3栋 王阿姨 草莓1盒", "3栋 王阿姨妈妈 草莓1盒", "3栋 王阿姨姐姐 草莓1盒"]
    async with BotHarness(data_dir, config=SMALL_CAPS) as bot:
        await bot.say("王阿姨", chain(H, mine[0]))
        await bot.say("王阿姨", chain(H, *mine[:2]))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(
            [
                "✅ 已记录:3栋 王阿姨 草莓1盒\n合计:草莓1盒\n【周六丹东草莓团】已有1人,还差4人成团",
                "✅ 已记录:3栋 王阿姨妈妈 草莓1盒\n合计:草莓2盒\n【周六丹东草莓团】已有2人,还差3人成团",
            ]
        )
        await bot.say("王阿姨", chain(H, *mine))
        bot.expect_said([note("王阿姨", 1, max_lines=4, max_orders=2)])
    async with BotHarness(data_dir, config=SMALL_CAPS) as bot:  # a restart: the count comes from the store
        await bot.say("王阿姨", chain(H, *mine[:2], "3栋 王阿姨弟弟 草莓1盒"), msg_id="after-1")
        await bot.say("王阿姨", chain(H, *mine), msg_id="after-2")  # the refused line, again
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_silence()  # refused, and the leader was told already
        await bot.say("李姐", chain(H, *mine, "5-1201 李姐 草莓1盒"), msg_id="after-3")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n【周六丹东草莓团】已有3人,还差2人成团"])
        fifth = chain(H, *mine, "5-1201 李姐 草莓1盒", "6栋 何姐 草莓1盒")
        await bot.say("李姐", fifth, msg_id="after-4")  # a fifth line: not read
        bot.expect_said([note("李姐", 1, max_lines=4, max_orders=2)])
        assert await bot.orders() == [
            ("3栋 王阿姨", ["草莓1盒"]),
            ("3栋 王阿姨妈妈", ["草莓1盒"]),
            ("5-1201 李姐", ["草莓1盒"]),
        ]


async def test_a_leader_the_bot_knows_is_told_privately_and_the_group_hears_one_line(data_dir: Path) -> None:
    """What only the leader needs goes privately (#15): once 张姐 has run a command her wxid is known; a leader
    listed by wxid is known from the start."""
    mine = ["3栋 王阿姨 草莓1盒", "3栋 王阿姨妈妈 草莓1盒", "3栋 王阿姨姐姐 草莓1盒"]
    by_wxid = SMALL_CAPS.replace("leaders: [李哥]", "leaders: [wxid_lige]")
    async with BotHarness(data_dir, config=by_wxid) as bot:
        await bot.say("张姐", "汇总")
        bot.expect_said(["【汇总】周六丹东草莓团(阳光花园1号群)\n合计:暂无订单\n已有0人,还差5人成团"])
        await bot.say("王阿姨", chain(H, *mine))
        await bot.settle(horizon=timedelta(minutes=1))
        wang = bot.channel.wxid("王阿姨")
        private = (
            "⚠️ 阳光花园1号群:王阿姨发的【周六丹东草莓团】接龙有1行超过上限(每条最多4行,每人每团最多2单),没有记录,"
            f"请核对~ 对方微信号:{wang}"
        )
        bot.expect_silence(to("李哥"))  # 李哥 leads the other group
        bot.expect_said([private], to("张姐"))
        bot.expect_said(
            [
                "你发的接龙有1行超过上限,没有记录,已告诉团长~",
                "✅ 已记录:3栋 王阿姨 草莓1盒;3栋 王阿姨妈妈 草莓1盒\n合计:草莓2盒\n"
                "【周六丹东草莓团】已有2人,还差3人成团",
            ]
        )
        assert [line.mentions for line in bot.channel.transcript if line.text.startswith("你发的接龙")] == [(wang,)]
        chens = ["2栋 陈叔 草莓1盒", "2栋 陈叔妈妈 草莓1盒", "2栋 陈叔姐姐 草莓1盒"]
        await bot.say("陈叔", chain(H, *chens), "阳光花园2号群")
        await bot.settle(horizon=timedelta(minutes=1))
        chen = bot.channel.wxid("陈叔")
        bot.expect_said(  # 李哥 is listed by wxid: told privately without ever running a command
            [
                "⚠️ 阳光花园2号群:陈叔发的【周六丹东草莓团】接龙有1行超过上限(每条最多4行,每人每团最多2单),"
                f"没有记录,请核对~ 对方微信号:{chen}"
            ],
            to("wxid_lige"),
        )
        bot.expect_said(
            [
                "你发的接龙有1行超过上限,没有记录,已告诉团长~",
                "✅ 已记录:2栋 陈叔 草莓1盒;2栋 陈叔妈妈 草莓1盒\n合计:草莓4盒\n【周六丹东草莓团】已有4人,还差1人成团",
            ],
            "阳光花园2号群",
        )


async def test_a_leaders_proxy_orders_do_not_count_against_her_own_line_after_a_restart(
    data_dir: Path, db_target: tuple[str, dict[str, Any]]
) -> None:
    """A leader's 代报 lines have no author (she typed them for her neighbours): the cap counts a line for its owner,
    or for the member whose 接龙 copy carried it, never for the leader whose command entered it — before a restart
    (not counted when made) and after it (the count rebuilt from the store). 20 in the group, 5 privately."""
    url, kwargs = db_target
    neighbours = [f"{i}栋 邻居{i}" for i in range(1, 26)]
    async with BotHarness(data_dir, database=url, engine_kwargs=kwargs) as bot:
        for who in neighbours[:20]:
            await bot.say("张姐", f"代报 {who} 草莓1盒", settle=False)
        for who in neighbours[20:]:
            await bot.say_private("张姐", f"代报 {who} 草莓1盒", settle=False)
        await bot.settle(horizon=timedelta(minutes=1))
        answers = [f"✅ 已代报:{who} 草莓1盒,39.90元(周六丹东草莓团)" for who in neighbours[:20]]
        listed = ";".join(f"{who} 草莓1盒" for who in neighbours[:8])
        bot.expect_said([*answers, f"✅ 已记录:{listed} 等25位\n合计:草莓25盒\n【周六丹东草莓团】已有25人,已成团"])
        privately = [f"✅ 已代报:{who} 草莓1盒,39.90元(阳光花园1号群·周六丹东草莓团)" for who in neighbours[20:]]
        bot.expect_said(privately, to("张姐"))
        assert len(await bot.orders()) == 25
        now = bot.clock.now()
    async with BotHarness(data_dir, start=now, database=url, engine_kwargs=kwargs) as bot:  # a restart
        await bot.say("张姐", chain(H, "1号楼 张姐 草莓2盒"), msg_id="after-1")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:1号楼 张姐 草莓2盒\n合计:草莓27盒\n【周六丹东草莓团】已有26人,已成团"])
        assert ("1号楼 张姐", ["草莓2盒"]) in await bot.orders()


async def test_a_member_copying_a_long_list_owns_only_her_own_line(data_dir: Path) -> None:
    """30 neighbours each add their line; 小周 copies the whole list and adds hers: the 30 are their writers' orders,
    not hers, so she is not capped — while the bot runs and after a restart."""
    lines = [f"{i}栋 邻居{i} 草莓1盒" for i in range(1, 31)]
    async with BotHarness(data_dir) as bot:
        for i in range(30):
            await bot.say(f"邻居{i + 1}", chain(H, *lines[: i + 1]), settle=False)
        await bot.settle(horizon=timedelta(minutes=1))
        bot.consume()
        await bot.say("小周", chain(H, *lines, "8栋 小周 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:8栋 小周 草莓1盒\n合计:草莓31盒\n【周六丹东草莓团】已有31人,已成团"])
        now = bot.clock.now()
    async with BotHarness(data_dir, start=now) as bot:
        await bot.say("小李", chain(H, *lines, "8栋 小周 草莓1盒", "9栋 小李 草莓1盒"), msg_id="after-1")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:9栋 小李 草莓1盒\n合计:草莓32盒\n【周六丹东草莓团】已有32人,已成团"])
        assert len(await bot.orders()) == 32


async def test_after_a_restart_a_copy_heals_every_line_the_bot_missed(data_dir: Path) -> None:
    """Issue 17's chaos runs: the bot was away, five neighbours joined meanwhile, and the next copy (李姐's) carries
    their lines: all recorded, not capped as if 李姐 had ordered them (the cap is 2 here). After another restart the
    count from the store leaves 李姐 a slot for an order of her own."""
    caps = CONFIG.replace("chain: {digest_every: 30s}", "chain: {digest_every: 30s, max_orders_per_member: 2}")
    missed = [f"{i}栋 邻居{i} 草莓1盒" for i in range(1, 6)]
    async with BotHarness(data_dir, config=caps) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:3栋 王阿姨 草莓1盒\n合计:草莓1盒\n【周六丹东草莓团】已有1人,还差4人成团"])
        now = bot.clock.now()
    async with BotHarness(data_dir, config=caps, start=now + timedelta(minutes=5)) as bot:  # away 5 minutes
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓1盒", *missed, "5-1201 李姐 草莓1盒"), msg_id="after-1")
        await bot.settle(horizon=timedelta(minutes=1))
        listed = ";".join([*missed, "5-1201 李姐 草莓1盒"])
        bot.expect_said([f"✅ 已记录:{listed}\n合计:草莓7盒\n【周六丹东草莓团】已有7人,已成团"])
        assert len(await bot.orders()) == 7
        now = bot.clock.now()
    async with BotHarness(data_dir, config=caps, start=now + timedelta(hours=2)) as bot:  # restarted again, later
        mine = chain(H, "3栋 王阿姨 草莓1盒", *missed, "5-1201 李姐 草莓1盒", "5-1201 李姐 草莓2盒")
        await bot.say("李姐", mine, msg_id="after-2")
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:5-1201 李姐 草莓2盒\n合计:草莓9盒\n【周六丹东草莓团】已有7人,已成团"])
        assert len(await bot.orders()) == 8
        # `tuanbot rebuild` replays the messages with no restart in between: it keeps the caps the live bot decided
        (data_dir / "scratch").mkdir()
        assert await rebuild(bot.config, bot.app.db, scratch=data_dir / "scratch") == []


async def test_after_a_reconnect_a_copy_heals_every_line_the_bot_missed(data_dir: Path) -> None:
    """The gateway went away and came back (a new login, no restart): what was said meanwhile is not replayed, so
    the next copy heals it as after a restart, not capped as if 李姐 had ordered it (the cap is 2 here)."""
    caps = CONFIG.replace("chain: {digest_every: 30s}", "chain: {digest_every: 30s, max_orders_per_member: 2}")
    missed = [f"{i}栋 邻居{i} 草莓1盒" for i in range(1, 6)]
    async with BotHarness(data_dir, config=caps) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        bot.expect_said(["✅ 已记录:3栋 王阿姨 草莓1盒\n合计:草莓1盒\n【周六丹东草莓团】已有1人,还差4人成团"])
        await RoomPolicy(bot.app).logged_in("wxid_xiaotuan")  # the channel's login after its outage
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓1盒", *missed, "5-1201 李姐 草莓1盒"))
        await bot.settle(horizon=timedelta(minutes=1))
        listed = ";".join([*missed, "5-1201 李姐 草莓1盒"])
        bot.expect_said([f"✅ 已记录:{listed}\n合计:草莓7盒\n【周六丹东草莓团】已有7人,已成团"])
        assert len(await bot.orders()) == 7
