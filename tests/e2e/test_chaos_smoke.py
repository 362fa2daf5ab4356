"""`benchmarks/chaos.py` in small: a dozen members, three bot SIGKILLs, SQLite; the last line of `--json` has the
issue's shape, and nothing a member ordered is lost."""

from __future__ import annotations

import json

import pytest

from benchmarks import chaos
from tests.e2e.conftest import _need_node

pytestmark = pytest.mark.e2e

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
