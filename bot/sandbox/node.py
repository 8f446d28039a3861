"""One `dondoc run` process for the scale tests and benches: the real bot, configured from
the environment like any deployment, with its clock started at a chosen moment (so that
Monday's jobs run now) and moving with real time.

Run: python -m bot.sandbox.node 2026-11-23T08:05
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import datetime, timedelta

from bot.config import Settings
from bot.runtime import serve_forever
from models.clock import parse_moment
from models.db import create_engine


class StartedClock:
    def __init__(self, start: datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


async def main(start: datetime) -> None:
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    try:
        await serve_forever(engine, settings, StartedClock(start))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(parse_moment(sys.argv[1])))
