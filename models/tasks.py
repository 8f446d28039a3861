"""Tasks, their coordinating units and the append-only trail of every change to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_column
from models.documents import Document
from models.organization import Official, Unit

if TYPE_CHECKING:
    from models.deadlines import DeadlineChange
    from models.recurrence import Series


class TaskStatus(StrEnum):
    """The stored status; overdue and on-time are derived (see models.status)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Channel(StrEnum):
    """Where a change came from, for the audit trail."""

    TELEGRAM = "telegram"
    ZALO = "zalo"
    MATRIX = "matrix"
    CLI = "cli"
    IMPORT = "import"
    SYSTEM = "system"


task_coordinators = Table(
    "task_coordinators",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
)

_OPEN = text("status <> 'done'")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint(
            "(status = 'done' AND completed_date IS NOT NULL)"
            " OR (status <> 'done' AND completed_date IS NULL)",
            name="completed_iff_done",
        ),
        # Open tasks by deadline: reminders, overdue sweeps, /quahan.
        Index("ix_tasks_open_deadline", "deadline", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_tasks_lead_unit", "lead_unit_id", "status", "deadline"),
        Index("ix_tasks_specialist", "specialist_id", "status", "deadline"),
        Index("ix_tasks_leader", "leader_id", "status", "deadline"),
        Index("ix_tasks_assigned_date", "assigned_date"),
        # Reports count the tasks done in a period beside the open ones.
        Index("ix_tasks_completed_date", "completed_date"),
        # A recurring duty's occurrence exists once per nominal date, whoever sweeps.
        Index("ix_tasks_series_date", "series_id", "series_date", unique=True),
        # What the kept counts (models/tallies.py) put right at a past moment, read from the
        # index alone: the tasks assigned, or done, after it.
        Index(
            "ix_tasks_assigned_tally",
            "assigned_date",
            "lead_unit_id",
            "deadline",
            "status",
            "completed_date",
            "id",
        ),
        Index(
            "ix_tasks_completed_tally",
            "completed_date",
            "lead_unit_id",
            "deadline",
            "status",
            "assigned_date",
            "id",
        ),
        # The report's facts of the open tasks, per unit, leader and specialist, and of the
        # tasks done in a period, each read from an index alone (models/city_facts.py).
        Index(
            "ix_tasks_open_unit",
            "lead_unit_id",
            "deadline",
            "status",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_tasks_open_leader",
            "leader_id",
            "deadline",
            "status",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_tasks_open_specialist",
            "specialist_id",
            "deadline",
            "status",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_tasks_done_people",
            "completed_date",
            "status",
            "assigned_date",
            "deadline",
            "lead_unit_id",
            "leader_id",
            "specialist_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    specialist_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    assigned_date: Mapped[date] = mapped_column(Date)
    # The deadline as first assigned, never changed; `deadline` is the one in force
    # (the last approved extension), kept here so that queries can index it.
    original_deadline: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(
        enum_column(TaskStatus, "task_status"), default=TaskStatus.NOT_STARTED
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    completed_date: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An occurrence of a recurring duty: its series and the rule's date (before any move
    # off a non-working day); None for a one-off task.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("task_series.id"))
    series_date: Mapped[date | None] = mapped_column(Date)

    document: Mapped[Document | None] = relationship(lazy="raise")
    lead_unit: Mapped[Unit] = relationship(lazy="raise")
    leader: Mapped[Official | None] = relationship(foreign_keys=[leader_id], lazy="raise")
    specialist: Mapped[Official | None] = relationship(foreign_keys=[specialist_id], lazy="raise")
    coordinating_units: Mapped[list[Unit]] = relationship(
        secondary=task_coordinators, lazy="raise", order_by=Unit.code
    )
    series: Mapped[Series | None] = relationship(lazy="raise")
    deadline_changes: Mapped[list[DeadlineChange]] = relationship(
        back_populates="task", lazy="raise", order_by="DeadlineChange.id", passive_deletes=True
    )
    events: Mapped[list[TaskEvent]] = relationship(
        lazy="raise", order_by="TaskEvent.id", passive_deletes=True
    )

    @property
    def is_ongoing(self) -> bool:
        """A standing task (thường xuyên) has no deadline."""
        return self.deadline is None

    def __repr__(self) -> str:
        return f"<Task #{self.id}>"


class TaskEvent(Base):
    """One change to a task: who, when, through which channel, what went from old to new."""

    __tablename__ = "task_events"
    __table_args__ = (
        Index("ix_task_events_task", "task_id", "id"),
        # The units tasks were handed from since a past moment (reports of past periods).
        Index("ix_task_events_field_at", "field", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[Official | None] = relationship(lazy="raise")


@event.listens_for(TaskEvent, "before_update")
def _events_are_append_only(
    mapper: Mapper[TaskEvent], connection: object, target: TaskEvent
) -> None:
    raise ValueError("task events are append-only")


def event_value(value: object) -> str | None:
    """How a field's value is written into the trail: ISO dates, plain strings."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)
