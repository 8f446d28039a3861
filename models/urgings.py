"""Urgings (đôn đốc): each weekly written urging of an overdue task, counted per deadline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


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
