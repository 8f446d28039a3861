"""The daily sweep prunes once a day, at its quiet hour, and catches up if it missed it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models import Notice, OutboxMessage, OutboxState
from models.accounts import ChatChannel
from tests.city import City


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TIMEZONE)


async def _sent_long_ago(sessions, key: str, moment: datetime) -> None:
    long_ago = moment - timedelta(days=120)
    async with sessions() as session, session.begin():
        session.add(
            OutboxMessage(
                key=key,
                channel=ChatChannel.TELEGRAM,
                chat_id="900",
                text=key,
                state=OutboxState.SENT,
                created_at=long_ago,
                not_before=long_ago,
                sent_at=long_ago,
            )
        )


async def _keys(sessions, model) -> set[str]:
    async with sessions() as session:
        return set((await session.scalars(select(model.key))).all())


async def test_the_daily_sweep_prunes_once_a_day_at_the_quiet_hour(sessions, city: City) -> None:
    cadence = Cadence()  # prunes from 02:30
    await _sent_long_ago(sessions, "first", at(25, 1))

    await run_due(sessions, at(25, 1), cadence)  # before the quiet hour: nothing yet
    assert "first" in await _keys(sessions, OutboxMessage)

    await run_due(sessions, at(25, 2, 35), cadence)
    assert "first" not in await _keys(sessions, OutboxMessage)
    assert "prune:2026-11-25" in await _keys(sessions, Notice)

    await _sent_long_ago(sessions, "second", at(25, 3))
    for hour in (3, 8, 12, 22):  # once a day: the later sweeps of the day leave it
        await run_due(sessions, at(25, hour), cadence)
    assert "second" in await _keys(sessions, OutboxMessage)

    # The bot was down at 02:30 the next day: the first sweep after catches up.
    await run_due(sessions, at(26, 9), cadence)
    assert "second" not in await _keys(sessions, OutboxMessage)
    assert {"prune:2026-11-25", "prune:2026-11-26"} <= await _keys(sessions, Notice)
