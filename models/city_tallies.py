"""City-wide reads of the kept counts: the city's own (`task_tallies` without the unit, kept
by migration 0024), so that its five columns are a few dozen rows, not a sum over every
unit's; and the units with the most overdue tasks, ranked in the database."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Base
from models.status import DerivedStatus, StatusWindow
from models.tallies import Shape, T, _in_range, _ranges, _summed, counts_by_unit, spans

city_tallies = Table(
    "city_tallies",
    Base.metadata,
    Column("done", Boolean, nullable=False),
    Column("grain", String(1), nullable=False),  # d day, m month, y year: `day` is its start
    Column("day", Date, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("done", "grain", "day", "late", name="pk_city_tallies"),
    sqlite_with_rowid=False,
)
C = city_tallies.c


@functools.cache
def _whole(shape: Shape) -> tuple[Select[Any], tuple[tuple[str, int], ...]]:
    """One sum per range (and, for the done, per on time and late), with the column and sign
    of each: kept by shape, the days are its parameters."""
    sums, columns = [], []
    for i, (done, grain, sign, label) in enumerate(shape):
        first, last = bindparam(f"first{i}", type_=Date), bindparam(f"last{i}", type_=Date)
        lates = [(DerivedStatus.DONE_ON_TIME.value, False), (DerivedStatus.DONE_LATE.value, True)]
        for column, late in lates if done else [(label, False)]:
            conditions = [C.done == done, C.grain == grain, C.day.between(first, last)]
            sums.append(
                select(func.coalesce(func.sum(C.n), 0))
                .where(*conditions, C.late == late)
                .scalar_subquery()
            )
            columns.append((column, sign))
    return select(*sums), tuple(columns)


async def city_counts(
    session: AsyncSession,
    window: StatusWindow,
    period_start: date,
    fix: Counter[tuple[int, str]],
    overdue: int | None = None,
) -> dict[str, int]:
    """The city's tasks of the period by derived status: the sum of `counts_by_unit` over
    every unit (`fix`: `corrections` for every unit; `overdue`: the overdue column when the
    caller has summed it already)."""
    wanted = spans(window, period_start)[0 if overdue is None else 1 :]
    if overdue is not None:
        fix = Counter({key: n for key, n in fix.items() if key[1] != DerivedStatus.OVERDUE.value})
    shape, days = _ranges(wanted)
    query, columns = _whole(shape)
    found = (await session.execute(query, days)).one()
    counts: Counter[str] = Counter()
    for (column, sign), n in zip(columns, found, strict=True):
        counts[column] += sign * int(n)
    for (_, column), n in fix.items():
        counts[column] += n
    counts[DerivedStatus.OVERDUE.value] += overdue or 0
    return {column: n for column, n in counts.items() if n}


@dataclass(frozen=True)
class Leading:
    """The units with the most overdue tasks: the first asked for and every unit tied with
    the last of them (unit → count), the city's overdue tasks and its units with any."""

    counts: dict[int, int]
    tasks: int
    units: int


@functools.cache
def _leading(shape: Shape) -> Select[Any]:
    """Each unit's signed sum, then only the leading rows with the totals beside them: the
    other units' rows never leave the database (a thousand rows were 2-4 ms of Python)."""
    parts = []
    for i, (done, grain, sign, _) in enumerate(shape):
        n = T.n if sign > 0 else -T.n
        parts.append(select(T.unit_id, n.label("n")).where(*_in_range(i, done, grain)))
    counted = union_all(*parts).subquery()
    per_unit = (
        select(counted.c.unit_id, func.sum(counted.c.n).label("n"))
        .group_by(counted.c.unit_id)
        .having(func.sum(counted.c.n) != 0)
        .cte("per_unit")
        .prefix_with("MATERIALIZED")  # read three times below: counted once
    )
    cut = (
        select(per_unit.c.n)
        .order_by(per_unit.c.n.desc())
        .offset(bindparam("skip"))
        .limit(1)
        .scalar_subquery()
    )
    total = select(func.sum(per_unit.c.n)).scalar_subquery()
    units = select(func.count()).select_from(per_unit).scalar_subquery()
    return select(per_unit.c.unit_id, per_unit.c.n, total, units).where(
        per_unit.c.n >= func.coalesce(cut, literal(1))
    )


async def leading_units(session: AsyncSession, window: StatusWindow, first: int) -> Leading:
    """The `first` units by the open tasks counted before the window's day (with those tied):
    the kept counts as they are, which is the answer when `corrections` has none."""
    shape, days = _ranges(spans(window, window.today)[:1])
    rows = (await session.execute(_leading(shape), days | {"skip": max(first - 1, 0)})).all()
    if not rows:
        return Leading({}, 0, 0)
    return Leading({unit: int(n) for unit, n, _, _ in rows}, int(rows[0][2]), int(rows[0][3]))


@functools.cache
def _per_unit_lateral(shape: Shape) -> Select[Any]:
    """`counts_by_unit` for a few units on PostgreSQL: each unit's ranges read by its key
    (a lateral join over the units), where a list of units made the planner walk every
    unit's entries of each range in the day index (2,000 pages, 9 ms for 20 units)."""
    from sqlalchemy.dialects.postgresql import ARRAY

    units = func.unnest(bindparam("units", type_=ARRAY(Integer)))
    units = units.table_valued("id").render_derived(name="u")
    done_label = case(
        (T.late, DerivedStatus.DONE_LATE.value), else_=DerivedStatus.DONE_ON_TIME.value
    )
    parts = []
    for i, (done, grain, sign, label) in enumerate(shape):
        column = done_label if done else literal(label)
        n = T.n if sign > 0 else -T.n
        parts.append(
            select(column.label("label"), n.label("n")).where(
                *_in_range(i, done, grain), T.unit_id == units.c.id
            )
        )
    counted = union_all(*parts).subquery().lateral("counted")
    return (
        select(units.c.id, counted.c.label, func.sum(counted.c.n))
        .select_from(units)
        .join(counted, true())
        .group_by(units.c.id, counted.c.label)
    )


async def counts_of_units(
    session: AsyncSession,
    window: StatusWindow,
    period_start: date,
    units: list[int],
    fix: Counter[tuple[int, str]],
) -> dict[int, dict[str, int]]:
    """`counts_by_unit` for these units (`fix`: `corrections` for every unit)."""
    if (await session.connection()).dialect.name != "postgresql":
        return await counts_by_unit(session, window, period_start, units, fix=fix)
    wanted = set(units)
    fix = Counter({key: n for key, n in fix.items() if key[0] in wanted})
    shape, days = _ranges(spans(window, period_start))
    statement = _per_unit_lateral(shape)
    return await _summed(session, statement, days | {"units": sorted(units)}, fix)
