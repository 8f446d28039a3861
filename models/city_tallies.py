"""Kept task counts for the whole city: `task_tallies` without the unit, so that the city's
five columns are a few dozen rows, not a sum over every unit's (migration 0024 keeps them)."""

from __future__ import annotations

import functools
from collections import Counter
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
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Base
from models.status import DerivedStatus, StatusWindow
from models.tallies import Shape, _ranges, spans

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
