"""The report as files the offices use as they are: XLSX (four sheets) and CSV (the summary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from locales import Translator
from models.clock import local_date
from models.explanations import ExplanationRow, ExplanationState
from models.reports import Period, Report, TableName
from models.statistics import FiveColumns
from paperwork.cell_safety import neutralise
from paperwork.exporting import document_name
from paperwork.tabular import write_csv_rows

Row = Sequence[object]
BOLD = Font(bold=True)
HEADING = Alignment(wrap_text=True, vertical="center")


def period_title(t: Translator, report: Report) -> str:
    names = {
        Period.WEEKLY: t._("Weekly report"),
        Period.BIWEEKLY: t._("Report for the briefing meeting (two weeks)"),
        Period.MONTHLY: t._("Monthly report"),
        Period.QUARTERLY: t._("Quarterly report"),
    }
    return t._(
        "{name}: {start} – {end}",
        name=names[report.kind],
        start=t.date(report.start),
        end=t.date(report.end),
    )


def _rate(columns: FiveColumns) -> float | None:
    return None if columns.on_time_rate is None else round(columns.on_time_rate, 4)


def five_headers(t: Translator) -> list[str]:
    """The standard five columns and the on-time rate, as every table heads them."""
    return [
        t._("Assigned"),
        t._("Done on time"),
        t._("Done late"),
        t._("In progress in time"),
        t._("Overdue"),
        t._("On-time rate"),
    ]


def summary_table(t: Translator, report: Report) -> tuple[list[str], list[Row]]:
    header = [
        t._("Unit code"),
        t._("Unit"),
        *five_headers(t),
        t._("Overdue, previous period"),
        t._("Change in overdue"),
        t._("Not updated"),
        t._("At risk"),
    ]
    rows: list[Row] = []
    for unit in report.units:
        c, before = unit.columns, report.previous.get(unit.code, FiveColumns())
        rows.append(
            [
                unit.code,
                unit.name,
                c.assigned,
                c.done_on_time,
                c.done_late,
                c.open_in_time,
                c.overdue,
                _rate(c),
                before.overdue,
                c.overdue - before.overdue,
                report.not_updated.get(unit.code, 0),
                report.at_risk.get(unit.code, 0),
            ]
        )
    c, before = report.total, report.previous_total
    rows.append(
        [
            "",
            t._("Total"),
            c.assigned,
            c.done_on_time,
            c.done_late,
            c.open_in_time,
            c.overdue,
            _rate(c),
            before.overdue,
            c.overdue - before.overdue,
            sum(report.not_updated.values()),
            sum(report.at_risk.values()),
        ]
    )
    return header, rows


def explanation_state(t: Translator, row: ExplanationRow) -> str:
    if row.state is ExplanationState.ANSWERED:
        return t._("explained")
    if row.state is ExplanationState.MISSED:
        return t._("not explained")
    return t._("awaiting the answer")


def explanations_table(t: Translator, report: Report) -> Table:
    return Table(
        t._("Explanations"),
        [
            t._("Task"),
            t._("Content"),
            t._("Lead unit"),
            t._("Deadline"),
            t._("Asked on"),
            t._("Answer due by"),
            t._("State"),
            t._("Answered on"),
            t._("Answered by"),
            t._("Reason given"),
        ],
        [
            [
                row.task_id,
                row.content,
                row.unit_name,
                row.deadline,
                local_date(row.requested_on),
                row.due_date,
                explanation_state(t, row),
                local_date(row.answered_at) if row.answered_at else None,
                row.answered_by or "",
                row.reason,
            ]
            for row in report.explanations
        ],
        dates=frozenset({3, 4, 5, 7}),
    )


@dataclass(frozen=True)
class Table:
    """One table of the report: a sheet of the workbook, or a CSV file."""

    name: str  # the sheet's title
    header: list[str]
    rows: list[Row]
    dates: frozenset[int] = frozenset()
    percents: frozenset[int] = frozenset()
    total_last: bool = False


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


def tables(t: Translator, report: Report) -> dict[TableName, Table]:
    """The four tables, in the workbook's order."""
    header, rows = summary_table(t, report)
    problems = {
        "no specialist": t._("no specialist named"),
        "no leader": t._("no leader named"),
        "no deadline": t._("no deadline (ongoing)"),
    }
    return {
        TableName.SUMMARY: Table(
            t._("Summary"), header, rows, percents=frozenset({7}), total_last=True
        ),
        TableName.OVERDUE: Table(
            t._("Overdue"),
            [
                t._("Task"),
                t._("Content"),
                t._("Lead unit"),
                t._("Assigned by"),
                t._("Deadline"),
                t._("Days overdue"),
                t._("Leader in charge"),
                t._("Specialist"),
            ],
            [
                [
                    row.task_id,
                    row.content,
                    row.unit_name,
                    document_name(t, row.document) if row.document else "",
                    row.deadline,
                    row.days_overdue,
                    row.leader_name or "",
                    row.specialist_name or "",
                ]
                for row in report.overdue
            ],
            dates=frozenset({4}),
        ),
        TableName.OFFICIALS: Table(
            t._("By official"),
            [t._("Code"), t._("Full name"), t._("Unit"), t._("Role"), *five_headers(t)],
            [
                [
                    p.code,
                    p.name,
                    p.unit_name,
                    t._("leader in charge") if p.role == "leader" else t._("specialist"),
                    p.columns.assigned,
                    p.columns.done_on_time,
                    p.columns.done_late,
                    p.columns.open_in_time,
                    p.columns.overdue,
                    _rate(p.columns),
                ]
                for p in report.officials
            ],
            percents=frozenset({9}),
        ),
        TableName.ERRORS: Table(
            t._("Data errors"),
            [t._("Task"), t._("Content"), t._("Lead unit"), t._("Problem")],
            [
                [e.task.id, e.task.content, e.task.lead_unit.name, problems[e.problem]]
                for e in report.errors
            ],
        ),
        TableName.EXPLANATIONS: explanations_table(t, report),
    }


def write_xlsx(target: Path | BinaryIO, report: Report, t: Translator) -> None:
    workbook = Workbook(write_only=True)
    for name, table in tables(t, report).items():
        _sheet(workbook, table, period_title(t, report) if name is TableName.SUMMARY else "")
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)


def write_csv(
    path: Path, report: Report, t: Translator, table: TableName = TableName.SUMMARY
) -> None:
    """One of the tables, UTF-8 with a BOM so Excel shows the diacritics; dates ISO."""
    chosen = tables(t, report)[table]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        write_csv_rows(file, chosen.header, chosen.rows)
