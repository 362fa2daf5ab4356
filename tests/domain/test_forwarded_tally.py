"""The pure tally of forwarded 接龙 copies (`bot.domain.forwarded`): one chain per first line, chatter passed over,
copies folded in order, the line cap of a group applied."""

from __future__ import annotations

from bot.config import Buy, parse_config_text
from bot.domain.forwarded import Message, export_buy, format_tallies, summarize_chain, tally
from bot.parsing.products import ProductMatcher
from tests.harness import CONFIG, chain

MATCHER = ProductMatcher([("草莓", ("丹东草莓",)), ("蓝莓", ("智利蓝莓",)), ("土鸡蛋", ("鸡蛋",))])
BERRY, EGGS = "#接龙 周日蓝莓团", "#接龙 周一土鸡蛋团"


def no_buy(header: str) -> tuple[Buy | None, str | None]:
    return None, "蓝莓" if "蓝莓" in header else None


def test_two_chains_in_one_record_are_tallied_apart_in_first_seen_order() -> None:
    messages = [
        Message("王阿姨", chain(BERRY, "3栋 王阿姨 2盒")),
        Message("李姐", "大家早上好"),  # chatter
        Message("李姐", chain(EGGS, "5-1201 李姐 鸡蛋1盒")),
        Message("何姐", chain(BERRY, "3栋 王阿姨 2盒", "6号楼 何姐 3盒")),
    ]
    chains = tally(messages, MATCHER, no_buy, max_lines=1000)
    assert [(c.title, c.copies) for c in chains] == [(BERRY, 2), (EGGS, 1)]
    config = parse_config_text(CONFIG)
    tallies = [(c, summarize_chain(config, c, "聊天记录")) for c in chains]
    assert format_tallies(tallies, "聊天记录").split("\n\n") == [
        f"【转发汇总】{BERRY}\n合计:蓝莓5盒\n1. 3栋 王阿姨 蓝莓2盒\n2. 6号楼 何姐 蓝莓3盒\n共2人,读了2份接龙",
        f"【转发汇总】{EGGS}\n合计:土鸡蛋1盒\n1. 5-1201 李姐 土鸡蛋1盒\n共1人,读了1份接龙\n"
        "(来自聊天记录;只是汇总,不记入任何团购。发「导出」把表格发给你,30分钟内有效)",
    ]
    assert export_buy(chains[0]).title == BERRY  # no configured buy named: a stand-in for the workbook


def test_a_flood_is_read_up_to_the_line_cap() -> None:
    lines = [f"{i}栋 邻居{i} 蓝莓1盒" for i in range(1, 8)]
    [forwarded] = tally([Message("x", chain(BERRY, *lines))], MATCHER, no_buy, max_lines=3)
    assert [ln.who for ln in forwarded.lines("active")] == ["1栋 邻居1", "2栋 邻居2", "3栋 邻居3"]


def test_native_authors_own_their_lines() -> None:
    text = chain(BERRY, "3栋 王阿姨 2盒", "6号楼 何姐 3盒")
    [forwarded] = tally([Message("", text, ("wxid_wang", "wxid_he"))], MATCHER, no_buy, max_lines=1000)
    assert [ln.author for ln in forwarded.lines("active")] == ["wxid_wang", "wxid_he"]
