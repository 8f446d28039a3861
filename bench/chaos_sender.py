"""A sender process for the chaos bench and tests: the real outbox sender on a database,
against a Bot API, with its clock set ahead by an offset (a restart after a crash takes
over the claims the dead process left, once they are older than the claim timeout).

Run: python -m bench.chaos_sender DATABASE_URL API_URL TOKEN OFFSET_SECONDS START
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta

from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.telegram import TelegramSender, build_application
from models.accounts import ChatChannel
from models.db import create_engine, session_factory


class AheadClock:
    def __init__(self, start: datetime, offset: float) -> None:
        self.start, self.offset = start, timedelta(seconds=offset)

    def now(self) -> datetime:
        return self.start + self.offset


async def main(url: str, api_url: str, token: str, offset: float, start: datetime) -> None:
    engine = create_engine(url)
    bot = build_application(token, api_url=api_url).bot  # PTB's pool, as `dondoc run` has it
    async with bot:
        sender = OutboxSender(
            session_factory(engine),
            AheadClock(start, offset),
            {ChatChannel.TELEGRAM: TelegramSender(bot)},
            batch=25,
            limiter=RateLimiter(per_second=0, per_chat_seconds=0),
        )
        await sender.drain()
    await engine.dispose()


if __name__ == "__main__":
    url, api_url, token, offset, start = sys.argv[1:6]
    asyncio.run(main(url, api_url, token, float(offset), datetime.fromisoformat(start)))
