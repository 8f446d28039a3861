"""Working days: weekends, Vietnamese public holidays, and the overrides announced each year."""

from datetime import date

from models.calendar import CalendarOverride, WorkingCalendar, load_calendar


def test_weekend_is_not_a_working_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 11, 27))  # Friday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # Sunday


def test_tet_and_national_day_are_not_working_days() -> None:
    calendar = WorkingCalendar()
    for day in (date(2026, 2, 17), date(2026, 2, 20), date(2026, 9, 2), date(2026, 4, 30)):
        assert not calendar.is_working_day(day), day
    assert calendar.holiday_name(date(2026, 2, 17))


def test_make_up_working_day_override_makes_a_saturday_working() -> None:
    calendar = WorkingCalendar({date(2026, 8, 22): True, date(2026, 12, 31): False})
    assert calendar.is_working_day(date(2026, 8, 22))
    assert not calendar.is_working_day(date(2026, 12, 31))


def test_add_working_days_skips_weekend_and_tet() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
    # Friday 13/02/2026 + 1 working day: the weekend, then Tết 16–20/02.
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert calendar.add_working_days(date(2026, 2, 23), -1) == date(2026, 2, 13)
    assert calendar.add_working_days(date(2026, 11, 25), 0) == date(2026, 11, 25)


def test_working_days_between_counts_from_tomorrow_to_the_deadline() -> None:
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 11, 25), date(2026, 11, 27)) == 2
    assert calendar.working_days_between(date(2026, 11, 27), date(2026, 11, 30)) == 1
    assert calendar.working_days_between(date(2026, 11, 25), date(2026, 11, 25)) == 0
    assert calendar.working_days_between(date(2026, 11, 30), date(2026, 11, 27)) == -1
    assert calendar.next_working_day(date(2026, 2, 14)) == date(2026, 2, 23)


async def test_overrides_load_from_the_database(session) -> None:
    session.add(CalendarOverride(day=date(2026, 8, 22), working=True, note="Làm bù"))
    await session.commit()
    calendar = await load_calendar(session)
    assert calendar.is_working_day(date(2026, 8, 22))
