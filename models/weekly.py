"""What the weekly digest reads: each official's open tasks as plain rows, a range of
officials at a time, so the job never holds the city's tasks (or ORM objects) at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, nulls_last, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from models.organization import Official
from models.recipients import Recipient, recipients
from models.status import StatusWindow, open_clause
from models.tasks import Task, TaskStatus

# Officials per query: about 5 open tasks each on the bench city, so a thousand rows, which
# the loop turns into lines and digests between two of the bot's commands.
OFFICIALS_PER_BATCH = 250


@dataclass(frozen=True, slots=True)
class TaskLine:
    """What a task's line in a list reads (`messages.cards.task_line`), without the ORM."""

    id: int
    content: str
    status: TaskStatus
    deadline: date | None
    completed_date: date | None
    progress: int


_LINE = (Task.id, Task.content, Task.status, Task.deadline, Task.completed_date, Task.progress)


async def open_tasks_by_person(
    session: AsyncSession, window: StatusWindow, per_batch: int = OFFICIALS_PER_BATCH
) -> AsyncIterator[list[tuple[Recipient, list[TaskLine]]]]:
    """Every official named on open tasks (specialist or leader) with those tasks, by
    deadline (none last) then number; in batches of officials by id, each one query."""
    first, last = (
        await session.execute(select(func.min(Official.id), func.max(Official.id)))
    ).one()
    if first is None:
        return
    for low in range(first, last + 1, per_batch):
        high = low + per_batch - 1
        as_specialist = select(Task.specialist_id.label("person"), *_LINE).where(
            open_clause(window), Task.specialist_id.between(low, high)
        )
        as_leader = select(Task.leader_id.label("person"), *_LINE).where(
            open_clause(window),
            Task.leader_id.between(low, high),
            or_(Task.specialist_id.is_(None), Task.specialist_id != Task.leader_id),
        )
        both = union_all(as_specialist, as_leader).subquery()
        rows = await session.execute(
            select(both).order_by(both.c.person, nulls_last(both.c.deadline.asc()), both.c.id)
        )
        owned: dict[int, list[TaskLine]] = {}
        for person, *line in rows.tuples():
            owned.setdefault(person, []).append(TaskLine(*line))
        if not owned:
            continue
        people = await recipients(session, list(owned))
        yield [(people[oid], lines) for oid, lines in owned.items()]
