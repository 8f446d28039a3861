"""A sweep's writes on SQLite (jobs/run.py): each inside the process's write gate, so a
command waiting in the gate is never locked out by a job that wrote and then waited."""

from __future__ import annotations

import gc
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import event, select

from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models import Explanation, ExplanationState, Task
from models.accounts import ChatAccount, ChatChannel
from models.db import write_gate
from models.explanations import request_explanation
from models.task_changes import Actor
from models.tasks import Channel
from tests.city import CREATED, City
from tests.test_recurrence import finish, import_duty, occurrences


async def test_every_write_of_a_monday_sweep_is_made_inside_the_write_gate(
    sessions, city: City, tmp_path: Path
) -> None:
    """Only the task force's TCT is linked: the Monday sweep creates a monthly duty's next
    occurrence, records an explanation not given in time, queues alerts, digests and
    urgings, and reports everyone else as unreachable to TCT, each write within the gate."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the gate is SQLite's: PostgreSQL locks rows, not the database")
    async with sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.TELEGRAM,
                external_user_id="tct",
                chat_id="tct",
                official_id=city.officials["TCT"].id,
                linked_at=CREATED,
            )
        )
    duty = await import_duty(sessions, tmp_path, "hằng tháng, trước ngày 8")
    await finish(sessions, duty, date(2026, 11, 27))  # done: the next one is made
    async with sessions() as session, session.begin():
        late = await session.get_one(Task, 4103)
        asked = Actor(city.officials["TCT"], Channel.TELEGRAM, CREATED)
        request_explanation(session, late, asked, date(2026, 11, 20))  # lapsed by Monday
    gate = write_gate(engine)
    outside: list[str] = []

    def seen(conn, cursor, statement: str, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and not gate._the_lock().locked():
            outside.append(statement.split("\n")[0][:80])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        monday = datetime.combine(date(2026, 11, 30), time(9, 0), tzinfo=TIMEZONE)
        counts = await run_due(sessions, monday, Cadence())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(await occurrences(sessions)) == 2 and counts["unreachable"], counts
    async with sessions() as session:
        assert await session.scalar(select(Explanation.state)) == ExplanationState.MISSED
    assert outside == [], (counts, outside)


async def test_no_full_garbage_collection_runs_while_the_jobs_run_and_the_collector_is_restored(
    sessions, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full collection walks every object the bot holds, on the event loop: the jobs hold
    them off, and give the collector back as they found it, though a job fails."""
    from jobs import run

    seen: list[tuple[int, int, int]] = []

    async def failing(ctx) -> int:
        seen.append(gc.get_threshold())
        raise LookupError("the job failed")

    before = gc.get_threshold()
    monkeypatch.setattr(run, "send_reminders", failing)
    with pytest.raises(LookupError):
        await run_due(sessions, datetime(2026, 11, 23, 9, 30, tzinfo=TIMEZONE), Cadence())
    assert seen == [(before[0], before[1], run.FULL_COLLECTIONS_HELD)]
    assert gc.get_threshold() == before


def test_runs_that_overlap_restore_the_collector_only_when_the_last_ends() -> None:
    from jobs.run import FULL_COLLECTIONS_HELD, full_collections_held

    before = gc.get_threshold()
    first, second = full_collections_held(), full_collections_held()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first
    assert gc.get_threshold()[2] == FULL_COLLECTIONS_HELD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
