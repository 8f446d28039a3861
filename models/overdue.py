"""Overdue tasks at a moment: the lists the task force and unit leaders act on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.organization import Unit
from models.status import StatusWindow, overdue_clause
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
        UnitOverdue(unit_id, code, name, count, (window.today - deadline).days)
        for unit_id, code, name, count, deadline in (await session.execute(query)).tuples()
    ]
