"""Overdue tasks at a moment: the lists the task force and unit leaders act on, and the jobs alert and urge about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.db import load_all
from models.notices import task_notice_not_done
from models.organization import Unit
from models.status import StatusWindow, days_overdue, overdue_clause
from models.tasks import Task


@dataclass(frozen=True)
class UnitOverdue:
    unit_id: int
    unit_code: str
    unit_name: str
    count: int
    worst_days: int


async def overdue_by_unit(
    session: AsyncSession, window: StatusWindow, unit_id: int | None = None
) -> list[UnitOverdue]:
    """Per lead unit, how many tasks are overdue and by how long the oldest; worst first."""
    oldest = func.min(Task.deadline)
    query = (
        select(Unit.id, Unit.code, Unit.name, func.count(Task.id), oldest)
        .join(Unit, Unit.id == Task.lead_unit_id)
        .where(overdue_clause(window))
        .group_by(Unit.id, Unit.code, Unit.name)
        .order_by(func.count(Task.id).desc(), oldest, Unit.code)
    )
    if unit_id is not None:
        query = query.where(Task.lead_unit_id == unit_id)
    return [
        UnitOverdue(unit_id, code, name, count, days_overdue(deadline, window.today))
        for unit_id, code, name, count, deadline in (await session.execute(query)).tuples()
    ]


async def newly_overdue(
    session: AsyncSession, window: StatusWindow, days: int, kind: str
) -> list[Task]:
    """Tasks overdue for at most `days` days whose notice of `kind` (the alert) is not done
    under the deadline in force, with their unit and people.

    Older ones (say, a backlog just imported) are the weekly urging's business.
    """
    query = (
        select(Task)
        .where(
            overdue_clause(window),
            Task.deadline >= window.today - timedelta(days=days),
            task_notice_not_done(kind, Task.id, Task.deadline),
        )
        .options(
            selectinload(Task.lead_unit),
            selectinload(Task.leader),
            selectinload(Task.specialist),
        )
        .order_by(Task.deadline, Task.id)
    )
    return await load_all(session, query)


async def overdue_to_urge(session: AsyncSession, window: StatusWindow, since: date) -> list[Task]:
    """Tasks overdue now and already on `since`, by lead unit, with what the letter names."""
    query = (
        select(Task)
        .where(overdue_clause(window, already_on=since))
        .options(
            selectinload(Task.lead_unit),
            selectinload(Task.leader),
            selectinload(Task.specialist),
            selectinload(Task.document),
        )
        .order_by(Task.lead_unit_id, Task.deadline, Task.id)
    )
    return await load_all(session, query)
