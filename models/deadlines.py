"""Deadline changes (gia hạn): asked by the unit, decided by the task force, never forgotten."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_column
from models.organization import Official

if TYPE_CHECKING:
    from models.tasks import Task


class ChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


_PENDING = text("state = 'pending'")


class DeadlineChange(Base):
    __tablename__ = "deadline_changes"
    __table_args__ = (
        Index("ix_deadline_changes_task", "task_id"),
        # At most one request waits for a decision per task.
        Index(
            "uq_deadline_changes_one_pending",
            "task_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    old_deadline: Mapped[date | None] = mapped_column(Date)
    new_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[ChangeState] = mapped_column(
        enum_column(ChangeState, "change_state"), default=ChangeState.PENDING
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(2000), default="")

    task: Mapped[Task] = relationship(back_populates="deadline_changes", lazy="raise")
    requested_by: Mapped[Official | None] = relationship(
        foreign_keys=[requested_by_id], lazy="raise"
    )
    decided_by: Mapped[Official | None] = relationship(foreign_keys=[decided_by_id], lazy="raise")
