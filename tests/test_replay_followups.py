"""What a leader meets after 暂停 and after a cutoff short of 成团 (#15, docs/decisions.md), played through
`tuanbot replay --json` like tests/test_replay_commands.py: in a group the leader paused, the leader's own posts
(`延长截单`, `到货`, a chat `开团`'s header, `截单`) go out while the bot's own (a digest, an answer, a scheduled
cutoff) wait for `恢复`; a buy that closes short of its 成团N人 says 未成团(差N人), and the leader hears what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_replay_commands import ARRIVED, LEADER, WANG, Day, G, S, bot, chain, g, p, strawberry_digest

EGGS = "#接龙 周末鸡蛋团"
EGG_HEADER = (
    "#接龙 周末鸡蛋团\n土鸡蛋 36元/盒,限量20盒\n满3人成团\n截单:12月1日(周二) 20:00\n"
    "自提:东门快递柜旁 17:00-20:00\n例 3栋 王阿姨 土鸡蛋1盒"
)
EGG_LINES = "合计:土鸡蛋2盒,共72.00元\n1. 3栋 王阿姨 土鸡蛋2盒 72.00元\n"
HINT = "要多给大家些时间,发「延长截单 周末鸡蛋团 时间」;不成团就在群里说一声,已收的款记得退。"


@pytest.fixture
def day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Day:
    return Day(tmp_path, capsys)


def test_in_a_paused_group_the_leaders_own_posts_go_out_and_the_bots_own_wait(day: Day) -> None:
    events = [
        g("09:10", "王阿姨", chain(S, WANG)),
        g("10:00", LEADER, "暂停"),
        g("10:05", LEADER, "延长截单 周五20:00"),
        g("10:10", LEADER, "到货"),
        p("10:20", LEADER, "开团 周末鸡蛋团 鸡蛋 库存20 成团3人 今晚8点截单"),
        g("10:25", "王阿姨", chain(EGGS, "3栋 王阿姨 土鸡蛋2盒")),  # recorded, not confirmed: the bot is paused
        g("10:26", "刘妈妈", "几点截单", mentions=["小团"]),  # not answered
        # 20:00: the egg buy's scheduled cutoff post waits like every post of the bot's own; she is told privately
        p("20:30", LEADER, "汇总 鸡蛋"),
    ]
    result = day.play(events, "12-01T21:00")
    assert bot(result) == [
        ("12-01 09:11:00", G, strawberry_digest("✅ 已记录:3栋 王阿姨 草莓2盒", 2, 1)),
        ("12-01 10:00:00", G, "⏸ 已暂停:我在本群先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"),
        ("12-01 10:05:00", G, "⏰ 周六丹东草莓团 截单时间改到12月4日(周五) 20:00,还没接龙的邻居抓紧啦~"),
        ("12-01 10:10:00", G, ARRIVED),
        ("12-01 10:10:00", G, "请来取货~"),
        ("12-01 10:20:00", G, EGG_HEADER),
        ("12-01 10:20:00", "→ 张姐", "✅ 已开团「周末鸡蛋团」(编号 chat-1201-1),接龙已发到:阳光花园1号群"),
        # 20:00: the group hears nothing (paused); the leader is told privately it closed short of 成团
        ("12-01 20:00:00", "→ 张姐", f"「周末鸡蛋团」截单时未成团(差2人)。{HINT}"),
        ("12-01 20:30:00", "→ 张姐", f"【汇总】周末鸡蛋团\n{EGG_LINES}已有1人,未成团(差2人)\n{HINT}"),
    ]
    assert [(o["member"], o["buy"], o["status"]) for o in result["orders"]] == [
        ("3栋 王阿姨", "caomei", "active"),
        ("3栋 王阿姨", "chat-1201-1", "active"),
    ]


def test_a_buy_closed_short_of_forming_says_so_and_the_leader_hears_what_to_do(day: Day) -> None:
    events = [
        p("10:00", LEADER, "开团 周末鸡蛋团 鸡蛋 库存20 成团3人 周四20:00截单"),
        g("10:05", "王阿姨", chain(EGGS, "3栋 王阿姨 土鸡蛋2盒")),
        p("11:00", LEADER, "截单 鸡蛋"),  # privately: the cutoff post in the group, what to do to her
        p("11:05", LEADER, "延长截单 鸡蛋 周四20:00"),  # more time: it can still form
        g("11:10", "李姐", chain(EGGS, "3栋 王阿姨 土鸡蛋2盒", "5-1201 李姐 土鸡蛋1盒")),
        g("11:30", LEADER, "截单 鸡蛋"),  # in the group: the post is the answer, what to do goes to her privately
    ]
    closed = "【截单】周末鸡蛋团 已截单,之后的接龙不再记录\n【汇总】周末鸡蛋团(阳光花园1号群)\n"
    two = "合计:土鸡蛋3盒,共108.00元\n1. 3栋 王阿姨 土鸡蛋2盒 72.00元\n2. 5-1201 李姐 土鸡蛋1盒 36.00元\n"
    said = bot(day.play(events, "12-01T12:00"))
    assert said[2:] == [
        (
            "12-01 10:06:00",
            G,
            "✅ 已记录:3栋 王阿姨 土鸡蛋2盒\n合计:土鸡蛋2盒(土鸡蛋还剩18盒)\n【周末鸡蛋团】已有1人,还差2人成团",
        ),
        ("12-01 11:00:00", G, f"{closed}{EGG_LINES}已有1人,未成团(差2人)"),
        (
            "12-01 11:00:00",
            "→ 张姐",
            f"✅ 已截单「周末鸡蛋团」,已通知:阳光花园1号群\n「周末鸡蛋团」未成团(差2人)。{HINT}",
        ),
        ("12-01 11:05:00", G, "⏰ 周末鸡蛋团 截单时间改到12月3日(周四) 20:00,还没接龙的邻居抓紧啦~"),
        ("12-01 11:05:00", "→ 张姐", "✅ 「周末鸡蛋团」截单改到12月3日(周四) 20:00,已通知:阳光花园1号群"),
        (
            "12-01 11:10:00",
            G,
            "✅ 已记录:5-1201 李姐 土鸡蛋1盒\n合计:土鸡蛋3盒(土鸡蛋还剩17盒)\n【周末鸡蛋团】已有2人,还差1人成团",
        ),
        ("12-01 11:30:00", G, f"{closed}{two}已有2人,未成团(差1人)"),
        ("12-01 11:30:00", "→ 张姐", f"「周末鸡蛋团」未成团(差1人)。{HINT}"),
    ]
