"""Derived status at a moment, on the edges: the deadline day, weekends, Tết, extensions, ongoing."""

from datetime import date

import pytest
from sqlalchemy import select, text

from models.calendar import WorkingCalendar
from models.status import (
    DerivedStatus,
    StatusWindow,
    derived_status,
    derived_status_sql,
    is_overdue,
    overdue_clause,
)
from models.tasks import Task, TaskStatus
from tests.city import City

CALENDAR = WorkingCalendar()
OPEN, DONE = TaskStatus.IN_PROGRESS, TaskStatus.DONE


def window(today: date, past: bool = False) -> StatusWindow:
    return StatusWindow.at(today, CALENDAR, due_soon_days=3, past=past)


def test_deadline_day_itself_is_not_overdue() -> None:
    assert (
        derived_status(OPEN, date(2026, 11, 27), None, window(date(2026, 11, 27)))
        is DerivedStatus.DUE_SOON
    )


def test_the_day_after_the_deadline_is_overdue() -> None:
    assert (
        derived_status(OPEN, date(2026, 11, 27), None, window(date(2026, 11, 28)))
        is DerivedStatus.OVERDUE
    )


def test_due_soon_counts_working_days_across_a_weekend() -> None:
    # Friday 27/11: three working days ahead is Wednesday 02/12, not Monday 30/11.
    friday = window(date(2026, 11, 27))
    assert friday.due_soon_until == date(2026, 12, 2)
    assert derived_status(OPEN, date(2026, 12, 2), None, friday) is DerivedStatus.DUE_SOON
    assert derived_status(OPEN, date(2026, 12, 3), None, friday) is DerivedStatus.IN_TIME


def test_tet_stretches_the_due_soon_window() -> None:
    # From Friday 13/02/2026 the next working days are 23, 24, 25/02: Tết is not counted.
    before_tet = window(date(2026, 2, 13))
    assert before_tet.due_soon_until == date(2026, 2, 25)
    assert derived_status(OPEN, date(2026, 2, 25), None, before_tet) is DerivedStatus.DUE_SOON


def test_ongoing_task_is_never_overdue() -> None:
    assert derived_status(OPEN, None, None, window(date(2030, 1, 1))) is DerivedStatus.IN_TIME
    assert (
        derived_status(DONE, None, date(2026, 5, 1), window(date(2026, 6, 1)))
        is DerivedStatus.DONE_ON_TIME
    )


def test_done_on_the_deadline_day_is_on_time_and_a_day_later_is_late() -> None:
    today = window(date(2026, 12, 1))
    assert (
        derived_status(DONE, date(2026, 11, 27), date(2026, 11, 27), today)
        is DerivedStatus.DONE_ON_TIME
    )
    assert (
        derived_status(DONE, date(2026, 11, 27), date(2026, 11, 28), today)
        is DerivedStatus.DONE_LATE
    )


def test_task_done_after_the_moment_was_still_open_at_that_moment() -> None:
    earlier = window(date(2026, 11, 20), past=True)
    assert (
        derived_status(DONE, date(2026, 11, 18), date(2026, 11, 25), earlier)
        is DerivedStatus.OVERDUE
    )


@pytest.mark.parametrize(
    ("task_id", "expected"),
    [
        (4101, DerivedStatus.IN_TIME),
        (4102, DerivedStatus.DUE_SOON),
        (4103, DerivedStatus.OVERDUE),
        (4104, DerivedStatus.DONE_ON_TIME),
        (4105, DerivedStatus.DONE_LATE),
        (4106, DerivedStatus.IN_TIME),  # ongoing
        (4107, DerivedStatus.IN_TIME),  # overdue on its original deadline, extended to 10/12
    ],
)
async def test_sql_and_python_agree_on_every_task(
    session, city: City, task_id: int, expected
) -> None:
    today = window(date(2026, 11, 25))
    task = await session.get_one(Task, task_id)
    assert derived_status(task.status, task.deadline, task.completed_date, today) is expected
    in_sql = await session.scalar(select(derived_status_sql(today)).where(Task.id == task_id))
    assert in_sql == expected.value


async def test_overdue_clause_selects_exactly_the_overdue_tasks(session, city: City) -> None:
    assert (
        await session.scalars(select(Task.id).where(overdue_clause(window(date(2026, 11, 25)))))
    ).all() == [4103]
    # On 19/11 task 4105 (done 20/11, deadline 18/11) was still open and already late.
    ids = await session.scalars(
        select(Task.id)
        .where(overdue_clause(window(date(2026, 11, 19), past=True)))
        .order_by(Task.id)
    )
    assert ids.all() == [4105]


async def test_python_and_sql_say_the_same_tasks_are_overdue(session, city: City) -> None:
    for day in (date(2026, 11, 19), date(2026, 11, 25), date(2026, 12, 11)):
        moment = window(day, past=day < date(2026, 11, 25))
        in_sql = set(await session.scalars(select(Task.id).where(overdue_clause(moment))))
        tasks = (await session.scalars(select(Task))).all()
        assert in_sql == {task.id for task in tasks if is_overdue(task, moment)}, day


async def test_overdue_already_on_a_day_leaves_out_the_tasks_late_since(
    session, city: City
) -> None:
    on_the_11th = window(date(2026, 12, 11))
    late_now = set(await session.scalars(select(Task.id).where(overdue_clause(on_the_11th))))
    late_before = await session.scalars(
        select(Task.id).where(overdue_clause(on_the_11th, already_on=date(2026, 11, 25)))
    )
    assert set(late_before) == {4103} < late_now


async def test_the_overdue_list_reads_the_open_task_index(session, city: City) -> None:
    if session.bind.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's")
    today = window(date(2026, 11, 25))
    for clause in (overdue_clause(today), overdue_clause(today, already_on=date(2026, 11, 23))):
        query = select(Task.id).where(clause)
        sql = query.compile(session.bind, compile_kwargs={"literal_binds": True})
        plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all()
        assert "ix_tasks_open_deadline" in " ".join(row[-1] for row in plan)
