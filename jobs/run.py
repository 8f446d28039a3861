"""Everything due at a moment, run once: the sweep and the weekly and periodic jobs.

Each job asks the database what is due and writes its notices under unique keys, so running
this again at the same moment (or after a restart, or on two processes) sends nothing new;
after downtime it catches up: this week's digest goes out even if Monday was missed.
What is finished is marked done (models/notices.py), so the sweeps after Monday's run pass
over the week's digests and urgings, and each task's alert and reminder of the day, in a
look-up each instead of building them again.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.alerts import record_missed_explanations, report_unreachable, send_overdue_alerts
from jobs.cadence import Cadence, first_working_day_of_month, iso_week, weekly_moment
from jobs.context import JobContext
from jobs.nudges import send_risk_flags, send_stale_nudges
from jobs.recurrence import create_occurrences
from jobs.reminders import send_reminders
from jobs.reports import send_biweekly_report, send_monthly_report, send_quarterly_list
from jobs.upkeep import prune_if_due
from jobs.weekly import send_digests, send_urgings
from models.calendar import load_calendar
from models.clock import local_date
from models.coordination import jobs_locked
from models.db import write_gate
from models.notices import Notifier, already_sent, done

log = logging.getLogger(__name__)

MONTHLY_CATCH_UP = timedelta(days=7)
COMMIT_EVERY = 50
# The cyclic collector's third threshold while jobs run: so many younger collections before a
# full one that none comes (CPython's default is 10).
FULL_COLLECTIONS_HELD = 1_000_000
_held = [0, 10]  # runs holding them now, and the third threshold to restore after the last


@contextmanager
def full_collections_held() -> Iterator[None]:
    """No automatic full garbage collection while the jobs run.

    The jobs grow the heap by millions of objects (rows, ORM states, texts), most freed by
    their counts as each batch ends. CPython runs a full collection whenever the objects
    that survived a collection grow by a quarter: a job growing the heap twentyfold ran a
    dozen, each walking every object the process holds, on the event loop, up to a second
    each (on the big city 28 of the bot's 91 s of CPU, and the loop's longest stalls). Young
    collections go on; the next full one comes after the jobs, when their objects are gone."""
    if _held[0] == 0:
        first, second, _held[1] = gc.get_threshold()
        gc.set_threshold(first, second, FULL_COLLECTIONS_HELD)
    _held[0] += 1
    try:
        yield
    finally:
        _held[0] -= 1
        if _held[0] == 0:  # the last run out, whatever order they end in
            first, second, _ = gc.get_threshold()
            gc.set_threshold(first, second, _held[1])


async def run_due(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    cadence: Cadence,
    durations: dict[str, float] | None = None,
) -> dict[str, int]:
    """Run every job due at `now`; returns how many messages each queued. One run at a time
    across processes: a second waits for the first, then finds done what it did."""
    async with jobs_locked(sessions.kw["bind"]):
        with full_collections_held():
            return await _run_due(sessions, now, cadence, {} if durations is None else durations)


async def _run_due(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    cadence: Cadence,
    durations: dict[str, float],
) -> dict[str, int]:
    async with sessions() as session:
        calendar = await load_calendar(session)
    today = local_date(now)
    week = iso_week(today)
    # (name, job, the key of its run): a job run once a period marks its run done at the end,
    # so the sweeps after it pass it over in one look-up, where they used to build the week's
    # 30,000 digests to find each already sent. An interrupted run has no mark and resumes.
    jobs: list[tuple[str, Callable[[JobContext], Awaitable[int]], str | None]] = [
        ("recurrence", create_occurrences, None),  # first: a new occurrence is reminded of too
        ("reminders", send_reminders, None),
        ("overdue", send_overdue_alerts, None),
    ]
    if calendar.is_working_day(today) and now >= cadence.at(today, cadence.work_start):
        # Once a working day, at the start of work: what silence, risk and a lapsed
        # explanation look like changes by the day, not by the sweep.
        day = today.isoformat()
        jobs.append(("stale", send_stale_nudges, f"stale:day {day}"))
        jobs.append(("risk", send_risk_flags, f"risk:day {day}"))
        jobs.append(("explain-missed", record_missed_explanations, f"explain-missed:day {day}"))
    digest_at = weekly_moment(now, cadence.digest_at, calendar, cadence)
    if digest_at is not None and now >= digest_at:
        jobs.append(("digest", send_digests, f"digest:week {week}"))
    urging_at = weekly_moment(now, cadence.urging_at, calendar, cadence)
    if urging_at is not None and now >= urging_at:
        jobs.append(("urging", send_urgings, f"urge:week {week}"))
    report_at = weekly_moment(now, cadence.report_at, calendar, cadence)
    if report_at is not None and now >= report_at and int(week[-2:]) % 2 == 0:
        jobs.append(("biweekly", lambda ctx: send_biweekly_report(ctx, week), None))
    month_at = cadence.at(first_working_day_of_month(today, calendar), cadence.report_at)
    # Caught up within a week of its moment, not months later on a fresh install.
    if month_at <= now < month_at + MONTHLY_CATCH_UP:
        jobs.append(("monthly", send_monthly_report, None))
        if today.month in (1, 4, 7, 10):
            jobs.append(("quarterly", send_quarterly_list, None))

    counts: dict[str, int] = {}
    unreachable = {}
    for name, job, run in jobs:
        started = time.perf_counter()
        # Short transactions: a long digest never holds the lock a /xong waits for.
        async with sessions() as session:
            notifier = Notifier(session, now, commit_every=COMMIT_EVERY)
            context = JobContext(session, now, calendar, cadence, notifier)
            if run is not None and await already_sent(session, [done(run)]):
                counts[name] = 0  # done this period
            else:
                counts[name] = await job(context)
                async with write_gate(session.bind).bulk():
                    await session.commit()
                if run is not None:
                    await notifier.mark_done([run])  # after everything it queued
            unreachable.update(context.notifier.unreachable)
        durations[name] = time.perf_counter() - started
        log.debug("job %s queued %d in %.3f s", name, counts[name], durations[name])
    async with sessions() as session:  # it reads, then writes in a short gated transaction
        context = JobContext(session, now, calendar, cadence, Notifier(session, now))
        context.notifier.unreachable.update(unreachable)
        counts["unreachable"] = await report_unreachable(context)
    log.info("jobs at %s: %s", now.isoformat(), counts)
    await prune_if_due(sessions, now, cadence)  # after the messages: they matter more
    return counts
