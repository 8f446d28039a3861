"""Silence and risk: when an open task has gone quiet, and when its progress lags far behind
the time it has used ("nguy cơ chậm"); the rules as plain functions, and their queries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from locales import TIMEZONE
from models.calendar import WorkingCalendar
from models.defaults import Nagging
from models.notices import task_notice_not_done
from models.organization import Official, OfficialRole, Role, Unit
from models.silence_tallies import silent_by_code, silent_counts
from models.status import StatusWindow, open_clause
from models.tasks import Task


class WorkingDays:
    """`WorkingCalendar.working_days_between` for many tasks at once: a running count over
    the days asked about, so a sweep over 100,000 tasks does not walk each one's calendar."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self.first, self.last = first, last
        self._upto = [0]  # working days in [first, first + i)
        day = first
        while day <= last:
            self._upto.append(self._upto[-1] + calendar.is_working_day(day))
            day += timedelta(days=1)

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end], negative when end comes first."""
        if not (self.first <= start <= self.last and self.first <= end <= self.last):
            return self.calendar.working_days_between(start, end)
        return self._upto[(end - self.first).days + 1] - self._upto[(start - self.first).days + 1]


@dataclass(frozen=True)
class Risk:
    elapsed_percent: int  # share of the task's working days already gone
    days_left: int  # working days to the deadline


def risk_of(
    progress: int,
    assigned: date,
    deadline: date | None,
    today: date,
    days: WorkingDays,
    rules: Nagging,
) -> Risk | None:
    """Whether an open task is at risk of being late today: None if not (or already late)."""
    if deadline is None or deadline < today:
        return None
    total = max(days.between(assigned, deadline), 1)
    elapsed = min(max(days.between(assigned, today), 0), total)
    left = days.between(today, deadline)
    share = 100 * elapsed // total
    lagging = share >= rules.risk_elapsed_percent and progress <= rules.risk_progress_percent
    late_soon = left <= rules.risk_days_left and progress < rules.risk_days_left_progress_percent
    return Risk(share, left) if lagging or late_soon else None


def silent_since(task: Task | SilentRow) -> date:
    """The day of the last update (progress, note, status, deadline, an import's change)."""
    return task.updated_at.astimezone(TIMEZONE).date()


def quiet_before(today: date, calendar: WorkingCalendar, working_days: int) -> datetime:
    """Tasks last updated before this moment have been silent `working_days` working days."""
    day = calendar.add_working_days(today, -working_days)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=TIMEZONE)


def _scope(query, unit_id: int | None):  # type: ignore[no-untyped-def]
    return query if unit_id is None else query.where(Task.lead_unit_id == unit_id)


@dataclass(frozen=True, slots=True)
class SilentRow:
    """One silent task as its nudge to one person reads it: plain columns, no ORM."""

    person: int  # who is nudged
    task_id: int
    content: str
    updated_at: datetime
    specialist_id: int | None
    specialist_name: str | None
    leader_name: str | None

    @property
    def id(self) -> int:  # read as a task by the buttons under its nudge
        return self.task_id


async def oldest_update(
    session: AsyncSession, window: StatusWindow, before: datetime
) -> datetime | None:
    """When the longest-silent open task was last updated, if any was before `before`."""
    return await session.scalar(
        select(func.min(Task.updated_at)).where(open_clause(window), Task.updated_at < before)
    )


async def silent_by_recipient(
    session: AsyncSession,
    window: StatusWindow,
    before: datetime,
    copied_before: datetime,
    per_batch: int = 1000,
) -> AsyncIterator[list[SilentRow]]:
    """Who is nudged about which silent task, grouped by person in SQL: the specialist (or,
    with none named, the leaders: the leader in charge, else the unit's active leaders), and
    the leaders as well for tasks silent since before `copied_before` (a second period).

    Batches of people by id, each one query and ordered by person, then silent longest, then
    task: a person's nudges are all in one batch, and no batch holds more than its people's."""
    first, last = (
        await session.execute(select(func.min(Official.id), func.max(Official.id)))
    ).one()
    if first is None:
        return
    specialist, leader, unit_leader = aliased(Official), aliased(Official), aliased(Official)
    columns = (
        Task.id,
        Task.content,
        Task.updated_at,
        Task.specialist_id,
        specialist.full_name,
        leader.full_name,
    )
    silent = (open_clause(window), Task.updated_at < before)
    to_leaders = or_(Task.specialist_id.is_(None), Task.updated_at < copied_before)

    def named(query):  # type: ignore[no-untyped-def]
        return query.outerjoin(specialist, specialist.id == Task.specialist_id).outerjoin(
            leader, leader.id == Task.leader_id
        )

    for low in range(first, last + 1, per_batch):
        high = low + per_batch - 1
        as_specialist = named(
            select(Task.specialist_id.label("person"), *columns).where(
                *silent, Task.specialist_id.between(low, high)
            )
        )
        as_leader = named(
            select(Task.leader_id.label("person"), *columns).where(
                *silent,
                to_leaders,
                Task.leader_id.between(low, high),
                or_(Task.specialist_id.is_(None), Task.specialist_id != Task.leader_id),
            )
        )
        as_unit_leader = named(
            select(unit_leader.id.label("person"), *columns)
            .join(unit_leader, unit_leader.unit_id == Task.lead_unit_id)
            .join(OfficialRole, OfficialRole.official_id == unit_leader.id)
            .where(
                *silent,
                to_leaders,
                Task.leader_id.is_(None),
                OfficialRole.role == Role.LEADER,
                unit_leader.active.is_(True),
                unit_leader.id.between(low, high),
                or_(Task.specialist_id.is_(None), Task.specialist_id != unit_leader.id),
            )
        )
        both = union_all(as_specialist, as_leader, as_unit_leader).subquery()
        rows = await session.execute(
            select(both).order_by(both.c.person, both.c.updated_at, both.c.id)
        )
        batch = [SilentRow(*row) for row in rows.tuples()]
        if batch:
            yield batch
        await asyncio.sleep(0)


async def silent_by_unit(
    session: AsyncSession, window: StatusWindow, before: datetime, unit_id: int | None = None
) -> dict[str, int]:
    """How many open tasks each lead unit (by code) has not updated since before `before`:
    read from the kept counts (`models/silence_tallies.py`)."""
    return await silent_by_code(session, window, before, unit_id)


async def silent_count(
    session: AsyncSession, window: StatusWindow, before: datetime, unit_id: int | None = None
) -> int:
    """How many open tasks of the city (or of one lead unit) are not updated since before
    `before`: one sum over the kept counts, without a row per unit."""
    counts = await silent_counts(session, window, before, unit_id, by_unit=False)
    return sum(counts.values())


@dataclass(frozen=True)
class RiskRow:
    task_id: int
    content: str
    unit_id: int
    deadline: date
    progress: int
    risk: Risk


async def at_risk(
    session: AsyncSession,
    window: StatusWindow,
    calendar: WorkingCalendar,
    rules: Nagging,
    unit_id: int | None = None,
    *,
    not_flagged: bool = False,
) -> list[RiskRow]:
    """Open tasks at risk on the window's day, nearest deadline first; `not_flagged`: only
    those whose flag for the deadline in force is not given yet (the daily job)."""
    ceiling = max(rules.risk_progress_percent + 1, rules.risk_days_left_progress_percent)
    query = (
        select(
            Task.id,
            Task.content,
            Task.lead_unit_id,
            Task.assigned_date,
            Task.deadline,
            Task.progress,
        )
        .where(open_clause(window), Task.deadline >= window.today, Task.progress < ceiling)
        .order_by(Task.deadline, Task.id)
    )
    if not_flagged:
        query = query.where(task_notice_not_done("risk", Task.id, Task.deadline))
    rows = (await session.execute(_scope(query, unit_id))).tuples().all()
    if not rows:
        return []
    first = min(min(r[3] for r in rows), window.today)
    days = WorkingDays(calendar, first, max(r[4] for r in rows))
    found = []
    for task_id, content, lead_unit_id, assigned, deadline, progress in rows:
        risk = risk_of(progress, assigned, deadline, window.today, days, rules)
        if risk is not None:
            found.append(RiskRow(task_id, content, lead_unit_id, deadline, progress, risk))
    return found


async def risk_by_unit(
    session: AsyncSession,
    window: StatusWindow,
    calendar: WorkingCalendar,
    rules: Nagging,
    unit_id: int | None = None,
) -> dict[str, int]:
    """How many open tasks each lead unit (by code) has at risk on the window's day.

    Counted in SQL by assigned day, deadline, the two progress thresholds the rule compares
    with, and lead unit: tasks alike in the first four are all at risk or none is, so
    `risk_of` is asked once for each of those (7,000 on the bench city, for 47,000 tasks)."""
    ceiling = max(rules.risk_progress_percent + 1, rules.risk_days_left_progress_percent)
    lagging = Task.progress <= rules.risk_progress_percent
    behind = Task.progress < rules.risk_days_left_progress_percent
    query = (
        select(
            Task.assigned_date,
            Task.deadline,
            lagging,
            behind,
            Task.lead_unit_id,
            func.min(Task.progress),  # any task's would do: the rule sees only the thresholds
            func.count(),
        )
        .where(open_clause(window), Task.deadline >= window.today, Task.progress < ceiling)
        .group_by(Task.assigned_date, Task.deadline, lagging, behind, Task.lead_unit_id)
    )
    groups = (await session.execute(_scope(query, unit_id))).tuples().all()
    if not groups:
        return {}
    first = min(min(g[0] for g in groups), window.today)
    days = WorkingDays(calendar, first, max(g[1] for g in groups))
    risky: dict[tuple[date, date, bool, bool], bool] = {}
    counts: dict[int, int] = {}
    for assigned, deadline, is_lagging, is_behind, unit, progress, n in groups:
        key = (assigned, deadline, bool(is_lagging), bool(is_behind))
        if key not in risky:
            risk = risk_of(progress, assigned, deadline, window.today, days, rules)
            risky[key] = risk is not None
        if risky[key]:
            counts[unit] = counts.get(unit, 0) + n
    if not counts:
        return {}
    codes = select(Unit.id, Unit.code).where(Unit.id.in_(counts))
    return {code: counts[uid] for uid, code in (await session.execute(codes)).tuples()}


async def unit_labels(session: AsyncSession) -> dict[int, tuple[str, str]]:
    """Every unit's (code, name) by its id."""
    rows = await session.execute(select(Unit.id, Unit.code, Unit.name))
    return {unit_id: (code, name) for unit_id, code, name in rows.tuples()}
