"""Per-person limits: wrong link codes and reports asked, counted in the database (every bot
process sharing it counts together; `models/throttles.py`); and the report builds this
process runs, shared between identical asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from models.throttles import Rate

Build = Callable[[], Awaitable[Any]]

LINK_GUESSES = Rate("link code", 5, timedelta(minutes=10))
REPORTS = Rate("report", 5, timedelta(minutes=10))


@dataclass
class SharedBuilds:
    """Identical slow builds share one run: whoever asks while it runs gets its result; and
    only `parallel` different builds run at once."""

    parallel: int = 2
    _running: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict)
    _slots: asyncio.Semaphore | None = None

    def running(self, key: Hashable) -> bool:
        return key in self._running

    async def run(self, key: Hashable, build: Build) -> Any:
        if key in self._running:
            return await asyncio.shield(self._running[key])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.parallel)
        try:
            async with self._slots:
                result = await build()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[key]


@dataclass
class Limits:
    """The limits of one core, shared by every request it handles."""

    # Wrong `/start` codes per chat user: 5 at once, then one every 2 minutes.
    link_guesses: Rate = LINK_GUESSES
    # Reports asked per person: 5 at once, then one every 2 minutes.
    reports: Rate = REPORTS
    builds: SharedBuilds = field(default_factory=SharedBuilds)
    # (person, report) pairs waiting for their build: the same ask again is not queued twice.
    waiting: set[Hashable] = field(default_factory=set)
