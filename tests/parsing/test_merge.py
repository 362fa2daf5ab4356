"""The merge rules case by case (DESIGN.md, "Chain semantics")."""

from __future__ import annotations

from bot.parsing.chain import parse_chain
from bot.parsing.merge import ChainState, Seen, belongs_to
from bot.parsing.products import ProductMatcher

MATCHER = ProductMatcher([("草莓", ()), ("蓝莓", ())])


def msg(*lines: str) -> list[Seen]:
    text = "#接龙 草莓团\n\n" + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1))
    return [Seen(e) for e in parse_chain(text, MATCHER).entries]


def kinds(state: ChainState, seen: list[Seen], sender: str) -> list[str]:
    return [c.kind for c in state.apply(seen, f"wx_{sender}", sender)]


def test_a_healed_line_keeps_an_unknown_author_until_its_owner_edits_it() -> None:
    state = ChainState()
    kinds(state, msg("张姐 草莓1盒"), "张姐")
    # 王阿姨's own message was missed; 李姐's copy carries it
    assert kinds(state, msg("张姐 草莓1盒", "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"), "李姐") == [
        "created",
        "created",
    ]
    healed = state.lines["3栋 王阿姨 草莓2盒"]
    assert healed.author is None
    assert state.lines["5-1201 李姐 草莓1盒"].author == "wx_李姐"
    # 王阿姨 changes her line: an update of the healed line, not a second order
    assert kinds(state, msg("张姐 草莓1盒", "3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"), "王阿姨") == ["updated"]
    assert healed.status == "replaced"
    assert state.lines["3栋 王阿姨 草莓3盒"].author == "wx_王阿姨"


def test_a_second_line_of_the_same_member_is_a_second_entry() -> None:
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓2盒", "3栋 王阿姨 蓝莓1盒"), "王阿姨") == ["created"]
    assert len(state.active()) == 2


def test_a_member_cannot_cancel_someone_elses_line() -> None:
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 不要了"), "李姐") == ["noted"]
    assert [ln.key for ln in state.active()] == ["3栋 王阿姨 草莓2盒"]


def test_emptying_ones_own_line_cancels_it() -> None:
    state = ChainState()
    kinds(state, msg("张姐 草莓1盒", "2栋 陈叔 草莓3盒"), "陈叔")
    assert kinds(state, msg("张姐 草莓1盒", "2栋 陈叔"), "陈叔") == ["cancelled"]
    assert [ln.who for ln in state.active()] == ["张姐"]


def test_late_lines_are_recorded_as_late_and_answered_once() -> None:
    state2 = ChainState()
    kinds(state2, msg("张姐 草莓1盒"), "张姐")
    late = state2.apply(msg("张姐 草莓1盒", "1-302 刘妈妈 草莓1盒"), "wx_刘妈妈", "刘妈妈", late=True)
    assert [c.kind for c in late] == ["late"]
    assert state2.apply(msg("张姐 草莓1盒", "1-302 刘妈妈 草莓1盒"), "wx_刘妈妈", "刘妈妈", late=True) == []


def test_native_authors_win_over_guessing() -> None:
    state = ChainState()
    seen = msg("张姐 草莓1盒", "3栋 王阿姨 草莓2盒")
    seen = [Seen(seen[0].entry, "wxid_zhang"), Seen(seen[1].entry, "wxid_wang")]
    state.apply(seen, "wxid_wang", "王阿姨")
    assert state.lines["张姐 草莓1盒"].author == "wxid_zhang"


def test_belongs_to() -> None:
    assert belongs_to("3栋 王阿姨", "王阿姨")
    assert belongs_to("5-1201 李姐", "李姐")
    assert not belongs_to("3栋 王阿姨", "李姐")
    assert not belongs_to("", "李姐")
