"""The five standard columns — assigned · done on time · done late · open in time · overdue.

A task counts in a period when it was assigned by the moment and not finished before the
period began; its column is its derived status at the moment. Aggregated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.organization import Official, Unit
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


def _columns(counts: dict[str, int]) -> FiveColumns:
    return FiveColumns(
        assigned=sum(counts.values()),
        done_on_time=counts.get(DerivedStatus.DONE_ON_TIME.value, 0),
        done_late=counts.get(DerivedStatus.DONE_LATE.value, 0),
        open_in_time=counts.get(DerivedStatus.IN_TIME.value, 0)
        + counts.get(DerivedStatus.DUE_SOON.value, 0),
        overdue=counts.get(DerivedStatus.OVERDUE.value, 0),
    )


async def _grouped(
    session: AsyncSession,
    window: StatusWindow,
    period_start: date,
    key: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    unit_id: int | None,
) -> dict[int, FiveColumns]:
    """The five columns per value of `key` (lead unit, leader or specialist), in one query."""
    status = derived_status_sql(window).label("status")
    query = (
        select(key, status, func.count())
        .where(
            Task.assigned_date <= window.today,
            or_(Task.completed_date.is_(None), Task.completed_date >= period_start),
            key.is_not(None),
        )
        .group_by(key, status)
    )
    if unit_id is not None:
        query = query.where(Task.lead_unit_id == unit_id)
    counts: dict[int, dict[str, int]] = {}
    for value, derived, n in (await session.execute(query)).tuples():
        counts.setdefault(value, {})[derived] = n
    return {value: _columns(c) for value, c in counts.items()}


async def five_columns_by_unit(
    session: AsyncSession, window: StatusWindow, period_start: date, unit_id: int | None = None
) -> list[UnitRow]:
    """Per lead unit, worst first (most overdue, then most done late)."""
    grouped = await _grouped(session, window, period_start, Task.lead_unit_id, unit_id)
    units = await session.execute(
        select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(list(grouped)))
    )
    names = {uid: (code, name) for uid, code, name in units.tuples()}
    result = [UnitRow(*names[uid], columns) for uid, columns in grouped.items()]
    result.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.code))
    return result


@dataclass(frozen=True)
class OfficialRow:
    code: str
    name: str
    unit_name: str
    role: str  # "leader" (in charge) or "specialist"
    columns: FiveColumns


async def five_columns_by_official(
    session: AsyncSession, window: StatusWindow, period_start: date, unit_id: int | None = None
) -> list[OfficialRow]:
    """Per leader in charge and per specialist: what the staff evaluation is tied to."""
    rows: list[OfficialRow] = []
    for role, key in (("leader", Task.leader_id), ("specialist", Task.specialist_id)):
        grouped = await _grouped(session, window, period_start, key, unit_id)
        people = (
            await session.execute(
                select(Official.id, Official.code, Official.full_name, Unit.name)
                .join(Unit, Unit.id == Official.unit_id)
                .where(Official.id.in_(list(grouped)))
            )
        ).tuples()
        rows += [
            OfficialRow(code, name, unit, role, grouped[oid]) for oid, code, name, unit in people
        ]
    rows.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.role, r.code))
    return rows
