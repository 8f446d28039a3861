"""Queries over tasks: one official's list, a task with its people, what the jobs remind of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, nulls_last, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from models.deadlines import ChangeState, DeadlineChange
from models.organization import Official, Unit
from models.permissions import Viewer
from models.status import StatusWindow, open_clause, overdue_clause
from models.task_lookup import task_to_change
from models.tasks import Task, TaskEvent, TaskStatus

PAGE_SIZE = 10


async def get_task(session: AsyncSession, task_id: int) -> Task | None:
    """A task with everything its card shows but its series and deadline changes: one
    statement (a command's round trips are its cost), built once (`task_lookup`)."""
    return await task_to_change(session, task_id)


def _mine(viewer: Viewer, *conditions: ColumnElement[bool]) -> Select[tuple[Task]]:
    """A leader's list is the unit's; anyone else's is the tasks that name them.

    Written as a union of two legs rather than an OR, so that each leg reads its own index
    (by unit or specialist, and by leader) instead of scanning every open task by deadline.
    """
    me = viewer.official.id
    first = (
        Task.lead_unit_id == viewer.unit_id if viewer.is_unit_leader else Task.specialist_id == me
    )
    ids = union(
        select(Task.id).where(first, *conditions),
        select(Task.id).where(Task.leader_id == me, *conditions),
    )
    return select(Task).where(Task.id.in_(ids))


def _worst_first(window: StatusWindow) -> tuple:
    overdue_first = case((overdue_clause(window), 0), else_=1)
    return (overdue_first, nulls_last(Task.deadline.asc()), Task.id)


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    total: int
    overdue: int
    page: int
    pages: int


OPEN_STATUSES = [s for s in TaskStatus if s is not TaskStatus.DONE]


def _open_now(window: StatusWindow) -> ColumnElement[bool]:
    """`open_clause`, with the open statuses named when the moment is now: `status <> 'done'`
    is the predicate of the partial open-deadline index, and PostgreSQL ANDed all of that
    index (150,000 entries, 20 ms) into a leader's list; named, the statuses are a column of
    the index by unit, leader or specialist."""
    return open_clause(window) if window.past else Task.status.in_(OPEN_STATUSES)


async def my_open_tasks(
    session: AsyncSession, viewer: Viewer, window: StatusWindow, page: int
) -> Page:
    """Open tasks, overdue first, then by deadline; one page of them, with the counts of the
    whole list read in the same statement (a window over the list)."""
    base = _mine(viewer, _open_now(window))
    overdue = func.coalesce(func.sum(case((overdue_clause(window), 1), else_=0)).over(), 0)
    listed = base.add_columns(func.count().over(), overdue).order_by(*_worst_first(window))
    page = max(page, 1)
    rows = (await session.execute(_page(listed, page))).tuples().all()
    if not rows and page > 1:  # past the last page: show the last one
        counts = base.with_only_columns(func.count()).order_by(None)
        pages = max(1, -(-int(await session.scalar(counts) or 0) // PAGE_SIZE))
        page = pages
        rows = (await session.execute(_page(listed, page))).tuples().all()
    if not rows:
        return Page([], 0, 0, 1, 1)
    total, overdue_count = int(rows[0][1]), int(rows[0][2])
    pages = max(1, -(-total // PAGE_SIZE))
    return Page([task for task, _, _ in rows], total, overdue_count, page, pages)


def _page(listed: Select[Any], page: int) -> Select[Any]:
    return listed.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)


async def my_tasks_due_by(
    session: AsyncSession, viewer: Viewer, window: StatusWindow, until: date
) -> list[Task]:
    query = (
        _mine(viewer, _open_now(window), Task.deadline >= window.today, Task.deadline <= until)
        .order_by(Task.deadline, Task.id)
        .limit(50)
    )
    return list((await session.scalars(query)).all())


async def recent_events(session: AsyncSession, task_id: int, limit: int = 5) -> list[TaskEvent]:
    query = (
        select(TaskEvent)
        .where(TaskEvent.task_id == task_id)
        .options(joinedload(TaskEvent.actor).noload(Official.role_links))
        .order_by(TaskEvent.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.scalars(query)).all()))


async def deadline_history(session: AsyncSession, task_id: int) -> list[DeadlineChange]:
    query = (
        select(DeadlineChange).where(DeadlineChange.task_id == task_id).order_by(DeadlineChange.id)
    )
    return list((await session.scalars(query)).all())


async def pending_extension(session: AsyncSession, task_id: int) -> DeadlineChange | None:
    return await session.scalar(
        select(DeadlineChange)
        .where(DeadlineChange.task_id == task_id, DeadlineChange.state == ChangeState.PENDING)
        .options(selectinload(DeadlineChange.requested_by))
    )


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return await session.scalar(select(Unit).where(func.lower(Unit.code) == code.lower()))


async def open_task_ids_by_official(
    session: AsyncSession, official_ids: list[int]
) -> dict[int, list[int]]:
    """For each of these officials, the open tasks naming them (specialist or leader), by deadline."""
    rows = await session.execute(
        select(Task.id, Task.specialist_id, Task.leader_id)
        .where(
            Task.status != TaskStatus.DONE,
            Task.specialist_id.in_(official_ids) | Task.leader_id.in_(official_ids),
        )
        .order_by(nulls_last(Task.deadline.asc()), Task.id)
    )
    wanted, found = set(official_ids), {}
    for task_id, specialist_id, leader_id in rows.tuples():
        for oid in {specialist_id, leader_id} & wanted:
            found.setdefault(oid, []).append(task_id)
    return found
