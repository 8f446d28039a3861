"""`dondoc stats rebuild` beside the bot: how long a `/xong` waits while the kept counts are
counted again, the old way (one transaction) and the new (counted in a read transaction, put
right in a short write transaction).

Run after `python -m bench.big_city`: python -m bench.rebuild [--url …] [--mode new|old]
On SQLite it works on a copy of the city (bench/rebuild.db); on PostgreSQL on the database
given, which it changes (a few hundred tasks marked done): use a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import select

from bench.big_city import DEFAULT_URL
from bench.commands import MOMENT, percentiles
from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from models import Task, TaskStatus
from models.accounts import ChatChannel
from models.clock import FixedClock
from models.db import create_engine, is_sqlite, session_factory
from models.tally_checks import rebuild
from models.tally_rebuild import rebuild_beside_writers

COPY = Path("bench/rebuild.db")


async def run(url: str, mode: str, every: float) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    core = Core(sessions, FixedClock(MOMENT), CoreSettings())
    async with sessions() as session:
        open_tasks = (
            await session.execute(
                select(Task.id, Task.specialist_id)
                .where(Task.status != TaskStatus.DONE)
                .order_by(Task.id.desc())
                .limit(5000)
            )
        ).all()
    waits: list[float] = []
    finished = asyncio.Event()
    run_id = time.time_ns()

    async def officials() -> None:
        for i, (task_id, specialist) in enumerate(open_tasks):
            if finished.is_set():
                return
            incoming = Incoming(
                ChatChannel.TELEGRAM,
                str(specialist),
                str(specialist),
                f"rebuild {run_id} {i}",
                text=f"/xong {task_id} Đã xong",
            )
            started = time.perf_counter()
            await core.handle(incoming)
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(every)

    writer = asyncio.create_task(officials())
    await asyncio.sleep(1)
    started = time.perf_counter()
    if mode == "old":
        async with sessions() as session, session.begin():
            rows, note = await rebuild(session), "one transaction"
    else:
        done = await rebuild_beside_writers(engine)
        rows = done.rows
        note = f"{done.tries} countings, {done.changed} rows put right, added={done.added}"
    took = time.perf_counter() - started
    finished.set()
    await writer
    print(f"rebuild ({mode}): {took:.1f} s, {rows} rows ({note})")
    print(f"/xong beside it, {len(waits)} calls: {percentiles(waits)}")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--mode", choices=["new", "old"], default="new")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between two /xong")
    args = parser.parse_args()
    url = args.url
    if is_sqlite(url):
        shutil.copy(url.split("///", 1)[1], COPY)
        url = f"sqlite+aiosqlite:///{COPY}"
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    asyncio.run(run(url, args.mode, args.every))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
