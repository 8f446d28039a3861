"""An official's own tasks: /viec, /xem, /xong, /tiendo, /vuongmac, /sapden."""

from __future__ import annotations

from handlers.arguments import (
    note_problem,
    only_numbers,
    syntax,
    task_and_rest,
    task_to_update,
    whole_number,
)
from handlers.core import Request
from locales import Translator
from messages.assignments import contribution_line, series_line
from messages.cards import comrade, short, task_buttons, task_card, task_line
from messages.reply import Button, Reply
from models.organization import Role
from models.permissions import may_update
from models.recipients import with_role
from models.recurrence import series_of
from models.status import DerivedStatus, days_overdue, task_status
from models.task_changes import mark_done_once, report_blocker, set_progress
from models.task_lookup import card_trail, task_to_report, task_to_show
from models.task_queries import my_open_tasks, my_tasks_due_by
from models.tasks import TaskStatus

MAX_UPCOMING_DAYS = 60


async def my_tasks(req: Request) -> list[Reply]:
    """/viec [trang]: open tasks, overdue first, ten to a page."""
    t = req.t
    page_text = req.args.strip()
    page = whole_number(page_text) or 1
    window = req.window
    page_data = await my_open_tasks(req.session, req.me, window, page)
    if page_data.total == 0:
        text = t._("You have no open tasks.")
        if req.me.sees_everything:
            text += "\n" + t._("For the whole city: /quahan (overdue), /thongke (figures).")
        return [Reply(text, edit=req.from_button)]
    header = t.ngettext("📋 Your tasks: {n} open", "📋 Your tasks: {n} open", page_data.total)
    if page_data.overdue:
        header += t._(", {count} overdue", count=t.number(page_data.overdue))
    if page_data.pages > 1:
        header += t._(" (page {page}/{pages})", page=page_data.page, pages=page_data.pages)
    lines = [header] + [task_line(t, task, window, req.calendar) for task in page_data.tasks]
    first = page_data.tasks[0].id
    lines.append(t._("Details: /xem {id} · Report done: /xong {id} <result>", id=first))
    buttons = []
    if page_data.page > 1:
        buttons.append(Button(t._("◀ Previous"), f"/viec {page_data.page - 1}"))
    if page_data.page < page_data.pages:
        buttons.append(Button(t._("Next ▶"), f"/viec {page_data.page + 1}"))
    return [Reply("\n".join(lines), [buttons] if buttons else [], edit=req.from_button)]


async def show(req: Request) -> list[Reply]:
    # The task, its series and its deadline changes in one statement.
    found = await task_and_rest(req, task_to_show)
    if isinstance(found, list):
        return found
    task, _ = found
    series = await series_of(req.session, task)  # loaded with the task: no statement
    events, contributions = await card_trail(req.session, task.id)
    card = task_card(
        req.t,
        task,
        req.window,
        req.calendar,
        changes=task.deadline_changes,
        events=events,
        recurring=series_line(req.t, series) if series else "",
        contributions=[contribution_line(req.t, unit, c) for unit, c in contributions],
    )
    buttons = (
        task_buttons(req.t, task)
        if may_update(req.me, task) and task.status is not TaskStatus.DONE
        else []
    )
    return [Reply(card, buttons)]


async def done(req: Request) -> list[Reply]:
    """/xong N [kết quả]: done today; says whether on time or late."""
    t = req.t
    found = await task_to_update(req, task_to_report)
    if isinstance(found, list):
        return found
    task, result = found
    if only_numbers(result):
        return [
            Reply(
                t._(
                    "Report one task at a time: send /xong {first}, then /xong {second}.",
                    first=task.id,
                    second=result.split()[0].lstrip("#"),
                )
            )
        ]
    if problem := note_problem(req, result):
        return problem
    taken = task.status is not TaskStatus.DONE and await mark_done_once(
        req.session, task, req.actor, req.today, result
    )
    if not taken:
        if task.status is not TaskStatus.DONE:
            await req.session.refresh(task)  # reported done elsewhere a moment ago
        return [
            Reply(
                t._(
                    "Task #{id} was already recorded as done on {date}; nothing was changed.",
                    id=task.id,
                    date=t.date(task.completed_date),
                )
            )
        ]
    status = task_status(task, req.window)
    if task.deadline is None:
        verdict = ""
    elif status is DerivedStatus.DONE_ON_TIME:
        verdict = t._(" — on time (due {date})", date=t.date(task.deadline))
    else:
        verdict = t.ngettext(
            " — {n} day late (due {date})",
            " — {n} days late (due {date})",
            days_overdue(task.deadline, req.today),
            date=t.date(task.deadline),
        )
    text = t._("✅ Task #{id} recorded as done on {date}", id=task.id, date=t.date(req.today))
    text += verdict + "."
    if result:
        text += "\n" + t._("Result: {result}", result=result)
    return [Reply(text)]


async def progress(req: Request) -> list[Reply]:
    """/tiendo N PHẦN_TRĂM [ghi chú]; without the percent, asks for it."""
    t = req.t
    found = await task_to_update(req, task_to_report)
    if isinstance(found, list):
        return found
    task, rest = found
    if task.status is TaskStatus.DONE:
        return [
            Reply(
                t._(
                    "Task #{id} is already done ({date}); its progress is final.",
                    id=task.id,
                    date=t.date(task.completed_date),
                )
            )
        ]
    if not rest:
        await req.ask("tiendo", str(task.id))
        return [
            Reply(
                t._(
                    "What is the progress of task #{id}, in percent (0–100)? You may add a note "
                    "after the number. Send /huy to cancel.",
                    id=task.id,
                ),
                [[Button(f"{p}%", f"/tiendo {task.id} {p}") for p in (25, 50, 75, 90)]],
            )
        ]
    percent_text, _, note = rest.partition(" ")
    percent = whole_number(percent_text.rstrip("%"))
    if percent is None or percent > 100:
        return syntax(
            req,
            t._(
                "The progress must be a whole number from 0 to 100, not '{value}'.",
                value=rest.split()[0][:20],
            ),
        )
    note = note.strip()
    if problem := note_problem(req, note):
        return problem
    await set_progress(req.session, task, req.actor, percent, note)
    text = t._("Task #{id}: progress {percent}% recorded.", id=task.id, percent=percent)
    if percent == 100:
        text += "\n" + t._("If it is finished, report it done: /xong {id} <result>", id=task.id)
    return [Reply(text)]


async def blocker(req: Request) -> list[Reply]:
    """/vuongmac N nội dung: recorded, and the task force is told at once."""
    t = req.t
    found = await task_to_update(req)
    if isinstance(found, list):
        return found
    task, content = found
    if not content:
        await req.ask("vuongmac", str(task.id))
        return [
            Reply(
                t._(
                    "What is the difficulty with task #{id}? Send it in one message, or "
                    "/huy to cancel.",
                    id=task.id,
                )
            )
        ]
    if problem := note_problem(req, content):
        return problem
    event = report_blocker(req.session, task, req.actor, content)
    await req.session.flush()
    reporter = req.me.official

    def alert(rt: Translator) -> Reply:
        return Reply(
            rt._(
                "⚠️ Difficulty reported on task #{id} ({unit}) by {who}:\n{content}\nTask: {task}",
                id=task.id,
                unit=task.lead_unit.name,
                who=comrade(rt, reporter.full_name),
                content=content,
                task=short(task.content, 120),
            ),
            [[Button(rt._("View the task"), f"/xem {task.id}")]],
        )

    await req.notify(
        await with_role(req.session, Role.TASK_FORCE),
        f"blocker:task {task.id}:event {event.id}",
        alert,
    )
    return [
        Reply(
            t._(
                "The difficulty with task #{id} has been recorded and sent to the task force.",
                id=task.id,
            )
        )
    ]


async def upcoming(req: Request) -> list[Reply]:
    """/sapden [số ngày]: my tasks (my unit's, for a leader) due within N working days."""
    t = req.t
    text = req.args.strip()
    days = req.settings.upcoming_days
    if text:
        chosen = whole_number(text)
        if chosen is None or not 1 <= chosen <= MAX_UPCOMING_DAYS:
            return syntax(
                req,
                t._(
                    "The number of working days must be from 1 to {limit}.", limit=MAX_UPCOMING_DAYS
                ),
            )
        days = chosen
    window = req.window
    until = req.calendar.add_working_days(req.today, days)
    tasks = await my_tasks_due_by(req.session, req.me, window, until)
    if not tasks:
        return [
            Reply(
                t.ngettext(
                    "No task of yours is due within {n} working day (until {date}).",
                    "No task of yours is due within {n} working days (until {date}).",
                    days,
                    date=t.date(until),
                )
            )
        ]
    lines = [
        t.ngettext(
            "⏰ Due within {n} working day (until {date}):",
            "⏰ Due within {n} working days (until {date}):",
            days,
            date=t.date(until),
        )
    ]
    lines += [task_line(t, task, window, req.calendar) for task in tasks]
    return [Reply("\n".join(lines))]
