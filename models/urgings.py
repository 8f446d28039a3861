"""Urgings (đôn đốc): each weekly written urging of an overdue task, counted per deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Select,
    String,
    UniqueConstraint,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base, UTCDateTime
from models.db import dialect_insert, write_gate
from models.documents import Document
from models.notice_tasks import DocumentFacts
from models.organization import Official, Unit
from models.status import StatusWindow, overdue_clause
from models.tasks import Task, TaskStatus

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


@dataclass(frozen=True, slots=True)
class LeadUnit:
    """What a letter names of the unit it is addressed to."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class UrgedTask:
    """An overdue task as the urging names it, read as columns: the job builds no ORM object
    per task (those and their four look-ups were a third of the urging's time)."""

    id: int
    content: str
    status: TaskStatus
    deadline: date
    completed_date: date | None
    lead_unit_id: int
    lead_unit: LeadUnit
    leader_id: int | None
    specialist_id: int | None
    leader_name: str | None
    specialist_name: str | None
    document: DocumentFacts | None


def _urged_query(window: StatusWindow, since: date, low: int, high: int) -> Select[Any]:
    leader, specialist = aliased(Official), aliased(Official)
    return (
        select(
            Task.id,
            Task.content,
            Task.status,
            Task.deadline,
            Task.completed_date,
            Task.lead_unit_id,
            Unit.code,
            Unit.name,
            Task.leader_id,
            Task.specialist_id,
            leader.full_name,
            specialist.full_name,
            Document.kind,
            Document.number,
            Document.issued_on,
        )
        .join(Unit, Unit.id == Task.lead_unit_id)
        .outerjoin(leader, leader.id == Task.leader_id)
        .outerjoin(specialist, specialist.id == Task.specialist_id)
        .outerjoin(Document, Document.id == Task.document_id)
        .where(overdue_clause(window, already_on=since), Task.lead_unit_id.between(low, high))
        .order_by(Task.lead_unit_id, Task.deadline, Task.id)
    )


async def overdue_to_urge_by_units(
    session: AsyncSession, window: StatusWindow, since: date
) -> AsyncIterator[list[UrgedTask]]:
    """Tasks overdue now and already on `since`, with what the letter names, a batch of lead
    units at a time (by unit, deadline, number): the job never holds the city's overdue list."""
    units: dict[tuple[str, str], LeadUnit] = {}
    async for low, high in _unit_ranges(session):
        result = await session.stream(
            _urged_query(window, since, low, high).execution_options(yield_per=TASKS_AT_ONCE)
        )
        tasks: list[UrgedTask] = []
        async for partition in result.partitions():
            for row in partition:
                (task_id, content, status, deadline, completed, unit_id, code, name) = row[:8]
                leader_id, specialist_id, leader_name, specialist_name = row[8:12]
                kind, number, issued_on = row[12:]
                unit = units.setdefault((code, name), LeadUnit(code, name))
                document = DocumentFacts(kind, number, issued_on) if number is not None else None
                tasks.append(
                    UrgedTask(
                        task_id,
                        content,
                        status,
                        deadline,
                        completed,
                        unit_id,
                        unit,
                        leader_id,
                        specialist_id,
                        leader_name,
                        specialist_name,
                        document,
                    )
                )
            await asyncio.sleep(0)
        if tasks:
            yield tasks


async def _unit_ranges(session: AsyncSession) -> AsyncIterator[tuple[int, int]]:
    first, last = (await session.execute(select(func.min(Unit.id), func.max(Unit.id)))).one()
    if first is None:
        return
    for low in range(first, last + 1, UNITS_PER_BATCH):
        yield low, low + UNITS_PER_BATCH - 1
