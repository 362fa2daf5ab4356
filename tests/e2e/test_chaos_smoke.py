"""`benchmarks/chaos.py` in small: ten members, three bot SIGKILLs, SQLite; the last line of `--json` has the issue's
shape, and nothing a member ordered is lost. Offline: the benchmark's truth model agrees with the bot's own parser
on the final copy, and its judge names each kind of defect."""

from __future__ import annotations

import json

import pytest

from benchmarks import chaos
from benchmarks.chaos_model import Script, StoredOrder, judge, squash
from bot.parsing.chain import parse_chain
from tests.e2e.conftest import _need_node

KEYS = {
    "kills": int,
    "messages": int,
    "expected": int,
    "lost": int,
    "duplicated": int,
    "wrong_qty": int,
    "cancel_missed": int,
    "wrongly_cancelled": int,
    "never_handled": int,
    "repeated_digests": int,
    "rebuild_differences": int,
    "recover_p50_s": float,
    "recover_max_s": float,
}


@pytest.mark.e2e
def test_a_small_chaos_run_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    _need_node()
    args = ["--json", "--seed", "5", "--members", "10", "--kills", "3", "--gateway-kills", "0", "--gap", "0.05"]
    assert chaos.main(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    assert list(result) == list(KEYS)
    assert {k: type(v) for k, v in result.items()} == KEYS
    assert result["kills"] == 3
    assert result["expected"] > 0
    assert result["messages"] >= 10
    assert result["lost"] == 0, last
    assert 0 < result["recover_p50_s"] <= result["recover_max_s"]


# --- the truth model, offline: the final copy says what the members want, and the judge names each defect ---------


def test_the_script_is_deterministic_and_its_final_copy_says_what_each_member_wants() -> None:
    a, b = Script(1, 60, 8), Script(1, 60, 8)
    assert [(m.kind, m.talker, m.text) for m in a.msgs] == [(m.kind, m.talker, m.text) for m in b.msgs]
    kinds = {m.kind for m in a.msgs}
    assert {
        "join",
        "race",
        "edit",
        "edit_back",
        "cancel",
        "empty",
        "repeat",
        "redeliver",
        "chatter",
        "summary",
        "final",
    } <= kinds
    assert a.kills == 8
    final = [m for m in a.msgs if m.kind == "final"]
    assert len(final) == 2
    entries = parse_chain(final[-1].text).entries
    said: dict[str, int | None] = {}
    for entry in entries:  # read by the bot's own parser: 取消 and a bare label both mean nothing is wanted
        qty = sum(int(i.qty) for i in entry.items)
        said[squash(entry.who)] = None if entry.cancelled or not entry.items else qty
    assert said == a.truth()


def test_the_judge_names_each_kind_of_defect_once_per_member() -> None:
    script = Script(2, 12, 2, 0, 0)
    for m in script.members:
        m.cancelled, m.qty = False, 2
    ms = script.members
    ms[5].cancelled = ms[6].cancelled = True
    right = [StoredOrder(m.label, "active", 2.0) for m in ms if not m.cancelled]
    counts, defects = judge(script, right, {})
    assert sum(counts.values()) == 0
    assert defects == []
    orders = [o for o in right if o.participant not in {ms[0].label, ms[1].label}]
    orders += [StoredOrder(ms[1].label, "cancelled", 2.0)]  # wants 2, cancelled by someone else's line
    orders += [StoredOrder(ms[2].label, "active", 3.0)]  # a second order from a missed edit
    orders = [o for o in orders if o.participant != ms[3].label] + [StoredOrder(ms[3].label, "active", 5.0)]
    orders += [StoredOrder(ms[5].label, "active", 2.0), StoredOrder(ms[6].label, "cancelled", 2.0)]
    counts, defects = judge(script, orders, {0: "missed"})
    assert dict(counts) == {"lost": 1, "duplicated": 1, "wrong_qty": 1, "cancel_missed": 1, "wrongly_cancelled": 1}
    assert {d.kind: d.member for d in defects} == {
        "lost": ms[0].label,
        "wrongly_cancelled": ms[1].label,
        "duplicated": ms[2].label,
        "wrong_qty": ms[3].label,
        "cancel_missed": ms[5].label,
    }
