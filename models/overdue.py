"""Overdue tasks at a moment: the lists the task force and unit leaders act on, and the jobs alert and urge about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.db import load_all
from models.notices import task_notice_not_done
from models.organization import Unit
from models.status import StatusWindow, days_overdue, overdue_clause
from models.tallies import oldest_deadlines, overdue_counts
from models.tasks import Task


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

    The counts are sums over the kept counts (`models/tallies.py`); the oldest deadline is an
    index seek per unit, and the names a lookup, for the units that may be among the first
    (those tied with the last of them too) only."""
    counts = await overdue_counts(session, window, unit_id)
    ranked = sorted(counts, key=lambda u: -counts[u])
    if first is not None and len(ranked) > first:
        cut = counts[ranked[first - 1]] if first > 0 else None
        ranked = [u for u in ranked if cut is not None and counts[u] >= cut]
    oldest = await oldest_deadlines(session, window, ranked)
    names: list[tuple[int, str, str]] = []
    for start in range(0, len(ranked), 500):
        chunk = sorted(ranked[start : start + 500])
        units = await session.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(chunk))
        )
        names += units.tuples().all()
    found = [
        UnitOverdue(
            uid,
            code,
            name,
            counts[uid],
            days_overdue(oldest[uid], window.today) if uid in oldest else None,
        )
        for uid, code, name in names
    ]
    found.sort(key=lambda u: (-u.count, u.worst_days is None, -(u.worst_days or 0), u.unit_code))
    return OverdueSummary(sum(counts.values()), len(counts), found[:first])


async def overdue_by_unit(
    session: AsyncSession, window: StatusWindow, unit_id: int | None = None
) -> list[UnitOverdue]:
    """Every lead unit with overdue tasks, worst first: `worst_units` without a limit."""
    return (await worst_units(session, window, unit_id)).worst


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
