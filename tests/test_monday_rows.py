"""Monday's jobs, and the sweeps after them, queue the very rows they queued before the jobs
read tasks as columns: every key, chat, text, button, letter and notice (a fingerprint kept
in tests/data, taken from the jobs as they were)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import models.outbox
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from tests.varied_city import build_varied_city, fingerprint

GOLDEN = Path(__file__).parent / "data" / "monday_rows.json"
MOMENTS = (
    datetime(2026, 11, 23, 9, 30, tzinfo=TIMEZONE),  # the weekly jobs and the biweekly report
    datetime(2026, 11, 23, 9, 35, tzinfo=TIMEZONE),  # the sweep after: nothing new
    datetime(2026, 11, 24, 8, 0, tzinfo=TIMEZONE),  # Tuesday's reminders, alerts and flags
    datetime(2026, 11, 30, 9, 30, tzinfo=TIMEZONE),  # the second urging
    datetime(2026, 12, 7, 9, 30, tzinfo=TIMEZONE),  # the third: escalated
)


async def test_the_weekly_jobs_queue_the_same_rows_as_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await build_varied_city(session)
        await session.commit()
    seen: dict[str, object] = {}
    for moment in MOMENTS:
        counts = await run_due(sessions, moment, Cadence())
        seen[moment.isoformat()] = {"counts": counts, "rows": await fingerprint(sessions)}
    if written := os.environ.get("DONDOC_WRITE_MONDAY_ROWS"):  # from the jobs as they were
        Path(written).write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
    assert json.loads(json.dumps(seen)) == json.loads(GOLDEN.read_text())


async def test_the_rows_are_the_same_when_every_notice_is_a_write_of_its_own(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write's text budget (models/outbox.py `WRITE_TEXT`) only cuts a job's chunk into
    more commits: the same rows, and the sweeps after queue nothing twice."""
    monkeypatch.setattr(models.outbox, "WRITE_TEXT", 1)
    await test_the_weekly_jobs_queue_the_same_rows_as_before(sessions)
