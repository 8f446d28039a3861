"""The core's front door: our own failures are answered politely, through the outbox, with
nothing changed; a repeated update is answered once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from handlers import router
from handlers.core import Request
from messages.reply import Reply
from models import OutboxMessage, OutboxState, Task, TaskEvent
from models.clock import FixedClock
from models.db import is_transient_conflict
from models.tasks import TaskStatus
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def bot(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running)


async def test_a_failure_of_ours_is_an_apology_through_the_outbox_and_changes_nothing(
    bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.link("SXD-CV")

    async def breaks_after_a_change(req: Request) -> list[Reply]:
        task = await req.session.get_one(Task, 4102)
        task.status = TaskStatus.DONE  # made, then lost with the failure
        raise RuntimeError("a bug")

    monkeypatch.setitem(router.COMMANDS, "xong", (breaks_after_a_change, True))
    [reply] = await bot.send("SXD-CV", "/xong 4102 Đã xong")
    assert reply.startswith("Xin lỗi") and "chưa ghi nhận thay đổi nào" in reply
    async with bot.sessions() as session:
        assert (await session.get_one(Task, 4102)).status is not TaskStatus.DONE
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == reply))
    assert row.state is OutboxState.SENT and row.key.endswith(":0")


async def test_a_command_deadlocked_with_another_transaction_is_done_again_and_answered_once(
    bot, engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Another transaction (an import, another process) holds the city's tally rows that the
    /xong's trigger moves, then waits for the task the /xong has just updated: PostgreSQL
    aborts the /xong (it waited first); the core does it again once the other is gone."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks and deadlocks are PostgreSQL's; SQLite has one writer")
    await bot.link("SXD-CV")

    async def the_other_transaction() -> None:
        async with engine.connect() as connection, connection.begin():
            # It never gives up first: the /xong's check finds the deadlock, after 1 s.
            await connection.execute(text("SET LOCAL deadlock_timeout = '30s'"))
            await connection.execute(text("SELECT n FROM city_tallies FOR UPDATE"))
            holding.set()
            async with asyncio.timeout(10):  # until the /xong waits for a tally row
                while not await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )
                ):
                    await asyncio.sleep(0.02)
            await connection.execute(text("SELECT id FROM tasks WHERE id = 4102 FOR UPDATE"))

    holding = asyncio.Event()
    other = asyncio.create_task(the_other_transaction())
    await holding.wait()
    with caplog.at_level(logging.WARNING, logger="handlers.router"):
        [reply] = await bot.send("SXD-CV", "/xong 4102 Đã xong")
    await other
    assert "DeadlockDetectedError" in caplog.text  # it happened, to the /xong
    assert not reply.startswith("Xin lỗi"), reply
    async with bot.sessions() as session:
        assert (await session.get_one(Task, 4102)).status is TaskStatus.DONE
        done = await session.scalar(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.task_id == 4102, TaskEvent.field == "status")
        )
        replies = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.text == reply)
        )
    assert (done, replies) == (1, 1)


class _ServerError(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


def test_a_deadlock_a_serialization_failure_and_a_locked_sqlite_are_transient() -> None:
    assert is_transient_conflict(DBAPIError("UPDATE", None, _ServerError("40P01")))
    assert is_transient_conflict(DBAPIError("UPDATE", None, _ServerError("40001")))
    assert is_transient_conflict(OperationalError("UPDATE", None, Exception("database is locked")))
    assert not is_transient_conflict(DBAPIError("UPDATE", None, _ServerError("23505")))
    assert not is_transient_conflict(OperationalError("SELECT", None, Exception("disk I/O error")))
    assert not is_transient_conflict(RuntimeError("40P01"))
