"""The report as the workbook the offices print: one sheet per table of `report_files`.

Written by rustpy-xlsxwriter (rust_xlsxwriter underneath): the city's 90,000 overdue rows in
about a third of XlsxWriter's own time for the same cells (README, Reports). Our Python work is
done a column at a time: the widths, and the neutralising of text that could run as a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from locales import Translator
from models.reports import Report, TableName
from paperwork.cell_safety import RISKY_FIRST, neutralise
from paperwork.report_files import Table, period_title, tables

if TYPE_CHECKING:
    from rustpy_xlsxwriter import Format

DATE, PERCENT = "DD/MM/YYYY", "0.0%"
WIDEST = 60  # characters: a longer value wraps to the next page rather than widening its column
OPTIONS = ("column_widths", "column_formats", "header_format", "row_formats", "page_setup")


def write_xlsx(target: Path | BinaryIO, report: Report, t: Translator) -> None:
    """The report's sheets, printable (landscape, one page wide, the heading on every page);
    text is never read as a formula."""
    from rustpy_xlsxwriter import Format, write_worksheets

    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    heading = Format().set_bold().set_text_wrap().set_align("vcenter")
    sheets: list[tuple[str, list[dict[str, object]]]] = []
    options: dict[str, dict[str, Any]] = {key: {} for key in (*OPTIONS, "dedupe_strings")}
    for name, table in tables(t, report).items():
        title = table.name[:31]
        header = [str(neutralise(h)) for h in table.header]
        # The writer takes a row as a mapping from heading to value: two equal headings
        # would merge their columns without a word.
        if len(set(header)) != len(header):
            raise ValueError(f"two columns of the sheet {title!r} have the same heading")
        columns = _safe_columns(table)
        sheets.append((title, _records(header, columns)))
        options["column_widths"][title] = [w + 2 for w in _widths(table.header, columns)]
        options["column_formats"][title] = _column_formats(Format, header, table)
        options["header_format"][title] = heading
        page: dict[str, object] = {"landscape": True, "fit_to_pages": (1, 0), "repeat_rows": 0}
        if name is TableName.SUMMARY:
            page["header"] = "&C" + period_title(t, report).replace("&", "&&")
        options["page_setup"][title] = page
        if table.total_last and table.rows:
            options["row_formats"][title] = {len(table.rows): Format().set_bold()}
            # A streamed sheet writes the format of its last row twice (rustpy-xlsxwriter
            # 0.8), which Excel may refuse: a sheet held in memory writes it once.
            options["dedupe_strings"][title] = True
    write_worksheets(sheets, target, freeze_panes={"general": {"row": 1, "col": 0}}, **options)


def _safe_columns(table: Table) -> list[Sequence[object]]:
    """The table's columns, each text that could run as a formula quoted (`neutralise`);
    a column without one is passed on as it is."""
    columns: list[Sequence[object]] = list(zip(*table.rows, strict=True))
    for i, column in enumerate(columns):
        if not RISKY_FIRST.isdisjoint(map(_first, _texts(column))):
            columns[i] = [neutralise(v) for v in column]
    return columns


_first = itemgetter(slice(None, 1))


def _texts(column: Sequence[object]) -> Sequence[str]:
    kinds = set(map(type, column))
    if kinds == {str}:
        return column  # type: ignore[return-value]
    return [v for v in column if v.__class__ is str] if str in kinds else []


def _records(header: list[str], columns: list[Sequence[object]]) -> list[dict[str, object]]:
    """A row as the writer takes it: a mapping from heading to value."""
    if not columns:  # the header alone: the writer reads the columns from the first record
        return [dict.fromkeys(header)]
    return [dict(zip(header, row, strict=True)) for row in zip(*columns, strict=True)]


def _column_formats(
    format_class: type[Format], header: list[str], table: Table
) -> dict[str, Format]:
    formats = {header[i]: format_class().set_num_format(DATE) for i in table.dates}
    formats |= {header[i]: format_class().set_num_format(PERCENT) for i in table.percents}
    return formats


def _widths(header: list[str], columns: list[Sequence[object]]) -> list[int]:
    """Each column as wide as its longest value or heading, at most `WIDEST` for a value."""
    widths = [len(h) for h in header]
    for i, column in enumerate(columns):
        kinds = set(map(type, column))
        longest = max(map(len, _texts(column)), default=0)
        if kinds & {int, float}:
            numbers = [v for v in column if v.__class__ in (int, float)]
            shown = {min(numbers), max(numbers), *(v for v in numbers if v.__class__ is float)}
            longest = max(longest, *map(len, map(str, shown)))
        if kinds & {date, datetime}:
            longest = max(longest, len("DD/MM/YYYY"))
        widths[i] = max(widths[i], min(WIDEST, longest))
    return widths
