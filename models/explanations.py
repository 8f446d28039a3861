"""Explanations (giải trình): the task force asks the lead unit why a task is late; its
leader answers within a set number of working days, or the silence is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Text, UniqueConstraint, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship, selectinload

from models.base import Base, UTCDateTime, enum_column
from models.calendar import WorkingCalendar
from models.organization import Official, Unit
from models.task_changes import Actor, record
from models.tasks import Task


class ExplanationState(StrEnum):
    REQUESTED = "requested"
    ANSWERED = "answered"
    MISSED = "missed"  # the period passed with no answer


class Explanation(Base):
    """One request for an explanation of a task under the deadline it was late on."""

    __tablename__ = "explanations"
    __table_args__ = (
        UniqueConstraint("task_id", "deadline", name="uq_explanations_task_deadline"),
        Index("ix_explanations_state_due", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date] = mapped_column(Date)  # the last day to answer
    state: Mapped[ExplanationState] = mapped_column(
        enum_column(ExplanationState, "explanation_state"), default=ExplanationState.REQUESTED
    )
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship(lazy="raise")


def may_be_asked(days_overdue: int, urged: int, after_days: int) -> bool:
    """The rule: overdue more than `after_days` working days, or urged twice already."""
    return days_overdue > after_days or urged >= 2


def answer_due(asked_on: date, calendar: WorkingCalendar, working_days: int) -> date:
    return calendar.add_working_days(asked_on, working_days)


async def explanation_for(
    session: AsyncSession, task_id: int, deadline: date
) -> Explanation | None:
    return await session.scalar(
        select(Explanation).where(Explanation.task_id == task_id, Explanation.deadline == deadline)
    )


async def open_request(session: AsyncSession, task_id: int) -> Explanation | None:
    """The request still waiting for an answer on this task, under any deadline."""
    return await session.scalar(
        select(Explanation)
        .where(Explanation.task_id == task_id, Explanation.state == ExplanationState.REQUESTED)
        .order_by(Explanation.id.desc())
        .limit(1)
    )


def request_explanation(session: AsyncSession, task: Task, actor: Actor, due: date) -> Explanation:
    assert task.deadline is not None
    asked = Explanation(
        task_id=task.id,
        deadline=task.deadline,
        requested_by_id=actor.official_id,
        requested_at=actor.at,
        due_date=due,
        state=ExplanationState.REQUESTED,
        reason="",
    )
    session.add(asked)
    record(session, task, actor, "explanation_requested", note=due.isoformat())
    return asked


async def answer_once(
    session: AsyncSession, asked: Explanation, task: Task, actor: Actor, reason: str
) -> bool:
    """Record the answer unless one is recorded (or the request lapsed) already: one
    conditional UPDATE, so two answers at once record one. False: too late or answered."""
    taken = await session.execute(
        update(Explanation)
        .where(Explanation.id == asked.id, Explanation.state == ExplanationState.REQUESTED)
        .values(
            state=ExplanationState.ANSWERED,
            answered_by_id=actor.official_id,
            answered_at=actor.at,
            reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    await session.refresh(asked)
    record(session, task, actor, "explanation_answered", note=reason)
    return True


async def lapsed(session: AsyncSession, today: date) -> list[Explanation]:
    """Requests whose last day to answer has passed without an answer, with their task."""
    query = (
        select(Explanation)
        .where(Explanation.state == ExplanationState.REQUESTED, Explanation.due_date < today)
        .options(
            selectinload(Explanation.task).selectinload(Task.lead_unit),
            selectinload(Explanation.task).selectinload(Task.leader),
            selectinload(Explanation.task).selectinload(Task.specialist),
        )
        .order_by(Explanation.due_date, Explanation.id)
    )
    return list((await session.scalars(query)).all())


async def mark_missed(session: AsyncSession, asked: Explanation, actor: Actor) -> bool:
    taken = await session.execute(
        update(Explanation)
        .where(Explanation.id == asked.id, Explanation.state == ExplanationState.REQUESTED)
        .values(state=ExplanationState.MISSED)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    record(session, asked.task, actor, "explanation_missed", note=asked.due_date.isoformat())
    return True


@dataclass(frozen=True)
class ExplanationRow:
    """One explanation as the reports list it."""

    task_id: int
    content: str
    unit_code: str
    unit_name: str
    deadline: date
    requested_on: datetime
    due_date: date
    state: ExplanationState
    answered_at: datetime | None
    answered_by: str | None
    reason: str


async def explanation_rows(
    session: AsyncSession, start: datetime, end: datetime, unit_id: int | None = None
) -> list[ExplanationRow]:
    """Explanations asked before `end` that were asked, answered or still open in the period
    [start, end): what a report lists, by unit then task."""
    answerer = aliased(Official)
    query = (
        select(
            Task.id,
            Task.content,
            Unit.code,
            Unit.name,
            Explanation.deadline,
            Explanation.requested_at,
            Explanation.due_date,
            Explanation.state,
            Explanation.answered_at,
            answerer.full_name,
            Explanation.reason,
        )
        .join(Task, Task.id == Explanation.task_id)
        .join(Unit, Unit.id == Task.lead_unit_id)
        .outerjoin(answerer, answerer.id == Explanation.answered_by_id)
        .where(
            Explanation.requested_at < end,
            or_(
                Explanation.requested_at >= start,
                Explanation.answered_at >= start,
                Explanation.state != ExplanationState.ANSWERED,
            ),
        )
        .order_by(Unit.code, Task.id, Explanation.id)
    )
    if unit_id is not None:
        query = query.where(Task.lead_unit_id == unit_id)
    return [ExplanationRow(*row) for row in (await session.execute(query)).tuples().all()]
