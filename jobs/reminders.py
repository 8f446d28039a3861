"""Reminders before each deadline (7, 3, 1 working days and the day itself), with buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from jobs.context import JobContext
from locales import Translator
from messages.cards import task_buttons
from messages.reply import rows_of
from models.notice_tasks import NoticeTask, tasks_to_remind
from models.notices import Message, Outgoing, task_notice
from models.outbox import Priority
from paperwork.exporting import document_name

Builder = Callable[[Translator], Message]


def applicable_offset(days_left: int, offsets: tuple[int, ...]) -> int | None:
    """The reminder due when `days_left` working days remain: the nearest offset not below it.

    A missed reminder is not lost: after downtime on the T-3 day, T-3 still goes out on the
    T-2 day (saying "còn 2 ngày"), and T-1 the next day as usual.
    """
    candidates = [o for o in (*offsets, 0) if o >= days_left]
    return min(candidates) if candidates else None


def reminder(task: NoticeTask, days_left: int) -> Builder:
    def build(t: Translator) -> Message:
        if days_left == 0:
            head = t._(
                "⏰ Task #{id} is due today ({date}).",
                id=task.id,
                date=t.date(task.deadline, weekday=True),
            )
        else:
            head = t.ngettext(
                "⏰ Task #{id}: {n} working day left (due {date}).",
                "⏰ Task #{id}: {n} working days left (due {date}).",
                days_left,
                id=task.id,
                date=t.date(task.deadline, weekday=True),
            )
        lines = [head, task.content]
        source = t._("Lead: {unit}.", unit=task.unit_name)
        if task.document is not None:
            document = document_name(t, task.document)  # type: ignore[arg-type]
            source = t._("Under {document}.", document=document) + " " + source
        lines.append(source)
        buttons = [row[:] for row in task_buttons(t, task)]  # type: ignore[arg-type]
        # Reminders offer Done, Update progress and Extension (the blocker is one tap away in /xem).
        return Message("\n".join(lines), rows_of([buttons[0], [buttons[1][1]]]))

    return build


def ask_if_done(task: NoticeTask) -> Builder:
    def build(t: Translator) -> Message:
        text = t._(
            "Task #{id} is due today ({date}). Have you finished it?\n{content}",
            id=task.id,
            date=t.date(task.deadline, weekday=True),
            content=task.content,
        )
        return Message(
            text, [[(t._("Finished"), f"/xong {task.id}"), (t._("Not yet"), f"/tiendo {task.id}")]]
        )

    return build


async def send_reminders(ctx: JobContext) -> int:
    """Queue the reminders due today; on days off there are none (they count working days).

    Each task's reminders of the day are marked done once queued: the day's later sweeps
    look only at tasks not marked — a new task, a deadline moved by an extension. The tasks
    are read as columns a thousand at a time, each batch queued and marked before the next.
    """
    today, offsets = ctx.today, ctx.cadence.reminder_offsets
    if not ctx.calendar.is_working_day(today) or not offsets:
        return 0
    horizon = ctx.calendar.add_working_days(today, max(offsets) + 1)
    due: dict[date, str] = {}  # deadline -> "T-n", the reminder due today for tasks due that day
    for n in range((horizon - today).days):
        deadline = today + timedelta(days=n)
        offset = applicable_offset(ctx.calendar.working_days_between(today, deadline), offsets)
        if offset is not None:
            due[deadline] = f"T-{offset}"
    sent = 0
    async for tasks in tasks_to_remind(ctx.session, ctx.window, "remind", due):
        sent += await ctx.notifier.send(
            _reminders(ctx, tasks, due), priority=Priority.ALERT, not_before=ctx.for_officials
        )
        await ctx.notifier.mark_done(
            [task_notice("remind", t.id, t.deadline, due[t.deadline]) for t in tasks]
        )
    return sent


def _reminders(ctx: JobContext, tasks: list[NoticeTask], due: dict[date, str]) -> list[Outgoing]:
    """A batch's reminders: the specialist and the leader; on the day, the specialist asked."""
    today = ctx.today
    items: list[Outgoing] = []
    for task in tasks:
        days_left = ctx.calendar.working_days_between(today, task.deadline)
        key = task_notice("remind", task.id, task.deadline, due[task.deadline])
        if due[task.deadline] == "T-0" and task.specialist is not None:
            # On the day itself the specialist is asked plainly, against "done but not updated".
            items.append(
                Outgoing(
                    f"ask-done:task {task.id}:deadline {task.deadline.isoformat()}"
                    f":to {task.specialist.id}",
                    task.specialist,
                    ask_if_done(task),
                )
            )
            people = [task.leader]
        else:
            people = [task.specialist, task.leader]
        seen: set[int] = set()
        build = reminder(task, days_left)  # built once per language for both people
        for person in people:
            if person is not None and person.id not in seen:
                seen.add(person.id)
                items.append(Outgoing(f"{key}:to {person.id}", person, build))
    return items
