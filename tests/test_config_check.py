"""`tuanbot check` refuses what would go wrong in a group, each as FILE:LINE: field: message — an unknown
placeholder (posted literally), `{product:X}` of an unknown X, a flash sale of an unknown product, an empty file,
`leaders: []` — reports a duplicated product even beside field errors, and reads a daily `at:`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import parse_config_text
from bot.config.posts import COLUMN_PLACEHOLDERS, COLUMN_PRODUCT_PLACEHOLDERS
from bot.notices.posts import render_template
from scheduler.plan import next_firings
from tests.harness import at

BASE = """\
catalogue:
  - {name: 草莓, unit: 盒, price: 39.9}
  - {name: 土鸡蛋, aliases: [鸡蛋], unit: 盒, price: 36}
groups:
  - name: 阳光花园1号群
    leaders: [张姐]
"""
SALE = "  - {id: f, product: %s, price: 9.9, stock: 5, groups: all, start: 2026-11-29 20:00, end: 2026-11-29 20:30}\n"


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, list[str]]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path)])
    out = capsys.readouterr().out.replace(str(path), "config.yaml")
    return code, out.splitlines()


def column(text: str, at_: str = "周一 09:00") -> str:
    return f'columns:\n  - name: 早安\n    groups: all\n    at: {at_}\n    text: "{text}"\n'


def refused(*problems: str) -> list[str]:
    return [*problems, f"config.yaml: {len(problems)} error(s); the bot will not start with this config"]


ALLOWED = "a column can use {buys}, {date}, {weekday}, {product:商品名}, {stock:商品名}"


def test_an_unknown_placeholder_is_refused_with_the_ones_a_column_can_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(tmp_path, capsys, BASE + column("本周在团:{buy},{date}{weekday}"))
    assert code == 1
    assert out == refused(
        "config.yaml:11: columns[0].text: unknown placeholder {buy} (did you mean {buys}?):"
        f" it would be posted as written; {ALLOWED}"
    )
    code, out = check(tmp_path, capsys, BASE + column("{product:}好吃 {价格}"))
    assert out == refused(
        "config.yaml:11: columns[0].text: {product:} names no product; write {product:商品名}; unknown placeholder"
        f" {{价格}}: it would be posted as written; {ALLOWED}"
    )


def test_a_placeholder_in_a_column_file_is_checked_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "friday.md").write_text("周五新品:{produt:草莓}\n", encoding="utf-8")
    text = BASE + "columns:\n  - name: 周五\n    groups: all\n    cron: '30 19 * * fri'\n    file: friday.md\n"
    code, out = check(tmp_path, capsys, text)
    assert out == refused(
        "config.yaml:11: columns[0].file: unknown placeholder {produt:草莓} (did you mean {product:草莓}?):"
        f" it would be posted as written; {ALLOWED}"
    )


def test_the_placeholders_check_allows_are_exactly_the_ones_a_post_fills() -> None:
    config = parse_config_text(BASE)
    every = " ".join(
        [*(f"{{{n}}}" for n in COLUMN_PLACEHOLDERS), *(f"{{{k}:鸡蛋}}" for k in COLUMN_PRODUCT_PLACEHOLDERS)]
    )
    assert len(COLUMN_PLACEHOLDERS) + len(COLUMN_PRODUCT_PLACEHOLDERS) == 5
    filled = render_template(every, config, "阳光花园1号群", at("2026-12-03 09:00"))
    assert filled == "暂无在团商品 12月3日 周四 土鸡蛋(36元/盒) 充足"  # no brace is left as written


def test_a_product_placeholder_of_an_unknown_product_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(tmp_path, capsys, BASE + column("今天吃{product:蓝梅},还剩{stock:鸡蛋},{stock:苹果}"))
    assert code == 1
    assert out == refused(
        "config.yaml:11: columns[0].text: unknown product 蓝梅 in {product:蓝梅}: not in the catalogue",
        "config.yaml:11: columns[0].text: unknown product 苹果 in {stock:苹果}: not in the catalogue",
    )


def test_a_flash_sale_of_an_unknown_product_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, BASE + "flash_sales:\n" + SALE % "土鸡旦")
    assert code == 1
    assert out == refused(
        "config.yaml:8: flash_sales[0].product: unknown product 土鸡旦 (did you mean 土鸡蛋?): not in the catalogue"
    )
    assert check(tmp_path, capsys, BASE + "flash_sales:\n" + SALE % "鸡蛋")[0] == 0  # an alias is the product


@pytest.mark.parametrize("text", ["", "# 还没写\n", "\n"])
def test_an_empty_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    code, out = check(tmp_path, capsys, text)
    assert code == 1
    assert out == refused(
        "config.yaml:1: the file holds no settings (only comments or nothing): a config needs at least catalogue:"
    )


def test_a_group_with_no_leaders_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, BASE.replace("leaders: [张姐]", "leaders: []"))
    assert code == 1
    assert out == refused(
        "config.yaml:6: groups[0].leaders: names nobody, so nobody can run 汇总 or 导出 in this group:"
        " give a leader's name or wxid"
    )


def test_a_duplicated_product_is_reported_beside_field_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BASE + "  - {name: 草莓, unit: 盒, price: 三十}\nbuys:\n  - {id: b, title: t, groups: all, items: []}\n"
    code, out = check(tmp_path, capsys, text.replace("groups:\n  - name: 阳光花园1号群\n    leaders: [张姐]\n", ""))
    assert code == 1
    assert out == refused(
        "config.yaml:4: catalogue[2].price: expected a number, got '三十'",
        "config.yaml:4: catalogue[2].name: duplicate product 草莓 (also catalogue[0])",
        "config.yaml:6: buys[0].items: must not be empty",
    )


@pytest.mark.parametrize("when", ["每天 07:45", "daily 07:45", "每日 7:45", "Daily 07:45"])
def test_a_daily_time_fires_every_day(tmp_path: Path, capsys: pytest.CaptureFixture[str], when: str) -> None:
    text = BASE + column("早安邻居们~", when)
    code, out = check(tmp_path, capsys, text)
    assert (code, out) == (
        0,
        ["config.yaml: ok — 1 groups, 2 products, 0 buys, 0 flash sales, 1 columns, 1 scheduled jobs"],
    )
    config = parse_config_text(text)
    assert str(config.columns[0].at) == "每天 07:45"
    fires: list[datetime] = [t for t, _ in next_firings(config, start=at("2026-11-30 00:00"), count=3)]
    assert fires == [at("2026-11-30 07:45"), at("2026-12-01 07:45"), at("2026-12-02 07:45")]


def test_a_time_it_cannot_read_suggests_cron(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, BASE + column("早安", "工作日 07:45"))
    assert code == 1
    assert out == refused(
        "config.yaml:10: columns[0].at: expected a weekly time like 周一 09:00 or mon 09:00, or a daily one like"
        " 每天 07:45 or daily 07:45, got '工作日 07:45'; for any other pattern use cron: instead of at:"
        ' (e.g. cron: "45 7 * * mon-fri" for weekdays at 07:45)'
    )


def test_a_free_text_orders_switch_it_does_not_know_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(tmp_path, capsys, BASE + "chain: {free_text_orders: maybe}\n")
    assert code == 1
    assert out == refused(
        "config.yaml:7: chain.free_text_orders: Input should be 'record', 'hint' or 'off', got 'maybe'"
    )
    for value in ("record", "hint", "'off'", "off"):  # a bare `off` is YAML's false: read as meant
        code, _ = check(tmp_path, capsys, BASE + f"chain: {{free_text_orders: {value}}}\n")
        assert code == 0
    assert parse_config_text(BASE, file="x.yaml").chain.free_text_orders == "record"
    assert parse_config_text(BASE + "chain: {free_text_orders: off}\n", file="x.yaml").chain.free_text_orders == "off"
