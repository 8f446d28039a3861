"""The kept task counts (deadlines and completions; open tasks by their last update): equal
to a fresh count after 10,000 random changes of every kind, and every figure read from them
equal to the same figure read from every task."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from locales import TIMEZONE
from models import Task, TaskEvent, TaskStatus
from models.calendar import WorkingCalendar
from models.city_tallies import city_tallies, leading_units
from models.day_ranges import cover
from models.nagging import quiet_before, silent_by_unit, silent_count
from models.overdue import oldest_overdue, overdue_counts, worst_units
from models.silence_tallies import silence_tallies, silent_counts
from models.statistics import (
    FiveColumns,
    city_columns,
    five_columns_by_unit,
    scanned_by_unit,
)
from models.status import StatusWindow, days_overdue, open_clause, overdue_clause
from models.tallies import task_tallies
from models.tally_checks import rebuild, verify
from models.tasks import Channel
from tests.city import City

CHANGES = int(os.environ.get("DONDOC_TALLY_CHANGES", "10000"))
START = date(2026, 6, 1)


def _bucket_days(grain: str, start: date) -> list[date]:
    if grain == "d":
        return [start]
    end = (
        date(start.year + 1, 1, 1)
        if grain == "y"
        else date(start.year + start.month // 12, start.month % 12 + 1, 1)
    )
    return [start + timedelta(days=i) for i in range((end - start).days)]


def test_cover_is_every_day_once() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        first = START + timedelta(days=rng.randint(-800, 800))
        last = first + timedelta(days=rng.randint(-5, 900))
        days: Counter[date] = Counter()
        for grain, a, b, sign in cover(first, last):
            start = a
            while start <= b:
                for day in _bucket_days(grain, start):
                    days[day] += sign
                start = _bucket_days(grain, start)[-1] + timedelta(days=1)
        expected = Counter(first + timedelta(days=i) for i in range((last - first).days + 1))
        assert +days == expected and not -days, (first, last, cover(first, last))
    assert cover(date(1, 1, 1), date(9999, 12, 31)) == [("y", date(1, 1, 1), date(9999, 1, 1), 1)]
    # the month less its last days, not 24 days; the days after today, not the month
    assert cover(date(2026, 11, 1), date(2026, 11, 24)) == [
        ("d", date(2026, 11, 25), date(2026, 11, 30), -1),
        ("m", date(2026, 11, 1), date(2026, 11, 1), 1),
    ]


def _day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randint(0, 240))


def _row(rng: random.Random, units: list[int], at: datetime) -> dict[str, object]:
    assigned = _day(rng)
    deadline = None if rng.random() < 0.1 else assigned + timedelta(days=rng.randint(-3, 60))
    done = rng.random() < 0.4
    return {
        "content": "Nhiệm vụ thử",
        "lead_unit_id": rng.choice(units),
        "assigned_date": assigned,
        "original_deadline": deadline,
        "deadline": deadline,
        "status": TaskStatus.DONE if done else rng.choice(list(TaskStatus)[:2]),
        "progress": 100 if done else 0,
        "completed_date": assigned + timedelta(days=rng.randint(-2, 70)) if done else None,
        "result": "",
        "created_at": at,
        "updated_at": at,
    }


async def _change(
    session: AsyncSession, rng: random.Random, units: list[int], ids: list[int], at: datetime
) -> None:
    kind = rng.random()
    task_id = rng.choice(ids)
    if kind < 0.15 or len(ids) < 20:
        ids.append(
            await session.scalar(insert(Task).values(_row(rng, units, at)).returning(Task.id))
        )
    elif kind < 0.35:
        await session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(status=TaskStatus.DONE, progress=100, completed_date=_day(rng), updated_at=at)
        )
    elif kind < 0.5:
        status = rng.choice([TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS])
        touched = {"updated_at": at} if rng.random() < 0.7 else {}
        await session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(status=status, completed_date=None, **touched)
        )
    elif kind < 0.7:
        deadline = None if rng.random() < 0.1 else _day(rng)
        await session.execute(update(Task).where(Task.id == task_id).values(deadline=deadline))
    elif kind < 0.85:
        old = await session.scalar(select(Task.lead_unit_id).where(Task.id == task_id))
        new = rng.choice(units)
        await session.execute(update(Task).where(Task.id == task_id).values(lead_unit_id=new))
        session.add(
            TaskEvent(
                task_id=task_id,
                at=at,
                channel=Channel.CLI,
                action="reassign",
                field="lead_unit_id",
                old_value=str(old),
                new_value=str(new),
            )
        )
        await session.flush()
    elif kind < 0.87:  # nothing the counts know moves
        await session.execute(update(Task).where(Task.id == task_id).values(progress=50))
    elif kind < 0.9:  # progress reported: the last update moves, maybe to an earlier moment
        moment = at - timedelta(days=rng.choice([0, 0, 1, 40, 400]))
        await session.execute(
            update(Task).where(Task.id == task_id).values(progress=60, updated_at=moment)
        )
    elif kind < 0.95 and task_id > 1000:  # a task the test made: nothing refers to it
        ids.remove(task_id)
        await session.execute(delete(Task).where(Task.id == task_id))
    else:  # many rows in one statement
        await session.execute(
            update(Task)
            .where(Task.lead_unit_id == rng.choice(units), Task.id % 3 == rng.randint(0, 2))
            .values(lead_unit_id=rng.choice(units))
        )


async def _overdue_scanned(
    session: AsyncSession, window: StatusWindow
) -> dict[int, tuple[int, int]]:
    query = (
        select(Task.lead_unit_id, func.count(), func.min(Task.deadline))
        .where(overdue_clause(window))
        .group_by(Task.lead_unit_id)
    )
    return {
        unit: (n, days_overdue(oldest, window.today))
        for unit, n, oldest in (await session.execute(query)).tuples()
    }


async def _silence_scanned(
    session: AsyncSession, window: StatusWindow, before: datetime, unit: int | None
) -> dict[int, int]:
    query = select(Task.lead_unit_id, func.count()).where(
        open_clause(window), Task.updated_at < before
    )
    if unit is not None:
        query = query.where(Task.lead_unit_id == unit)
    rows = await session.execute(query.group_by(Task.lead_unit_id))
    return dict(rows.tuples().all())


async def _compare_silence(
    session: AsyncSession, rng: random.Random, codes: dict[int, str], at: datetime
) -> None:
    """Silent tasks read from the kept counts equal the same read from every task, for the
    days `quiet_before` gives (Vietnam's midnights) and for any other moment."""
    for _ in range(6):
        today = (at.astimezone(TIMEZONE) - timedelta(days=rng.randint(-3, 200))).date()
        window = StatusWindow(today, today + timedelta(days=3), past=rng.random() < 0.5)
        before = quiet_before(today, WorkingCalendar(), rng.randint(0, 20))
        if rng.random() < 0.2:
            before += timedelta(minutes=rng.randint(1, 1000))
        unit = rng.choice([None, None, *codes])
        scanned = await _silence_scanned(session, window, before, unit)
        assert await silent_counts(session, window, before, unit) == scanned, (window, before)
        assert await silent_count(session, window, before, unit) == sum(scanned.values())
        by_code = await silent_by_unit(session, window, before, unit)
        assert by_code == {codes[u]: n for u, n in scanned.items()}


async def _oldest_scanned(
    session: AsyncSession,
    window: StatusWindow,
    units: list[int],
    per_unit: int,
    codes: dict[int, str],
) -> list[tuple[str, int]]:
    query = (
        select(Task.lead_unit_id, Task.id)
        .where(overdue_clause(window), Task.lead_unit_id.in_(units))
        .order_by(Task.deadline, Task.id)
    )
    by_unit: dict[int, list[int]] = {}
    for unit, task_id in (await session.execute(query)).tuples():
        by_unit.setdefault(unit, []).append(task_id)
    ordered = sorted(by_unit, key=lambda u: codes[u])
    return [(codes[u], task_id) for u in ordered for task_id in by_unit[u][:per_unit]]


async def _compare(session: AsyncSession, rng: random.Random, codes: dict[int, str]) -> None:
    units = list(codes)
    assert await verify(session) == []
    for i in range(7):
        # the last: after every assignment and completion, the counts need no correction
        today = START + timedelta(days=rng.randint(-30, 300) if i < 6 else 400)
        window = StatusWindow(
            today, today + timedelta(days=rng.randint(0, 10)), past=rng.random() < 0.5
        )
        period_start = today - timedelta(days=rng.randint(0, 120))
        unit = rng.choice([None, None, *units])
        kept = {
            row.code: row.columns
            for row in await five_columns_by_unit(session, window, period_start, unit)
        }
        scanned = await scanned_by_unit(session, window, period_start, unit)
        assert kept == {codes[u]: c for u, c in scanned.items() if c.assigned}, window
        if unit is None:
            first = rng.randint(1, len(units) + 1)
            city = await city_columns(session, window, period_start, first)
            assert city.total == sum(scanned.values(), FiveColumns()), window
            assert city.units == len(units)
            rows = await five_columns_by_unit(session, window, period_start)
            assert city.worst == rows[:first], window
        every = await worst_units(session, window)
        listed = {u.unit_id: (u.count, u.worst_days) for u in every.worst}
        assert listed == await _overdue_scanned(session, window), window
        some = rng.sample(units, k=min(3, len(units)))
        per_unit = rng.randint(1, 4)
        listed_tasks = await oldest_overdue(session, window, some, per_unit)
        assert [(r.unit_code, r.task.id) for r in listed_tasks] == await _oldest_scanned(
            session, window, some, per_unit, codes
        )
        first = rng.randint(1, 4)  # ranked in the database when the window is now
        worst = await worst_units(session, window, first=first)
        assert [u.unit_id for u in worst.worst] == list(listed)[:first]
        assert worst.worst == every.worst[:first]
        assert (worst.tasks, worst.units) == (sum(n for n, _ in listed.values()), len(listed))


async def test_random_changes_keep_the_counts(
    city: City, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rng = random.Random(14)
    codes = {u.id: code for code, u in city.units.items()}
    units = list(codes)
    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    async with sessions() as session, session.begin():
        await session.execute(insert(Task), [_row(rng, units, at) for _ in range(200)])
        ids = list((await session.scalars(select(Task.id))).all())
        await _compare(session, rng, codes)
        await _compare_silence(session, rng, codes, at)
    done = 0
    while done < CHANGES:
        async with sessions() as session, session.begin():
            for _ in range(min(500, CHANGES - done)):
                at += timedelta(minutes=rng.randint(1, 90))
                await _change(session, rng, units, ids, at)
                done += 1
            if done % 2500 == 0 or done == CHANGES:
                await _compare(session, rng, codes)
                await _compare_silence(session, rng, codes, at)
    async with sessions() as session, session.begin():
        tables = (task_tallies, city_tallies, silence_tallies)
        kept = [(await session.execute(select(t).where(t.c.n != 0))).all() for t in tables]
        assert await rebuild(session) > 0
        again = [(await session.execute(select(t).where(t.c.n != 0))).all() for t in tables]
        assert [sorted(rows) for rows in kept] == [sorted(rows) for rows in again]
        assert await verify(session) == []


async def test_the_units_most_overdue_are_ranked_in_the_database_with_those_tied(
    city: City, session: AsyncSession
) -> None:
    window = StatusWindow(date(2027, 3, 1), date(2027, 3, 4))
    now = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    before = await overdue_counts(session, window)
    codes = sorted(city.units)
    targets = dict(zip(codes, [30, 20, 20, 10], strict=False))  # two tied second
    rng = random.Random(5)
    for code, target in targets.items():
        unit = city.units[code].id
        for _ in range(target - before.get(unit, 0)):
            row = _row(rng, [unit], now) | {"status": TaskStatus.NOT_STARTED}
            row |= {"deadline": date(2026, 12, 1), "completed_date": None, "progress": 0}
            await session.execute(insert(Task).values(row))
    counts = await overdue_counts(session, window)
    assert [counts[city.units[code].id] for code in targets] == [30, 20, 20, 10]
    every = await worst_units(session, window)
    for first in range(1, len(codes) + 2):
        cut = sorted(counts.values(), reverse=True)[min(first, len(counts)) - 1]
        leading = await leading_units(session, window, first)
        assert leading.counts == {u: n for u, n in counts.items() if n >= cut}, first
        assert (leading.tasks, leading.units) == (sum(counts.values()), len(counts))
        assert (await worst_units(session, window, first=first)).worst == every.worst[:first]
    assert (await leading_units(session, window, 2)).counts.keys() == {
        city.units[code].id for code in codes[:3]
    }


async def test_verify_finds_a_count_put_wrong(city: City, session: AsyncSession) -> None:
    assert await verify(session) == []
    await session.execute(
        update(task_tallies).where(task_tallies.c.grain == "m").values(n=task_tallies.c.n + 1)
    )
    assert await verify(session)
    await rebuild(session)
    assert await verify(session) == []
    await session.execute(
        update(silence_tallies)
        .where(silence_tallies.c.grain == "y")
        .values(n=silence_tallies.c.n - 1)
    )
    found = await verify(session)
    assert found and all(d.silence and d.grain == "y" for d in found)
    await rebuild(session)
    assert await verify(session) == []
    await session.execute(
        update(city_tallies).where(city_tallies.c.grain == "d").values(n=city_tallies.c.n + 1)
    )
    found = await verify(session)
    assert found and all(d.city and d.grain == "d" and d.kept == d.fresh + 1 for d in found)
    await rebuild(session)
    assert await verify(session) == []


async def test_dondoc_stats_verify_and_rebuild(city: City, session: AsyncSession, dondoc) -> None:
    def cli(*argv: str) -> Any:
        return asyncio.to_thread(dondoc, *argv)  # `dondoc` runs its own event loop

    assert (await cli("stats", "verify"))[0] == 0
    await session.execute(
        update(task_tallies).where(task_tallies.c.grain == "d").values(n=task_tallies.c.n + 2)
    )
    await session.commit()
    code, out, _ = await cli("stats", "verify")
    assert code == 1 and "dondoc stats rebuild" in out
    assert (await cli("stats", "rebuild"))[0] == 0
    assert (await cli("stats", "verify"))[0] == 0
    with pytest.raises(SystemExit):  # argparse refuses a wrong action; nothing is changed
        await cli("stats", "nonsense")
