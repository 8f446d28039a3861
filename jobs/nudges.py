"""Nudges once a working day: a task gone silent (its specialist, then the leader copied),
and a task at risk of being late (its specialist and leader, once per deadline in force)."""

from __future__ import annotations

from collections.abc import Callable

from jobs.context import JobContext
from locales import TIMEZONE, Translator
from messages.cards import comrade, short, task_buttons
from messages.reply import rows_of
from models.nagging import (
    Risk,
    SilentRow,
    WorkingDays,
    at_risk,
    oldest_update,
    quiet_before,
    silent_by_recipient,
    silent_since,
)
from models.notice_tasks import NoticeTask, notice_tasks_by_id
from models.notices import Group, Grouped, Message, Recipient, task_notice
from models.organization import Role
from models.outbox import Priority
from models.recipients import distinct, recipients, role_holders

Line = Callable[[Translator], str]


def _leaders(task: NoticeTask, unit_leaders: dict[int, list[Recipient]]) -> list[Recipient]:
    """The leader in charge; the unit's leaders when the task names none."""
    return [task.leader] if task.leader else unit_leaders.get(task.lead_unit_id, [])


async def _unit_leaders(ctx: JobContext, tasks: list[NoticeTask]) -> dict[int, list[Recipient]]:
    wanted = {t.lead_unit_id for t in tasks if t.leader is None}
    found: dict[int, list[Recipient]] = {}
    if wanted:
        for leader in await role_holders(ctx.session, Role.LEADER, wanted):
            found.setdefault(leader.unit_id, []).append(leader)
    return found


# ------------------------------------------------------------------ silence


def stale_nudge(row: SilentRow, days: int, second: bool) -> Callable[[Translator], Message]:
    def build(t: Translator) -> Message:
        text = t.ngettext(
            "🕓 Task #{id} has not been updated for {n} working day — /tiendo {id} <percent> "
            "or /xong {id}",
            "🕓 Task #{id} has not been updated for {n} working days — /tiendo {id} <percent> "
            "or /xong {id}",
            days,
            id=row.task_id,
        )
        lines = [text, short(row.content, 200)]
        if second:
            lines.append(
                t._(
                    "Second reminder, copied to the leader in charge. Specialist: {specialist}; "
                    "leader in charge: {leader}.",
                    specialist=comrade(t, row.specialist_name),
                    leader=comrade(t, row.leader_name),
                )
            )
        buttons = task_buttons(t, row)  # type: ignore[arg-type]
        return Message("\n".join(lines), rows_of([buttons[0]]))

    return build


def stale_line(row: SilentRow, days: int) -> Line:
    def line(t: Translator) -> str:
        return t._(
            "• #{id} {content} — {days} working days without an update; specialist {specialist}",
            id=row.task_id,
            content=short(row.content, 60),
            days=t.number(days),
            specialist=comrade(t, row.specialist_name),
        )

    return line


STALE_GROUP = Group(
    "stale",
    head=lambda t, n: t.ngettext(
        "🕓 {n} task has not been updated for a long time:",
        "🕓 {n} tasks have not been updated for a long time:",
        n,
    ),
    footer=lambda t, hidden: (
        (t._("… and {count} more tasks.", count=t.number(hidden)) + " " if hidden else "")
        + t._("Update: /tiendo <number> <percent> or /xong <number>")
    ),
)


async def send_stale_nudges(ctx: JobContext) -> int:
    """Open tasks silent for one period (DONDOC_STALE_DAYS working days): a nudge to the
    specialist; for two periods: again, with the leader copied. Keyed by the day of the last
    update, so a task updated since starts a new count; one message per person.

    Who is nudged about what comes from the database grouped by person, a batch of people
    at a time as plain rows: the job never holds every silent task."""
    period = ctx.cadence.nagging.stale_days
    if period <= 0:
        return 0
    today, calendar = ctx.today, ctx.calendar
    before = quiet_before(today, calendar, period)
    oldest = await oldest_update(ctx.session, ctx.window, before)
    if oldest is None:
        return 0
    days = WorkingDays(calendar, oldest.astimezone(TIMEZONE).date(), today)
    copied_before = quiet_before(today, calendar, 2 * period)
    queued = 0
    async for rows in silent_by_recipient(ctx.session, ctx.window, before, copied_before):
        people = await recipients(ctx.session, sorted({r.person for r in rows}))
        items: list[Grouped] = []
        skipped: list[str] = []
        for row in rows:
            since = silent_since(row)
            silent = days.between(since, today)
            second = silent >= 2 * period
            key = f"stale:task {row.task_id}:since {since.isoformat()}"
            if second and row.person == row.specialist_id:
                skipped.append(f"{key}:1:to {row.person}")  # the first is overtaken
            items.append(
                Grouped(
                    f"{key}:{2 if second else 1}:to {row.person}",
                    people[row.person],
                    stale_nudge(row, silent, second),
                    stale_line(row, silent),
                    (-silent, row.task_id),
                )
            )
        await ctx.notifier.record(skipped)
        queued += await ctx.notifier.send_grouped(
            items, STALE_GROUP, priority=Priority.BULK, not_before=ctx.for_officials
        )
    return queued


# ------------------------------------------------------------------ risk


def risk_flag(task: NoticeTask, risk: Risk) -> Callable[[Translator], Message]:
    def build(t: Translator) -> Message:
        text = t.ngettext(
            "⚠️ Task #{id} is at risk of being late: {elapsed}% of its time is gone and its "
            "progress is {progress}% (due {date}, {n} working day left).",
            "⚠️ Task #{id} is at risk of being late: {elapsed}% of its time is gone and its "
            "progress is {progress}% (due {date}, {n} working days left).",
            risk.days_left,
            id=task.id,
            elapsed=risk.elapsed_percent,
            progress=task.progress,
            date=t.date(task.deadline, weekday=True),
        )
        buttons = task_buttons(t, task)  # type: ignore[arg-type]
        return Message(
            f"{text}\n{short(task.content, 200)}", rows_of([[buttons[0][1], buttons[1][1]]])
        )

    return build


def risk_line(task: NoticeTask, risk: Risk) -> Line:
    def line(t: Translator) -> str:
        return t._(
            "• #{id} {content} — progress {progress}%, {elapsed}% of the time gone, due {date}",
            id=task.id,
            content=short(task.content, 60),
            progress=task.progress,
            elapsed=risk.elapsed_percent,
            date=t.date(task.deadline),
        )

    return line


RISK_GROUP = Group(
    "risk",
    head=lambda t, n: t.ngettext(
        "⚠️ {n} task is at risk of being late:", "⚠️ {n} tasks are at risk of being late:", n
    ),
    footer=lambda t, hidden: (
        (t._("… and {count} more tasks.", count=t.number(hidden)) + " " if hidden else "")
        + t._("All of them: /nguyco · Progress: /tiendo <number> <percent>")
    ),
)


async def send_risk_flags(ctx: JobContext) -> int:
    """Tasks at risk today whose flag under the deadline in force is not given: to the
    specialist and the leader in charge, once per deadline (an extension starts afresh)."""
    rows = await at_risk(
        ctx.session, ctx.window, ctx.calendar, ctx.cadence.nagging, not_flagged=True
    )
    if not rows:
        return 0
    risks = {row.task_id: row.risk for row in rows}
    tasks = await notice_tasks_by_id(ctx.session, list(risks))
    unit_leaders = await _unit_leaders(ctx, tasks)
    items: list[Grouped] = []
    for task in tasks:
        key = task_notice("risk", task.id, task.deadline)
        risk = risks[task.id]
        single, line = risk_flag(task, risk), risk_line(task, risk)
        for person in distinct([task.specialist, *_leaders(task, unit_leaders)]):
            items.append(
                Grouped(f"{key}:to {person.id}", person, single, line, (task.deadline, task.id))
            )
    sent = await ctx.notifier.send_grouped(
        items, RISK_GROUP, priority=Priority.ALERT, not_before=ctx.for_officials
    )
    await ctx.notifier.mark_done([task_notice("risk", t.id, t.deadline) for t in tasks])
    return sent
