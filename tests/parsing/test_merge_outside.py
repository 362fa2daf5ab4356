"""Orders said outside the 接龙 (`+1`, `我要两盒草莓`, issue 15) as lines of the chain that no copy holds: the merge
rules of docs/decisions.md, "Orders said outside the 接龙", case by case."""

from __future__ import annotations

from decimal import Decimal

from bot.parsing.chain import ChainEntry, Item, parse_chain
from bot.parsing.merge import OUTSIDE, ChainState, Seen
from bot.parsing.products import ProductMatcher

MATCHER = ProductMatcher([("草莓", ()), ("蓝莓", ())])


def msg(*lines: str) -> list[Seen]:
    text = "#接龙 草莓团\n\n" + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1))
    return [Seen(e) for e in parse_chain(text, MATCHER).entries]


def kinds(state: ChainState, seen: list[Seen], sender: str) -> list[str]:
    return [c.kind for c in state.apply(seen, f"wx_{sender}", sender)]


def said(state: ChainState, sender: str, msg_id: str, product: str, qty: int) -> None:
    items = (Item(product, True, Decimal(qty), "盒"),)
    entry = ChainEntry(None, f"{product}+{qty}", sender, items, "", False, OUTSIDE + msg_id)
    assert state.add_outside(entry, f"wx_{sender}").kind == "created"


def test_a_copy_without_an_order_said_outside_changes_nothing() -> None:
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 1)
    assert kinds(state, msg("张姐 草莓1盒"), "张姐") == ["created"]
    assert kinds(state, msg("张姐 草莓1盒", "5-1201 李姐 草莓2盒"), "李姐") == ["created"]
    assert [ln.who for ln in state.active()] == ["王阿姨", "张姐", "5-1201 李姐"]


def test_her_own_line_ordering_the_same_is_a_copy_and_another_quantity_an_edit() -> None:
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 1)
    assert kinds(state, msg("3栋 王阿姨 草莓1盒"), "王阿姨") == ["copied"]
    assert [ln.who for ln in state.active()] == ["王阿姨"]
    assert kinds(state, msg("3栋 王阿姨 草莓3盒"), "王阿姨") == ["updated"]
    assert [ln.who for ln in state.active()] == ["3栋 王阿姨"]


def test_another_product_or_a_second_line_beside_her_copy_is_a_second_order() -> None:
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 1)
    assert kinds(state, msg("王阿姨 蓝莓2盒"), "王阿姨") == ["created"]
    assert kinds(state, msg("王阿姨 蓝莓2盒", "王阿姨 草莓1"), "王阿姨") == ["copied"]
    assert kinds(state, msg("王阿姨 蓝莓2盒", "王阿姨 草莓1", "王阿姨 草莓2"), "王阿姨") == ["created"]
    assert len(state.active()) == 3


def test_a_line_under_a_name_she_does_not_go_by_is_hers_when_she_writes_it_last() -> None:
    """A display name the list never shows (`🌸花开富贵`): her own copy's last new line takes her order over."""
    state = ChainState()
    said(state, "🌸花开富贵", "m1", "草莓", 1)
    assert kinds(state, msg("张姐 草莓1盒"), "张姐") == ["created"]
    assert kinds(state, msg("张姐 草莓1盒", "3栋 刘阿姨 草莓2盒"), "🌸花开富贵") == ["updated"]
    assert [ln.who for ln in state.active()] == ["张姐", "3栋 刘阿姨"]


def test_a_copier_writing_her_in_is_a_copy_and_a_cancel_line_naming_her_cancels_it() -> None:
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 2)
    assert kinds(state, msg("张姐 草莓1盒", "王阿姨 草莓2"), "张姐") == ["created", "copied"]
    assert kinds(state, msg("张姐 草莓1盒", "王阿姨 不要了"), "张姐") == ["cancelled"]
    assert [ln.who for ln in state.active()] == ["张姐"]


def test_a_copier_writing_her_in_with_another_quantity_is_her_edit() -> None:
    """As for a line the bot missed: the list is what the leader reads, and the next copy is the evidence."""
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 2)
    assert kinds(state, msg("张姐 草莓1盒", "王阿姨 草莓3"), "张姐") == ["created", "updated"]
    assert [(ln.who, ln.items[0].qty if ln.items else None) for ln in state.active()] == [
        ("张姐", Decimal(1)),
        ("王阿姨", Decimal(3)),
    ]


def test_cancel_outside_and_active_of() -> None:
    state = ChainState()
    said(state, "王阿姨", "m1", "草莓", 1)
    kinds(state, msg("张姐 草莓1盒", "王阿姨 蓝莓1盒"), "王阿姨")
    mine = state.active_of("wx_王阿姨", "王阿姨")
    assert [ln.who for ln in mine] == ["王阿姨", "王阿姨"]
    mark = ChainEntry(None, "不要了", "王阿姨", (), "", True, OUTSIDE + "m2")
    change = state.cancel_outside(mark, "wx_王阿姨", mine[0])
    assert (change.kind, change.previous) == ("cancelled", mine[0])
    assert [ln.who for ln in state.active()] == ["张姐", "王阿姨"]
