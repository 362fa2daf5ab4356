"""到货: the leader says the goods are here; the group gets where and when to collect, and the buyers are
@-mentioned in batches (a healed line whose writer the bot never saw is named in text)."""

from __future__ import annotations

from pathlib import Path

from tests.harness import BotHarness, chain, to

H = "#接龙 周六丹东草莓团"
G1 = "阳光花园1号群"
BATCHES = ["请来取货(1/3)~", "请来取货(2/3)~", "请来取货(3/3)~"]
ARRIVED = "📦 周六丹东草莓团 到货啦!\n自提:东门快递柜旁,17:00-20:00\n请下面@到的邻居按时来取~"


def _mentions(bot: BotHarness, group: str = G1) -> list[tuple[str, tuple[str, ...]]]:
    return [(ln.text, ln.mentions) for ln in bot.channel.transcript if ln.from_bot and ln.topic == group]


async def test_arrival_names_where_and_when_and_mentions_every_buyer_once(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        lines = [f"{i}栋 邻居{i:02d} 草莓1盒" for i in range(1, 46)]
        for n in range(1, 46):  # 45 neighbours, each appending their own line
            await bot.say(f"邻居{n:02d}", chain(H, *lines[:n]), settle=False)
        await bot.say("王阿姨", chain(H, *lines, "8栋 大刘 草莓1盒", "3栋 王阿姨 草莓2盒"), settle=False)
        await bot.settle()
        assert bot.consume()  # the 接龙 digests: tests/test_chain_orders.py checks them
        await bot.say("张姐", "到货")
        bot.expect_said([ARRIVED, *BATCHES, "还有:8栋 大刘,请来取货~"])
        batches = [m for t, m in _mentions(bot) if t in BATCHES]
        assert [len(b) for b in batches] == [20, 20, 6]  # 45 neighbours and 王阿姨, 20 to a message
        everyone = [bot.channel.wxid(f"邻居{n:02d}") for n in range(1, 46)] + [bot.channel.wxid("王阿姨")]
        assert [w for b in batches for w in b] == everyone  # in the order they ordered, each once
        bot.clock.advance(11 * 60)  # the same post again inside 10 minutes would fall to the same-text window
        await bot.say_private("张姐", "到货 周六丹东草莓团")  # from private: posted in her group, and she is told where
        bot.expect_said([ARRIVED, *BATCHES, "还有:8栋 大刘,请来取货~"])
        bot.expect_said(["✅ 已在阳光花园1号群(47人)发了周六丹东草莓团的到货通知。"], to("张姐"))


async def test_a_member_cannot_announce_arrival(data_dir: Path) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", "到货")
        bot.expect_silence()
