"""A sweep's writes on SQLite (jobs/run.py): each inside the process's write gate, so a
command waiting in the gate is never locked out by a job that wrote and then waited."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import event

from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models.accounts import ChatAccount, ChatChannel
from models.db import write_gate
from tests.city import CREATED, City


async def test_every_write_of_a_monday_sweep_is_made_inside_the_write_gate(
    sessions, city: City
) -> None:
    """Only the task force's TCT is linked: the Monday sweep queues alerts, digests and
    urgings and reports everyone else as unreachable to TCT, each write within the gate."""
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
    gate = write_gate(engine)
    outside: list[str] = []
    writes = 0

    def seen(conn, cursor, statement: str, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        nonlocal writes
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes += 1
            if not gate._the_lock().locked():
                outside.append(statement.split("\n")[0][:80])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        monday = datetime.combine(date(2026, 11, 30), time(9, 0), tzinfo=TIMEZONE)
        counts = await run_due(sessions, monday, Cadence())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert counts["unreachable"] > 0 and writes > 0
    assert outside == [], (counts, outside)
