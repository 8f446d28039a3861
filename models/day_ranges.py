"""Ranges of days as a few buckets of days, months and years: what the kept counts are read by.

Every kept count (`models/tallies.py`, `models/silence_tallies.py`) is held by day, by month
and by year; `cover` says which buckets, added or taken away, make up a range of days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta


def _month_end(day: date) -> date:
    if day.month == 12:
        return date(day.year, 12, 31)
    return date(day.year, day.month + 1, 1) - timedelta(days=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


@dataclass(frozen=True)
class _Level:
    """Fine buckets inside coarse ones: days in months, or months in years."""

    grain: str
    start: Callable[[date], date]  # the first fine bucket of x's coarse bucket
    end: Callable[[date], date]  # the last one
    following: Callable[[date], date]
    preceding: Callable[[date], date]
    count: Callable[[date, date], int]


_DAYS = _Level(
    "d",
    lambda x: x.replace(day=1),
    _month_end,
    lambda x: x + timedelta(days=1),
    lambda x: x - timedelta(days=1),
    lambda a, b: (b - a).days + 1,
)
_MONTHS = _Level(
    "m",
    lambda x: date(x.year, 1, 1),
    lambda x: date(x.year, 12, 1),
    _next_month,
    _previous_month,
    lambda a, b: (b.year - a.year) * 12 + b.month - a.month + 1,
)

Piece = tuple[str, date, date, int]


def _climb(level: _Level, first: date, last: date, pieces: list[Piece]) -> tuple[date, date] | None:
    """Cover the fine buckets first..last with whole coarse ones where that reads fewer rows:
    a coarse bucket less the few fine ones outside the range, or the fine ones inside. Adds
    the fine pieces and returns the coarse range left to cover (None when there is none)."""
    if level.start(first) == level.start(last):
        start, end = level.start(first), level.end(first)
        inside, whole = level.count(first, last), level.count(start, end)
        if inside <= whole - inside + 1 and (first, last) != (start, end):
            pieces.append((level.grain, first, last, 1))
            return None
        if first > start:
            pieces.append((level.grain, start, level.preceding(first), -1))
        if last < end:
            pieces.append((level.grain, level.following(last), end, -1))
        return start, start
    low, high = level.start(first), level.start(last)
    if first != low:
        inside = level.count(first, level.end(first))
        if level.count(low, level.preceding(first)) < inside:
            pieces.append((level.grain, low, level.preceding(first), -1))
        else:
            pieces.append((level.grain, first, level.end(first), 1))
            low = level.following(level.end(first))
    if last != level.end(last):
        if level.count(level.following(last), level.end(last)) < level.count(high, last):
            pieces.append((level.grain, level.following(last), level.end(last), -1))
        else:
            pieces.append((level.grain, high, last, 1))
            high = level.preceding(high)
    return (low, high) if low <= high else None


def cover(first: date, last: date) -> list[Piece]:
    """The days first..last as (grain, first bucket, last bucket, sign): few rows to read
    per unit, added or taken away, whose signed sum is every day of the range once."""
    pieces: list[Piece] = []
    if first > last:
        return pieces
    months = _climb(_DAYS, first, last, pieces)
    if months is None:
        return pieces
    years = _climb(_MONTHS, months[0], months[1].replace(day=1), pieces)
    if years is not None:
        pieces.append(("y", years[0], date(years[1].year, 1, 1), 1))
    return pieces
