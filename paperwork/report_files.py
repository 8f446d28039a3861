"""The report as tables, as the offices use them: the sheets of the workbook
(`paperwork/report_workbook.py`) and the CSV files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from locales import Translator
from models.clock import local_date
from models.documents import Document
from models.explanations import ExplanationRow, ExplanationState
from models.reports import Period, Report, TableName
from models.statistics import FiveColumns
from paperwork.exporting import document_name
from paperwork.tabular import write_csv_rows

Row = Sequence[object]


def period_title(t: Translator, report: Report) -> str:
    return period_heading(t, report.kind, report.start, report.end)


def period_heading(t: Translator, kind: Period, start: date, end: date) -> str:
    """ "Monthly report: 01/11/2026 – 30/11/2026": the title of a period's report."""
    names = {
        Period.WEEKLY: t._("Weekly report"),
        Period.BIWEEKLY: t._("Report for the briefing meeting (two weeks)"),
        Period.MONTHLY: t._("Monthly report"),
        Period.QUARTERLY: t._("Quarterly report"),
    }
    return t._(
        "{name}: {start} – {end}",
        name=names[kind],
        start=t.date(start),
        end=t.date(end),
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
        *score_headers(t, report),
    ]
    rows: list[Row] = []
    for unit in report.units:
        c, before = unit.columns, report.previous.get(unit.code, FiveColumns())
        scored = report.unit_scores.get(unit.code)
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
                scored.score if scored else None,
                scored.rank if scored else None,
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
            None,
            None,
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


def score_headers(t: Translator, report: Report) -> list[str]:
    """The score, with the formula's version so a disputed number can be recomputed, and the place."""
    return [t._("Score (formula {version})", version=report.formula_version), t._("Place")]


@dataclass(frozen=True)
class Table:
    """One table of the report: a sheet of the workbook, or a CSV file."""

    name: str  # the sheet's title
    header: list[str]
    rows: list[Row]
    dates: frozenset[int] = frozenset()
    percents: frozenset[int] = frozenset()
    total_last: bool = False


def tables(t: Translator, report: Report) -> dict[TableName, Table]:
    """The tables, in the workbook's order."""
    header, rows = summary_table(t, report)
    problems = {
        "no specialist": t._("no specialist named"),
        "no leader": t._("no leader named"),
        "no deadline": t._("no deadline (ongoing)"),
    }
    named: dict[int, str] = {}

    def documents(document: Document | None) -> str:
        """Each source document named once: many tasks come from one document."""
        if document is not None and document.id not in named:
            named[document.id] = document_name(t, document)
        return "" if document is None else named[document.id]

    roles = {"leader": t._("leader in charge"), "specialist": t._("specialist")}
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
                    documents(row.document),
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
            [
                t._("Code"),
                t._("Full name"),
                t._("Unit"),
                t._("Role"),
                *five_headers(t),
                *score_headers(t, report),
            ],
            [
                [
                    p.code,
                    p.name,
                    p.unit_name,
                    roles[p.role],
                    p.columns.assigned,
                    p.columns.done_on_time,
                    p.columns.done_late,
                    p.columns.open_in_time,
                    p.columns.overdue,
                    _rate(p.columns),
                    *_official_score(report, p.code, p.role),
                ]
                for p in report.officials
            ],
            percents=frozenset({9}),
        ),
        TableName.ERRORS: Table(
            t._("Data errors"),
            [t._("Task"), t._("Content"), t._("Lead unit"), t._("Problem")],
            [[e.task_id, e.content, e.unit_name, problems[e.problem]] for e in report.errors],
        ),
        TableName.EXPLANATIONS: explanations_table(t, report),
        TableName.CONTRIBUTIONS: Table(
            t._("Coordination"),
            [
                t._("Coordinating unit"),
                t._("Task"),
                t._("Lead unit"),
                t._("Date"),
                t._("Its part (%)"),
                t._("Reported by"),
                t._("Content"),
            ],
            [
                [
                    c.unit_name,
                    c.task_id,
                    c.lead_unit_name,
                    c.day,
                    c.percent if c.percent is not None else "",
                    c.official_name or "",
                    c.content,
                ]
                for c in report.contributions
            ],
            dates=frozenset({3}),
        ),
    }


def _official_score(report: Report, code: str, role: str) -> list[object]:
    scored = report.official_scores.get((code, role))
    return [scored.score, scored.rank] if scored else [None, None]


def write_csv(
    path: Path, report: Report, t: Translator, table: TableName = TableName.SUMMARY
) -> None:
    """One of the tables, UTF-8 with a BOM so Excel shows the diacritics; dates ISO."""
    chosen = tables(t, report)[table]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        write_csv_rows(file, chosen.header, chosen.rows)
