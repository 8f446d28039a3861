"""Two sessions racing on the same database (SQLite file or PostgreSQL), as two processes
would: a task is done once, a request decided once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeadlineChange, Official, Task, TaskEvent
from models.deadlines import ChangeState
from models.task_changes import (
    Actor,
    approve_extension,
    decide_once,
    mark_done_once,
    request_extension,
)
from models.task_queries import pending_extension
from models.tasks import Channel
from tests.city import City
from tests.conftest import NOW

Step = Callable[[AsyncSession], Awaitable[bool]]


async def race(sessions, step: Step) -> list[bool | BaseException]:
    """Both sessions read first, then both try to write, each holding its transaction open."""
    both_read = asyncio.Barrier(2)

    async def one() -> bool:
        async with sessions() as session, session.begin():
            return await step(session, both_read)

    return await asyncio.gather(one(), one(), return_exceptions=True)


async def test_a_task_is_done_once_when_two_report_it_at_once(sessions, city: City) -> None:
    async def report(session: AsyncSession, both_read: asyncio.Barrier) -> bool:
        task = await session.get_one(Task, 4102)
        actor = Actor(
            await session.get_one(Official, city.officials["SXD-CV"].id), Channel.ZALO, NOW
        )
        await both_read.wait()
        taken = await mark_done_once(session, task, actor, date(2026, 11, 25), "Đã xong")
        await asyncio.sleep(0.05)
        return taken

    results = await race(sessions, report)
    assert sorted(r is True for r in results) == [False, True], results
    async with sessions() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.task_id == 4102, TaskEvent.field == "status")
        )
    assert events == 1


async def test_an_extension_is_decided_once_when_two_decide_at_once(sessions, city: City) -> None:
    async with sessions() as session, session.begin():
        task = await session.get_one(Task, 4102)
        asker = await session.get_one(Official, city.officials["SXD-CV"].id)
        request_extension(
            session, task, Actor(asker, Channel.TELEGRAM, NOW), date(2026, 12, 15), "Chờ"
        )

    async def approve(session: AsyncSession, both_read: asyncio.Barrier) -> bool:
        task = await session.get_one(Task, 4102)
        change = await pending_extension(session, 4102)
        head = await session.get_one(Official, city.officials["TCT"].id)
        await both_read.wait()
        if not await decide_once(session, change, ChangeState.APPROVED):
            return False
        approve_extension(session, task, change, Actor(head, Channel.TELEGRAM, NOW))
        await session.flush()
        await asyncio.sleep(0.05)
        return True

    results = await race(sessions, approve)
    assert sorted(r is True for r in results) == [False, True], results
    async with sessions() as session:
        approvals = await session.scalar(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.task_id == 4102, TaskEvent.action == "extension_approved")
        )
        states = (
            await session.scalars(
                select(DeadlineChange.state).where(DeadlineChange.task_id == 4102)
            )
        ).all()
    assert approvals == 1 and list(states) == [ChangeState.APPROVED]
