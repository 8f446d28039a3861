"""Urgings (đôn đốc): each weekly written urging of an overdue task, counted per deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, selectinload

from models.base import Base, UTCDateTime
from models.db import dialect_insert, write_gate
from models.organization import Unit
from models.status import StatusWindow, overdue_clause
from models.tasks import Task

# Lead units per step: the bench city's 999 units with 89 overdue tasks each, 50 at a time.
UNITS_PER_BATCH = 50
TASKS_AT_ONCE = 300


class Urging(Base):
    __tablename__ = "urgings"
    __table_args__ = (
        UniqueConstraint("task_id", "deadline", "week", name="uq_urgings_task_deadline_week"),
        Index("ix_urgings_task", "task_id", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, e.g. 2026-W48
    at: Mapped[datetime] = mapped_column(UTCDateTime)


async def urging_counts(session: AsyncSession, pairs: list[tuple[int, date]]) -> dict[int, int]:
    """How many times each task was urged under its deadline in force."""
    counts: dict[int, int] = {}
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        ids = [task_id for task_id, _ in chunk]
        wanted = dict(chunk)
        rows = await session.execute(
            select(Urging.task_id, Urging.deadline, func.count())
            .where(Urging.task_id.in_(ids))
            .group_by(Urging.task_id, Urging.deadline)
        )
        for task_id, deadline, count in rows.tuples():
            if wanted.get(task_id) == deadline:
                counts[task_id] = count
    return counts


async def record_urgings(
    session: AsyncSession, window: StatusWindow, since: date, week: str, at: datetime
) -> None:
    """This week's urging of every task overdue now and on `since`, once per task, deadline
    and week: an INSERT … SELECT per batch of units, each its own short write."""
    async for low, high in _unit_ranges(session):
        chosen = select(
            Task.id, Task.deadline, Task.lead_unit_id, literal(week), literal(at, UTCDateTime())
        ).where(overdue_clause(window, already_on=since), Task.lead_unit_id.between(low, high))
        statement = (
            (await dialect_insert(session, Urging))
            .from_select(["task_id", "deadline", "unit_id", "week", "at"], chosen)
            .on_conflict_do_nothing(index_elements=["task_id", "deadline", "week"])
        )
        async with write_gate(session.bind).bulk():
            await session.execute(statement)
            await session.commit()


async def overdue_to_urge_by_units(
    session: AsyncSession, window: StatusWindow, since: date
) -> AsyncIterator[list[Task]]:
    """Tasks overdue now and already on `since`, with what the letter names, a batch of lead
    units at a time (by unit, deadline, number): the job never holds the city's overdue list."""
    async for low, high in _unit_ranges(session):
        query = (
            select(Task)
            .where(overdue_clause(window, already_on=since), Task.lead_unit_id.between(low, high))
            .options(
                selectinload(Task.lead_unit),
                selectinload(Task.leader),
                selectinload(Task.specialist),
                selectinload(Task.document),
            )
            .order_by(Task.lead_unit_id, Task.deadline, Task.id)
        )
        # Loaded a few hundred at a time, the loop breathing between: building 4,000 tasks
        # with their people at once held the bot's commands for a fraction of a second.
        result = await session.stream_scalars(query.execution_options(yield_per=TASKS_AT_ONCE))
        tasks: list[Task] = []
        async for partition in result.partitions():
            tasks.extend(partition)
            await asyncio.sleep(0)
        if tasks:
            yield tasks


async def _unit_ranges(session: AsyncSession) -> AsyncIterator[tuple[int, int]]:
    first, last = (await session.execute(select(func.min(Unit.id), func.max(Unit.id)))).one()
    if first is None:
        return
    for low in range(first, last + 1, UNITS_PER_BATCH):
        yield low, low + UNITS_PER_BATCH - 1
