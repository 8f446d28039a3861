"""The five standard columns — assigned · done on time · done late · open in time · overdue.

A task counts in a period when it was assigned by the moment and not finished before the
period began; its column is its derived status at the moment. Aggregated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.organization import Unit
from models.status import DerivedStatus, StatusWindow, derived_status_sql
from models.tasks import Task


@dataclass(frozen=True)
class FiveColumns:
    assigned: int = 0
    done_on_time: int = 0
    done_late: int = 0
    open_in_time: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of finished tasks finished on time; None while none is finished."""
        done = self.done_on_time + self.done_late
        return self.done_on_time / done if done else None

    def __add__(self, other: FiveColumns) -> FiveColumns:
        return FiveColumns(
            self.assigned + other.assigned,
            self.done_on_time + other.done_on_time,
            self.done_late + other.done_late,
            self.open_in_time + other.open_in_time,
            self.overdue + other.overdue,
        )


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    columns: FiveColumns


async def five_columns_by_unit(
    session: AsyncSession, window: StatusWindow, period_start: date, unit_id: int | None = None
) -> list[UnitRow]:
    status = derived_status_sql(window).label("status")
    scoped = select(Task.lead_unit_id, status).where(
        Task.assigned_date <= window.today,
        or_(Task.completed_date.is_(None), Task.completed_date >= period_start),
    )
    if unit_id is not None:
        scoped = scoped.where(Task.lead_unit_id == unit_id)
    inner = scoped.subquery()

    rows = await session.execute(
        select(Unit.code, Unit.name, inner.c.status, func.count())
        .join(Unit, Unit.id == inner.c.lead_unit_id)
        .group_by(Unit.code, Unit.name, inner.c.status)
    )
    by_unit: dict[tuple[str, str], dict[str, int]] = {}
    for code, name, derived, n in rows.tuples():
        by_unit.setdefault((code, name), {})[derived] = n
    result = []
    for (code, name), counts in by_unit.items():
        result.append(
            UnitRow(
                code,
                name,
                FiveColumns(
                    assigned=sum(counts.values()),
                    done_on_time=counts.get(DerivedStatus.DONE_ON_TIME.value, 0),
                    done_late=counts.get(DerivedStatus.DONE_LATE.value, 0),
                    open_in_time=counts.get(DerivedStatus.IN_TIME.value, 0)
                    + counts.get(DerivedStatus.DUE_SOON.value, 0),
                    overdue=counts.get(DerivedStatus.OVERDUE.value, 0),
                ),
            )
        )
    result.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.code))
    return result
