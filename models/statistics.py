"""The five standard columns — assigned · done on time · done late · open in time · overdue.

A task counts in a period when it was assigned by the moment and not finished before the
period began; its column is its derived status at the moment. Aggregated in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from models.city_tallies import city_counts, counts_of_units, leading_units
from models.organization import Official, Unit
from models.status import DerivedStatus, StatusWindow, derived_status_sql
from models.tallies import (
    corrections,
    counts_by_unit,
    lead_unit_at,
    overdue_in_period,
)
from models.tasks import Task, TaskStatus


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


def in_period(
    window: StatusWindow,
    period_start: date,
    columns: Sequence[ColumnElement[Any]],
    *conditions: ColumnElement[bool],
) -> CompoundSelect:
    """Tasks that count in a period: assigned by its end and not finished before it began.

    Written as the open tasks plus the tasks done since the period began (a task done after
    a past moment is among the latter), so each half reads an index instead of the table.
    """
    # Nearly every task was assigned by the moment: wrapped, the test cannot lure the planner
    # onto the assigned-date index (a walk over the whole table) away from the open-task one.
    assigned = func.coalesce(Task.assigned_date, Task.assigned_date) <= window.today
    return union_all(
        select(*columns).where(Task.status != TaskStatus.DONE, assigned, *conditions),
        select(*columns).where(
            Task.status == TaskStatus.DONE,
            Task.completed_date >= period_start,
            assigned,
            *conditions,
        ),
    )


async def _grouped(
    session: AsyncSession,
    window: StatusWindow,
    period_start: date,
    key: ColumnElement[int] | ColumnElement[int | None],
    unit_id: int | None,
) -> dict[int, FiveColumns]:
    """The five columns per value of `key` (lead unit, leader or specialist), in one query."""
    conditions = [key.is_not(None)]
    if unit_id is not None:
        conditions.append(lead_unit_at(window) == unit_id)
    scope = in_period(
        window,
        period_start,
        [key.label("key"), derived_status_sql(window).label("status")],
        *conditions,
    )
    counted = scope.subquery()
    query = select(counted.c.key, counted.c.status, func.count()).group_by(
        counted.c.key, counted.c.status
    )
    counts: dict[int, dict[str, int]] = {}
    for value, derived, n in (await session.execute(query)).tuples():
        counts.setdefault(value, {})[derived] = n
    return {value: _columns(c) for value, c in counts.items()}


async def five_columns_by_unit(
    session: AsyncSession, window: StatusWindow, period_start: date, unit_id: int | None = None
) -> list[UnitRow]:
    """Per lead unit, worst first (most overdue, then most done late): sums over the kept
    counts (`models/tallies.py`), equal to `scanned_by_unit`, which reads every task."""
    return await _named(session, await counts_by_unit(session, window, period_start, unit_id))


async def _named(session: AsyncSession, counts: dict[int, dict[str, int]]) -> list[UnitRow]:
    """The units' rows with their code and name, worst first."""
    return (await _named_in_register(session, counts))[0]


async def _named_in_register(
    session: AsyncSession, counts: dict[int, dict[str, int]]
) -> tuple[list[UnitRow], int]:
    """`_named`, and how many units the register holds, read in the same statement."""
    names: dict[int, tuple[str, str]] = {}
    wanted = sorted(counts)
    register = select(func.count()).select_from(Unit).scalar_subquery()
    in_register = None
    for start in range(0, len(wanted), 500):
        units = await session.execute(
            select(Unit.id, Unit.code, Unit.name, register).where(
                Unit.id.in_(wanted[start : start + 500])
            )
        )
        for uid, code, name, every in units.tuples():
            names[uid], in_register = (code, name), every
    if in_register is None:  # no unit to name
        in_register = await session.scalar(select(func.count()).select_from(Unit))
    result = [UnitRow(*names[uid], _columns(c)) for uid, c in counts.items()]
    result.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.code))
    return result, int(in_register or 0)


@dataclass(frozen=True)
class CityColumns:
    total: FiveColumns  # every unit's tasks of the period
    units: int  # units in the register
    worst: list[UnitRow]  # the first of `five_columns_by_unit`


async def city_columns(
    session: AsyncSession, window: StatusWindow, period_start: date, first: int
) -> CityColumns:
    """The city's five columns and the `first` units of `five_columns_by_unit`, without a
    row per unit: the units are ranked by their overdue count alone, and only those that
    may be among the first (with every unit tied with the last) are counted in full."""
    fix = await corrections(session, window, period_start)
    if not fix and first > 0:  # the kept counts are the answer: ranked in the database
        leading = await leading_units(session, window, first)
        by_unit, overdue_total, with_any = leading.counts, leading.tasks, leading.units
    else:
        by_unit = await overdue_in_period(session, window, fix)
        overdue_total, with_any = sum(by_unit.values()), len(by_unit)
    overdue = sorted(by_unit.items(), key=lambda u: -u[1])
    if first > 0 and with_any >= first:
        cut = overdue[first - 1][1]
        candidates = [unit for unit, n in overdue if n >= cut]
        counts = await counts_of_units(session, window, period_start, candidates, fix)
    else:  # fewer units overdue than asked for: the others rank by what else they did
        counts = await counts_by_unit(session, window, period_start, fix=fix)
    whole = await city_counts(session, window, period_start, fix, overdue_total)
    rows, units = await _named_in_register(session, counts)
    return CityColumns(_columns(whole), units, rows[:first])


async def scanned_by_unit(
    session: AsyncSession, window: StatusWindow, period_start: date, unit_id: int | None = None
) -> dict[int, FiveColumns]:
    """The five columns per lead unit read from every task of the period: what the kept
    counts must agree with (the tests compare them)."""
    return await _grouped(session, window, period_start, lead_unit_at(window), unit_id)


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
    counted = {
        role: await _grouped(session, window, period_start, key, unit_id)
        for role, key in (("leader", Task.leader_id), ("specialist", Task.specialist_id))
    }
    people = await people_by_id(session, {oid for grouped in counted.values() for oid in grouped})
    rows = [
        OfficialRow(*people[oid], role, columns)
        for role, grouped in counted.items()
        for oid, columns in grouped.items()
        if oid in people
    ]
    rows.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.role, r.code))
    return rows


async def people_by_id(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str, str]]:
    """(code, name, unit name) by id: a few by their ids, a city's worth in one read."""
    query = select(Official.id, Official.code, Official.full_name, Unit.name).join(
        Unit, Unit.id == Official.unit_id
    )
    if len(ids) > 2_000:
        found = await session.execute(query)
        return {oid: (code, name, unit) for oid, code, name, unit in found.tuples() if oid in ids}
    wanted, people = sorted(ids), {}
    for start in range(0, len(wanted), 500):
        found = await session.execute(query.where(Official.id.in_(wanted[start : start + 500])))
        people.update((oid, (code, name, unit)) for oid, code, name, unit in found.tuples())
    return people
