"""The one clock: injected everywhere, so tests and `--at` can set the moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from locales import TIMEZONE


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, always timezone-aware."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


def local_date(moment: datetime) -> date:
    """The date of a moment in Hà Nội time, whatever the server's zone."""
    return moment.astimezone(TIMEZONE).date()


def local_today(clock: Clock) -> date:
    return local_date(clock.now())


def parse_moment(text: str) -> datetime:
    """`2026-11-24`, `2026-11-24T08:00` or with an offset; local time when none is given."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TIMEZONE)
    return moment
