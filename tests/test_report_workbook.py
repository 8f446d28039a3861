"""The report's workbook as rustpy-xlsxwriter writes it, read back: every sheet with its
heading even when empty, dates as dates, each row once in the file, text never a formula."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from locales import translator
from models.calendar import WorkingCalendar
from models.reports import Period, build_report
from paperwork.report_files import tables
from paperwork.report_workbook import write_xlsx
from tests.city import City

T = translator("vi")


async def monthly(session):
    return await build_report(
        session, Period.MONTHLY, date(2026, 11, 25), WorkingCalendar(), due_soon_days=3, past=False
    )


async def test_every_table_is_read_back_as_written(session, city: City) -> None:
    """Same sheets, headings and values as the tables; a date a date, a number a number."""
    report = await monthly(session)
    book = BytesIO()
    write_xlsx(book, report, T)
    read = load_workbook(BytesIO(book.getvalue()))
    written = tables(T, report).values()
    assert read.sheetnames == [table.name for table in written]
    for table in written:
        rows = [[c.value for c in row] for row in read[table.name].iter_rows()]
        assert rows[0] == table.header
        assert len(rows) == 1 + len(table.rows)  # an empty table: its heading alone
        for got, want in zip(rows[1:], table.rows, strict=True):
            got = [v.date() if isinstance(v, datetime) else v for v in got]
            assert got == [None if v == "" else v for v in want]


async def test_each_row_is_in_the_file_once(session, city: City) -> None:
    """The summary's bold total row (a row format on a sheet's last row) is written once: a
    row written twice is a file Excel offers to repair."""
    book = BytesIO()
    write_xlsx(book, await monthly(session), T)
    with zipfile.ZipFile(book) as files:
        sheets = [n for n in files.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 6
        for name in sheets:
            rows = Counter(re.findall(rb'<row r="(\d+)"', files.read(name)))
            assert all(n == 1 for n in rows.values()), (name, rows)
    summary = load_workbook(BytesIO(book.getvalue()))["Tổng hợp"]
    total = summary.max_row
    assert summary.cell(total, 2).value == "Tổng" and summary.cell(total, 2).font.bold
    assert summary.cell(total, 8).number_format == "0.0%"
    assert not summary.cell(total - 1, 2).font.bold


async def test_vietnamese_text_and_a_formula_look_alike_in_a_long_column(
    session, city: City
) -> None:
    """Only the risky text of a column is quoted, wherever it is in the column."""
    report = await monthly(session)
    overdue = report.overdue[0]
    report.overdue[:] = [
        overdue._replace(task_id=n, content=f"Rà soát hồ sơ {n}") for n in range(500)
    ]
    report.overdue.append(overdue._replace(task_id=500, content="=HYPERLINK(1)"))
    book = BytesIO()
    write_xlsx(book, report, T)
    sheet = load_workbook(BytesIO(book.getvalue()))["Quá hạn"]
    contents = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert contents[:2] == ["Rà soát hồ sơ 0", "Rà soát hồ sơ 1"]
    assert contents[-1] == "'=HYPERLINK(1)" and len(contents) == 501


async def test_two_columns_with_one_heading_are_refused_not_merged(
    session, city: City, monkeypatch
) -> None:
    """The writer takes rows as heading → value: a translation giving two columns the same
    heading must fail loudly, not lose one of them."""
    from paperwork import report_workbook
    from paperwork.report_files import Table, TableName

    def twice(t, report):  # type: ignore[no-untyped-def]
        return {TableName.SUMMARY: Table("Tổng hợp", ["Đơn vị", "Đơn vị"], [["A", "B"]])}

    monkeypatch.setattr(report_workbook, "tables", twice)
    with pytest.raises(ValueError, match="same heading"):
        write_xlsx(BytesIO(), await monthly(session), T)
