"""`tuanbot ask`: one JSON object per message, `answer` null exactly when the bot stays silent."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from bot.cli.ask import add_command, run_ask
from tests.conftest import REPO

CONFIG = REPO / "benchmarks" / "data" / "questions_config.yaml"
KEYS = {"text", "question", "intent", "product", "answer", "confidence"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tuanbot")
    parser.add_argument("--data-dir")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS)
    add_command(parser.add_subparsers(dest="command", required=True), common)
    return parser


async def test_json_lines_have_the_documented_shape(data_dir: Path) -> None:
    out = io.StringIO()
    texts = ["草莓还有吗?", "谢谢团长", "几点自提", "鸡蛋碎了三个", "李姐你明天去公园吗?", "大米多少钱"]
    code = await run_ask(CONFIG, texts, data_dir=data_dir, at="2026-11-27 10:00", as_json=True, out=out)
    assert code == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in rows] == texts
    for row in rows:
        assert set(row) == KEYS
        assert isinstance(row["question"], bool)
        assert isinstance(row["confidence"], int | float)
        assert row["intent"] is None or isinstance(row["intent"], str)
        assert (row["answer"] is None) == (not row["question"])
    by_text = {r["text"]: r for r in rows}
    assert by_text["草莓还有吗?"]["intent"] == "stock"
    assert by_text["草莓还有吗?"]["product"] == "草莓"
    assert by_text["草莓还有吗?"]["answer"] == "草莓还剩120盒,要的抓紧接龙~"
    assert by_text["几点自提"]["answer"].startswith("自提时间17:00-20:00,自提点:阳光花园东门快递柜旁")
    assert by_text["鸡蛋碎了三个"]["intent"] == "after_sales"
    assert by_text["大米多少钱"]["answer"].startswith("五常大米现在69元/袋")
    assert by_text["谢谢团长"]["answer"] is None
    assert by_text["李姐你明天去公园吗?"]["answer"] is None


async def test_the_new_intents_are_reported_by_name(data_dir: Path) -> None:
    """issue #16: `my_orders`, `whats_on` and `spec` come out of `ask --json` by these names."""
    out = io.StringIO()
    texts = ["我订了几盒?", "今天有什么团?", "车厘子几斤一箱?"]
    code = await run_ask(CONFIG, texts, data_dir=data_dir, at="2026-11-27 10:00", as_json=True, out=out)
    assert code == 0
    rows = {r["text"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert [(rows[t]["intent"], rows[t]["question"]) for t in texts] == [
        ("my_orders", True),
        ("whats_on", True),
        ("spec", True),
    ]
    assert rows["车厘子几斤一箱?"]["product"] == "车厘子"


def test_the_command_reads_text_or_stdin(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = _parser()
    common = ["--config", str(CONFIG), "--at", "2026-11-27 10:00", "--data-dir", str(data_dir)]
    args = parser.parse_args(["ask", *common, "--group", "阳光花园2号群", "在哪拿"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == "自提点:2期南门便利店(自提时间16:00-21:00)"

    monkeypatch.setattr("sys.stdin", io.StringIO("什么时候截单\n好的\n"))
    args = parser.parse_args(["ask", *common, "--json"])
    assert args.func(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    cutoffs = [  # four buys open and none named: a line each, the soonest cutoff first
        "【周六丹东草莓团】今天20:00截单,还剩10小时",
        "【酸奶鸭蛋早餐团】明天12:00截单,还剩1天2小时",
        "【车厘子苹果水果团】11月29日(周日)20:00截单,还剩2天10小时",
        "【五常大米阶梯团】11月30日(周一)21:00截单,还剩3天11小时",
    ]
    assert [r["answer"] for r in rows] == ["\n".join(cutoffs), None]


def test_a_bad_group_or_time_is_an_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser()
    args = parser.parse_args(["ask", "--config", str(CONFIG), "--data-dir", str(data_dir), "--group", "没有", "x"])
    assert args.func(args) == 1
    args = parser.parse_args(["ask", "--config", str(CONFIG), "--data-dir", str(data_dir), "--at", "明天", "x"])
    assert args.func(args) == 2
    assert "--at" in capsys.readouterr().err
