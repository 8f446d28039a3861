"""What officials read when a task becomes theirs, when a coordinating unit reports, and how
a recurring duty reads on its card."""

from __future__ import annotations

from collections.abc import Callable

from locales import Translator
from messages.cards import comrade, short
from models.clock import local_date
from models.contributions import Contribution
from models.notices import Message
from models.recurrence import LAST, Kind, Rule, Series
from models.tasks import Task

MAX_LISTED = 10  # a long list ends with /viec: a Zalo message holds 2,000 characters


def _deadline(t: Translator, task: Task) -> str:
    if task.deadline is None:
        return t._("ongoing")
    return t._("due {date}", date=t.date(task.deadline, weekday=True))


def new_tasks(
    handed_from: str | None = None,
) -> Callable[[list[Task]], Callable[[Translator], Message]]:
    """📋 The tasks just assigned to the reader, worst deadline first; `handed_from`: the unit
    the task force took them from (/chuyen)."""

    def for_tasks(tasks: list[Task]) -> Callable[[Translator], Message]:
        listed = sorted(tasks, key=lambda task: (task.deadline is None, task.deadline, task.id))

        def build(t: Translator) -> Message:
            lines = [
                t.ngettext(
                    "📋 {n} new task has been assigned to you:",
                    "📋 {n} new tasks have been assigned to you:",
                    len(listed),
                )
            ]
            for task in listed[:MAX_LISTED]:
                lines.append(f"#{task.id} {short(task.content)} — {_deadline(t, task)}")
            if len(listed) > MAX_LISTED:
                lines.append(
                    t.ngettext(
                        "… and {n} more: /viec",
                        "… and {n} more: /viec",
                        len(listed) - MAX_LISTED,
                    )
                )
            if handed_from:
                lines.append(t._("Handed over by the task force from {unit}.", unit=handed_from))
            first = listed[0].id
            lines.append(t._("Details: /xem {id}", id=first))
            buttons = [[(t._("View the task"), f"/xem {first}")]] if len(listed) == 1 else []
            return Message("\n".join(lines), buttons)

        return build

    return for_tasks


def contribution_notice(
    task: Task, unit_name: str, who: str, percent: int | None, content: str
) -> Callable[[Translator], Message]:
    """To the lead unit: what a coordinating unit reported on its task."""

    def build(t: Translator) -> Message:
        head = t._(
            "🤝 {unit} (coordinating) reported on task #{id}, by {who}:",
            unit=unit_name,
            id=task.id,
            who=comrade(t, who),
        )
        lines = [head]
        if percent is not None:
            lines.append(t._("Its part: {percent}% done.", percent=percent))
        lines += [content, t._("Task: {task}", task=short(task.content, 120))]
        return Message("\n".join(lines), [[(t._("View the task"), f"/xem {task.id}")]])

    return build


def rule_text(t: Translator, rule: Rule) -> str:
    """`hằng tháng, ngày 20`, `hằng quý, ngày cuối quý`, `hằng tuần, thứ Sáu`."""
    if rule.kind is Kind.WEEKLY:
        names = (
            t._("Monday"),
            t._("Tuesday"),
            t._("Wednesday"),
            t._("Thursday"),
            t._("Friday"),
            t._("Saturday"),
            t._("Sunday"),
        )
        return t._("weekly, on {weekday}", weekday=names[rule.day])
    if rule.kind is Kind.YEARLY:
        return t._("yearly, by {day:02d}/{month:02d}", day=rule.day, month=rule.month)
    if rule.kind is Kind.MONTHLY:
        if rule.day == LAST:
            return t._("monthly, by the last day of the month")
        return t._("monthly, by day {day}", day=rule.day)
    if rule.day == LAST:
        return t._("quarterly, by the last day of the quarter")
    return t._("quarterly, by day {day} of the quarter's last month", day=rule.day)


def series_line(t: Translator, series: Series) -> str:
    """The card's line for an occurrence of a recurring duty."""
    line = t._("🔁 Recurring: {rule}", rule=rule_text(t, series.parsed))
    if series.ended_at is not None:
        line += " — " + t._("series ended {date}", date=t.date(local_date(series.ended_at)))
    return line


def contribution_line(t: Translator, unit: str, contribution: Contribution) -> str:
    """`• Sở Tư pháp, 28/11/2026 (50%): Đã gửi ý kiến thẩm định`."""
    line = f"• {unit}, {t.date(local_date(contribution.at))}"
    if contribution.percent is not None:
        line += f" ({contribution.percent}%)"
    return f"{line}: {short(contribution.content, 100)}"
