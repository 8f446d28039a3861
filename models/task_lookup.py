"""A task as a command that changes it reads it: one prebuilt statement.

`task_to_change`: the task with its unit, document, leader and specialist with their roles,
and coordinating units: what `task_queries.get_task` reads for every `task_and_rest` command,
and the changes that may need any of them. `task_to_show`: the same and, in the same
statement, what `/xem`'s card adds (the task's series and its deadline changes), a round
trip each otherwise. `task_to_report`: the task with only what `/xong` and `/tiendo`
read of it (its lead unit and coordinating units, for the permission and the refusal): each
part loaded is Python per call, the people with their roles the most.

Built once with the id bound at each call: built per call, a statement (the eager loads, and
SQLAlchemy's cache key, which it computes once per statement object and keeps) cost more
Python than reading the row.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models.organization import Official
from models.tasks import Task


@cache
def _query() -> Select[tuple[Task]]:
    return (
        select(Task)
        .where(Task.id == bindparam("task_id"))
        .options(
            joinedload(Task.lead_unit),
            joinedload(Task.document),
            # With their roles, as `get_task` loads them: the session hands back these same
            # objects as, say, an extension's requester, whose roles decide who approves it.
            joinedload(Task.leader).joinedload(Official.role_links),
            joinedload(Task.specialist).joinedload(Official.role_links),
            joinedload(Task.coordinating_units),
        )
    )


@cache
def _card_query() -> Select[tuple[Task]]:
    # Many-to-one and a few rows (a task's deadline changes are counted on one hand): joined,
    # they add a handful of rows to the statement, not a round trip each.
    return _query().options(joinedload(Task.series), joinedload(Task.deadline_changes))


@cache
def _slim_query() -> Select[tuple[Task]]:
    return (
        select(Task)
        .where(Task.id == bindparam("task_id"))
        .options(joinedload(Task.lead_unit), joinedload(Task.coordinating_units))
    )


async def task_to_change(session: AsyncSession, task_id: int) -> Task | None:
    """The task with everything its card shows, or None (an id no column can hold, too)."""
    return await _one(session, _query(), task_id)


async def task_to_show(session: AsyncSession, task_id: int) -> Task | None:
    """`task_to_change`'s task with its series (`recurrence.series_of` then finds it in the
    session) and its deadline changes, oldest first (`task.deadline_changes`), for `/xem`."""
    return await _one(session, _card_query(), task_id)


async def task_to_report(session: AsyncSession, task_id: int) -> Task | None:
    """The task with its lead and coordinating units only: its people are not loaded
    (touching them raises), for `/xong` and `/tiendo`, which never read them."""
    return await _one(session, _slim_query(), task_id)


async def _one(session: AsyncSession, query: Select[tuple[Task]], task_id: int) -> Task | None:
    if not 0 < task_id < 2**31:
        return None
    found = await session.execute(query, {"task_id": task_id})
    return found.unique().scalar_one_or_none()
