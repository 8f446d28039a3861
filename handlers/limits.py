"""Per-person limits the core keeps in memory: wrong link codes, report builds.

A process keeps its own counts: enough for the one bot process a city runs, and a
guesser who is refused here is refused for minutes, not forever.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_KEYS = 10_000  # people counted at once; the oldest are forgotten first


class Throttle:
    """At most `limit` events per key within `window`; past that the key is refused until
    the oldest of them is older than the window."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit, self.window = limit, window
        self._events: dict[Hashable, deque[datetime]] = {}

    def _recent(self, key: Hashable, now: datetime) -> deque[datetime]:
        events = self._events.get(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            self._events.pop(key, None)
        return events

    def blocked(self, key: Hashable, now: datetime) -> bool:
        return len(self._recent(key, now)) >= self.limit

    def until(self, key: Hashable, now: datetime) -> datetime:
        """When the key may try again."""
        events = self._recent(key, now)
        return events[0] + self.window if events else now

    def hit(self, key: Hashable, now: datetime) -> bool:
        """Count one event; True when this one reaches the limit (say so once, not on each)."""
        events = self._recent(key, now)
        events.append(now)
        self._events[key] = events
        if len(self._events) > MAX_KEYS:
            self._events.pop(next(iter(self._events)))
        return len(events) == self.limit


Build = Callable[[], Awaitable[Any]]


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

    # Wrong `/start` codes per chat user: 5 in 10 minutes, then refused for a while.
    link_guesses: Throttle = field(default_factory=lambda: Throttle(5, timedelta(minutes=10)))
    # Reports asked per person: 5 in 10 minutes.
    reports: Throttle = field(default_factory=lambda: Throttle(5, timedelta(minutes=10)))
    builds: SharedBuilds = field(default_factory=SharedBuilds)
    # (person, report) pairs waiting for their build: the same ask again is not queued twice.
    waiting: set[Hashable] = field(default_factory=set)
