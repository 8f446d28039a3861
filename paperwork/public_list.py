"""The public list of late units and individuals (leaders and specialists), for the portal."""

from __future__ import annotations

import io
from html import escape
from pathlib import Path

from locales import Translator
from models.reports import Report
from paperwork.report_files import explanation_state, period_title
from paperwork.tabular import write_csv_rows


def late_units(report: Report) -> list[tuple[str, int, int, int]]:
    """(unit, assigned, done late, overdue) for every unit with a late task, most late first."""
    rows = [
        (u.name, u.columns.assigned, u.columns.done_late, u.columns.overdue)
        for u in report.units
        if u.columns.done_late or u.columns.overdue
    ]
    return sorted(rows, key=lambda r: (-(r[2] + r[3]), r[0]))


def late_people(report: Report, t: Translator) -> list[tuple[str, str, str, int, int]]:
    """(name, unit, role, done late, overdue) for every leader and specialist with a late task."""
    roles = {"leader": t._("leader in charge"), "specialist": t._("specialist")}
    rows = [
        (p.name, p.unit_name, roles[p.role], p.columns.done_late, p.columns.overdue)
        for p in report.officials
        if p.columns.done_late or p.columns.overdue
    ]
    return sorted(rows, key=lambda r: (-(r[3] + r[4]), r[0]))


def explanations(report: Report, t: Translator) -> list[tuple[object, ...]]:
    """(task, unit, deadline, explained or not, the reason given) for each explanation the
    task force asked in the period: answered, not given in time, or still awaited."""
    return [
        (
            f"#{row.task_id}",
            row.unit_name,
            t.date(row.deadline),
            explanation_state(t, row),
            row.reason,
        )
        for row in report.explanations
    ]


def public_html(report: Report, t: Translator) -> str:
    """A static page, one file with its style, ready to publish on the portal."""

    def table(header: list[str], rows: list[tuple[object, ...]]) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    units = table(
        [t._("Unit"), t._("Assigned"), t._("Done late"), t._("Overdue")], late_units(report)
    )
    people = table(
        [t._("Full name"), t._("Unit"), t._("Role"), t._("Done late"), t._("Overdue")],
        late_people(report, t),
    )
    explained = table(
        [t._("Task"), t._("Unit"), t._("Deadline"), t._("Explanation"), t._("Reason given")],
        explanations(report, t),
    )
    title = t._("Units and individuals late with their tasks")
    units_heading, people_heading = t._("Units"), t._("Individuals")
    explained_heading = t._("Explanations asked by the task force")
    page = f"""<!doctype html>
<html lang="{t.language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;width:100%;margin-bottom:2em}}th,td{{border:1px solid #999;
padding:4px 8px;text-align:left}}th{{background:#eee}}</style></head><body>
<h1>{escape(title)}</h1>
<p>{escape(period_title(t, report))}</p>
<h2>{escape(units_heading)}</h2>
{units}
<h2>{escape(people_heading)}</h2>
{people}
<h2>{escape(explained_heading)}</h2>
{explained}
</body></html>
"""
    return page


def public_csv(report: Report, t: Translator) -> str:
    """One table: each late unit, then each late person, with what they are."""
    buffer = io.StringIO(newline="")
    header = [
        t._("Kind"),
        t._("Name"),
        t._("Unit"),
        t._("Role"),
        t._("Done late"),
        t._("Overdue"),
        t._("Reason given"),
    ]
    rows = [
        *(
            [t._("unit"), name, name, "", late, overdue, ""]
            for name, _, late, overdue in late_units(report)
        ),
        *(
            [t._("individual"), name, unit, role, late, overdue, ""]
            for name, unit, role, late, overdue in late_people(report, t)
        ),
        *(
            [t._("explanation"), task, unit, state, "", "", reason]
            for task, unit, _, state, reason in explanations(report, t)
        ),
    ]
    write_csv_rows(buffer, header, rows)
    return buffer.getvalue()


def write_public_html(path: Path, report: Report, t: Translator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(public_html(report, t), encoding="utf-8")


def write_public_csv(path: Path, report: Report, t: Translator) -> None:
    """UTF-8 with a BOM, so Excel shows the diacritics."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(public_csv(report, t), encoding="utf-8-sig", newline="")
