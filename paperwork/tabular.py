"""Reading and writing the offices' spreadsheets: CSV or XLSX, first sheet, header row."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl loads only where a workbook is read or written, not with the bot
    from openpyxl.worksheet.worksheet import Worksheet

from paperwork.cell_safety import neutralise, restore

SUFFIXES = (".csv", ".xlsx")
Cell = str | int | date | None


class TableError(Exception):
    """The file cannot be read as a table at all (not row errors: those are reported per row)."""

    def __init__(self, kind: str, path: Path, line: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Column:
    letter: str  # as the spreadsheet names it: A, B, … AA
    header: tuple[str, ...]  # the header cell, or (top, below) in a two-row header
    has_data: bool


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    # (row number as the user sees it in the file, values by column position)
    rows: list[tuple[int, list[str]]]

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """Rows by the header's text (the last header row), for a file we wrote ourselves."""
        names = [c.header[-1] for c in self.columns]
        return [(number, dict(zip(names, values, strict=True))) for number, values in self.rows]


def header_key(header: str) -> str:
    """`Số ký hiệu` → `so_ky_hieu`: headers compared without marks, case or punctuation."""
    text = unicodedata.normalize("NFD", header.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return "_".join(words)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore(str(value)).strip()


def column_letter(number: int) -> str:
    """A spreadsheet's column name, 1 → A, 27 → AA (openpyxl's, without loading openpyxl)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _table(lines: list[list[str]], header_rows: int) -> Table:
    headers, data = lines[:header_rows], lines[header_rows:]
    width = max((len(line) for line in lines), default=0)
    padded = [line + [""] * (width - len(line)) for line in headers]
    rows = [
        (number, line + [""] * (width - len(line)))
        for number, line in enumerate(data, start=header_rows + 1)
        if any(line)
    ]
    columns = [
        Column(
            column_letter(i + 1),
            tuple(line[i] for line in padded),
            any(values[i] for _, values in rows),
        )
        for i in range(width)
    ]
    return Table(columns, rows)


def table_of(lines: list[list[str]]) -> Table:
    """A table from rows in memory, the first the header: read exactly as a file would be."""
    return _table(lines, 1)


def _unmerged(sheet: Worksheet) -> tuple[list[list[object]], int]:
    """The sheet's cells with a merged cell's value in every cell it covers, and how many rows
    the header takes: two when a cell of the first row is merged, as offices merge
    `Đơn vị chủ trì` over two columns and name each of them in a second header row."""
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_rows = 1
    for merged in sheet.merged_cells.ranges:
        if merged.min_row == 1:
            header_rows = 2
        top = values[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                values[row - 1][col - 1] = top
    return values, header_rows


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        # Not read-only: only a full sheet knows its merged cells.
        workbook = load_workbook(path, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise TableError("unreadable", path) from error
    try:
        values, header_rows = _unmerged(workbook.worksheets[0])
    finally:
        workbook.close()
    lines = [[_cell_text(v) for v in row] for row in values]
    while lines and not any(lines[-1]):
        lines.pop()
    return _table(lines, header_rows if len(lines) >= header_rows else 1)


def csv_delimiter(header_line: str) -> str:
    """Comma, or semicolon (Excel in a Vietnamese locale): chosen by the header row alone,
    never by the data, so a quote or a semicolon far down the file cannot change how the
    file is read. The one that splits the header into more columns wins; a tie is a comma."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in (",", ";")}
    return ";" if counts[";"] > counts[","] else ","


def _read_csv(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError("encoding", path) from error
    delimiter = csv_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter, strict=True)
    lines: list[list[str]] = []
    while True:
        opened = reader.line_num + 1  # where the record with the stray quote begins
        try:
            line = next(reader, None)
        except csv.Error as error:
            raise TableError("quoting", path, opened) from error
        if line is None:
            break
        lines.append([_cell_text(v) for v in line])
    return _table(lines, 1) if lines else Table([], [])


def read_table(path: Path) -> Table:
    if path.suffix.lower() not in SUFFIXES:
        raise TableError("suffix", path)
    if not path.is_file():
        raise TableError("missing", path)
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    return _read_csv(path)


def csv_value(value: object) -> object:
    """A value as every CSV we write holds it: ISO dates, nothing for None, safe text."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def write_csv_rows(file: IO[str], headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """The one CSV dialect we write (and read): comma, double quotes, quotes doubled."""
    writer = csv.writer(file, csv.excel)
    writer.writerow([csv_value(h) for h in headers])
    for row in rows:
        writer.writerow([csv_value(v) for v in row])


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """CSV (UTF-8 with BOM, so Excel shows the diacritics) or XLSX by the file's suffix."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if path.suffix.lower() not in SUFFIXES:
        raise TableError("suffix", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            write_csv_rows(file, headers, rows)
        return
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None
    sheet.append([neutralise(h) for h in headers])
    widths = [len(h) for h in headers]
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        for i, value in enumerate(row):
            widths[i] = max(widths[i], min(60, len(str(value or ""))))
    for i, cell in enumerate(sheet[1], start=1):
        cell.font = Font(bold=True)
        sheet.column_dimensions[column_letter(i)].width = widths[i - 1] + 2
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    workbook.save(path)
