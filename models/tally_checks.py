"""The kept task counts (`task_tallies`, `city_tallies`, `silence_tallies`) checked against the tasks, and
counted again: `dondoc stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    cast,
    delete,
    except_,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.city_tallies import C, city_tallies
from models.silence_tallies import DAY_OFFSET, S, silence_tallies
from models.tallies import NO_DEADLINE, T, task_tallies
from models.tasks import Task, TaskStatus


def fresh_counts(dialect: str) -> Select[Any]:
    """The counts as the tasks give them now, every grain: what the triggers should hold."""
    done = Task.status == TaskStatus.DONE
    # Written out: asyncpg would send date.max as 'infinity'.
    no_deadline = literal_column(
        f"DATE '{NO_DEADLINE}'" if dialect == "postgresql" else f"'{NO_DEADLINE}'", Date
    )
    day = case((done, Task.completed_date), else_=func.coalesce(Task.deadline, no_deadline))
    late = and_(done, Task.deadline.is_not(None), Task.completed_date > Task.deadline)
    if dialect == "postgresql":
        grains = {
            "d": day,
            "m": cast(func.date_trunc("month", day), Date),
            "y": cast(func.date_trunc("year", day), Date),
        }
        done_value, late_value = done, late
    else:
        grains = {
            "d": day,
            "m": func.date(day, "start of month"),
            "y": func.date(day, "start of year"),
        }
        done_value, late_value = case((done, 1), else_=0), case((late, 1), else_=0)
    parts = [
        select(
            done_value.label("done"),
            literal(grain).label("grain"),
            bucket.label("day"),
            Task.lead_unit_id.label("unit_id"),
            late_value.label("late"),
            func.count().label("n"),
        ).group_by(done_value, bucket, Task.lead_unit_id, late_value)
        for grain, bucket in grains.items()
    ]
    return union_all(*parts)  # type: ignore[return-value]


def fresh_city_counts(dialect: str) -> Select[Any]:
    """The counts of `fresh_counts` summed over the units: what the city's rows should hold."""
    fresh = fresh_counts(dialect).subquery()
    key = [fresh.c.done, fresh.c.grain, fresh.c.day, fresh.c.late]
    return select(*key, func.sum(fresh.c.n).label("n")).group_by(*key)


def fresh_silence_counts(dialect: str) -> Select[Any]:
    """The open tasks by lead unit and day of their last update, every grain."""
    hours = int(DAY_OFFSET.total_seconds() // 3600)
    if dialect == "postgresql":
        day = cast(Task.updated_at + literal_column(f"interval '{hours} hours'"), Date)
        grains = {
            "d": day,
            "m": cast(func.date_trunc("month", day), Date),
            "y": cast(func.date_trunc("year", day), Date),
        }
    else:
        day = func.date(Task.updated_at, f"+{hours} hours")
        grains = {
            "d": day,
            "m": func.date(day, "start of month"),
            "y": func.date(day, "start of year"),
        }
    parts = [
        select(
            Task.lead_unit_id.label("unit_id"),
            literal(grain).label("grain"),
            bucket.label("day"),
            func.count().label("n"),
        )
        .where(Task.status != TaskStatus.DONE)
        .group_by(Task.lead_unit_id, bucket)
        for grain, bucket in grains.items()
    ]
    return union_all(*parts)  # type: ignore[return-value]


@dataclass(frozen=True)
class Difference:
    done: bool
    grain: str
    day: date
    unit_id: int
    late: bool
    kept: int
    fresh: int
    silence: bool = False  # a count of open tasks by the day of their last update
    city: bool = False  # a count of the whole city's (`unit_id` 0)


async def verify(session: AsyncSession, limit: int = 20) -> list[Difference]:
    """The kept counts that differ from the tasks (at most `limit`): none when all is well."""
    dialect = (await session.connection()).dialect.name
    fresh = fresh_counts(dialect).subquery()
    kept = select(T.done, T.grain, T.day, T.unit_id, T.late, T.n).where(T.n != 0)
    columns = [fresh.c.done, fresh.c.grain, fresh.c.day, fresh.c.unit_id, fresh.c.late, fresh.c.n]
    missing = except_(select(*columns), kept).subquery()
    extra = except_(kept, select(*columns)).subquery()
    differences: dict[tuple[Any, ...], list[int]] = {}
    for rows, side in ((missing, 1), (extra, 0)):
        found = await session.execute(select(rows).limit(limit))
        for done, grain, day, unit, late, n in found.tuples():
            key = (bool(done), grain, _day(day), unit, bool(late))
            differences.setdefault(key, [0, 0])[side] = n
    found = [Difference(*key, kept, fresh) for key, (kept, fresh) in sorted(differences.items())]
    found += await _verify_city(session, dialect, limit)
    return (found + await _verify_silence(session, dialect, limit))[:limit]


async def _verify_city(session: AsyncSession, dialect: str, limit: int) -> list[Difference]:
    fresh = fresh_city_counts(dialect).subquery()
    kept = select(C.done, C.grain, C.day, C.late, C.n).where(C.n != 0)
    columns = [fresh.c.done, fresh.c.grain, fresh.c.day, fresh.c.late, fresh.c.n]
    differences: dict[tuple[Any, ...], list[int]] = {}
    for rows, side in (
        (except_(select(*columns), kept).subquery(), 1),
        (except_(kept, select(*columns)).subquery(), 0),
    ):
        for done, grain, day, late, n in (
            await session.execute(select(rows).limit(limit))
        ).tuples():
            differences.setdefault((bool(done), grain, _day(day), bool(late)), [0, 0])[side] = n
    return [
        Difference(done, grain, day, 0, late, kept, fresh, city=True)
        for (done, grain, day, late), (kept, fresh) in sorted(differences.items())
    ]


async def _verify_silence(session: AsyncSession, dialect: str, limit: int) -> list[Difference]:
    fresh = fresh_silence_counts(dialect).subquery()
    kept = select(S.unit_id, S.grain, S.day, S.n).where(S.n != 0)
    columns = [fresh.c.unit_id, fresh.c.grain, fresh.c.day, fresh.c.n]
    differences: dict[tuple[Any, ...], list[int]] = {}
    for rows, side in (
        (except_(select(*columns), kept).subquery(), 1),
        (except_(kept, select(*columns)).subquery(), 0),
    ):
        for unit, grain, day, n in (await session.execute(select(rows).limit(limit))).tuples():
            differences.setdefault((grain, _day(day), unit), [0, 0])[side] = n
    return [
        Difference(False, grain, day, unit, False, kept, fresh, silence=True)
        for (grain, day, unit), (kept, fresh) in sorted(differences.items())
    ]


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def rebuild(session: AsyncSession) -> int:
    """Count everything again from the tasks; the number of rows written."""
    dialect = (await session.connection()).dialect.name
    written = 0
    for table, fresh in (
        (task_tallies, fresh_counts(dialect)),
        (city_tallies, fresh_city_counts(dialect)),
        (silence_tallies, fresh_silence_counts(dialect)),
    ):
        await session.execute(delete(table))
        counted = fresh.subquery()
        await session.execute(insert(table).from_select(list(counted.c.keys()), select(counted)))
        written += int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return written
