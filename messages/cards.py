"""How tasks read in chat: one line in a list, the full card, the buttons under it."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from locales import Translator
from messages.reply import Button
from models.calendar import WorkingCalendar
from models.deadlines import ChangeState, DeadlineChange
from models.organization import Official
from models.statistics import FiveColumns
from models.status import DerivedStatus, StatusWindow, days_overdue, derived_status, task_status
from models.tasks import Task, TaskEvent, TaskStatus
from paperwork.exporting import document_name, status_label

SHORT = 60
MARKS = {
    DerivedStatus.OVERDUE: "🔴 ",
    DerivedStatus.DUE_SOON: "⚠️ ",
    DerivedStatus.DONE_ON_TIME: "✅ ",
    DerivedStatus.DONE_LATE: "✅ ",
}


def short(text: str, limit: int = SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,.;:") + "…"


def person(t: Translator, official: Official | None) -> str:
    return t._("comrade {name}", name=official.full_name) if official else t._("(nobody named)")


def comrade(t: Translator, name: str | None) -> str:
    return t._("comrade {name}", name=name) if name else t._("(nobody named)")


def stored_status(t: Translator, status: TaskStatus) -> str:
    return {
        TaskStatus.NOT_STARTED: t._("not started"),
        TaskStatus.IN_PROGRESS: t._("in progress"),
        TaskStatus.DONE: t._("done"),
    }[status]


class Deadlined(Protocol):
    """What a deadline phrase reads of a task: a `Task`, or a row listed without one."""

    @property
    def status(self) -> TaskStatus: ...
    @property
    def deadline(self) -> date | None: ...
    @property
    def completed_date(self) -> date | None: ...


def deadline_phrase(
    t: Translator, task: Deadlined, window: StatusWindow, calendar: WorkingCalendar
) -> str:
    """`hạn 02/12/2026, quá hạn 5 ngày`, `hạn thứ Tư, 09/12/2026, còn 2 ngày làm việc`."""
    status = derived_status(task.status, task.deadline, task.completed_date, window)
    if task.deadline is None:
        return t._("ongoing")
    if status in (DerivedStatus.DONE_ON_TIME, DerivedStatus.DONE_LATE):
        return t._("done {date}", date=t.date(task.completed_date))
    if status is DerivedStatus.OVERDUE:
        days = days_overdue(task.deadline, window.today)
        return t.ngettext(
            "due {date}, {n} day overdue",
            "due {date}, {n} days overdue",
            days,
            date=t.date(task.deadline),
        )
    if task.deadline == window.today:
        return t._("due today, {date}", date=t.date(task.deadline, weekday=True))
    if status is DerivedStatus.DUE_SOON:
        left = calendar.working_days_between(window.today, task.deadline)
        return t.ngettext(
            "due {date}, {n} working day left",
            "due {date}, {n} working days left",
            left,
            date=t.date(task.deadline, weekday=True),
        )
    return t._("due {date}", date=t.date(task.deadline))


def task_line(t: Translator, task: Task, window: StatusWindow, calendar: WorkingCalendar) -> str:
    mark = MARKS.get(task_status(task, window), "")
    line = f"{mark}#{task.id} {short(task.content)} — {deadline_phrase(t, task, window, calendar)}"
    if task.status is TaskStatus.IN_PROGRESS and task.progress:
        line += t._(" ({percent}%)", percent=task.progress)
    return line


def task_buttons(t: Translator, task: Task) -> list[list[Button]]:
    """Hoàn thành · Cập nhật tiến độ · Báo vướng mắc · Xin gia hạn."""
    return [
        [
            Button(t._("✅ Done"), f"/xong {task.id}"),
            Button(t._("Update progress"), f"/tiendo {task.id}"),
        ],
        [
            Button(t._("Report a blocker"), f"/vuongmac {task.id}"),
            Button(t._("Ask for an extension"), f"/giahan {task.id}"),
        ],
    ]


def _event_text(t: Translator, event: TaskEvent) -> str:
    if event.action == "created":
        return t._("created the task")
    if event.action == "contribution":
        text = t._("{unit} (coordinating) reported", unit=event.new_value or "")
        if event.old_value:
            text += f" ({event.old_value}%)"
        return f"{text}: {short(event.note, 80)}"
    if event.action == "series_ended":
        return t._("ended the recurring duty")
    if event.field in HANDOVER and event.note:
        return HANDOVER[event.field](t) + ": " + short(event.note, 80)
    if event.action == "blocker":
        return t._("reported a blocker: {note}", note=short(event.note, 120))
    if event.action == "extension_requested":
        return t._(
            "asked to extend to {date}: {note}",
            date=t.date(_as_date(event.new_value)),
            note=short(event.note, 80),
        )
    if event.action == "extension_approved":
        return t._(
            "extension approved: {old} → {new}",
            old=_event_date(t, event.old_value),
            new=_event_date(t, event.new_value),
        )
    if event.action == "extension_rejected":
        return t._("extension to {date} refused", date=_event_date(t, event.new_value))
    if event.action == "progress_note":
        return t._("progress note: {note}", note=short(event.note, 80))
    if event.action == "explanation_requested":
        return t._("explanation asked, due by {date}", date=_event_date(t, event.note))
    if event.action == "explanation_answered":
        return t._("explanation: {note}", note=short(event.note, 80))
    if event.action == "explanation_missed":
        return t._("no explanation given by {date}", date=_event_date(t, event.note))
    if event.field == "status":
        return t._(
            "status: {old} → {new}",
            old=stored_status(t, TaskStatus(event.old_value)) if event.old_value else "",
            new=stored_status(t, TaskStatus(event.new_value)) if event.new_value else "",
        )
    if event.field == "progress":
        text = t._("progress: {old}% → {new}%", old=event.old_value, new=event.new_value)
        return f"{text} ({short(event.note, 60)})" if event.note else text
    return t._(
        "{field}: {old} → {new}",
        field=event.field,
        old=event.old_value or "—",
        new=short(event.new_value or "—", 60),
    )


# A handover (/chuyen) names the units and people in the event's note.
HANDOVER = {
    "lead_unit_id": lambda t: t._("lead unit"),
    "leader_id": lambda t: t._("leader in charge"),
    "specialist_id": lambda t: t._("specialist"),
}


def _as_date(value: str | None):

    return date.fromisoformat(value) if value else None


def _event_date(t: Translator, value: str | None) -> str:
    return t.date(_as_date(value)) if value else t._("none")


def task_card(
    t: Translator,
    task: Task,
    window: StatusWindow,
    calendar: WorkingCalendar,
    *,
    changes: list[DeadlineChange],
    events: list[TaskEvent],
    recurring: str = "",
    contributions: list[str] | None = None,
) -> str:
    """The full card for /xem: source, units, people, deadline history, status, last events."""
    status = task_status(task, window)
    lines = [t._("📌 Task #{id}: {content}", id=task.id, content=task.content)]
    if task.document is not None:
        source = t._("Under {document}", document=document_name(t, task.document))
        lines.append(
            f"{source}: {short(task.document.summary, 120)}"
            if task.document.summary
            else f"{source}."
        )
    lines.append(
        t._(
            "Lead: {unit} — leader in charge {leader}, specialist {specialist}",
            unit=task.lead_unit.name,
            leader=person(t, task.leader),
            specialist=person(t, task.specialist),
        )
    )
    if task.coordinating_units:
        lines.append(
            t._("Coordinating: {units}", units=", ".join(u.name for u in task.coordinating_units))
        )
    lines.append(
        t._(
            "Assigned {assigned} · {deadline}",
            assigned=t.date(task.assigned_date),
            deadline=deadline_phrase(t, task, window, calendar)
            if task.deadline is None or status.is_open
            else t._("due {date}", date=t.date(task.deadline)),
        )
    )
    for change in changes:
        if change.state is ChangeState.APPROVED:
            lines.append(
                t._(
                    "Extended: {old} → {new}",
                    old=t.date(change.old_deadline) if change.old_deadline else t._("none"),
                    new=t.date(change.new_deadline),
                )
            )
        elif change.state is ChangeState.PENDING:
            lines.append(
                t._(
                    "Extension to {date} awaiting the task force's decision",
                    date=t.date(change.new_deadline),
                )
            )
    state = stored_status(t, task.status)
    if task.status is TaskStatus.IN_PROGRESS:
        state += f", {task.progress}%"
    lines.append(t._("Status: {state} — {derived}", state=state, derived=status_label(t, status)))
    if task.result:
        lines.append(t._("Result: {result}", result=task.result))
    if recurring:
        lines.append(recurring)
    if contributions:
        lines.append(t._("Coordinating units reported:"))
        lines += contributions
    if events:
        lines.append(t._("Recent:"))
        for event in events:
            who = comrade(t, event.actor.full_name) if event.actor else t._("the system")
            lines.append(f"• {t.datetime(event.at)} {who}: {_event_text(t, event)}")
    return "\n".join(lines)


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def total_line(t: Translator, total: FiveColumns) -> str:
    """`Tổng: 7 · 1 · 1 · 4 · 1 — tỷ lệ đúng hạn 50%`: the totals, with the on-time rate."""
    rate = total.on_time_rate
    line = t._("Total") + ": " + five_columns(t, total)
    if rate is not None:
        line += t._(" — {percent}% on time", percent=t.number(round(rate * 100)))
    return line


def five_columns(t: Translator, columns: FiveColumns) -> str:
    """`12 · 5 · 1 · 4 · 2`: assigned · done on time · done late · in progress in time · overdue."""
    c = columns
    return " · ".join(
        t.number(n) for n in (c.assigned, c.done_on_time, c.done_late, c.open_in_time, c.overdue)
    )
