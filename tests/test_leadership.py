"""One leader among the bot processes, one sweep at a time: on PostgreSQL an advisory lock
that a dead process loses, on SQLite one `dondoc run` per file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.leader import AlreadyRunning, Leadership, claim_sqlite_file
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models import ChatAccount, OutboxMessage
from models.accounts import ChatChannel
from models.db import create_engine
from tests.city import City
from tests.conftest import POSTGRES_URL

MONDAY = datetime(2026, 11, 23, 8, 45, tzinfo=TIMEZONE)
ROOT = Path(__file__).parent.parent
on_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="DONDOC_TEST_POSTGRES_URL not set")


def test_a_second_run_on_one_sqlite_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    engine = create_engine(url)
    held = claim_sqlite_file(engine)  # the first `dondoc run`
    assert held is not None
    with pytest.raises(AlreadyRunning):
        claim_sqlite_file(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=url, DONDOC_TELEGRAM_TOKEN="1:A", DONDOC_LANGUAGE="en")
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True
    )
    second = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert "already uses" in second.stderr and "PostgreSQL" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    held.close()  # the first ends: the next may run
    claim_sqlite_file(engine).close()  # type: ignore[union-attr]


@on_postgres
async def test_one_process_leads_and_another_takes_over_when_it_stops() -> None:
    engines = [create_engine(POSTGRES_URL) for _ in range(3)]
    first = Leadership(engines[0], retry_seconds=0.1)
    second = Leadership(engines[1], retry_seconds=0.1)
    never = Leadership(engines[2], retry_seconds=0.1, candidate=False)  # DONDOC_SCHEDULER=0
    try:
        await first.start()
        await second.start()
        await never.start()
        assert (first.leading, second.leading, never.leading) == (True, False, False)
        await first.stop()
        await asyncio.wait_for(second.became.wait(), 5)
        assert second.leading and not never.leading
    finally:
        for leadership in (first, second, never):
            await leadership.stop()
        for engine in engines:
            await engine.dispose()


LEADER = """
import asyncio, sys
from bot.leader import Leadership
from models.db import create_engine

async def main():
    leadership = Leadership(create_engine(sys.argv[1]))
    await leadership.start()
    print("leading" if leadership.leading else "following", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@on_postgres
async def test_a_leader_killed_with_sigkill_is_replaced_within_30_seconds() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", LEADER, POSTGRES_URL],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = create_engine(POSTGRES_URL)
    follower = Leadership(engine, retry_seconds=1.0)
    try:
        assert process.stdout is not None
        assert await asyncio.to_thread(process.stdout.readline) == "leading\n"
        await follower.start()
        assert not follower.leading
        process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.wait_for(follower.became.wait(), 30)
        assert time.monotonic() - killed < 30
    finally:
        process.kill()
        process.wait()
        await follower.stop()
        await engine.dispose()


async def test_two_sweeps_at_once_do_the_work_once(sessions, city: City) -> None:
    """The leader's sweep and a `dondoc tick` at the same moment: the second waits for the
    first, then finds done what it did."""
    async with sessions() as session, session.begin():
        for n, official in enumerate(city.officials.values()):
            session.add(
                ChatAccount(
                    channel=ChatChannel.TELEGRAM,
                    external_user_id=str(500 + n),
                    chat_id=str(500 + n),
                    official_id=official.id,
                    linked_at=MONDAY,
                )
            )
    first, second = await asyncio.gather(
        run_due(sessions, MONDAY, Cadence()), run_due(sessions, MONDAY, Cadence())
    )
    digests = first["digest"] + second["digest"]
    assert digests > 0 and 0 in (first["digest"], second["digest"])  # one did them
    async with sessions() as session:
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queued == sum(first.values()) + sum(second.values())
