"""The periodic reports to city leaders and the task force: every two weeks and monthly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from handlers.cards import five_columns
from jobs.context import JobContext
from locales import Translator
from models.notices import Message, Outgoing
from models.organization import Role
from models.outbox import Priority
from models.recipients import distinct, with_role
from models.statistics import FiveColumns, UnitRow, five_columns_by_unit
from models.status import StatusWindow

REPORT_UNITS = 10


def _summary(title: str, rows: list[UnitRow], t: Translator) -> str:
    total = sum((r.columns for r in rows), FiveColumns())
    rate = total.on_time_rate
    lines = [
        title,
        t._("Columns: assigned · done on time · done late · in progress in time · overdue"),
        t._("Total")
        + ": "
        + five_columns(t, total)
        + (
            t._(" — {percent}% on time", percent=t.number(round(rate * 100)))
            if rate is not None
            else ""
        ),
    ]
    worst = [r for r in rows if r.columns.overdue or r.columns.done_late][:REPORT_UNITS]
    if worst:
        lines.append(t._("Units with the most overdue tasks:"))
        lines += [
            f"{n}. {r.name}: {five_columns(t, r.columns)}" for n, r in enumerate(worst, start=1)
        ]
    return "\n".join(lines)


async def _send(
    ctx: JobContext,
    key: str,
    window: StatusWindow,
    period_start: date,
    title: Callable[[Translator], str],
) -> int:
    rows = await five_columns_by_unit(ctx.session, window, period_start)
    recipients = distinct(
        [
            *await with_role(ctx.session, Role.CITY_LEADER),
            *await with_role(ctx.session, Role.TASK_FORCE),
        ]
    )

    def build(t: Translator) -> Message:
        return Message(_summary(title(t), rows, t), [[(t._("Overdue list"), "/quahan")]])

    items = [Outgoing(f"{key}:to {o.id}", o, build) for o in recipients]
    return await ctx.notifier.send(items, priority=Priority.BULK, not_before=ctx.for_officials)


async def send_biweekly_report(ctx: JobContext, week: str) -> int:
    """For the weekly briefing meeting: the last two weeks, as of today."""
    start = ctx.today - timedelta(days=14)
    return await _send(
        ctx,
        f"report:biweekly:{week}",
        ctx.window,
        start,
        lambda t: t._(
            "📊 Report for the briefing meeting: {start} – {end}",
            start=t.date(start),
            end=t.date(ctx.today),
        ),
    )


async def send_monthly_report(ctx: JobContext) -> int:
    """To the People's Committee: the month just ended, as it stood on its last day."""
    last_day = ctx.today.replace(day=1) - timedelta(days=1)
    first_day = last_day.replace(day=1)
    window = StatusWindow.at(last_day, ctx.calendar, ctx.cadence.due_soon_days, past=True)
    return await _send(
        ctx,
        f"report:monthly:{first_day.strftime('%Y-%m')}",
        window,
        first_day,
        lambda t: t._(
            "📊 Monthly report {month}: tasks as of {date}",
            month=first_day.strftime("%m/%Y"),
            date=t.date(last_day),
        ),
    )
