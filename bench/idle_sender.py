"""The outbox sender at night: 200,000 messages held for office hours, nothing due.

Run after `python -m bench.big_city`: python -m bench.idle_sender [--rows 200000] [--seconds 30]
Works on a copy of the big city's database, adds the held messages, runs the real sender's
loop with nothing to send, and reports the process's CPU; then times one claim with all of
them due (a Monday's queue).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.big_city import DEFAULT_URL
from bot.delivery import OutboxSender
from locales import TIMEZONE
from models.accounts import ChatChannel
from models.claims import claim_due
from models.clock import FixedClock
from models.db import create_engine, session_factory
from models.outbox import Envelope, Priority, enqueue_many

EVENING = datetime(2026, 11, 23, 18, 0, tzinfo=TIMEZONE)
MORNING = datetime(2026, 11, 24, 7, 30, tzinfo=TIMEZONE)


class Nothing:
    """A channel that must not be asked for anything: nothing is due."""

    async def send(self, *args: object) -> str:
        raise AssertionError("nothing was due")

    async def send_file(self, *args: object) -> str:
        raise AssertionError("nothing was due")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(url: str, rows: int, seconds: float) -> float:
    source = Path(url.split("///", 1)[1])
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "idle.db"
        shutil.copy(source, copy)
        with sqlite3.connect(copy) as database:  # only this bench's messages in the outbox
            database.execute("DELETE FROM delivery_attempts")
            database.execute("DELETE FROM outbox")
        engine = create_engine(f"sqlite+aiosqlite:///{copy}")
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            held = [
                Envelope(
                    key=f"idle bench:{n}",
                    channel=ChatChannel.TELEGRAM,
                    chat_id=str(200_000 + n % 30_000),  # 30,000 officials' chats
                    text="Nhắc việc",
                    priority=Priority.ALERT if n % 5 == 0 else Priority.BULK,
                    not_before=MORNING,
                )
                for n in range(rows)
            ]
            await enqueue_many(session, held, EVENING)
        sender = OutboxSender(
            sessions, FixedClock(EVENING), {ChatChannel.TELEGRAM: Nothing()}, idle_seconds=0.5
        )
        loop = asyncio.create_task(sender.run())
        await asyncio.sleep(2)
        spent, started = cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        spent, elapsed = cpu() - spent, time.monotonic() - started
        sender.stop()
        await loop
        print(
            f"idle sender, {rows:,} messages held for the morning: {spent:.2f} s CPU in "
            f"{elapsed:.0f} s = {100 * spent / elapsed:.2f} % of a core"
        )
        claims = []
        for _ in range(5):
            async with sessions() as session, session.begin():
                started = time.perf_counter()
                claimed = await claim_due(
                    session, MORNING + timedelta(minutes=1), 25, [ChatChannel.TELEGRAM]
                )
                claims.append(time.perf_counter() - started)
                await session.rollback()
        print(
            f"one claim of {len(claimed)} when all {rows:,} are due: "
            f"median {sorted(claims)[2] * 1000:.0f} ms, max {max(claims) * 1000:.0f} ms"
        )
        await engine.dispose()
        return 100 * spent / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.rows, args.seconds))


if __name__ == "__main__":
    main()
