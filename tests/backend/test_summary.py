"""Summaries and xlsx exports from the backend: the one `summarize`, 成团 rules from the config, three sheets."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.backend.store import list_orders, order_views
from bot.config import Buy
from bot.domain.export import DETAIL_HEADER, PICKUP_HEADER, TOTALS_HEADER, XLSX_MIME, export_xlsx
from bot.domain.summary import BuySummary, format_summary, summarize
from storage.db import Database
from tests.backend.conftest import G1, G2, Client, order_body, rules_config, running

Row = tuple[str, str, list[tuple[str, Any, str | None]], str]  # participant, group, items, remark
STRAWBERRIES: list[Row] = [
    ("3栋 王阿姨", G1, [("草莓", 2, "盒")], ""),
    ("5-1201 李姐", G1, [("草莓", "1.5", "盒")], "要大的"),
    ("3栋 赵叔", G2, [("草莓", 1, "盒"), ("丹东草莓礼盒", 1, "个")], ""),
]


async def post_all(client: Client, buy: str, rows: list[Row]) -> None:
    for i, (who, group, items, remark) in enumerate(rows):
        status, body = await client.post_order(
            f"{buy}-{i}", order_body(who, *items, group=group, buy=buy, remark=remark)
        )
        assert status == 201, body


async def expected(db: Database, buy: Buy, group: str | None = None) -> BuySummary:
    config = rules_config()
    known = {"草莓", "丹东草莓"} if buy.id == "caomei" else {"五常大米", "大米"}
    return summarize(config, buy, order_views(await list_orders(db, buy=buy.id), known), group)


async def test_summary_is_summarize_with_the_configs_min_members(client: Client, db: Database) -> None:
    await post_all(client, "caomei", STRAWBERRIES)
    await client.post_order("w", order_body("6栋 钱", ("草莓", 1, "盒"), status="waiting"))
    await client.post_order("c", order_body("7栋 孙", ("草莓", 9, "盒"), status="cancelled"))

    status, got = await client.get("/api/buys/caomei/summary")
    assert status == 200
    buy = rules_config().buy("caomei")
    assert buy is not None
    want = await expected(db, buy)
    assert got["rules"] == "config"
    assert (got["buy"], got["title"], got["group"]) == ("caomei", "周六丹东草莓团", None)
    # amounts at 39.9 a 盒, each rounded to the 分; the 礼盒 is not in the buy, so it has no price
    assert got["totals"] == [
        {"product": "草莓", "qty": 4.5, "unit": "盒", "amount": 179.55},
        {"product": "丹东草莓礼盒", "qty": 1, "unit": "个", "known": False, "amount": 0, "unpriced": ["丹东草莓礼盒"]},
    ]
    assert (got["total"], got["unpriced"]) == (179.55, ["丹东草莓礼盒"])
    assert [ln["participant"] for ln in got["lines"]] == [ln.participant for ln in want.lines]
    assert [ln["amount"] for ln in got["lines"]] == [79.8, 59.85, 39.9]
    assert got["lines"][1] == {
        "participant": "5-1201 李姐",
        "group": G1,
        "items": [{"product": "草莓", "qty": 1.5, "unit": "盒"}],
        "remark": "要大的",
        "amount": 59.85,
    }
    assert got["lines"][2]["unpriced"] == ["丹东草莓礼盒"]
    assert "amount" not in got["waiting"][0]  # a waiting order is not charged
    assert [w["participant"] for w in got["waiting"]] == ["6栋 钱"]
    assert [u["participant"] for u in got["unknown"]] == ["3栋 赵叔"]
    assert [(p["address"], [ln["participant"] for ln in p["lines"]]) for p in got["pickup"]] == [
        (addr, [ln.participant for ln in lines]) for addr, lines in want.pickup
    ]
    assert got["pickup"][0]["address"] == "3栋"
    # 成团: 3 members of min_members 3 → formed; the price is the buy's.
    assert got["status"] == {
        "members": 3,
        "target": None,
        "missing": 0,
        "formed": True,
        "price": 39.9,
        "next_price": None,
    }
    assert got["text"] == format_summary(want, buy)
    assert "已有3人,已成团" in got["text"]


async def test_summary_says_how_many_more_for_min_members_and_filters_a_group(client: Client, db: Database) -> None:
    await post_all(client, "caomei", STRAWBERRIES[:2])
    _, got = await client.get("/api/buys/caomei/summary")
    assert got["status"] == {
        "members": 2,
        "target": 3,
        "missing": 1,
        "formed": False,
        "price": 39.9,
        "next_price": None,
    }
    assert got["text"].endswith("已有2人,还差1人成团")

    await post_all(client, "caomei", STRAWBERRIES)  # the first two replay, the third is new
    _, got = await client.get(f"/api/buys/caomei/summary?group={G2}")
    buy = rules_config().buy("caomei")
    assert buy is not None
    want = await expected(db, buy, G2)
    assert got["group"] == G2
    assert [ln["participant"] for ln in got["lines"]] == ["3栋 赵叔"]
    assert got["status"]["members"] == 3  # 成团 counts the whole buy, not the group shown
    assert got["text"] == format_summary(want, buy)


async def test_summary_of_a_ladder_buy_gives_the_tier_price_and_the_next(client: Client) -> None:
    rice: list[Row] = [
        (f"{n}栋 {name}", G1, [("五常大米", 1, "袋")], "") for n, name in ((1, "甲"), (2, "乙"), (3, "丙"))
    ]
    await post_all(client, "dami", rice)
    _, got = await client.get("/api/buys/dami/summary")
    assert got["status"] == {
        "members": 3,
        "target": 4,
        "missing": 1,
        "formed": True,
        "price": 62,
        "next_price": 55,
    }
    # every member pays the tier reached (62), not the 69 the first one joined at
    assert got["totals"] == [{"product": "五常大米", "qty": 3, "unit": "袋", "amount": 186}]
    assert [ln["amount"] for ln in got["lines"]] == [62, 62, 62]
    assert (got["total"], got["unpriced"]) == (186, [])
    assert "当前价62元" in got["text"]
    assert "合计:五常大米3袋,共186.00元\n1. 1栋 甲 五常大米1袋 62.00元\n" in got["text"]
    assert "再1人降到55元" in got["text"]


async def test_without_rules_the_summary_says_so_and_uses_the_id(db: Database) -> None:
    async with running(db) as client:  # no config
        await post_all(client, "caomei", STRAWBERRIES)
        status, got = await client.get("/api/buys/caomei/summary")
        assert status == 200
        assert (got["rules"], got["title"]) == ("none", "caomei")
        assert got["status"] == {
            "members": 3,
            "target": None,
            "missing": 0,
            "formed": True,
            "price": None,
            "next_price": None,
        }
        assert got["unknown"] == []  # with no catalogue, no product is "not in this buy"
        # no config, no prices: nothing is charged and the summary says what has no price
        assert got["totals"][0] == {"product": "草莓", "qty": 4.5, "unit": "盒", "amount": 0, "unpriced": ["草莓"]}
        assert (got["total"], got["unpriced"]) == (0, ["草莓", "丹东草莓礼盒"])

        status, body = await client.get("/api/buys/nothing/summary")
        assert status == 404
        assert "nothing" in body["error"]


async def test_a_buy_the_config_knows_has_a_summary_before_any_order(client: Client) -> None:
    status, got = await client.get("/api/buys/dami/summary")
    assert status == 200
    assert (got["totals"], got["lines"], got["status"]["members"]) == ([], [], 0)
    assert got["status"]["price"] == 69


# --- xlsx ---------------------------------------------------------------------------------------------------------


def sheet_rows(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


async def test_export_has_three_sheets_with_the_summarys_totals(client: Client) -> None:
    await post_all(client, "caomei", STRAWBERRIES)
    await client.post_order("w", order_body("6栋 钱", ("草莓", 1, "盒"), status="waiting"))
    status, data, headers = await client.request("GET", "/api/buys/caomei/export.xlsx")
    assert status == 200
    assert headers["Content-Type"] == XLSX_MIME
    assert "caomei.xlsx" in headers["Content-Disposition"]
    _, summary = await client.get("/api/buys/caomei/summary")

    rows = sheet_rows(data)
    assert list(rows) == ["明细", "汇总", "自提"]

    detail = rows["明细"]
    assert detail[0] == DETAIL_HEADER
    assert detail[1:] == [
        ("3栋 王阿姨", G1, "草莓", 2, "盒", 39.9, 79.8, None),
        ("5-1201 李姐", G1, "草莓", 1.5, "盒", 39.9, 59.85, "要大的"),
        ("3栋 赵叔", G2, "草莓", 1, "盒", 39.9, 39.9, None),
        ("3栋 赵叔", G2, "丹东草莓礼盒", 1, "个", "未计价", None, None),
    ]
    by_product: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for _, _, product, qty, unit, *_ in detail[1:]:
        by_product[(product, unit)] += Decimal(str(qty))

    totals = rows["汇总"]
    assert totals[0] == TOTALS_HEADER
    table = [(p.removesuffix("(?)"), q, u) for p, q, u, _ in totals[1 : 1 + len(summary["totals"])]]
    assert table == [(t["product"], t["qty"], t["unit"]) for t in summary["totals"]]
    assert {(p, u): Decimal(str(q)) for p, q, u in table} == by_product
    assert [a for *_, a in totals[1:3]] == [179.55, "未计价"]
    labels = {row[0]: row[1] for row in totals if row and row[0]}
    assert (labels["金额合计"], labels["未计价"]) == (179.55, "丹东草莓礼盒")
    assert labels["成团"] == "已有3人,已成团"
    assert (labels["人数"], labels["已成团"], labels["当前价"]) == (3, "是", 39.9)
    assert labels["候补"] == "6栋 钱"

    pickup = rows["自提"]
    assert pickup[0] == PICKUP_HEADER
    assert [(r[0], r[1]) for r in pickup[1:]] == [
        (p["address"], ln["participant"]) for p in summary["pickup"] for ln in p["lines"]
    ]
    assert pickup[1][2:4] == ("草莓2盒", 79.8)


async def test_export_of_an_unknown_buy_is_404(client: Client) -> None:
    status, body, _ = await client.request("GET", "/api/buys/nothing/export.xlsx")
    assert status == 404
    assert "error" in body


def test_export_xlsx_writes_the_file_and_keeps_member_text_as_text(tmp_path: Path) -> None:
    from bot.domain.summary import ItemQty, OrderView

    config = rules_config()
    buy = config.buy("caomei")
    assert buy is not None
    views = [
        OrderView('=HYPERLINK("http://x","点我")', G1, (ItemQty("草莓", Decimal(1), "盒"),)),
        OrderView("3栋 王\x07阿姨", G1, (), remark="+1"),
    ]
    summary = summarize(config, buy, views)
    path = tmp_path / "caomei.xlsx"
    data = export_xlsx(summary, buy, path)
    assert path.read_bytes() == data
    wb = load_workbook(path)
    detail = wb["明细"]
    assert detail["A2"].value == '=HYPERLINK("http://x","点我")'
    assert detail["A2"].data_type == "s"  # not a formula the leader's Excel would run
    assert detail["A3"].value == "3栋 王阿姨"  # the control character is dropped, not the workbook
    assert detail["C3"].value is None  # a line with no quantity still has its row
    pickup = [tuple(r) for r in wb["自提"].iter_rows(min_row=2, values_only=True)]
    assert pickup == [
        ("3栋", "3栋 王阿姨", "(未写数量)", 0, "+1"),
        ("未写地址", '=HYPERLINK("http://x","点我")', "草莓1盒", 39.9, None),
    ]


@pytest.mark.parametrize("group", [None, G1])
def test_export_xlsx_of_an_empty_summary(group: str | None) -> None:
    config = rules_config()
    buy = config.buy("dami")
    assert buy is not None
    rows = sheet_rows(export_xlsx(summarize(config, buy, [], group), buy))
    assert rows["明细"] == [DETAIL_HEADER]
    assert rows["自提"] == [PICKUP_HEADER]
    assert rows["汇总"][0] == TOTALS_HEADER
    status = {row[0]: row[1] for row in rows["汇总"] if row and row[0]}["成团"]
    assert status == "已有0人,当前价69元,再2人降到62元"


# --- money in the workbook ----------------------------------------------------------------------------------------


def money_cells(data: bytes) -> dict[str, list[tuple[Any, str, str]]]:
    """Per sheet, the cells under 单价/金额 and the 金额合计/当前价 values: (value, data type, number format)."""
    wb = load_workbook(io.BytesIO(data))
    out: dict[str, list[tuple[Any, str, str]]] = {}
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        columns = [i for i, name in enumerate(header) if name in ("单价", "金额")]
        cells = [row[i] for row in ws.iter_rows(min_row=2) for i in columns if i < len(row)]
        cells += [row[1] for row in ws.iter_rows(min_row=2) if row[0].value in ("金额合计", "当前价", "下一档价")]
        out[ws.title] = [(c.value, c.data_type, c.number_format) for c in cells if c.value is not None]
    return out


async def test_export_amounts_are_numbers_in_a_money_format_that_add_up(client: Client) -> None:
    rice: list[Row] = [
        ("1栋 甲", G1, [("五常大米", 1, "袋")], ""),
        ("2栋 乙", G1, [("大米", 2, "袋")], ""),
        ("3栋 丙", G2, [("五常大米", 1, "袋")], ""),
        ("4栋 丁", G2, [("五常大米", 3, "袋")], ""),
    ]
    await post_all(client, "dami", rice)
    _, data, _ = await client.request("GET", "/api/buys/dami/export.xlsx")
    cells = money_cells(data)
    # 4 members reach the 55 tier: every line at 55, the numbers (type "n") in the money format
    assert cells["明细"] == [(v, "n", "#,##0.00") for v in (55, 55, 55, 110, 55, 55, 55, 165)]
    # 五常大米 and its alias 大米 (each as written), 金额合计, 当前价
    assert cells["汇总"] == [(v, "n", "#,##0.00") for v in (275, 110, 385, 55)]
    assert cells["自提"] == [(v, "n", "#,##0.00") for v in (55, 110, 55, 165)]
    amounts = [Decimal(str(v)) for v, *_ in cells["明细"][1::2]]
    assert sum(amounts) == Decimal(385)  # what Excel's SUM over the column gives: the 金额合计


async def test_a_flash_sales_summary_and_export_are_at_the_sales_price(client: Client) -> None:
    for i, (who, qty, status) in enumerate([("王阿姨", 2, "active"), ("何姐", 3, "active"), ("李姐", 1, "waiting")]):
        body = order_body(who, ("草莓", qty, "盒"), buy="caomei-flash", status=status, remark="限时秒杀")
        assert (await client.post_order(f"f{i}", body))[0] == 201
    _, got = await client.get("/api/buys/caomei-flash/summary")
    assert (got["rules"], got["title"]) == ("config", "草莓限时秒杀")
    assert got["status"]["price"] == 29.9  # the sale's price, not the catalogue's 39.9
    assert [ln["amount"] for ln in got["lines"]] == [59.8, 89.7]
    assert got["total"] == 149.5
    _, data, _ = await client.request("GET", "/api/buys/caomei-flash/export.xlsx")
    detail = sheet_rows(data)["明细"]
    assert [(r[0], r[5], r[6]) for r in detail[1:]] == [("王阿姨", 29.9, 59.8), ("何姐", 29.9, 89.7)]
    labels = {row[0]: row[1] for row in sheet_rows(data)["汇总"] if row and row[0]}
    assert (labels["金额合计"], labels["当前价"]) == (149.5, 29.9)
