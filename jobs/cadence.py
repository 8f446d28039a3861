"""When things are sent: working hours, reminder offsets, the weekly and periodic moments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from locales import TIMEZONE
from models.calendar import WorkingCalendar, next_working_moment
from models.clock import local_date
from models.nagging import Nagging
from models.retention import Retention


@dataclass(frozen=True)
class Cadence:
    """Built from the settings (`Settings.cadence`); the defaults are the README's."""

    work_start: time = time(7, 30)
    work_end: time = time(17, 0)
    reminder_offsets: tuple[int, ...] = (7, 3, 1)
    alerts_at_once: bool = False  # overdue alerts to the task force outside working hours too
    overdue_alert_days: int = 7  # alert for tasks overdue at most this long (older: the urging)
    digest_at: time = time(8, 0)  # the first working day of each week
    urging_at: time = time(8, 30)
    report_at: time = time(9, 0)
    escalate_after: int = 3  # Hà Nội's rule: the third urging goes to the leaders' briefing
    due_soon_days: int = 3
    prune_at: time = time(2, 30)  # the quiet hour of the daily prune
    retention: Retention = field(default_factory=Retention)
    nagging: Nagging = field(default_factory=Nagging)  # silence, risk, explanations

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=TIMEZONE)

    def in_working_hours(self, moment: datetime, calendar: WorkingCalendar) -> bool:
        local = moment.astimezone(TIMEZONE)
        return (
            calendar.is_working_day(local.date())
            and self.work_start <= local.time() < self.work_end
        )

    def next_working_moment(self, moment: datetime, calendar: WorkingCalendar) -> datetime:
        """Now, in working hours; else the start of the next working morning."""
        return next_working_moment(moment, calendar, self.work_start, self.work_end)


def first_working_day_of_week(day: date, calendar: WorkingCalendar) -> date | None:
    """The week's first working day (Monday, unless a holiday); None for a week off (Tết)."""
    monday = day - timedelta(days=day.weekday())
    first = calendar.next_working_day(monday)
    return first if first - monday < timedelta(days=7) else None


def first_working_day_of_month(day: date, calendar: WorkingCalendar) -> date:
    return calendar.next_working_day(day.replace(day=1))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_moment(
    moment: datetime, at: time, calendar: WorkingCalendar, cadence: Cadence
) -> datetime | None:
    """This week's moment for a weekly job, or None if the week has no working day."""
    first = first_working_day_of_week(local_date(moment), calendar)
    return cadence.at(first, at) if first else None
