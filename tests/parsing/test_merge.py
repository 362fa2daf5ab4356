"""The merge rules case by case (DESIGN.md, "Chain semantics")."""

from __future__ import annotations

from bot.parsing.chain import parse_chain
from bot.parsing.merge import ChainState, LineState, Seen, belongs_to
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


def test_a_cancel_line_cancels_the_participant_it_names_whoever_carries_it() -> None:
    """#17: 王阿姨's 不要了 was missed; the next copy (李姐's) carries it: her order goes, 李姐's stays."""
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    kinds(state, msg("3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"), "李姐")
    assert kinds(state, msg("3栋 王阿姨 不要了", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"), "陈叔") == [
        "cancelled",
        "created",
    ]
    assert [ln.who for ln in state.active()] == ["5-1201 李姐", "2栋 陈叔"]


def test_a_healed_cancel_never_falls_back_to_the_copiers_own_order() -> None:
    """#17: a cancel line naming someone with no order cancels nothing, not the actor's latest line."""
    state = ChainState()
    kinds(state, msg("5-1201 李姐 草莓1盒"), "李姐")
    assert kinds(state, msg("5-1201 李姐 草莓1盒", "3栋 王阿姨 不要了"), "李姐") == ["noted"]
    assert [ln.who for ln in state.active()] == ["5-1201 李姐"]


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


# --- healing (#17): what the next copy proves -----------------------------------------------------------------------


def active_lines(state: ChainState) -> list[str]:
    return [ln.key for ln in state.active()]


def test_an_edit_the_bot_missed_is_the_participants_edit_not_a_second_order() -> None:
    """王阿姨's 草莓2盒 → 草莓3盒 was missed; 李姐's copy carries 草莓3盒 at its place: 王阿姨's edit."""
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"), "李姐") == ["updated", "created"]
    assert active_lines(state) == ["3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"]
    assert state.lines["3栋 王阿姨 草莓3盒"].author is None  # the participant's edit, not the copier's line
    assert state.lines["5-1201 李姐 草莓1盒"].author == "wx_李姐"


def test_the_last_new_line_is_not_the_senders_when_their_own_line_is_in_the_copy() -> None:
    """李姐 edits her line; 何姐's line (missed) is the copy's last new one: it is not 李姐's, so 何姐's own edit
    later updates it instead of doubling."""
    state = ChainState()
    kinds(state, msg("5-1201 李姐 草莓1盒"), "李姐")
    assert kinds(state, msg("5-1201 李姐 草莓2盒", "6号楼 何姐 蓝莓1盒"), "李姐") == ["updated", "created"]
    assert state.lines["6号楼 何姐 蓝莓1盒"].author is None
    assert kinds(state, msg("5-1201 李姐 草莓2盒", "6号楼 何姐 蓝莓2盒"), "何姐") == ["updated"]
    assert active_lines(state) == ["5-1201 李姐 草莓2盒", "6号楼 何姐 蓝莓2盒"]
    assert state.lines["6号楼 何姐 蓝莓2盒"].author == "wx_何姐"


def test_a_label_suffix_does_not_make_a_line_the_senders() -> None:
    """王阿姨's copy carries 李阿姨's line (missed): `阿姨` is not 王阿姨; 李阿姨's later cancel takes her own order."""
    assert not belongs_to("2栋 李阿姨", "王阿姨")
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓2盒", "2栋 李阿姨 蓝莓1盒"), "王阿姨") == ["created"]
    assert state.lines["2栋 李阿姨 蓝莓1盒"].author is None
    assert kinds(state, msg("3栋 王阿姨 草莓2盒", "2栋 李阿姨 不要了"), "李阿姨") == ["cancelled"]
    assert active_lines(state) == ["3栋 王阿姨 草莓2盒"]


def test_an_edit_back_to_an_earlier_text_counts() -> None:
    """1盒 → 4盒 → 1盒 ends at 1盒 (a line seen before is not "nothing" when its own writer brings it back)."""
    state = ChainState()
    kinds(state, msg("张姐 草莓1盒", "3栋 王阿姨 草莓1盒"), "王阿姨")
    assert kinds(state, msg("张姐 草莓1盒", "3栋 王阿姨 草莓4盒"), "王阿姨") == ["updated"]
    assert kinds(state, msg("张姐 草莓1盒", "3栋 王阿姨 草莓1盒"), "王阿姨") == ["updated"]
    assert active_lines(state) == ["张姐 草莓1盒", "3栋 王阿姨 草莓1盒"]


def test_an_old_text_in_another_members_racing_copy_changes_nothing() -> None:
    """张姐 copied the list from before 王阿姨's edit: the old text is the old list's, the edit stands."""
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓1盒"), "王阿姨")
    kinds(state, msg("3栋 王阿姨 草莓4盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓1盒", "张姐 蓝莓1盒"), "张姐") == ["created"]
    assert kinds(state, msg("3栋 王阿姨 草莓1", "张姐 蓝莓1盒", "2栋 陈叔 草莓1盒"), "陈叔") == ["copied", "created"]
    assert active_lines(state) == ["3栋 王阿姨 草莓4盒", "张姐 蓝莓1盒", "2栋 陈叔 草莓1盒"]


def test_a_copiers_mistake_is_no_second_order_and_does_not_outlive_the_owners_cancel() -> None:
    """#14/#16/#17: 李姐 drops 王阿姨's unit (`草莓2盒` → `草莓2`): still 王阿姨's one order, as she wrote it; her
    cancel on the altered line cancels it."""
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓2", "5-1201 李姐 草莓1盒"), "李姐") == ["copied", "created"]
    assert kinds(state, msg("3栋  王阿姨 草莓 2", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"), "陈叔") == [
        "copied",
        "created",
    ]
    assert active_lines(state) == ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"]
    # 王阿姨's second order next to the altered line is a second entry, not an edit of the first
    assert kinds(state, msg("3栋 王阿姨 草莓2", "5-1201 李姐 草莓1盒", "3栋 王阿姨 蓝莓1盒"), "王阿姨") == ["created"]
    assert kinds(state, msg("3栋 王阿姨 草莓2 不要了", "5-1201 李姐 草莓1盒", "3栋 王阿姨 蓝莓1盒"), "王阿姨") == [
        "cancelled"
    ]
    assert active_lines(state) == ["5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒", "3栋 王阿姨 蓝莓1盒"]


def test_a_copier_who_drops_an_emoji_from_a_label_copies_the_line() -> None:
    state = ChainState()
    kinds(state, msg("6-5 🐶 汪汪 草莓2盒"), "汪汪")
    kinds(state, msg("6-5 汪汪 草莓2盒", "5-1201 李姐 蓝莓1盒"), "李姐")
    assert len(state.active()) == 2


def test_a_healed_edit_gives_way_to_a_later_copy_holding_the_participants_text() -> None:
    """An edit proven by another member's copy only (a healed edit) is the latest evidence until the next copy: one
    that shows the participant's text again at its place puts it back (the list converges on the group's)."""
    state = ChainState()
    kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
    assert kinds(state, msg("3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"), "李姐") == ["updated", "created"]
    assert kinds(state, msg("3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"), "陈叔") == [
        "updated",
        "created",
    ]
    assert active_lines(state) == ["3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"]


# --- chaos benchmark histories (#17): what the next copy proves about the copies before it ----------------------------


def reloaded(state: ChainState) -> ChainState:
    """The state as a restart loads it from the store: lines in order, what each says, the copy each was born in."""
    return ChainState.of(
        LineState(ln.key, ln.who, ln.author, ln.status, said=ln.items, born=ln.born) for ln in state.lines.values()
    )


def test_a_copy_older_than_the_one_that_healed_an_edit_does_not_revert_it() -> None:
    """chaos seed 17, 谢先生: join 2 → edit 5 (missed). 韩先生's join carries 草莓5盒: the edit, healed. 冯先生 then
    re-sends his copy from before the edit (草莓2盒, without 韩先生's line, which the list never loses): that copy is
    older than the one that proved the edit, so the edit stands, before and after a restart."""
    first = ["1栋 蔡叔 草莓2盒", "18栋4单元 谢先生 草莓2盒"]
    for restart in (False, True):
        state = ChainState()
        kinds(state, msg(*first), "谢先生")
        edited = ["1栋 蔡叔 草莓2盒", "18栋4单元 谢先生 草莓5盒", "7-305 冯先生 草莓3盒"]
        # 冯先生's own copy (before the edit: 谢先生 草莓2盒) was missed too; 韩先生's shows the edit
        assert kinds(state, msg(*edited, "3-9 韩先生 草莓1盒"), "韩先生") == ["updated", "created", "created"]
        state = reloaded(state) if restart else state
        assert kinds(state, msg(*first, "7-305 冯先生 草莓3盒"), "冯先生") == []
        assert kinds(state, msg(*edited, "3-9 韩先生 草莓1盒", "2栋 李大爷 草莓1盒"), "李大爷") == ["created"]
        assert "18栋4单元 谢先生 草莓5盒" in active_lines(state)


def test_the_next_full_copy_shows_a_healed_edit_again_after_a_copy_put_the_earlier_text_back() -> None:
    """A copy not provably older (it holds every line) put 王阿姨's earlier text back over her healed edit; the next
    full copy shows the edit again: it is the latest evidence, though the bot saw that text before."""
    for restart in (False, True):
        state = ChainState()
        kinds(state, msg("3栋 王阿姨 草莓2盒"), "王阿姨")
        kinds(state, msg("3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒"), "李姐")
        assert kinds(state, msg("3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"), "陈叔") == [
            "updated",
            "created",
        ]
        state = reloaded(state) if restart else state
        assert kinds(state, msg("3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"), "团长") == ["updated"]
        assert active_lines(state) == ["3栋 王阿姨 草莓3盒", "5-1201 李姐 草莓1盒", "2栋 陈叔 蓝莓1盒"]


def test_the_owner_edits_back_to_their_first_text_healed_from_someone_elses_copy() -> None:
    """chaos seed 17, 何姐: join 2 (missed; 蔡老师's copy carries it) → edit 5 → edit back 2: ends at 2."""
    for restart in (False, True):
        state = ChainState()
        kinds(state, msg("1栋 蔡叔 草莓2盒"), "蔡叔")
        assert kinds(state, msg("1栋 蔡叔 草莓2盒", "10栋4单元 何姐 草莓2盒", "6-1 蔡老师 草莓1盒"), "蔡老师") == [
            "created",
            "created",
        ]
        assert kinds(state, msg("1栋 蔡叔 草莓2盒", "10栋4单元 何姐 草莓5盒", "6-1 蔡老师 草莓1盒"), "何姐") == [
            "updated"
        ]
        state = reloaded(state) if restart else state
        assert kinds(state, msg("1栋 蔡叔 草莓2盒", "10栋4单元 何姐 草莓2盒", "6-1 蔡老师 草莓1盒"), "何姐") == [
            "updated"
        ]
        assert active_lines(state) == ["1栋 蔡叔 草莓2盒", "10栋4单元 何姐 草莓2盒", "6-1 蔡老师 草莓1盒"]


def test_a_line_emptied_to_its_bare_label_while_the_bot_was_away_cancels_it() -> None:
    """chaos seed 17 (pg), 许小妹: join 1 → empty (missed). 韩先生's copy shows `7-603 许小妹` at her place: her
    cancel, though the copy is his (a copier who drops only the items but keeps a remark still cancels nothing)."""
    state = ChainState()
    kinds(state, msg("1栋 蔡叔 草莓2盒", "7-603 许小妹 草莓1盒"), "许小妹")
    assert kinds(state, msg("1栋 蔡叔 草莓2盒", "7-603 许小妹", "3-9 韩先生 草莓1盒"), "韩先生") == [
        "cancelled",
        "created",
    ]
    assert active_lines(state) == ["1栋 蔡叔 草莓2盒", "3-9 韩先生 草莓1盒"]
    assert state.lines["3-9 韩先生 草莓1盒"].author == "wx_韩先生"


def test_a_bare_label_new_in_someone_elses_copy_is_an_entry_for_the_leader() -> None:
    """chaos seed 17, 杨老师: join 1 and empty, both missed; 袁姐's copy shows `14栋2单元 杨老师`. One copy cannot
    tell that from a sign-up line of a bare name (the peers' vectors, tests/parsing/test_chain_vectors.py: `A`, `66`,
    `估计` are entries), so it is kept as an entry with no items (the leader is asked about it), not an order of
    anything; when she writes her items into the line, that is her order, not a second one."""
    state = ChainState()
    kinds(state, msg("1栋 蔡叔 草莓2盒"), "蔡叔")
    copy = ["1栋 蔡叔 草莓2盒", "14栋2单元 杨老师", "3-1 袁姐 草莓1盒"]
    assert kinds(state, msg(*copy), "袁姐") == ["created", "created"]
    assert active_lines(state) == copy
    again = ["1栋 蔡叔 草莓2盒", "14栋2单元 杨老师 草莓2盒", "3-1 袁姐 草莓1盒"]
    assert kinds(state, msg(*again), "杨老师") == ["updated"]
    assert sorted(active_lines(state)) == sorted(again)


def test_an_edit_back_the_bot_missed_is_healed_by_a_copy_made_after_the_edit() -> None:
    """chaos seed 5, 韩姐: join 2 (missed) → edit 3 → edit back 2 (missed). 黄大爷's copy shows 草莓2盒 at her place
    and holds 朱小妹's line, first seen after her edit: it was copied from a list made after it, so 草莓2盒 is her
    edit back, not a race (a copy without such a line changes nothing: the racing-copy case above)."""
    for restart in (False, True):
        state = ChainState()
        kinds(state, msg("1栋 蔡叔 草莓2盒"), "蔡叔")
        kinds(state, msg("1栋 蔡叔 草莓2盒", "22栋2单元 韩姐 草莓2盒", "3栋2单元 许姐 草莓2盒"), "许姐")
        edited = ["1栋 蔡叔 草莓2盒", "22栋2单元 韩姐 草莓3盒", "3栋2单元 许姐 草莓2盒"]
        assert kinds(state, msg(*edited), "韩姐") == ["updated"]
        assert kinds(state, msg(*edited, "10-906 朱小妹 草莓2盒"), "朱小妹") == ["created"]
        state = reloaded(state) if restart else state
        back = ["1栋 蔡叔 草莓2盒", "22栋2单元 韩姐 草莓2盒", "3栋2单元 许姐 草莓2盒", "10-906 朱小妹 草莓2盒"]
        assert kinds(state, msg(*back, "6栋1单元 黄大爷 草莓1盒"), "黄大爷") == ["updated", "created"]
        assert "22栋2单元 韩姐 草莓2盒" in active_lines(state)
        assert "22栋2单元 韩姐 草莓3盒" not in active_lines(state)


def test_an_old_text_of_a_cancelled_line_in_an_old_list_orders_nothing() -> None:
    """刘妈妈's join was missed, her cancel seen (it cancels nothing the bot knew); a copy of the list from before her
    cancel shows her line at the place of her cancel line: an old list's text, no order."""
    state = ChainState()
    assert kinds(state, msg("1栋 王阿姨 草莓1盒", "8栋 刘妈妈 不要了"), "刘妈妈") == ["created", "noted"]
    assert kinds(state, msg("1栋 王阿姨 草莓1盒", "8栋 刘妈妈 草莓1盒"), "王阿姨") == ["noted"]
    assert kinds(state, msg("1栋 王阿姨 草莓1盒", "8栋 刘妈妈 不要了"), "团长") == []
    assert active_lines(state) == ["1栋 王阿姨 草莓1盒"]


def test_after_a_restart_a_race_on_the_list_before_an_owners_line_was_put_back_changes_nothing() -> None:
    """陈叔 joins 蓝莓3盒, then sends 草莓1盒 on an old list; 李姐's copy, made after 王阿姨's edit, shows 蓝莓3盒 again
    (his missed edit back). Copies of a list from before 李姐 joined, with 草莓1盒 at his place, change nothing of his,
    after a restart too (the store keeps neither when nor by whose copy his line came back)."""
    for restart in (False, True):
        state = ChainState()
        kinds(state, msg("4栋 陈叔 蓝莓3盒"), "陈叔")
        kinds(state, msg("4栋 陈叔 草莓1盒"), "陈叔")
        kinds(state, msg("4栋 陈叔 草莓1盒", "1栋 王阿姨 草莓1盒"), "王阿姨")
        assert kinds(state, msg("4栋 陈叔 蓝莓3盒", "1栋 王阿姨 蓝莓2盒"), "王阿姨") == ["updated"]
        assert kinds(state, msg("4栋 陈叔 蓝莓3盒", "1栋 王阿姨 蓝莓2盒", "2栋 李姐 蓝莓2盒"), "李姐") == [
            "updated",
            "created",
        ]
        old = ["4栋 陈叔 草莓1盒", "1栋 王阿姨 草莓1盒", "3栋 何姐 蓝莓3盒"]
        assert kinds(state, msg(*old), "何姐") == ["created"]
        state = reloaded(state) if restart else state
        assert kinds(state, msg(*old), "王阿姨") == ["updated"]  # her own 草莓1盒 back
        assert active_lines(state) == ["4栋 陈叔 蓝莓3盒", "1栋 王阿姨 草莓1盒", "2栋 李姐 蓝莓2盒", "3栋 何姐 蓝莓3盒"]
