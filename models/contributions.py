"""A coordinating unit's report of its part in a task (phối hợp): kept, shown, counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ForeignKey, Index, Integer, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from locales import TIMEZONE
from models.base import Base, UTCDateTime
from models.organization import Official, Unit
from models.task_changes import Actor, record
from models.tasks import Task


class Contribution(Base):
    __tablename__ = "contributions"
    __table_args__ = (
        Index("ix_contributions_task", "task_id", "id"),
        Index("ix_contributions_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    # The coordinating unit the official spoke for, as it was that day.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    percent: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


def coordinating_unit_of(unit_chain: tuple[int, ...], task: Task) -> Unit | None:
    """The coordinating unit of `task` that an official of `unit_chain` speaks for."""
    return next((u for u in task.coordinating_units if u.id in unit_chain), None)


async def contribute(
    session: AsyncSession, task: Task, unit: Unit, actor: Actor, percent: int | None, content: str
) -> Contribution:
    """Kept in its table (reports) and in the task's history (the card)."""
    contribution = Contribution(
        task_id=task.id,
        unit_id=unit.id,
        official_id=actor.official_id,
        at=actor.at,
        percent=percent,
        content=content,
    )
    session.add(contribution)
    # In the history: the unit as `new_value`, the percent it reported (if any) as `old_value`.
    record(
        session,
        task,
        actor,
        "contribution",
        field="coordinating_unit",
        new=unit.name,
        old=percent,
        note=content,
    )
    await session.flush()
    return contribution


@dataclass(frozen=True)
class ContributionLine:
    """One contribution as a report lists it."""

    unit_code: str
    unit_name: str
    task_id: int
    lead_unit_name: str
    day: date
    official_name: str | None
    percent: int | None
    content: str


async def contributions_between(
    session: AsyncSession, first: date, last: date, unit_id: int | None = None
) -> list[ContributionLine]:
    """Contributions made from `first` to `last` (local days), by coordinating unit, then
    task; `unit_id`: those given by that unit or on a task it leads."""
    start = datetime.combine(first, time(), TIMEZONE)
    end = datetime.combine(last + timedelta(days=1), time(), TIMEZONE)
    lead = aliased(Unit)
    query = (
        select(Contribution, Unit.code, Unit.name, lead.name, Official.full_name)
        .join(Unit, Unit.id == Contribution.unit_id)
        .join(Task, Task.id == Contribution.task_id)
        .join(lead, lead.id == Task.lead_unit_id)
        .outerjoin(Official, Official.id == Contribution.official_id)
        .where(Contribution.at >= start, Contribution.at < end)
        .order_by(Unit.code, Contribution.task_id, Contribution.id)
    )
    if unit_id is not None:
        query = query.where((Contribution.unit_id == unit_id) | (Task.lead_unit_id == unit_id))
    rows = await session.execute(query)
    return [
        ContributionLine(
            code,
            name,
            c.task_id,
            lead_name,
            c.at.astimezone(TIMEZONE).date(),
            official,
            c.percent,
            c.content,
        )
        for c, code, name, lead_name, official in rows.tuples()
    ]


async def latest_by_unit(session: AsyncSession, task_id: int) -> list[tuple[str, Contribution]]:
    """Each coordinating unit's last report on a task, with the unit's name: the card's lines."""
    rows = await session.execute(
        select(Unit.name, Contribution)
        .join(Unit, Unit.id == Contribution.unit_id)
        .where(Contribution.task_id == task_id)
        .order_by(Contribution.id)
    )
    latest: dict[str, Contribution] = {}
    for name, contribution in rows.tuples():
        latest[name] = contribution
    return sorted(latest.items())
