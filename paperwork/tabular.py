"""Reading and writing the offices' spreadsheets: CSV or XLSX, first sheet, header row."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

SUFFIXES = (".csv", ".xlsx")
Cell = str | int | date | None


class TableError(Exception):
    """The file cannot be read as a table at all (not row errors: those are reported per row)."""

    def __init__(self, kind: str, path: Path) -> None:
        super().__init__(kind)
        self.kind = kind
        self.path = path


@dataclass(frozen=True)
class Table:
    headers: list[str]
    # (row number as the user sees it in the file, values by header)
    rows: list[tuple[int, dict[str, str]]]


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
    return str(value).strip()


def _rows(values: Iterable[Sequence[object]]) -> Table:
    iterator = iter(values)
    header_row = next(iterator, None)
    if header_row is None:
        return Table([], [])
    headers = [_cell_text(h) for h in header_row]
    rows = []
    for number, raw in enumerate(iterator, start=2):
        cells = [_cell_text(v) for v in raw]
        if not any(cells):
            continue
        rows.append(
            (number, dict(zip(headers, cells + [""] * (len(headers) - len(cells)), strict=False)))
        )
    return Table(headers, rows)


def read_table(path: Path) -> Table:
    if path.suffix.lower() not in SUFFIXES:
        raise TableError("suffix", path)
    if not path.is_file():
        raise TableError("missing", path)
    if path.suffix.lower() == ".xlsx":
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise TableError("unreadable", path) from error
        try:
            return _rows(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError("encoding", path) from error
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    return _rows(csv.reader(io.StringIO(text), dialect))


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """CSV (UTF-8 with BOM, so Excel shows the diacritics) or XLSX by the file's suffix."""
    if path.suffix.lower() not in SUFFIXES:
        raise TableError("suffix", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(
                    ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
                )
        return
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers))
    widths = [len(h) for h in headers]
    for row in rows:
        sheet.append(list(row))
        for i, value in enumerate(row):
            widths[i] = max(widths[i], min(60, len(str(value or ""))))
    for i, cell in enumerate(sheet[1], start=1):
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(i)].width = widths[i - 1] + 2
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    workbook.save(path)
