"""The daily nudges on the big city: silence and risk on a Monday when every open task has
been silent for more than one period (the bench city's tasks were last updated on 25/11).

Run after `python -m bench.big_city` (and `dondoc db upgrade`): python -m bench.nudges [--url …]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime

from sqlalchemy import delete, func, select

from bench.big_city import DEFAULT_URL
from jobs.cadence import Cadence
from jobs.context import JobContext
from jobs.nudges import send_risk_flags, send_stale_nudges
from locales import TIMEZONE
from models import Notice, OutboxMessage
from models.calendar import load_calendar
from models.db import create_engine, session_factory
from models.notices import Notifier

MONDAY = datetime(2026, 12, 14, 7, 30, tzinfo=TIMEZONE)  # 13 working days after 25/11


async def run(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
        await session.execute(delete(Notice))
    async with sessions() as session:
        calendar = await load_calendar(session)
    for name, job in (("stale", send_stale_nudges), ("risk", send_risk_flags)):
        async with sessions() as session:
            context = JobContext(
                session, MONDAY, calendar, Cadence(), Notifier(session, MONDAY, commit_every=50)
            )
            started = time.perf_counter()
            queued = await job(context)
            await session.commit()
            seconds = time.perf_counter() - started
            notices = await session.scalar(
                select(func.count()).select_from(Notice).where(Notice.key.like(f"{name}:%"))
            )
        print(f"{name}: {queued} messages carrying {notices} notices in {seconds:.1f} s")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    asyncio.run(run(parser.parse_args().url))


if __name__ == "__main__":
    main()
