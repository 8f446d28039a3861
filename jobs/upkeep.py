"""The daily upkeep: once a day, at a quiet hour, prune what retention no longer keeps."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.cadence import Cadence
from models.clock import local_date
from models.coordination import forget_quiet_chats
from models.db import write_gate
from models.notices import Notifier, already_sent
from models.retention import Pruned, prune

log = logging.getLogger(__name__)


def prune_key(now: datetime) -> str:
    return f"prune:{local_date(now).isoformat()}"


async def prune_if_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime, cadence: Cadence
) -> Pruned | None:
    """Prune once a day from `cadence.prune_at` on (catching up later in the day if the bot
    was down then); the day's ledger key, written when it is done, says it was."""
    if now < cadence.at(local_date(now), cadence.prune_at):
        return None
    key = prune_key(now)
    async with sessions() as session:
        if await already_sent(session, [key]):
            return None
    pruned = await prune(sessions, now, cadence.retention)
    async with sessions() as session, write_gate(session.bind).bulk(), session.begin():
        await forget_quiet_chats(session)
        await Notifier(session, now).record([key])
    log.info("pruned at %s: %s", now.isoformat(), pruned)
    return pruned
