"""Overdue tasks at a moment: the lists the task force and unit leaders act on, and the jobs alert and urge about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Integer, Select, String, bindparam, column, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.city_tallies import leading_units
from models.organization import Official, Unit
from models.status import StatusWindow, days_overdue
from models.tallies import kept_overdue
from models.tasks import Task, TaskStatus


async def overdue_counts(
    session: AsyncSession, window: StatusWindow, unit_id: int | None = None
) -> dict[int, int]:
    """Per current lead unit, the tasks overdue at the moment (`status.overdue_clause`)."""
    counts = await kept_overdue(session, window, unit_id)
    if window.past:  # done since the moment: still open then
        late = select(Task.lead_unit_id, func.count()).where(
            Task.completed_date > window.today, Task.deadline < window.today
        )
        if unit_id is not None:
            late = late.where(Task.lead_unit_id == unit_id)
        for unit, n in (await session.execute(late.group_by(Task.lead_unit_id))).tuples():
            counts[unit] = counts.get(unit, 0) + n
    return counts


@dataclass(frozen=True)
class UnitOverdue:
    unit_id: int
    unit_code: str
    unit_name: str
    count: int
    worst_days: int | None  # how long the oldest is overdue


@dataclass(frozen=True)
class OverdueSummary:
    tasks: int  # overdue in the scope
    units: int  # lead units with any
    worst: list[UnitOverdue]  # the units asked for, worst first


async def worst_units(
    session: AsyncSession,
    window: StatusWindow,
    unit_id: int | None = None,
    *,
    first: int | None = None,
) -> OverdueSummary:
    """Per lead unit, how many tasks are overdue and by how long the oldest; worst first
    (most overdue, then the oldest, then by code): every unit, or the `first` only.

    The counts are sums over the kept counts (`models/tallies.py`); the names and the oldest
    deadline (an index seek per unit) are read for the units that may be among the first
    (those tied with the last of them too) only."""
    if unit_id is None and first is not None and first > 0 and not window.past:
        leading = await leading_units(session, window, first)  # ranked in the database
        counts, tasks, units = leading.counts, leading.tasks, leading.units
    else:
        counts = await overdue_counts(session, window, unit_id)
        tasks, units = sum(counts.values()), len(counts)
    ranked = sorted(counts, key=lambda u: -counts[u])
    if first is not None and len(ranked) > first:
        cut = counts[ranked[first - 1]] if first > 0 else None
        ranked = [u for u in ranked if cut is not None and counts[u] >= cut]
    found = [
        UnitOverdue(
            uid,
            code,
            name,
            counts[uid],
            days_overdue(oldest, window.today) if oldest is not None else None,
        )
        for uid, (code, name, oldest) in (await _named_oldest(session, window, ranked)).items()
    ]
    found.sort(key=lambda u: (-u.count, u.worst_days is None, -(u.worst_days or 0), u.unit_code))
    return OverdueSummary(tasks, units, found[:first])


async def _named_oldest(
    session: AsyncSession, window: StatusWindow, unit_ids: list[int]
) -> dict[int, tuple[str, str, date | None]]:
    """Each unit's code, name and oldest deadline among its open tasks, in one query: one
    index seek per unit and open status."""
    found: dict[int, tuple[str, str, date | None]] = {}
    statuses = [s for s in TaskStatus if s is not TaskStatus.DONE]
    for start in range(0, len(unit_ids), 500):
        chunk = sorted(unit_ids[start : start + 500])
        oldest = [
            select(func.min(Task.deadline))
            .where(Task.lead_unit_id == Unit.id, Task.status == status)
            .scalar_subquery()
            for status in statuses
        ]
        if window.past:  # done since the moment: still open then
            oldest.append(
                select(func.min(Task.deadline))
                .where(Task.lead_unit_id == Unit.id, Task.completed_date > window.today)
                .scalar_subquery()
            )
        query = select(Unit.id, Unit.code, Unit.name, *oldest).where(Unit.id.in_(chunk))
        for unit, code, name, *deadlines in (await session.execute(query)).tuples():
            known = [d for d in deadlines if d is not None]
            found[unit] = (code, name, min(known) if known else None)
    return found


@dataclass(frozen=True)
class ListedTask:
    """What an overdue list shows of a task: read as columns, not loaded as a `Task`."""

    id: int
    content: str
    status: TaskStatus
    deadline: date | None
    completed_date: date | None


@dataclass(frozen=True)
class OverdueTask:
    task: ListedTask
    unit_code: str
    unit_name: str
    leader_name: str | None
    specialist_name: str | None


def _oldest_sql(units: int, past: bool) -> str:
    """Per unit and open status, the first rows of the lead-unit index (unit, status,
    deadline): the oldest few overdue, without reading the others. Written as SQL text:
    built with the expression language, the 40 arms of a city-wide list cost more to build
    and key for the cache than to run."""
    arm = (
        "SELECT id FROM (SELECT id FROM tasks WHERE lead_unit_id = :u{i} AND status = :{status}"
        " AND deadline < :today{extra} ORDER BY deadline, id LIMIT :per_unit) AS a{i}{status}"
    )
    arms = []
    for i in range(units):
        arms += [arm.format(i=i, status=s, extra="") for s in ("not_started", "in_progress")]
        if past:  # done since the moment: still open then
            arms.append(arm.format(i=i, status="done", extra=" AND completed_date > :today"))
    return " UNION ALL ".join(arms)


@lru_cache(maxsize=64)
def _oldest_statement(units: int, past: bool) -> Select[Any]:
    """The listing for so many units, built once: its values are bound at each execution."""
    oldest = (
        text(_oldest_sql(units, past))
        .bindparams(bindparam("today", type_=Date))
        .columns(id=Integer)
        .subquery()
    )
    leader, specialist = aliased(Official), aliased(Official)
    return (
        select(
            Task.id,
            Task.content,
            Task.status,
            Task.deadline,
            Task.completed_date,
            Unit.code,
            Unit.name,
            leader.full_name,
            specialist.full_name,
        )
        .join(Unit, Unit.id == Task.lead_unit_id)
        .outerjoin(leader, leader.id == Task.leader_id)
        .outerjoin(specialist, specialist.id == Task.specialist_id)
        .where(Task.id.in_(select(oldest.c.id)))
        .order_by(Unit.code, Task.deadline, Task.id)
    )


# PostgreSQL, the moment now: per unit, the first rows of its open tasks by deadline (the
# partial index by unit and deadline; its predicate written out, so that a generic plan
# still matches it), then the names of those few only. The arms of `_oldest_statement` read
# both open statuses of each unit, twice the rows, and joined every row to its people before
# keeping the oldest (1,800 buffers for the 20 units of the city's list).
_OLDEST_NOW_PG = text(
    """
    SELECT t.id, t.content, t.status, t.deadline, t.completed_date, u.code, u.name,
           leader.full_name AS leader_name, specialist.full_name AS specialist_name
    FROM units AS u
    CROSS JOIN LATERAL (
        SELECT id, content, status, deadline, completed_date, leader_id, specialist_id
        FROM tasks
        WHERE lead_unit_id = u.id AND status <> 'done' AND deadline < :today
        ORDER BY deadline, id
        LIMIT :per_unit
    ) AS t
    LEFT JOIN officials AS leader ON leader.id = t.leader_id
    LEFT JOIN officials AS specialist ON specialist.id = t.specialist_id
    WHERE u.id = ANY(:units)
    ORDER BY u.code, t.deadline, t.id
    """
).columns(
    Task.id,
    Task.content,
    Task.status,
    Task.deadline,
    Task.completed_date,
    Unit.code,
    Unit.name,
    column("leader_name", String),
    column("specialist_name", String),
)


async def oldest_overdue(
    session: AsyncSession, window: StatusWindow, unit_ids: list[int], per_unit: int
) -> list[OverdueTask]:
    """The oldest `per_unit` overdue tasks of each unit with their unit and people, by unit
    code, then the oldest first."""
    if not unit_ids:
        return []
    if not window.past and (await session.connection()).dialect.name == "postgresql":
        params = {"units": unit_ids, "per_unit": per_unit, "today": window.today}
        rows = await session.execute(_OLDEST_NOW_PG, params)
        return [OverdueTask(ListedTask(*row[:5]), *row[5:]) for row in rows.tuples()]
    params: dict[str, object] = {f"u{i}": unit for i, unit in enumerate(unit_ids)}
    statuses = [s for s in TaskStatus if window.past or s is not TaskStatus.DONE]
    params |= {s.value: s.value for s in statuses}
    params |= {"per_unit": per_unit, "today": window.today}
    rows = await session.execute(_oldest_statement(len(unit_ids), window.past), params)
    found: list[OverdueTask] = []
    listed: dict[str, int] = {}
    for row in rows.tuples():  # up to per_unit of each status: keep the oldest per_unit
        code = row[5]
        if listed.get(code, 0) < per_unit:
            listed[code] = listed.get(code, 0) + 1
            found.append(OverdueTask(ListedTask(*row[:5]), *row[5:]))
    return found
