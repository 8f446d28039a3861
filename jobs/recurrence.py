"""Recurring duties: the sweep creates each series' next occurrence ahead of its deadline."""

from __future__ import annotations

from jobs.context import JobContext
from messages.assignments import new_tasks
from models.assignments import announce, newly_named
from models.db import write_gate
from models.notices import Notifier
from models.recurrence import create_occurrence, latest_occurrences, next_due
from models.task_changes import Actor
from models.tasks import Channel

# A series far behind (the bot stopped for months) catches up at most this many at a sweep.
CATCH_UP = 12


async def create_occurrences(ctx: JobContext) -> int:
    """The next task of each running series, once the previous one is done or the new
    deadline is within DONDOC_RECURRENCE_LEAD_DAYS working days; its people are told."""
    cadence = ctx.cadence
    actor = Actor(None, Channel.SYSTEM, ctx.now)
    sent = 0
    for previous in await latest_occurrences(ctx.session):
        for _ in range(CATCH_UP):
            due = next_due(
                previous,
                ctx.today,
                ctx.calendar,
                cadence.recurrence_shift,
                cadence.recurrence_lead_days,
            )
            if due is None:
                break
            # The occurrence and its announcement written and kept together inside the
            # gate: SQLite's write lock is never held while waiting for it.
            async with write_gate(ctx.session.bind).bulk():
                task = await create_occurrence(ctx.session, previous, *due, actor)
                if task is not None:
                    task.series = previous.series
                    notifier = Notifier(ctx.session, ctx.now)  # in this transaction
                    sent += await announce(
                        notifier,
                        f"assigned:task {task.id}:occurrence",
                        [(person, task) for person in newly_named(task, None)],
                        new_tasks(),
                        not_before=ctx.for_officials,
                    )
                    ctx.notifier.unreachable.update(notifier.unreachable)
                await ctx.session.commit()
            if task is None:
                break  # another sweep made it a moment ago
            previous = task
    return sent
