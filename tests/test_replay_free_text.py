"""A day of a buy played through `tuanbot replay` (issue 15): neighbours order in the 接龙 and in words (`+1`,
`我要两箱脐橙`, `不要了`, `我订了什么`) in one group, and the bot says exactly this, with these orders at the end."""

from __future__ import annotations

from tests.test_replay import Replay, chain, digest, msg, replay  # noqa: F401  (the fixture)


def test_a_day_of_orders_in_the_chain_and_in_words(replay: Replay) -> None:  # noqa: F811
    events = [
        msg("09:10", "王阿姨", chain("3栋 王阿姨 脐橙2箱")),
        msg("09:20", "李姐", "我要两箱脐橙"),
        msg("09:21", "小周", "+1"),
        msg("09:22", "刘妈妈", "我也想要一个这样的孩子"),  # chatter
        msg("09:23", "何姐", "脐橙还有吗"),  # a question
        # 李姐 copies the list and writes herself in as she ordered: the same order, nothing new
        msg("09:30", "李姐", chain("3栋 王阿姨 脐橙2箱", "5-1201 李姐 脐橙2箱")),
        # 陈叔 copies it without 小周 (who never was in it) and adds himself: 小周's order stands
        msg("09:40", "陈叔", chain("3栋 王阿姨 脐橙2箱", "5-1201 李姐 脐橙2箱", "2栋 陈叔 脐橙1箱")),
        msg("09:50", "小周", "我订了什么"),
        msg("10:00", "李姐", "不要了"),
    ]
    said = replay.said(events, "--until", "2026-12-01T10:30+08:00")
    assert said == [
        ("09:11", digest("✅ 已记录:3栋 王阿姨 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        ("09:20", digest("✅ 已记录:李姐 脐橙2箱", 4, 46, 2, "当前价68元,再1人降到62元")),
        ("09:22", digest("✅ 已记录:小周 脐橙1箱", 5, 45, 3, "当前价62元,再2人降到55元")),  # 刘妈妈: nothing
        ("09:23", "脐橙还剩45箱,要的抓紧接龙~"),
        # 09:30 李姐's own line in the list is her order as she said it: nothing to say
        ("09:40", digest("✅ 已记录:2栋 陈叔 脐橙1箱", 6, 44, 4, "当前价62元,再1人降到55元")),
        ("09:50", "您接龙了【赣南脐橙团】脐橙1箱,共62.00元(按现在的阶梯价62元/箱算)"),
        ("10:00", digest("❎ 已取消:李姐", 4, 46, 3, "当前价62元,再2人降到55元")),
    ]
    result = replay.json(events, "--until", "2026-12-01T10:30+08:00")
    assert [(o["member"], o["items"][0]["qty"], o["status"]) for o in result["orders"]] == [
        ("3栋 王阿姨", 2, "active"),
        ("李姐", 2, "cancelled"),
        ("小周", 1, "active"),
        ("2栋 陈叔", 1, "active"),
    ]
