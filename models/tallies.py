"""Kept task counts: how many tasks each lead unit has per day, open or done (and late).

Nothing here depends on the clock. An open task is counted on its deadline (an ongoing one on
`NO_DEADLINE`), a done task on its completion day with whether it was late. Each count is
kept three times — by day, by month and by year — so that any range of days is a handful of
rows per unit: "overdue at D" is the open tasks counted before D, "due soon" those from D to
the due-soon bound, the done columns those done in the period. The triggers of migration 0011
move a task's count in the same transaction as every change to it, whoever makes it.

The counts are right for a task assigned by the moment, done by it if done, and still led by
the unit that led it then; the few tasks that are not (assigned or done after a past moment,
or handed to another unit since) are read from the tasks themselves and put right.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from locales import TIMEZONE
from models.base import Base
from models.day_ranges import cover
from models.status import DerivedStatus, StatusWindow
from models.tasks import Task, TaskEvent, TaskStatus

NO_DEADLINE = date(9999, 12, 31)
FIRST_DAY = date(1, 1, 1)

task_tallies = Table(
    "task_tallies",
    Base.metadata,
    Column("done", Boolean, nullable=False),
    Column("grain", String(1), nullable=False),  # d day, m month, y year: `day` is its start
    Column("day", Date, nullable=False),
    Column("unit_id", Integer, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
    # One unit's ranges read the table itself (clustered on SQLite); the city's, a covering index.
    PrimaryKeyConstraint("unit_id", "done", "grain", "day", "late", name="pk_task_tallies"),
    Index("ix_task_tallies_day", "done", "grain", "day", "unit_id", "late", "n"),
    sqlite_with_rowid=False,
)
T = task_tallies.c


@dataclass(frozen=True)
class Span:
    """One column read from the counts: open tasks counted on days first..last, or the done
    ones (on time and late, told apart by `late`)."""

    label: DerivedStatus
    done: bool
    first: date
    last: date


def spans(window: StatusWindow, period_start: date) -> list[Span]:
    today, until = window.today, max(window.due_soon_until, window.today - timedelta(days=1))
    return [
        Span(DerivedStatus.OVERDUE, False, FIRST_DAY, today - timedelta(days=1)),
        Span(DerivedStatus.DUE_SOON, False, today, until),
        Span(DerivedStatus.IN_TIME, False, until + timedelta(days=1), NO_DEADLINE),
        Span(DerivedStatus.DONE_ON_TIME, True, period_start, today),
    ]


Units = int | Sequence[int] | None  # one lead unit, some, or all


Shape = tuple[tuple[bool, str, int, str], ...]  # per range: done, grain, sign, column


def _ranges(wanted: list[Span]) -> tuple[Shape, dict[str, Any]]:
    """The ranges of the counts to read for the spans: their shape, which the statement is
    built and kept for, and their days, which are its parameters."""
    shape, days = [], {}
    for span in wanted:
        for grain, first, last, sign in cover(span.first, span.last):
            days[f"first{len(shape)}"], days[f"last{len(shape)}"] = first, last
            shape.append((span.done, grain, sign, span.label.value))
    return tuple(shape), days


def _in_range(i: int, done: bool, grain: str) -> list[ColumnElement[bool]]:
    first, last = bindparam(f"first{i}", type_=Date), bindparam(f"last{i}", type_=Date)
    return [T.done == done, T.grain == grain, T.day.between(first, last)]


def _unit_filter(units: Units) -> tuple[str, dict[str, Any]]:
    if isinstance(units, int):
        return "one", {"unit": units}
    if units is not None:
        return "some", {"units": sorted(units)}
    return "all", {}


def _of_units(mode: str) -> list[ColumnElement[bool]]:
    if mode == "one":
        return [T.unit_id == bindparam("unit")]
    if mode == "some":
        return [T.unit_id.in_(bindparam("units", expanding=True))]
    return []


# The statements are kept by shape: built anew, a city-wide sum cost more in Python (the
# expression tree and its cache key) than in the database.
@functools.cache
def _by_unit_and_column(shape: Shape, mode: str) -> Select[Any]:
    """The signed sums of the counts per unit and column."""
    parts = []
    done_label = case(
        (T.late, DerivedStatus.DONE_LATE.value), else_=DerivedStatus.DONE_ON_TIME.value
    )
    for i, (done, grain, sign, label) in enumerate(shape):
        column = done_label if done else literal(label)
        n = T.n if sign > 0 else -T.n
        parts.append(
            select(T.unit_id, column.label("label"), n.label("n")).where(
                *_in_range(i, done, grain), *_of_units(mode)
            )
        )
    counted = union_all(*parts).subquery()
    return select(counted.c.unit_id, counted.c.label, func.sum(counted.c.n)).group_by(
        counted.c.unit_id, counted.c.label
    )


@functools.cache
def _by_unit(shape: Shape, mode: str) -> Select[Any]:
    """The signed sums per unit of one open column: no column in the grouping, whose sort
    is then half the work."""
    parts = []
    for i, (done, grain, sign, _) in enumerate(shape):
        n = T.n if sign > 0 else -T.n
        parts.append(
            select(T.unit_id, n.label("n")).where(*_in_range(i, done, grain), *_of_units(mode))
        )
    counted = union_all(*parts).subquery()
    return select(counted.c.unit_id, func.sum(counted.c.n)).group_by(counted.c.unit_id)


def lead_unit_at(window: StatusWindow) -> ColumnElement[int]:
    """The unit in charge at the window's moment: a task handed to another unit since then
    counts for the unit that had it, read from the first change recorded after the moment."""
    if not window.past:
        return Task.lead_unit_id  # type: ignore[return-value]
    earlier = (
        select(cast(TaskEvent.old_value, Integer))
        .where(
            TaskEvent.task_id == Task.id,
            TaskEvent.field == "lead_unit_id",
            TaskEvent.at >= _after(window),
        )
        .order_by(TaskEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(earlier, Task.lead_unit_id)


def _after(window: StatusWindow) -> datetime:
    return datetime.combine(window.today + timedelta(days=1), time(), TIMEZONE)


def _open_label_sql(window: StatusWindow) -> ColumnElement[str]:
    return case(
        (Task.deadline.is_(None), DerivedStatus.IN_TIME.value),
        (Task.deadline < window.today, DerivedStatus.OVERDUE.value),
        (Task.deadline <= window.due_soon_until, DerivedStatus.DUE_SOON.value),
        else_=DerivedStatus.IN_TIME.value,
    )


def _done_label_sql() -> ColumnElement[str]:
    late = and_(Task.deadline.is_not(None), Task.completed_date > Task.deadline)
    return case((late, DerivedStatus.DONE_LATE.value), else_=DerivedStatus.DONE_ON_TIME.value)


def _labels_sql(window: StatusWindow, period_start: date) -> tuple[Any, Any]:
    """A task's column as the counts have it (under today's unit, whenever assigned) and as
    it is (assigned by the moment, not done before the period): `_exceptions` in SQL."""
    today, done = window.today, Task.status == TaskStatus.DONE
    kept = case(
        (~done, _open_label_sql(window)),
        (Task.completed_date.between(period_start, today), _done_label_sql()),
        else_=None,
    )
    done_then = and_(done, Task.completed_date <= today) if window.past else done
    actual = case(
        (or_(Task.assigned_date > today, and_(done, Task.completed_date < period_start)), None),
        (done_then, _done_label_sql()),
        else_=_open_label_sql(window),
    )
    return kept, actual


async def corrections(
    session: AsyncSession, window: StatusWindow, period_start: date, units: Units = None
) -> Counter[tuple[int, str]]:
    """What the counts get wrong at this moment, as (unit, column) → correction: the tasks
    assigned after it, done after it or handed to another unit since. Counted in SQL over
    two covering indexes (migration 0011); only the handed-over tasks come to Python."""
    today = window.today
    then: dict[int, int | None] = {}  # the unit before the first hand-over after the moment
    if window.past:
        events = (
            select(TaskEvent.task_id, TaskEvent.old_value)
            .where(TaskEvent.field == "lead_unit_id", TaskEvent.at >= _after(window))
            .order_by(TaskEvent.id)
        )
        for task_id, old in (await session.execute(events)).tuples():
            then.setdefault(task_id, int(old) if old is not None else None)
    moved = sorted(then)
    # Most days nothing was assigned or done after the moment: two index seeks say so.
    latest = select(
        select(func.max(Task.assigned_date)).scalar_subquery(),
        select(func.max(Task.completed_date)).scalar_subquery(),
    )
    assigned, completed = (await session.execute(latest)).one()
    if not moved and all(day is None or _day(day) <= today for day in (assigned, completed)):
        return Counter()
    kept, actual = _labels_sql(window, period_start)
    fix: Counter[tuple[int, str]] = Counter()

    def put(unit_now: int, unit_then: int, kept: str | None, actual: str | None, n: int) -> None:
        if kept is not None:
            fix[unit_now, kept] -= n
        if actual is not None:
            fix[unit_then, actual] += n

    # Grouped by the labels first: by the unit first, SQLite would walk the lead-unit index
    # (the whole table) to spare itself a sort of a few thousand rows.
    grouped = select(Task.lead_unit_id, kept, actual, func.count()).group_by(
        kept, actual, Task.lead_unit_id
    )
    for odd in (
        Task.assigned_date > today,
        and_(Task.completed_date > today, Task.assigned_date <= today),
    ):
        query = grouped.where(odd)
        if moved:
            query = query.where(Task.id.not_in(moved))
        if isinstance(units, int) and not window.past:
            query = query.where(Task.lead_unit_id == units)
        for unit, kept_label, actual_label, n in (await session.execute(query)).tuples():
            put(unit, unit, kept_label, actual_label, n)
    for start in range(0, len(moved), 500):
        chunk = moved[start : start + 500]
        query = select(Task.id, Task.lead_unit_id, kept, actual).where(Task.id.in_(chunk))
        for task_id, unit, kept_label, actual_label in (await session.execute(query)).tuples():
            put(unit, then[task_id] or unit, kept_label, actual_label, 1)
    if units is not None:
        wanted = {units} if isinstance(units, int) else set(units)
        fix = Counter({key: n for key, n in fix.items() if key[0] in wanted})
    return fix


async def _summed(
    session: AsyncSession,
    query: Select[Any],
    params: dict[str, Any],
    fix: Counter[tuple[int, str]],
) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for unit, label, n in (await session.execute(query, params)).tuples():
        counts.setdefault(unit, {})[label] = int(n)
    for (unit, label), n in fix.items():
        per_unit = counts.setdefault(unit, {})
        per_unit[label] = per_unit.get(label, 0) + n
    return {
        unit: {label: n for label, n in c.items() if n}
        for unit, c in counts.items()
        if any(c.values())
    }


async def counts_by_unit(
    session: AsyncSession,
    window: StatusWindow,
    period_start: date,
    units: Units = None,
    *,
    fix: Counter[tuple[int, str]] | None = None,
) -> dict[int, dict[str, int]]:
    """Per lead unit at the moment, the tasks of the period by derived status (see
    `statistics.in_period`): sums over the kept counts, put right for the odd tasks (`fix`,
    the `corrections` of every unit, when the caller has them already)."""
    if fix is None:
        fix = await corrections(session, window, period_start, units)
    elif units is not None:
        wanted = {units} if isinstance(units, int) else set(units)
        fix = Counter({key: n for key, n in fix.items() if key[0] in wanted})
    shape, days = _ranges(spans(window, period_start))
    mode, chosen = _unit_filter(units)
    return await _summed(session, _by_unit_and_column(shape, mode), days | chosen, fix)


async def overdue_in_period(
    session: AsyncSession, window: StatusWindow, fix: Counter[tuple[int, str]]
) -> dict[int, int]:
    """Per lead unit, the five columns' overdue alone (`fix`: `corrections` for every unit):
    what ranks the units, for a fraction of the rows of `counts_by_unit`."""
    counts = Counter(await kept_overdue(session, window, None))
    for (unit, label), n in fix.items():
        if label == DerivedStatus.OVERDUE.value:
            counts[unit] += n
    return {unit: n for unit, n in counts.items() if n}


async def kept_overdue(session: AsyncSession, window: StatusWindow, units: Units) -> dict[int, int]:
    """Per unit, the open tasks counted before the window's day."""
    shape, days = _ranges(spans(window, window.today)[:1])
    mode, chosen = _unit_filter(units)
    found = await session.execute(_by_unit(shape, mode), days | chosen)
    return {unit: int(n) for unit, n in found.tuples() if n}


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
