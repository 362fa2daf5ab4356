"""A buy's summary as an xlsx workbook for the leader: 明细 (every line), 汇总 (totals and 成团), 自提 (by address).
When the summary knows payments (the bot's own `导出`), 明细 and 自提 end with a 付款 column (已付 / 未付 / 还差X元)
and 汇总 says who has paid and what is still owed.

Pure over a `BuySummary` (the one summary implementation); the backend serves it, the leader's `导出` writes it.
Prices and amounts are number cells in a money format (Excel/WPS can sum them), at the price in force
(`bot.domain.money`: the ladder tier reached, a flash sale's price); the 明细 amounts add up to the 金额合计.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.money import ZERO, Amount, fmt_money, to_cents
from bot.domain.summary import BuySummary, Due, ItemQty, ParticipantLine, dues, fmt_qty, status_line

if TYPE_CHECKING:
    from bot.config import Buy

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DETAIL_HEADER = ("接龙人", "群", "商品", "数量", "单位", "单价", "金额", "备注")
TOTALS_HEADER = ("商品", "数量", "单位", "金额")
PICKUP_HEADER = ("地址", "接龙人", "商品", "金额", "备注")
PAID_HEADER = "付款"
MONEY_FORMAT = "#,##0.00"
UNPRICED = "未计价"


def export_xlsx(summary: BuySummary, buy: Buy, path: str | Path | None = None) -> bytes:
    """The workbook's bytes; written to `path` too when one is given."""
    wb = Workbook()
    detail = wb.active
    assert detail is not None  # a new Workbook always has its first sheet
    detail.title = "明细"
    prices = summary.prices
    owed = {(d.group, d.participant): d for d in dues(summary)}
    paid = summary.paid is not None  # payments known: a 付款 column
    _rows(detail, [DETAIL_HEADER + ((PAID_HEADER,) if paid else ())])
    for line in summary.lines:
        mark = (_paid_cell(owed[(line.group, line.participant)]),) if paid else ()
        items: tuple[ItemQty | None, ...] = line.items or (None,)
        rows = []
        for it in items:
            price = prices.price_of(it.product, it.unit) if it else None
            amount = to_cents(price * it.qty) if it and price is not None else None
            rows.append(
                (
                    line.participant,
                    line.group,
                    it.product if it else "",
                    _num(it.qty) if it else None,
                    (it.unit or "") if it else "",
                    price if price is not None else (UNPRICED if it else None),
                    amount,
                    line.remark,
                    *mark,
                )
            )
        _rows(detail, rows, money=(6, 7))

    totals = wb.create_sheet("汇总")
    _rows(totals, [TOTALS_HEADER])
    _rows(
        totals,
        [
            (
                t.product + ("(?)" if not t.known else ""),
                _num(t.qty),
                t.unit or "",
                _money(amount),
            )
            for t, amount in zip(summary.totals, summary.amounts, strict=True)
        ],
        money=(4,),
    )
    s = summary.status
    _rows(totals, [(), ("金额合计", summary.total.value)], money=(2,))
    if summary.total.unpriced:
        _rows(totals, [("未计价", "、".join(summary.total.unpriced))])
    _rows(
        totals,
        [
            ("成团", status_line(s, buy)),
            ("人数", s.members),
            ("目标人数", s.target),
            ("还差", s.missing),
            ("已成团", "是" if s.formed else "否"),
            ("当前价", s.price),
            ("下一档价", s.next_price),
        ],
        money=(2,),
    )
    if paid:
        unpaid = [d for d in owed.values() if d.unpaid]
        owing = sum((max(d.owing, ZERO) for d in unpaid), ZERO)
        _rows(totals, [("已付清", f"{len(owed) - len(unpaid)}人"), ("未付", f"{len(unpaid)}人"), ("未付金额", owing)])
        totals.cell(totals.max_row, 2).number_format = MONEY_FORMAT
    if summary.waiting:
        _rows(totals, [("候补", "、".join(w.participant for w in summary.waiting))])
    if summary.unknown:
        _rows(totals, [("待确认(商品不在本团)", "、".join(u.participant for u in summary.unknown))])

    pickup = wb.create_sheet("自提")
    _rows(pickup, [PICKUP_HEADER + ((PAID_HEADER,) if paid else ())])
    for address, lines in summary.pickup:
        _rows(
            pickup,
            [
                (address, line.participant, _items_text(line), _money(line.amount), line.remark)
                + ((_paid_cell(owed[(line.group, line.participant)]),) if paid else ())
                for line in lines
            ],
            money=(4,),
        )

    widths_of = (
        (detail, (18, 16, 14, 8, 6, 10, 12, 24, 16)),
        (totals, (20, 40, 8, 12)),
        (pickup, (12, 18, 30, 12, 24, 16)),
    )
    for sheet, widths in widths_of:
        for col, width in zip("ABCDEFGHI", widths, strict=False):
            sheet.column_dimensions[col].width = width
        sheet.freeze_panes = "A2"
    wb.properties.title = summary.title + (f"({summary.group})" if summary.group else "")

    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _paid_cell(due: Due) -> str:
    """A participant's payment as the leader reads it: 已付, 未付, 还差39.90元 (an order changed after paying)."""
    if not due.unpaid:
        return "已付"
    return f"还差{fmt_money(due.owing)}元" if due.paid else "未付"


def _items_text(line: ParticipantLine) -> str:
    return " ".join(str(it) for it in line.items) or "(未写数量)"


def _num(q: Decimal) -> int | float:
    return int(q) if q == q.to_integral_value() else float(fmt_qty(q))


def _money(amount: Amount) -> Decimal | str | None:
    """An amount's cell: the number (the priced part), `未计价` when nothing of it has a price."""
    if amount.unpriced and amount.value == 0:
        return UNPRICED
    return amount.value


def _rows(sheet: Worksheet, rows: list[tuple[Any, ...]], money: tuple[int, ...] = ()) -> None:
    """Append `rows`; the cells of the `money` columns (1-based) that hold numbers get the money format."""
    for values in rows:
        sheet.append([_safe(v) for v in values])
        for cell in sheet[sheet.max_row]:
            # A member's text that starts with "=" is data, not a formula to run in the leader's Excel.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            elif cell.column in money and isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT


def _safe(value: Any) -> Any:
    # Control characters (pasted from WeChat) make openpyxl refuse the whole workbook.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
