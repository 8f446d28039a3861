"""The sweeps after Monday: how long one takes when the week's digests and urgings are out.

Run after `python -m bench.big_city`: python -m bench.sweep [--monday saved.db] [--save saved.db]
Works on a copy of the big city's database (never the original): runs Monday's jobs once,
then the sweep 5 minutes later, Wednesday's first sweep (a day's new reminders and alerts,
and the daily prune) and Wednesday's next one, each timed beside the goal of 0.5 s for a
sweep with nothing new to send. `--save` keeps the database as Monday's jobs left it, and
`--monday` starts from such a copy, to time the sweeps again without Monday's minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.big_city import DEFAULT_URL
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models.db import create_engine, session_factory

MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=TIMEZONE)
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=TIMEZONE)
GOAL = 0.5


class JobTimes(logging.Handler):
    """Collects run_due's per-job debug lines: (job, queued, seconds)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.jobs: list[tuple[str, int, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("job ") and isinstance(record.args, tuple):
            self.jobs.append(record.args)  # type: ignore[arg-type]


def copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even if something reads the source."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


async def timed(sessions, moment: datetime, times: JobTimes) -> tuple[float, dict[str, int]]:
    times.jobs.clear()
    started = time.perf_counter()
    counts = await run_due(sessions, moment, Cadence())
    return time.perf_counter() - started, counts


def show(label: str, seconds: float, counts: dict[str, int], times: JobTimes, goal: bool) -> None:
    queued = sum(counts.values())
    verdict = f"goal ≤ {GOAL} s: {'met' if seconds <= GOAL else 'missed'}" if goal else "no goal"
    print(f"{label:<34} {seconds:8.2f} s  {queued:>7} queued  ({verdict})")
    print("    " + ", ".join(f"{name} {n} in {s:.2f} s" for name, n, s in times.jobs))


async def run(source: Path, monday: Path | None, save: Path | None) -> None:
    logger = logging.getLogger("jobs.run")
    logger.setLevel(logging.DEBUG)
    times = JobTimes()
    logger.addHandler(times)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "sweep.db"
        copy_database(monday or source, copy)
        engine = create_engine(f"sqlite+aiosqlite:///{copy}")
        sessions = session_factory(engine)
        if monday is None:
            seconds, counts = await timed(sessions, MONDAY, times)
            show(f"Monday {MONDAY:%H:%M}: the week's jobs", seconds, counts, times, False)
            if save is not None:
                await engine.dispose()
                copy_database(copy, save)
                engine = create_engine(f"sqlite+aiosqlite:///{copy}")
                sessions = session_factory(engine)
        later = MONDAY + timedelta(minutes=5)
        for label, moment, goal in (
            (f"Monday {later:%H:%M}: the next sweep", later, True),
            (f"Wednesday {WEDNESDAY:%H:%M}: the day's first", WEDNESDAY, False),
            (
                f"Wednesday {WEDNESDAY + timedelta(minutes=5):%H:%M}: the next",
                WEDNESDAY + timedelta(minutes=5),
                True,
            ),
        ):
            seconds, counts = await timed(sessions, moment, times)
            show(label, seconds, counts, times, goal)
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL, help="the big city (SQLite), only read")
    parser.add_argument("--monday", type=Path, help="start from a copy saved by --save")
    parser.add_argument("--save", type=Path, help="keep the database as Monday's jobs left it")
    args = parser.parse_args()
    asyncio.run(run(Path(args.url.split("///", 1)[1]), args.monday, args.save))


if __name__ == "__main__":
    main()
