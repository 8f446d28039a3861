"""The report workbook as XlsxWriter wrote it before rustpy-xlsxwriter, kept to compare with
(`python -m bench.report`): same sheets, cells and formats, each row one `write_row`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from locales import Translator
from models.reports import Report, TableName
from paperwork.cell_safety import neutralise
from paperwork.report_files import Row, Table, period_title, tables


def write_xlsx(target: Path | BinaryIO, report: Report, t: Translator) -> None:
    """The report's sheets; text is never read as a formula."""
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    to_file = isinstance(target, Path)  # rows go to a temporary file; a stream is in memory
    never = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = Workbook(target, {**never, "constant_memory": to_file, "in_memory": not to_file})
    for name, table in tables(t, report).items():
        _sheet(workbook, table, period_title(t, report) if name is TableName.SUMMARY else "")
    workbook.close()


def _sheet(workbook: Workbook, table: Table, page_title: str = "") -> None:
    """One printable sheet, streamed row by row: each row in one `write_row`, its dates and
    percentages shown by their column's format (a cell written without a format of its own
    takes its column's). Only text is passed through `neutralise`."""
    header, rows = table.header, table.rows
    sheet = workbook.add_worksheet(table.name[:31])
    formats = _formats(workbook)
    for i, width in enumerate(_widths(header, rows)):
        styled = formats["date"] if i in table.dates else None
        styled = formats["percent"] if i in table.percents else styled
        sheet.set_column(i, i, width + 2, styled)
    sheet.freeze_panes(1, 0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    if page_title:
        sheet.set_header("&C" + page_title.replace("&", "&&"))
    sheet.write_row(0, 0, [neutralise(h) for h in header], formats["heading"])
    write_row = sheet.write_row
    last = len(rows) if table.total_last else -1
    for number, row in enumerate(rows, start=1):
        values = [neutralise(v) if v.__class__ is str else v for v in row]
        if number == last:
            _bold_row(sheet, formats, number, values, table)
        else:
            write_row(number, 0, values)


def _bold_row(
    sheet: Worksheet, formats: dict[str, Format], number: int, values: list[object], table: Table
) -> None:
    """The total row: every cell bold, its dates and percentages with their formats."""
    sheet.write_row(number, 0, values, formats["bold"])
    for i in table.dates:
        if isinstance(values[i], date):
            sheet.write_datetime(number, i, values[i], formats["bold date"])
    for i in table.percents:
        if values[i] is not None:
            sheet.write_number(number, i, values[i], formats["bold percent"])  # type: ignore[arg-type]


def _widths(header: list[str], rows: list[Row]) -> list[int]:
    """Each column as wide as its longest value or heading, at most 60 characters for a
    value: worked out a column at a time."""
    widths = [len(h) for h in header]
    for i, column in enumerate(zip(*rows, strict=True)):
        texts = (str(v) for v in column if v is not None)
        widths[i] = max(widths[i], min(60, max(map(len, texts), default=0)))
    return widths


def _formats(workbook: Workbook) -> dict[str, Format]:
    if not hasattr(workbook, "dondoc_formats"):
        workbook.dondoc_formats = {  # type: ignore[attr-defined]
            "heading": workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"}),
            "bold": workbook.add_format({"bold": True}),
            "date": workbook.add_format({"num_format": "DD/MM/YYYY"}),
            "bold date": workbook.add_format({"bold": True, "num_format": "DD/MM/YYYY"}),
            "percent": workbook.add_format({"num_format": "0.0%"}),
            "bold percent": workbook.add_format({"bold": True, "num_format": "0.0%"}),
        }
    return workbook.dondoc_formats  # type: ignore[attr-defined,no-any-return]
