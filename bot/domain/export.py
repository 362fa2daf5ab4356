"""A buy's summary as an xlsx workbook for the leader: 明细 (every line), 汇总 (totals and 成团), 自提 (by address).

Pure over a `BuySummary` (the one summary implementation); the backend serves it, the leader's `导出` writes it.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.summary import BuySummary, ItemQty, ParticipantLine, fmt_qty, status_line

if TYPE_CHECKING:
    from bot.config import Buy

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DETAIL_HEADER = ("接龙人", "群", "商品", "数量", "单位", "备注")
TOTALS_HEADER = ("商品", "数量", "单位")
PICKUP_HEADER = ("地址", "接龙人", "商品", "备注")


def export_xlsx(summary: BuySummary, buy: Buy, path: str | Path | None = None) -> bytes:
    """The workbook's bytes; written to `path` too when one is given."""
    wb = Workbook()
    detail = wb.active
    assert detail is not None  # a new Workbook always has its first sheet
    detail.title = "明细"
    _rows(detail, [DETAIL_HEADER])
    for line in summary.lines:
        items: tuple[ItemQty | None, ...] = line.items or (None,)
        _rows(
            detail,
            [
                (
                    line.participant,
                    line.group,
                    it.product if it else "",
                    _num(it.qty) if it else None,
                    (it.unit or "") if it else "",
                    line.remark,
                )
                for it in items
            ],
        )

    totals = wb.create_sheet("汇总")
    _rows(totals, [TOTALS_HEADER])
    _rows(totals, [(t.product + ("(?)" if not t.known else ""), _num(t.qty), t.unit or "") for t in summary.totals])
    s = summary.status
    _rows(
        totals,
        [
            (),
            ("成团", status_line(s, buy)),
            ("人数", s.members),
            ("目标人数", s.target),
            ("还差", s.missing),
            ("已成团", "是" if s.formed else "否"),
            ("当前价", _num(s.price) if s.price is not None else None),
            ("下一档价", _num(s.next_price) if s.next_price is not None else None),
        ],
    )
    if summary.waiting:
        _rows(totals, [("候补", "、".join(w.participant for w in summary.waiting))])
    if summary.unknown:
        _rows(totals, [("待确认(商品不在本团)", "、".join(u.participant for u in summary.unknown))])

    pickup = wb.create_sheet("自提")
    _rows(pickup, [PICKUP_HEADER])
    for address, lines in summary.pickup:
        _rows(pickup, [(address, line.participant, _items_text(line), line.remark) for line in lines])

    for sheet, widths in ((detail, (18, 16, 14, 8, 6, 24)), (totals, (20, 40, 8)), (pickup, (12, 18, 30, 24))):
        for col, width in zip("ABCDEF", widths, strict=False):
            sheet.column_dimensions[col].width = width
        sheet.freeze_panes = "A2"
    wb.properties.title = summary.title + (f"({summary.group})" if summary.group else "")

    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _items_text(line: ParticipantLine) -> str:
    return " ".join(str(it) for it in line.items) or "(未写数量)"


def _num(q: Decimal) -> int | float:
    return int(q) if q == q.to_integral_value() else float(fmt_qty(q))


def _rows(sheet: Worksheet, rows: list[tuple[Any, ...]]) -> None:
    for values in rows:
        sheet.append([_safe(v) for v in values])
        for cell in sheet[sheet.max_row]:
            # A member's text that starts with "=" is data, not a formula to run in the leader's Excel.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"


def _safe(value: Any) -> Any:
    # Control characters (pasted from WeChat) make openpyxl refuse the whole workbook.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
