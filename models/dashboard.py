"""What the read-only dashboard reads: who holds a link, a unit's tasks, a task's history,
and the weekly trends. The city view itself is `models/scores.unit_ranking`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload

from models.accounts import ChatAccount, ChatChannel
from models.calendar import WorkingCalendar
from models.defaults import Nagging
from models.explanations import Explanation, ExplanationState
from models.nagging import at_risk, quiet_before
from models.organization import Official, Unit
from models.status import DerivedStatus, StatusWindow, derived_status
from models.tasks import Task, TaskEvent, TaskStatus
from models.urgings import urging_counts


async def account_id_for(
    session: AsyncSession, channel: ChatChannel, external_user_id: str
) -> int | None:
    """The linked chat account a link will be bound to."""
    return await session.scalar(
        select(ChatAccount.id).where(
            ChatAccount.channel == channel, ChatAccount.external_user_id == external_user_id
        )
    )


async def link_holder(session: AsyncSession, account_id: int, official_id: int) -> Official | None:
    """The official a link was given to, if that chat account is still linked to them and
    they are still active; None once unlinked, relinked to someone else or deactivated."""
    found = await session.scalars(
        select(Official)
        .join(ChatAccount, ChatAccount.official_id == Official.id)
        .where(
            ChatAccount.id == account_id,
            Official.id == official_id,
            Official.active.is_(True),
        )
        .options(joinedload(Official.role_links))
    )
    return found.unique().first()


@dataclass(frozen=True)
class TaskRow:
    id: int
    content: str
    status: DerivedStatus
    deadline: date | None
    updated_at: datetime
    urgings: int
    specialist: str | None
    progress: int
    explanation: ExplanationState | None = None  # the latest request's; MISSED once lapsed
    silent: bool = False  # open and not updated for DONDOC_STALE_DAYS working days
    at_risk: bool = False  # open and at risk of being late ("nguy cơ chậm")


async def explanation_states(
    session: AsyncSession, task_ids: list[int], today: date
) -> dict[int, ExplanationState]:
    """Each task's latest explanation request: asked (still time to answer), answered, or
    missed (recorded so, or its last day to answer passed before today)."""
    found: dict[int, ExplanationState] = {}
    for start in range(0, len(task_ids), 500):
        rows = await session.execute(
            select(Explanation.task_id, Explanation.state, Explanation.due_date)
            .where(Explanation.task_id.in_(task_ids[start : start + 500]))
            .order_by(Explanation.id)
        )
        for task_id, state, due in rows.tuples():
            lapsed = state is ExplanationState.REQUESTED and due < today
            found[task_id] = ExplanationState.MISSED if lapsed else state
    return found


async def unit_tasks(
    session: AsyncSession,
    unit_id: int,
    window: StatusWindow,
    period_start: date,
    *,
    calendar: WorkingCalendar | None = None,
    rules: Nagging | None = None,
) -> list[TaskRow]:
    """A unit's open tasks and those done in the period, the most urgent first, each with
    its explanation state and whether it is silent or at risk (given the calendar)."""
    specialist = aliased(Official)
    found = (
        await session.execute(
            select(
                Task.id,
                Task.content,
                Task.status,
                Task.deadline,
                Task.completed_date,
                Task.updated_at,
                specialist.full_name,
                Task.progress,
            )
            .outerjoin(specialist, specialist.id == Task.specialist_id)
            .where(
                Task.lead_unit_id == unit_id,
                or_(
                    Task.status != TaskStatus.DONE,
                    and_(Task.status == TaskStatus.DONE, Task.completed_date >= period_start),
                ),
            )
        )
    ).tuples()
    rows = []
    for task_id, content, status, deadline, completed, updated, name, progress in found:
        derived = derived_status(status, deadline, completed, window)
        rows.append((task_id, content, derived, deadline, updated, name, progress))
    urged = await urging_counts(
        session, [(r[0], r[3]) for r in rows if r[2] is DerivedStatus.OVERDUE and r[3]]
    )
    order = [
        DerivedStatus.OVERDUE,
        DerivedStatus.DUE_SOON,
        DerivedStatus.IN_TIME,
        DerivedStatus.DONE_LATE,
        DerivedStatus.DONE_ON_TIME,
    ]
    rows.sort(key=lambda r: (order.index(r[2]), r[3] or date.max, r[0]))
    explained = await explanation_states(session, [r[0] for r in rows], window.today)
    quiet, risky = None, set()
    if calendar is not None:
        rules = rules or Nagging()
        if rules.stale_days > 0:
            quiet = quiet_before(window.today, calendar, rules.stale_days)
        risky = {r.task_id for r in await at_risk(session, window, calendar, rules, unit_id)}
    return [
        TaskRow(
            task_id,
            content,
            derived,
            deadline,
            updated,
            urged.get(task_id, 0),
            name,
            progress,
            explained.get(task_id),
            quiet is not None and derived.is_open and updated < quiet,
            task_id in risky,
        )
        for task_id, content, derived, deadline, updated, name, progress in rows
    ]


async def task_with_history(session: AsyncSession, task_id: int) -> Task | None:
    """One task with its unit, people, document and every change (the task's page)."""
    return await session.scalar(
        select(Task)
        .where(Task.id == task_id)
        .options(
            joinedload(Task.lead_unit),
            joinedload(Task.leader).noload(Official.role_links),
            joinedload(Task.specialist).noload(Official.role_links),
            joinedload(Task.document),
            selectinload(Task.coordinating_units),
            selectinload(Task.events).joinedload(TaskEvent.actor).noload(Official.role_links),
        )
    )


async def unit_by_id(session: AsyncSession, unit_id: int) -> Unit | None:
    return await session.get(Unit, unit_id)


@dataclass(frozen=True)
class Week:
    """A week ending on `end`: tasks overdue that day, and the week's on-time share."""

    end: date
    overdue: int
    done: int
    done_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.done_on_time / self.done if self.done else None


async def weekly_trend(
    session: AsyncSession, today: date, weeks: int = 26, unit_id: int | None = None
) -> list[Week]:
    """The last `weeks` weeks ending today (by the tasks' lead unit and deadline now).

    Overdue on a day W: tasks with a deadline before W not done by W — the open ones (read
    from the open-task index) and those done late after W (read from the tasks done since
    the first week began, as are the weeks' on-time shares).
    """
    ends = [today - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    first = ends[0] - timedelta(days=7)
    unit = [Task.lead_unit_id == unit_id] if unit_id is not None else []
    open_by_deadline = (
        await session.execute(
            select(Task.deadline, func.count())
            .where(Task.status != TaskStatus.DONE, Task.deadline < today, *unit)
            .group_by(Task.deadline)
        )
    ).tuples()
    open_late = sorted(open_by_deadline)
    done = (
        await session.execute(
            select(Task.completed_date, Task.deadline, func.count())
            .where(Task.status == TaskStatus.DONE, Task.completed_date > first, *unit)
            .group_by(Task.completed_date, Task.deadline)
        )
    ).tuples()
    done_rows = list(done)
    result = []
    for end in ends:
        overdue = sum(n for deadline, n in open_late if deadline < end)
        overdue += sum(
            n for completed, deadline, n in done_rows if deadline and deadline < end < completed
        )
        week = [
            (n, deadline is None or completed <= deadline)
            for completed, deadline, n in done_rows
            if end - timedelta(days=7) < completed <= end
        ]
        result.append(
            Week(end, overdue, sum(n for n, _ in week), sum(n for n, on_time in week if on_time))
        )
    return result
