"""Working days: Vietnam's public holidays plus the days off and make-up days announced each year."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import holidays
from sqlalchemy import Boolean, Date, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from locales import TIMEZONE
from models.base import Base


class CalendarOverride(Base):
    """A day the government declared off (working=False) or a make-up working day (True)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(255), default="")


class WorkingCalendar:
    """Weekends and public holidays are not working days; overrides have the last word."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._public = holidays.country_holidays("VN")

    def is_working_day(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        return day.weekday() < 5 and day not in self._public

    def holiday_name(self, day: date) -> str | None:
        return self._public.get(day)

    def next_working_day(self, day: date) -> date:
        """The day itself if it is a working day, else the first one after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (before it, for a negative count)."""
        step = timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: `còn 2 ngày làm việc` from today to the deadline."""
        if end <= start:
            return -self.working_days_between(end, start) if end < start else 0
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def next_working_moment(
    moment: datetime, calendar: WorkingCalendar, start: time, end: time
) -> datetime:
    """Now, in working hours (`start` to `end` on a working day); else the next morning's start."""
    local = moment.astimezone(TIMEZONE)
    day = local.date()
    if calendar.is_working_day(day) and start <= local.time() < end:
        return moment
    if not (calendar.is_working_day(day) and local.time() < start):
        day = calendar.next_working_day(day + timedelta(days=1))
    return datetime.combine(day, start, tzinfo=TIMEZONE)


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = await session.execute(select(CalendarOverride.day, CalendarOverride.working))
    return WorkingCalendar(dict(rows.tuples().all()))
