"""A task as a command reads it, and the rest of its card: prebuilt statements.

`task_to_change`: the task with its unit, document, leader and specialist with their roles,
and coordinating units: what `task_queries.get_task` reads for every `task_and_rest` command,
and the changes that may need any of them. `task_to_show`: the same and, in the same
statement, what `/xem`'s card adds (the task's series and its deadline changes), a round
trip each otherwise; `card_trail`: the rest of the card (the last events and the coordinating
units' reports) in one more. `task_to_report`: the task with only what `/xong` and `/tiendo`
read of it (its lead unit and coordinating units, for the permission and the refusal): each
part loaded is Python per call, the people with their roles the most.

Built once with the id bound at each call: built per call, a statement (the eager loads, and
SQLAlchemy's cache key, which it computes once per statement object and keeps) cost more
Python than reading the row.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, Select, bindparam, cast, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models.contributions import Contribution
from models.organization import Official, Unit
from models.tasks import Task, TaskEvent

RECENT_EVENTS = 5


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


@cache
def _trail_query() -> Select[tuple[TaskEvent | None, Contribution | None, str | None]]:
    # One row per event or per report, the other side's columns null: the ids of both in a
    # UNION ALL, then each entity joined to its own ids.
    task_id = bindparam("task_id")
    last = (
        select(TaskEvent.id)
        .where(TaskEvent.task_id == task_id)
        .order_by(TaskEvent.id.desc())
        .limit(RECENT_EVENTS)
        .subquery()
    )
    picked = union_all(
        select(last.c.id.label("event_id"), cast(null(), Integer).label("contribution_id")),
        select(cast(null(), Integer), Contribution.id).where(Contribution.task_id == task_id),
    ).subquery()
    return (
        select(TaskEvent, Contribution, Unit.name)
        .select_from(picked)
        .outerjoin(TaskEvent, TaskEvent.id == picked.c.event_id)
        .outerjoin(Contribution, Contribution.id == picked.c.contribution_id)
        .outerjoin(Unit, Unit.id == Contribution.unit_id)
        .options(joinedload(TaskEvent.actor).noload(Official.role_links))
    )


async def card_trail(
    session: AsyncSession, task_id: int
) -> tuple[list[TaskEvent], list[tuple[str, Contribution]]]:
    """What `/xem` shows below the task, in one statement: its last events, oldest first,
    with their actors (as `task_queries.recent_events`), and each coordinating unit's last
    report with the unit's name, by name (as `contributions.latest_by_unit`)."""
    events: list[TaskEvent] = []
    reports: list[tuple[str, Contribution]] = []
    rows = await session.execute(_trail_query(), {"task_id": task_id})
    for event, contribution, unit_name in rows.tuples():
        if event is not None:
            events.append(event)
        elif contribution is not None and unit_name is not None:
            reports.append((unit_name, contribution))
    latest: dict[str, Contribution] = {}
    for name, contribution in sorted(reports, key=lambda pair: pair[1].id):
        latest[name] = contribution
    return sorted(events, key=lambda event: event.id), sorted(latest.items())


async def _one(session: AsyncSession, query: Select[tuple[Task]], task_id: int) -> Task | None:
    if not 0 < task_id < 2**31:
        return None
    found = await session.execute(query, {"task_id": task_id})
    return found.unique().scalar_one_or_none()
