"""Kept counts of open tasks by the day of their last update: "chưa cập nhật" without a walk.

Per lead unit, how many open tasks were last updated (`Task.updated_at`: progress, a note, a
difficulty, the status, the deadline, an import's change) on each day, in Vietnam's time — by
day, month and year like `models/tallies.py`, so that "not updated since before D" is a
handful of rows per unit. Nothing here depends on the clock: the day D is the question's.
The triggers of migration 0018 move a task's count in the same transaction as every change
to its status, its lead unit or its last update, whoever makes it.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Base
from models.day_ranges import cover
from models.organization import Unit
from models.status import StatusWindow, open_clause
from models.tallies import FIRST_DAY
from models.tasks import Task, TaskStatus

# The day of an update is its date in Vietnam's time (UTC+7 all year, no daylight saving),
# as the triggers compute it from the stored UTC moment.
DAY_OFFSET = timedelta(hours=7)

silence_tallies = Table(
    "silence_tallies",
    Base.metadata,
    Column("unit_id", Integer, nullable=False),
    Column("grain", String(1), nullable=False),  # d day, m month, y year: `day` is its start
    Column("day", Date, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("unit_id", "grain", "day", name="pk_silence_tallies"),
    Index("ix_silence_tallies_day", "grain", "day", "unit_id", "n"),
    sqlite_with_rowid=False,
)
S = silence_tallies.c


def update_day(before: datetime) -> date | None:
    """The first day not counted as silent when `before` is a midnight in the counts' days
    (as `nagging.quiet_before` gives it); None for any other moment, which the counts
    cannot split."""
    shifted = before.astimezone(UTC).replace(tzinfo=None) + DAY_OFFSET
    return shifted.date() if shifted.time() == time(0) else None


@functools.cache
def _kept(shape: tuple[tuple[str, int], ...], by_unit: bool, one_unit: bool) -> Select[Any]:
    """The signed sum of the ranges of counts, per unit or in all: kept by shape, with the
    days and the unit as parameters (built anew, it costs more than it runs)."""
    parts = []
    for i, (grain, sign) in enumerate(shape):
        first, last = bindparam(f"first{i}", type_=Date), bindparam(f"last{i}", type_=Date)
        conditions = [S.grain == grain, S.day.between(first, last)]
        if one_unit:
            conditions.append(S.unit_id == bindparam("unit"))
        n = S.n if sign > 0 else -S.n
        parts.append(select(S.unit_id, n.label("n")).where(*conditions))
    counted = union_all(*parts).subquery()
    if by_unit:
        return select(counted.c.unit_id, func.sum(counted.c.n)).group_by(counted.c.unit_id)
    return select(literal_column("0"), func.sum(counted.c.n))


async def silent_counts(
    session: AsyncSession,
    window: StatusWindow,
    before: datetime,
    unit_id: int | None = None,
    *,
    by_unit: bool = True,
) -> dict[int, int]:
    """Per lead unit id (or, `by_unit=False`, the scope's total under the key 0), the tasks
    open at the window's moment and not updated since before `before`: the scan
    `open_clause(window) AND updated_at < before`, read from the kept counts."""
    first_fresh = update_day(before)
    if first_fresh is None:  # not a day's start: read the tasks themselves
        query = select(Task.lead_unit_id if by_unit else literal_column("0"), func.count())
        query = query.where(open_clause(window), Task.updated_at < before)
        if unit_id is not None:
            query = query.where(Task.lead_unit_id == unit_id)
        if by_unit:
            query = query.group_by(Task.lead_unit_id)
        rows = (await session.execute(query)).tuples().all()
        return {key: int(n) for key, n in rows if n}
    counts: dict[int, int] = {}
    ranges = cover(FIRST_DAY, first_fresh - timedelta(days=1))
    if ranges:
        params: dict[str, Any] = {} if unit_id is None else {"unit": unit_id}
        for i, (_, first, last, _) in enumerate(ranges):
            params[f"first{i}"], params[f"last{i}"] = first, last
        shape = tuple((grain, sign) for grain, _, _, sign in ranges)
        kept = _kept(shape, by_unit, unit_id is not None)
        for key, n in (await session.execute(kept, params)).tuples():
            if n:
                counts[int(key)] = int(n)
    if window.past:  # done since the moment: still open then (as `open_clause` has it)
        key = Task.lead_unit_id if by_unit else literal_column("0")
        late = select(key, func.count()).where(
            Task.status == TaskStatus.DONE,
            Task.completed_date > window.today,
            Task.updated_at < before,
        )
        if unit_id is not None:
            late = late.where(Task.lead_unit_id == unit_id)
        if by_unit:
            late = late.group_by(Task.lead_unit_id)
        for key_value, n in (await session.execute(late)).tuples():
            if n:
                counts[int(key_value)] = counts.get(int(key_value), 0) + int(n)
    return {key: n for key, n in counts.items() if n}


async def silent_by_code(
    session: AsyncSession, window: StatusWindow, before: datetime, unit_id: int | None = None
) -> dict[str, int]:
    """`silent_counts` by unit code."""
    counts = await silent_counts(session, window, before, unit_id)
    if not counts:
        return {}
    codes = await session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(sorted(counts))))
    return {code: counts[uid] for uid, code in codes.tuples()}
