"""Alerts: a task has just become overdue; an official cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from jobs.context import JobContext
from locales import Translator
from messages.cards import comrade, short
from models.accounts import ever_linked
from models.db import write_gate
from models.explanations import Explanation, lapsed, mark_missed
from models.notice_tasks import NoticeTask, newly_overdue
from models.notices import (
    Group,
    Grouped,
    Message,
    Notifier,
    Outgoing,
    Recipient,
    already_sent,
    task_notice,
)
from models.organization import Official, Role, unit_names
from models.outbox import Priority
from models.recipients import distinct, role_holders, with_role
from models.status import days_overdue
from models.task_changes import Actor
from models.task_queries import open_task_ids_by_official
from models.tasks import Channel

UNREACHABLE_LISTED = 30


def overdue_alert(task: NoticeTask) -> Callable[[Translator], Message]:
    def build(t: Translator) -> Message:
        text = t._(
            "🔴 Task #{id} is overdue (due {date}). Lead: {unit} — leader in charge {leader}, "
            "specialist {specialist}.\n{content}",
            id=task.id,
            date=t.date(task.deadline),
            unit=task.unit_name,
            leader=comrade(t, task.leader.full_name if task.leader else None),
            specialist=comrade(t, task.specialist.full_name if task.specialist else None),
            content=short(task.content, 200),
        )
        return Message(text, [[(t._("View the task"), f"/xem {task.id}")]])

    return build


def overdue_line(task: NoticeTask, today: date) -> Callable[[Translator], str]:
    def line(t: Translator) -> str:
        return t._(
            "🔴 #{id} {content} — due {date}, {days} days overdue; {unit}",
            id=task.id,
            content=short(task.content, 60),
            date=t.date(task.deadline),
            days=t.number(days_overdue(task.deadline, today)),
            unit=task.unit_name,
        )

    return line


OVERDUE_GROUP = Group(
    "overdue",
    head=lambda t, n: t.ngettext(
        "🔴 {n} task has just become overdue:", "🔴 {n} tasks have just become overdue:", n
    ),
    footer=lambda t, hidden: (
        (t._("… and {count} more tasks.", count=t.number(hidden)) + " " if hidden else "")
        + t._("All overdue tasks: /quahan · One task: /xem <number>")
    ),
)


async def send_overdue_alerts(ctx: JobContext) -> int:
    """Once per task per deadline in force: to the task force and the lead unit's leaders.

    Only tasks overdue for at most `overdue_alert_days`: older ones (say, after importing a
    backlog) are the weekly urging's business, not a flood of "just became overdue". Each
    recipient gets one message for the sweep: the task's own alert when it is one task, a
    list worst first when several, which records every task's alert it stands for. A task's
    alert is marked done once queued to all: later sweeps look only at tasks not marked.
    """
    tasks = await newly_overdue(ctx.session, ctx.window, ctx.cadence.overdue_alert_days, "overdue")
    if not tasks:
        return 0
    task_force = await role_holders(ctx.session, Role.TASK_FORCE)
    task_force_ids = {o.id for o in task_force}
    leaders: dict[int, list[Recipient]] = {}
    for leader in await role_holders(ctx.session, Role.LEADER, {t.lead_unit_id for t in tasks}):
        leaders.setdefault(leader.unit_id, []).append(leader)
    to_task_force: list[Grouped] = []
    to_units: list[Grouped] = []
    for task in tasks:
        key = task_notice("overdue", task.id, task.deadline)
        single, line = overdue_alert(task), overdue_line(task, ctx.today)
        rank = (task.deadline, task.id)
        to_task_force += [Grouped(f"{key}:to {o.id}", o, single, line, rank) for o in task_force]
        to_units += [
            Grouped(f"{key}:to {o.id}", o, single, line, rank)
            for o in distinct([*leaders.get(task.lead_unit_id, []), task.leader])
            if o.id not in task_force_ids
        ]
    at_once = ctx.now if ctx.cadence.alerts_at_once else ctx.for_officials
    notifier = ctx.notifier
    sent = await notifier.send_grouped(
        to_task_force, OVERDUE_GROUP, priority=Priority.ALERT, not_before=at_once
    )
    sent += await notifier.send_grouped(
        to_units, OVERDUE_GROUP, priority=Priority.ALERT, not_before=ctx.for_officials
    )
    await notifier.mark_done([task_notice("overdue", t.id, t.deadline) for t in tasks])
    return sent


async def report_unreachable(ctx: JobContext) -> int:
    """Tell the task force, once per person, who could not be reached and for which tasks."""
    people = dict(ctx.notifier.unreachable)
    ctx.notifier.unreachable.clear()
    if not people:
        return 0
    linked = await ever_linked(ctx.session, list(people))
    keys = {
        oid: f"unreachable:official {oid}:" + ("blocked" if oid in linked else "never linked")
        for oid in people
    }
    known = await already_sent(ctx.session, list(keys.values()))
    new_ids = sorted(oid for oid, key in keys.items() if key not in known)
    if not new_ids:
        return 0
    units = await unit_names(ctx.session)
    open_tasks = await open_task_ids_by_official(ctx.session, new_ids)

    def build(t: Translator) -> Message:
        lines = [
            t.ngettext(
                "⚠️ {n} official cannot be reached by the bot:",
                "⚠️ {n} officials cannot be reached by the bot:",
                len(new_ids),
            )
        ]
        for oid in new_ids[:UNREACHABLE_LISTED]:
            person = people[oid]
            reason = t._("blocked the bot") if oid in linked else t._("has not linked an account")
            tasks = ", ".join(f"#{n}" for n in open_tasks.get(oid, [])[:8]) or t._("none")
            lines.append(
                t._(
                    "• {who} ({unit}): {reason}; open tasks: {tasks}",
                    who=comrade(t, person.full_name),
                    unit=units.get(person.unit_id, ""),
                    reason=reason,
                    tasks=tasks,
                )
            )
        if len(new_ids) > UNREACHABLE_LISTED:
            lines.append(
                t._("… and {count} more.", count=t.number(len(new_ids) - UNREACHABLE_LISTED))
            )
        return Message("\n".join(lines), [])

    # The per-person notices make this once per person; one message lists the new ones.
    batch = f"unreachable:batch {min(new_ids)}-{max(new_ids)}-{len(new_ids)}"
    task_force = await with_role(ctx.session, Role.TASK_FORCE)
    # Read all of it first, then write in one short transaction inside the process's gate:
    # SQLite's write lock is not held while the lists are read and the messages built.
    async with write_gate(ctx.session.bind).bulk():
        await ctx.notifier.record([keys[oid] for oid in new_ids])
        sent = await ctx.notifier.send(
            [Outgoing(f"{batch}:to {o.id}", o, build) for o in task_force],
            priority=Priority.ALERT,
            not_before=ctx.for_officials,
        )
        await ctx.session.commit()
    ctx.notifier.unreachable.clear()  # task force members without a chat are not re-reported here
    return sent


def explanation_missed(asked: Explanation) -> Callable[[Translator], Message]:
    def build(t: Translator) -> Message:
        task = asked.task
        text = t._(
            "📝 Task #{id}: {unit} gave no explanation by {date}; recorded as not explained.\n"
            "{content}",
            id=task.id,
            unit=task.lead_unit.name,
            date=t.date(asked.due_date),
            content=short(task.content, 200),
        )
        return Message(text, [[(t._("View the task"), f"/xem {task.id}")]])

    return build


def explanation_missed_line(asked: Explanation) -> Callable[[Translator], str]:
    def line(t: Translator) -> str:
        return t._(
            "• #{id} {content} — {unit}, answer was due {date}",
            id=asked.task.id,
            content=short(asked.task.content, 60),
            unit=asked.task.lead_unit.name,
            date=t.date(asked.due_date),
        )

    return line


MISSED_GROUP = Group(
    "explain-missed",
    head=lambda t, n: t.ngettext(
        "📝 {n} explanation asked for was not given in time:",
        "📝 {n} explanations asked for were not given in time:",
        n,
    ),
    footer=lambda t, hidden: (
        (t._("… and {count} more tasks.", count=t.number(hidden)) + " " if hidden else "")
        + t._("They are listed in the monthly report. One task: /xem <number>")
    ),
)


async def record_missed_explanations(ctx: JobContext) -> int:
    """Requests whose answering period has passed: recorded as not explained, and the task
    force told, in the same transaction (few a day: no chunked commits)."""
    notifier = Notifier(ctx.session, ctx.now)
    actor = Actor(None, Channel.SYSTEM, ctx.now)
    asked = await lapsed(ctx.session, ctx.today)
    if not asked:
        return 0
    task_force = await with_role(ctx.session, Role.TASK_FORCE)
    async with write_gate(ctx.session.bind).bulk():  # SQLite's lock only inside the gate
        missed = [a for a in asked if await mark_missed(ctx.session, a, actor)]
        sent = await notifier.send_grouped(
            _missed_items(missed, task_force),
            MISSED_GROUP,
            priority=Priority.ALERT,
            not_before=ctx.for_officials,
        )
        await ctx.session.commit()
    return sent


def _missed_items(missed: list[Explanation], task_force: list[Official]) -> list[Grouped]:
    return [
        Grouped(
            f"explain-missed:explanation {a.id}:to {o.id}",
            o,
            explanation_missed(a),
            explanation_missed_line(a),
            (a.due_date, a.task_id),
        )
        for a in missed
        for o in task_force
    ]
