"""A report in chat: its summary in a few lines, and its chart and workbook as files.

The same wording for `/baocao` and the report jobs, so what a reader sees agrees everywhere.
"""

from __future__ import annotations

from io import BytesIO

from locales import Translator
from messages.cards import five_columns, total_line
from models.attachments import File, FileKind
from models.organization import Unit
from models.reports import Period, Report
from paperwork.report_files import period_title
from paperwork.report_workbook import write_xlsx

REPORT_UNITS = 10
SCORED_UNITS = 3  # the lowest scores named in a monthly or quarterly summary


def _change(t: Translator, now: int, before: int) -> str:
    if now == before:
        return t._("unchanged")
    sign = "+" if now > before else "−"
    return f"{sign}{t.number(abs(now - before))}"


def report_title(t: Translator, report: Report, unit: Unit | None = None) -> str:
    """The title a report's summary opens with when asked for (and kept for the same ask)."""
    return "📊 " + period_title(t, report) + (f" — {unit.name}" if unit else "")


def summary_text(t: Translator, report: Report, title: str | None = None) -> str:
    """The report in a few lines: totals, the change in overdue, the worst units."""
    lines = [
        title or report_title(t, report),
        t._("Columns: assigned · done on time · done late · in progress in time · overdue"),
        total_line(t, report.total),
        t._(
            "Overdue against the previous period: {change}",
            change=_change(t, report.total.overdue, report.previous_total.overdue),
        ),
    ]
    worst = [u for u in report.units if u.columns.overdue or u.columns.done_late][:REPORT_UNITS]
    if worst:
        lines.append(t._("Units with the most overdue tasks:"))
        lines += [
            f"{n}. {u.name}: {five_columns(t, u.columns)}" for n, u in enumerate(worst, start=1)
        ]
    lines += score_lines(t, report)
    if report.errors:
        lines.append(
            t.ngettext(
                "⚠️ {n} open task has no responsible person or no deadline: see the workbook.",
                "⚠️ {n} open tasks have no responsible person or no deadline: see the workbook.",
                len({e.task_id for e in report.errors}),
            )
        )
    return "\n".join(lines)


def score_lines(t: Translator, report: Report) -> list[str]:
    """Monthly and quarterly: the lowest scores (or the one unit's place), with the formula."""
    if report.kind not in (Period.MONTHLY, Period.QUARTERLY) or not report.unit_scores:
        return []
    ranked = sorted(report.unit_scores.values(), key=lambda r: r.rank)
    codes = {u.code for u in report.units}
    if len(codes) == 1 and len(ranked) > 1:
        mine = next(r for r in ranked if r.code in codes)
        return [
            t._(
                "🏆 Score {score}, place {rank} of {units} (formula {version})",
                score=t.number(mine.score),
                rank=t.number(mine.rank),
                units=t.number(len(ranked)),
                version=report.formula_version,
            )
        ]
    lines = [t._("🏆 Lowest scores (formula {version}):", version=report.formula_version)]
    lines += [
        t._(
            "{rank}. {name} — {score} points",
            rank=t.number(r.rank),
            name=r.name,
            score=t.number(r.score),
        )
        for r in ranked[-SCORED_UNITS:]
    ]
    return lines


def report_files(t: Translator, report: Report, name: str) -> list[File]:
    """The chart (a photo) and the workbook (a document); CPU work, run it in a thread."""
    from paperwork.report_chart import write_chart  # matplotlib: only when a report is made

    chart, book = BytesIO(), BytesIO()
    write_chart(chart, report, t)
    write_xlsx(book, report, t)
    return [
        File(FileKind.PHOTO, f"{name}.png", chart.getvalue(), period_title(t, report)),
        File(FileKind.DOCUMENT, f"{name}.xlsx", book.getvalue(), workbook_caption(t)),
    ]


def workbook_caption(t: Translator) -> str:
    return t._("The report as a workbook: summary, overdue tasks, by official, data errors.")


def file_stem(report: Report, unit: Unit | None = None) -> str:
    scope = unit.code if unit else "toan-thanh-pho"
    return f"bao-cao-{report.kind.value}-{scope}-{report.end.isoformat()}"
