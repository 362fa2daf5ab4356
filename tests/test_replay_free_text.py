"""Days played through `tuanbot replay` (issue 15): neighbours order in the 接龙 and in words (`+1`, `脐橙+2`,
`要2箱脐橙`, `我要两箱脐橙`, `不要了`, `取消`, `我订了什么`, `我接龙了吗`), with one buy open and two, and a group on
`free_text_orders: hint`; the bot says exactly this, with these orders at the end."""

from __future__ import annotations

from tests.test_replay import CONFIG, Replay, chain, digest, msg, replay  # noqa: F401  (the fixture)


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


TWO_BUYS = CONFIG.replace(
    "flash_sales:",
    """  - id: shatangju
    title: 砂糖橘团
    groups: [阳光花园1号群]
    items: [{product: 砂糖橘, stock: 30}]
    opens: 2026-12-01 09:00
    cutoff: 2026-12-01 21:00
flash_sales:""",
)


def test_each_way_a_member_orders_in_words_with_two_buys_open(replay: Replay) -> None:  # noqa: F811
    """The member forms of issue 15 with two buys open: a product named picks its buy, a bare `+1` asks which, a
    bare `取消` with two orders asks which, `取消脐橙` cancels that one, `我接龙了吗` answers with her orders."""
    replay.config.write_text(TWO_BUYS, encoding="utf-8")
    events = [
        msg("09:10", "赵哥", "脐橙+2"),
        msg("09:12", "孙姐", "要2箱脐橙"),
        msg("09:14", "孙姐", "砂糖橘+1"),
        msg("09:16", "钱叔", "+1"),
        msg("09:18", "钱叔", "我要两箱砂糖橘"),
        msg("09:20", "孙姐", "我接龙了吗"),
        msg("09:22", "孙姐", "取消"),
        msg("09:24", "孙姐", "取消脐橙"),
    ]
    said = replay.said(events, "--until", "2026-12-01T10:00+08:00")
    assert said == [
        ("09:11", digest("✅ 已记录:赵哥 脐橙2箱", 2, 48, 1, "当前价68元,再2人降到62元")),
        ("09:13", digest("✅ 已记录:孙姐 脐橙2箱", 4, 46, 2, "当前价68元,再1人降到62元")),
        ("09:15", "✅ 已记录:孙姐 砂糖橘1箱\n合计:砂糖橘1箱(砂糖橘还剩29箱)\n【砂糖橘团】已有1人"),
        ("09:16", "钱叔 现在接龙的有脐橙、砂糖橘,要哪个?回复「脐橙+1」这样就行~"),
        ("09:18", "✅ 已记录:钱叔 砂糖橘2箱\n合计:砂糖橘3箱(砂糖橘还剩27箱)\n【砂糖橘团】已有2人"),
        (
            "09:20",
            "您接龙了:\n【赣南脐橙团】脐橙2箱,136.00元(按现在的阶梯价68元/箱算)\n【砂糖橘团】砂糖橘1箱,29.90元\n"
            "共165.90元",
        ),
        ("09:22", "孙姐 你有2单:脐橙2箱、砂糖橘1箱,要取消哪个?回复「取消脐橙」这样就行~"),
        ("09:24", digest("❎ 已取消:孙姐", 2, 48, 1, "当前价68元,再2人降到62元")),
    ]
    result = replay.json(events, "--until", "2026-12-01T10:00+08:00")
    assert [(o["member"], o["buy"], o["items"][0]["qty"], o["status"]) for o in result["orders"]] == [
        ("赵哥", "qicheng", 2, "active"),
        ("孙姐", "qicheng", 2, "cancelled"),
        ("孙姐", "shatangju", 1, "active"),
        ("钱叔", "shatangju", 2, "active"),
    ]


def test_a_group_that_orders_by_chain_only_gets_a_hint(replay: Replay) -> None:  # noqa: F811
    """`chain: {free_text_orders: hint}`: a leader who wants 接龙 only; words get a one-line hint, never an order."""
    hint = CONFIG.replace("chain: {digest_every: 1m}", "chain: {digest_every: 1m, free_text_orders: hint}")
    replay.config.write_text(hint, encoding="utf-8")
    events = [msg("09:10", "赵哥", "脐橙+2"), msg("09:12", "赵哥", "+2"), msg("09:30", "孙姐", "我要两箱脐橙")]
    said = replay.said(events, "--until", "2026-12-01T10:00+08:00")
    assert said == [  # once per member within the same-text window (赵哥's second +2 gets nothing); nothing recorded
        ("09:10", "赵哥 本群用接龙下单哦:复制群里最新的接龙,在末尾加一行「赵哥 脐橙2箱」再发出来~"),
        ("09:30", "孙姐 本群用接龙下单哦:复制群里最新的接龙,在末尾加一行「孙姐 脐橙2箱」再发出来~"),
    ]
    assert replay.json(events, "--until", "2026-12-01T10:00+08:00")["orders"] == []
