"""The dashboard's pages about one unit (its tasks) and one task (its history)."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from locales import Translator
from models.dashboard import TaskRow
from models.explanations import ExplanationState
from models.scoring import Formula, Ranked, colour
from models.status import DerivedStatus
from models.tasks import Task
from paperwork.dashboard_page import colour_rule, page, trend_alt
from paperwork.exporting import status_label


def unit_page(
    t: Translator,
    row: Ranked | None,
    unit_name: str,
    tasks: list[TaskRow],
    formula: Formula,
    *,
    home: str,
    city: bool,
    period: str,
    units: int,
    expires: datetime,
) -> str:
    body = []
    if city:
        back = t._("← The whole city")
        body.append(f'<nav><a href="{home}/">{escape(back)}</a></nav>')
    if row is not None:
        c = colour(row.facts, formula.colours)
        f = row.facts
        body.append(
            f'<p class="rule {c.value}" id="summary"><span class="dot"></span>'
            + escape(
                t._(
                    "Place {rank} of {units}, {score} points ({period}; formula {version}). "
                    "Open {open} · due soon {soon} · overdue {overdue} · done on time {on_time} · done late {late}.",
                    rank=t.number(row.rank),
                    units=t.number(units),
                    score=t.number(row.score),
                    period=period,
                    version=formula.version,
                    open=t.number(f.open),
                    soon=t.number(f.due_soon),
                    overdue=t.number(f.overdue),
                    on_time=t.number(f.done_on_time),
                    late=t.number(f.done_late),
                )
            )
            + "</p>"
        )
        body.append(f'<p class="rule">{escape(colour_rule(t, formula.colours))}</p>')
    heads = (
        t._("Task"),
        t._("Content"),
        t._("Status"),
        t._("Deadline"),
        t._("Last update"),
        t._("Times urged"),
        t._("Explanation"),
        t._("Specialist"),
    )
    rows = "".join(_task_row(t, task, home) for task in tasks)
    body += [
        f'<table id="tasks"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>',
        f"<tbody>{rows}</tbody></table>",
        f'<img class="chart" src="{home}/u/{row.key if row else 0}/chart.svg" alt="{escape(trend_alt(t))}">'
        if row
        else "",
    ]
    subtitle = t._("Read-only; this link works until {expires}.", expires=t.datetime(expires))
    return page(t, t._("Dashboard — {unit}", unit=unit_name), subtitle, body)


def _task_row(t: Translator, task: TaskRow, home: str) -> str:
    ongoing = t._("ongoing")
    css = {
        DerivedStatus.OVERDUE: "red",
        DerivedStatus.DUE_SOON: "yellow",
    }.get(task.status, "")
    flags = [
        f'<br><span class="flag {css_}">{escape(label)}</span>'
        for on, css_, label in (
            (task.silent, "not-updated", t._("Not updated")),
            (task.at_risk, "at-risk", t._("At risk")),
        )
        if on
    ]
    cells = (
        f'<td><a href="{home}/t/{task.id}">#{task.id}</a></td>',
        f"<td>{escape(task.content)}</td>",
        f'<td class="{css}"><span class="dot {css}"></span>{escape(status_label(t, task.status))}'
        f"{f' · {task.progress}%' if not task.status.is_open or task.progress else ''}"
        f"{''.join(flags)}</td>",
        f"<td>{escape(t.date(task.deadline) if task.deadline else ongoing)}</td>",
        f"<td>{escape(t.datetime(task.updated_at))}</td>",
        f'<td class="n">{t.number(task.urgings)}</td>',
        f'<td class="explanation">{escape(_explanation(t, task.explanation))}</td>',
        f"<td>{escape(task.specialist or '—')}</td>",
    )
    marks = (
        f' data-explanation="{task.explanation.value if task.explanation else ""}"'
        f' data-silent="{int(task.silent)}" data-risk="{int(task.at_risk)}"'
    )
    return (
        f'<tr data-task="{task.id}" data-status="{task.status.value}"{marks}>{"".join(cells)}</tr>'
    )


def _explanation(t: Translator, state: ExplanationState | None) -> str:
    """Asked and still time to answer, answered, or not given (the same words as the
    reports' list of explanations)."""
    if state is None:
        return "—"
    if state is ExplanationState.ANSWERED:
        return t._("explained")
    if state is ExplanationState.MISSED:
        return t._("not explained")
    return t._("awaiting the answer")


def task_page(
    t: Translator, task: Task, status: DerivedStatus, *, home: str, expires: datetime
) -> str:
    facts = [
        (
            t._("Lead unit"),
            f'<a href="{home}/u/{task.lead_unit_id}">{escape(task.lead_unit.name)}</a>',
        ),
        (
            t._("Coordinating units"),
            escape(", ".join(u.name for u in task.coordinating_units) or "—"),
        ),
        (t._("Leader in charge"), escape(task.leader.full_name if task.leader else "—")),
        (t._("Specialist"), escape(task.specialist.full_name if task.specialist else "—")),
        (t._("Document"), escape(task.document.number if task.document else "—")),
        (t._("Assigned on"), escape(t.date(task.assigned_date))),
        (t._("Deadline"), escape(_deadline(t, task.deadline, task.original_deadline))),
        (t._("Status"), escape(f"{status_label(t, status)} · {task.progress}%")),
        (t._("Result"), escape(task.result or "—")),
    ]
    card = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in facts)
    system, back, history = t._("the system"), t._("← The unit"), t._("History")
    nothing = t._("No change recorded yet.")
    events = (
        "".join(
            "<tr>"
            f"<td>{escape(t.datetime(e.at))}</td>"
            f"<td>{escape(e.actor.full_name if e.actor else system)}</td>"
            f"<td>{escape(e.channel.value)}</td>"
            f"<td>{escape(e.action)}{' · ' + escape(e.field) if e.field else ''}</td>"
            f"<td>{escape(e.old_value or '')} → {escape(e.new_value or '')}</td>"
            f"<td>{escape(e.note)}</td>"
            "</tr>"
            for e in task.events
        )
        or f'<tr><td colspan="6">{escape(nothing)}</td></tr>'
    )
    heads = (t._("When"), t._("Who"), t._("Channel"), t._("Change"), t._("From → to"), t._("Note"))
    body = [
        f'<nav><a href="{home}/u/{task.lead_unit_id}">{escape(back)}</a></nav>',
        f"<p>{escape(task.content)}</p>",
        f'<table id="card">{card}</table>',
        f"<h2>{escape(history)}</h2>",
        f'<table id="history"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>',
        f"<tbody>{events}</tbody></table>",
    ]
    subtitle = t._("Read-only; this link works until {expires}.", expires=t.datetime(expires))
    return page(t, t._("Task #{id}", id=task.id), subtitle, body)


def _deadline(t: Translator, deadline: date | None, original: date | None) -> str:
    if deadline is None:
        return t._("ongoing")
    if original and original != deadline:
        return t._(
            "{deadline} (first {original})", deadline=t.date(deadline), original=t.date(original)
        )
    return t.date(deadline)
