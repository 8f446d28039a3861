"""The report workbook as openpyxl's write-only mode wrote it, kept to compare with
XlsxWriter (`python -m bench.report`): same sheets, cells and formats."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from locales import Translator
from models.reports import Report, TableName
from paperwork.cell_safety import neutralise
from paperwork.report_files import Table, period_title, tables

BOLD = Font(bold=True)
HEADING = Alignment(wrap_text=True, vertical="center")


def _sheet(workbook: Workbook, table: Table, page_title: str = "") -> None:
    """One printable sheet, streamed (write-only): 77,000 overdue rows take seconds, not a minute."""
    header, rows, dates, percents = table.header, table.rows, table.dates, table.percents
    sheet = workbook.create_sheet(table.name[:31])
    widths = [len(h) for h in header]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], min(60, len(str(value if value is not None else ""))))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width + 2
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    if page_title:
        sheet.oddHeader.center.text = page_title

    def cell(value: object, column: int, bold: bool = False) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=neutralise(value))
        if bold:
            written.font = BOLD
        if column in dates:
            written.number_format = "DD/MM/YYYY"
        elif column in percents:
            written.number_format = "0.0%"
        return written

    heading = []
    for title_text in header:
        written = WriteOnlyCell(sheet, value=neutralise(title_text))
        written.font = BOLD
        written.alignment = HEADING
        heading.append(written)
    sheet.append(heading)
    styled = dates | percents
    for number, row in enumerate(rows, start=1):
        bold = table.total_last and number == len(rows)
        if bold:
            sheet.append([cell(value, i, bold) for i, value in enumerate(row)])
        elif styled:
            sheet.append([cell(v, i) if i in styled else neutralise(v) for i, v in enumerate(row)])
        else:
            sheet.append([neutralise(v) for v in row])


def write_xlsx(target: Path, report: Report, t: Translator) -> None:
    workbook = Workbook(write_only=True)
    for name, table in tables(t, report).items():
        _sheet(workbook, table, period_title(t, report) if name is TableName.SUMMARY else "")
    workbook.save(target)
