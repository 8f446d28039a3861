"""`dondoc stats rebuild` beside writers: counted in a read transaction, put right in a short
write transaction, counted again when the tasks changed meanwhile."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import models.tally_rebuild as tally_rebuild
from models import Task, TaskStatus
from models.city_tallies import city_tallies
from models.silence_tallies import silence_tallies
from models.tallies import task_tallies
from models.tally_checks import rebuild, verify
from models.tally_rebuild import rebuild_beside_writers
from tests.city import City


async def _put_wrong(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(task_tallies).where(task_tallies.c.grain == "m").values(n=task_tallies.c.n + 1)
        )
        await session.execute(
            update(city_tallies).where(city_tallies.c.grain == "d").values(n=city_tallies.c.n + 2)
        )
        await session.execute(
            update(silence_tallies)
            .where(silence_tallies.c.grain == "y")
            .values(n=silence_tallies.c.n - 1)
        )


async def _move_a_deadline(sessions: async_sessionmaker[AsyncSession], to: date) -> None:
    """What a `/giahan` approved does to the counts: one task moves to another day."""
    async with sessions() as session, session.begin():
        task_id = await session.scalar(
            select(Task.id).where(Task.status != TaskStatus.DONE).order_by(Task.id).limit(1)
        )
        await session.execute(update(Task).where(Task.id == task_id).values(deadline=to))


async def _verified(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as session, session.begin():
        return await verify(session)


async def test_rebuild_beside_writers_puts_right_the_rows_that_differ(
    city: City, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _put_wrong(sessions)
    assert await _verified(sessions)
    done = await rebuild_beside_writers(engine)
    assert await _verified(sessions) == []
    assert done.tries == 1 and not done.added and done.changed > 0
    async with sessions() as session, session.begin():  # the same rows as counted in one go
        assert await rebuild(session) == done.rows
    again = await rebuild_beside_writers(engine)
    assert (again.rows, again.changed) == (done.rows, 0)


@pytest.fixture
def change_while_counting(
    monkeypatch: pytest.MonkeyPatch, sessions: async_sessionmaker[AsyncSession]
) -> list[date]:
    """Each counting, while its read transaction is still open, commits a change to a task
    from another connection (as `/xong` would), as long as days are left in the list."""
    days: list[date] = []
    count = tally_rebuild._count

    async def counting_then_a_change(connection: Any, scratch: Any) -> int:
        seen = await count(connection, scratch)
        if days:  # committed at once: the counting holds no lock a writer waits for
            await _move_a_deadline(sessions, days.pop(0))
        return seen

    monkeypatch.setattr(tally_rebuild, "_count", counting_then_a_change)
    return days


async def test_a_change_committed_while_counting_means_counting_again(
    city: City,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    change_while_counting: list[date],
) -> None:
    await _put_wrong(sessions)
    change_while_counting += [date(2027, 1, 4), date(2027, 2, 8)]
    done = await rebuild_beside_writers(engine)
    assert (done.tries, done.added) == (3, False)
    assert await _verified(sessions) == []


async def test_the_last_try_adds_the_differences_to_what_changed_meanwhile(
    city: City,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    change_while_counting: list[date],
) -> None:
    await _put_wrong(sessions)
    change_while_counting += [date(2027, 1, 4), date(2027, 2, 8)]
    done = await rebuild_beside_writers(engine, tries=2)
    assert (done.tries, done.added) == (2, True) and done.changed > 0
    assert await _verified(sessions) == []


async def test_on_postgresql_the_lock_is_tried_briefly_while_a_writer_holds_tasks(
    city: City,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transaction writing tasks when the rebuild wants its lock: the rebuild gives up after
    a short wait (so commands never queue behind it for long), tries again, and finishes
    once the writer commits."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's table lock")
    monkeypatch.setattr(tally_rebuild, "LOCK_WAIT", "100ms")
    await _put_wrong(sessions)
    writer = sessions()
    await writer.begin()
    await writer.execute(update(Task).where(Task.id == 4102).values(progress=40))
    tries: list[int] = []
    real_sleep = asyncio.sleep

    async def pause(seconds: float) -> None:
        tries.append(1)
        if len(tries) == 3:
            await writer.commit()  # the writer is done: the next try gets the lock
        await real_sleep(0)

    monkeypatch.setattr(tally_rebuild.asyncio, "sleep", pause)
    done = await rebuild_beside_writers(engine)
    await writer.close()
    assert len(tries) == 3 and done.rows > 0
    assert await _verified(sessions) == []
