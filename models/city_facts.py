"""The facts of every unit, leader and specialist of the city for a period, each summed in
SQL over an index that holds all it reads: what the monthly report ranks and scores.

`scores.facts_by_keys` reads the period's tasks once and adds the groups up in Python (about
190,000 rows on the 1 M-task city). Here each key is summed apart: the open tasks from the
key's own (key, status, deadline) index, the tasks done in the period from
`ix_tasks_done_people`, with no row of the table read. The few tasks whose status at the
moment those sums cannot tell (assigned after the moment, done after it, or handed to
another unit since) are read one by one and put right in Python, by the rules of
`models/status.py` and `models/scoring.py`.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.scores import Scope, _missed, _points, days_between
from models.scoring import Facts
from models.status import DerivedStatus, derived_status
from models.tallies import _after, lead_unit_at
from models.tasks import Task, TaskEvent, TaskStatus

KEYS = (Task.lead_unit_id, Task.leader_id, Task.specialist_id)
_WIDTH = len(fields(Facts))
# Past this many tasks done since a past moment, putting each right in Python costs more than
# the one pass (`/baocao thang 10/2026` late in November: 37,000 of them, 2.0 s of CPU to 1.3).
ODD_LIMIT = 2_000


async def pays(session: AsyncSession, scope: Scope) -> bool:
    """Whether the sums per key are the cheaper way: always at the present; at a past moment
    while few tasks have been done since (the monthly job, the morning after the month)."""
    if not scope.window.past:
        return True
    since = select(func.count()).where(Task.completed_date > scope.window.today)
    return int(await session.scalar(since) or 0) <= ODD_LIMIT


async def city_facts(session: AsyncSession, scope: Scope) -> list[dict[int, Facts]]:
    """The facts per lead unit (at the moment), per leader and per specialist: equal to
    `facts_by_keys` for the three keys over the whole city."""
    connection = await session.connection()  # bare rows: 30,000 officials through the ORM cost
    found: list[dict[int, list[Any]]] = []
    for key in KEYS:
        halves = union_all(_open_sums(scope, key), _done_sums(scope, key)).subquery()
        summed = select(halves.c.k, *(func.sum(c) for c in list(halves.c)[1:])).group_by(halves.c.k)
        rows = (await connection.execute(summed)).tuples()
        found.append({value: [*sums, 0] for value, *sums in rows if value is not None})
    await _put_right(session, scope, found)
    keys = (lead_unit_at(scope.window), *KEYS[1:])  # a request counts for the unit then
    for key, by_value in zip(keys, found, strict=True):
        missed = await connection.execute(_missed(scope, key, [key.is_not(None)]))
        for value, n in missed.tuples():
            by_value.setdefault(value, [0] * _WIDTH)[11] = int(n)
    return [{value: _of_row(row) for value, row in by_value.items()} for by_value in found]


def _of_row(row: list[Any]) -> Facts:
    """PostgreSQL's sums of sums are numeric: counts back to int, points to float."""
    return Facts(*map(int, row[:7]), float(row[7]), float(row[8]), *map(int, row[9:]))


def _open_sums(scope: Scope, key: ColumnElement[int | None]) -> Any:
    """Per value of `key`, the tasks open now in the columns of `Facts`: how many, in time,
    due soon, overdue (their days and points) and long overdue; read from the key's index of
    the open tasks alone."""
    window, today = scope.window, literal(scope.window.today, Date)
    overdue = Task.deadline < window.today
    due_soon = and_(Task.deadline >= window.today, Task.deadline <= window.due_soon_until)
    late = days_between(today, Task.deadline)

    def count(condition: ColumnElement[bool], value: Any = 1) -> Any:
        return func.sum(case((condition, value), else_=0))

    return (
        select(
            key.label("k"),
            func.count(),
            literal(0),
            literal(0),
            count(or_(Task.deadline.is_(None), Task.deadline > window.due_soon_until)),
            count(due_soon),
            count(overdue),
            count(overdue, late),
            count(overdue, _points(scope.formula.overdue, late)),
            literal(0.0),
            literal(0),
            count(and_(overdue, Task.deadline <= scope.long_overdue_until)),
        )
        .where(Task.status != TaskStatus.DONE, key.is_not(None))
        .group_by(key)
    )


def _done_sums(scope: Scope, key: ColumnElement[int | None]) -> Any:
    """Per value of `key`, the tasks done in the period and assigned by its end, in the
    columns of `Facts`: on time, late, the points of the late ones and how many were early
    (`ix_tasks_done_people`)."""
    window, formula = scope.window, scope.formula
    is_late = and_(Task.deadline.is_not(None), Task.completed_date > Task.deadline)
    early = and_(
        ~is_late,
        Task.deadline.is_not(None),
        days_between(Task.deadline, Task.completed_date) >= formula.early_days_ahead,
    )
    late = days_between(Task.completed_date, Task.deadline)
    # Only the completion date is left for SQLite to pick an index by (wrapped, the others
    # lure it onto the key's index to spare a sort, and then it reads the table's rows).
    unlured = func.coalesce(key, key)
    conditions = [
        Task.completed_date >= scope.period_start,
        func.coalesce(Task.status, Task.status) == TaskStatus.DONE,
        func.coalesce(Task.assigned_date, Task.assigned_date) <= window.today,
        unlured.is_not(None),
    ]
    if window.past:
        conditions.append(Task.completed_date <= window.today)
    return (
        select(
            unlured.label("k"),
            func.count(),
            func.sum(case((is_late, 0), else_=1)),
            func.sum(case((is_late, 1), else_=0)),
            *(literal(0) for _ in range(4)),
            literal(0.0),
            func.sum(case((is_late, _points(formula.done_late, late)), else_=0.0)),
            func.sum(case((early, 1), else_=0)),
            literal(0),
        )
        .where(*conditions)
        .group_by(unlured)
    )


async def _put_right(
    session: AsyncSession, scope: Scope, found: list[dict[int, list[Any]]]
) -> None:
    """The tasks the sums count wrongly at the moment, taken out as summed and put back as
    they were: open now but assigned after it, done after a past moment (open then), and, at
    a past moment, led then by another unit."""
    window = scope.window
    today = window.today
    odd = [and_(Task.status != TaskStatus.DONE, Task.assigned_date > today)]
    then: dict[int, int | None] = {}
    if window.past:
        odd.append(and_(Task.status == TaskStatus.DONE, Task.completed_date > today))
        events = (
            select(TaskEvent.task_id, TaskEvent.old_value)
            .where(TaskEvent.field == "lead_unit_id", TaskEvent.at >= _after(window))
            .order_by(TaskEvent.id)
        )
        for task_id, old in (await session.execute(events)).tuples():
            then.setdefault(task_id, int(old) if old is not None else None)
    columns = (
        Task.id,
        Task.status,
        Task.deadline,
        Task.completed_date,
        Task.assigned_date,
        *KEYS,
    )
    rows = list((await session.execute(select(*columns).where(or_(*odd)))).tuples())
    moved = sorted(set(then) - {row[0] for row in rows})
    for start in range(0, len(moved), 500):
        chunk = moved[start : start + 500]
        rows += list((await session.execute(select(*columns).where(Task.id.in_(chunk)))).tuples())
    for task_id, status, deadline, completed, assigned, *values in rows:
        summed = _as_summed(scope, status, deadline, completed, assigned)
        actual = _at_the_moment(scope, status, deadline, completed, assigned)
        for i, (by_value, value) in enumerate(zip(found, values, strict=True)):
            if value is None:
                continue
            was = (then.get(task_id) or value) if i == 0 else value
            _add(by_value, value, summed, -1)
            _add(by_value, was, actual, 1)


def _add(by_value: dict[int, list[Any]], value: int, facts: Facts | None, sign: int) -> None:
    if facts is None:
        return
    row = by_value.setdefault(value, [0] * _WIDTH)
    for i, amount in enumerate(_values(facts)):
        row[i] += sign * amount


def _values(facts: Facts) -> list[Any]:
    return [getattr(facts, f.name) for f in fields(Facts)]


def _as_summed(
    scope: Scope,
    status: TaskStatus,
    deadline: date | None,
    completed: date | None,
    assigned: date | None,
) -> Facts | None:
    """What `_open_sums` and `_done_sums` counted for a task: an open one always, as it
    stands; a done one when done in the period and assigned by its end."""
    window = scope.window
    if status is not TaskStatus.DONE:
        return _facts(scope, derived_status(status, deadline, None, window), deadline, None)
    assert completed is not None
    if completed < scope.period_start or (window.past and completed > window.today):
        return None
    if assigned is None or assigned > window.today:
        return None
    return _facts(scope, _done_status(deadline, completed), deadline, completed)


def _at_the_moment(
    scope: Scope,
    status: TaskStatus,
    deadline: date | None,
    completed: date | None,
    assigned: date | None,
) -> Facts | None:
    """A task's facts at the moment, by the rules (`statistics.in_period`): none when it was
    not yet assigned, or was done before the period began."""
    window = scope.window
    if assigned is None or assigned > window.today:
        return None
    done = status is TaskStatus.DONE
    if done and completed is not None and completed < scope.period_start:
        return None
    derived = derived_status(status, deadline, completed, window)
    if done and not window.past:  # at the present every done task counts as done
        derived = _done_status(deadline, completed)
    return _facts(scope, derived, deadline, completed)


def _done_status(deadline: date | None, completed: date | None) -> DerivedStatus:
    late = deadline is not None and completed is not None and completed > deadline
    return DerivedStatus.DONE_LATE if late else DerivedStatus.DONE_ON_TIME


def _facts(
    scope: Scope, derived: DerivedStatus, deadline: date | None, completed: date | None
) -> Facts:
    """One task's facts in its derived status."""
    formula, today = scope.formula, scope.window.today
    if derived is DerivedStatus.OVERDUE:
        assert deadline is not None
        days = (today - deadline).days
        return Facts(
            assigned=1,
            overdue=1,
            overdue_days=days,
            overdue_points=formula.overdue.of(days),
            long_overdue=int(deadline <= scope.long_overdue_until),
        )
    if derived is DerivedStatus.DONE_LATE:
        assert deadline is not None and completed is not None
        days = (completed - deadline).days
        return Facts(assigned=1, done_late=1, late_points=formula.done_late.of(days))
    if derived is DerivedStatus.DONE_ON_TIME:
        ahead = None if deadline is None or completed is None else (deadline - completed).days
        early = int(ahead is not None and ahead >= formula.early_days_ahead)
        return Facts(assigned=1, done_on_time=1, done_early=early)
    if derived is DerivedStatus.DUE_SOON:
        return Facts(assigned=1, due_soon=1)
    return Facts(assigned=1, in_time=1)
