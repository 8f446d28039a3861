"""Derived status — in time, due soon, overdue, done on time, done late — at a given moment.

Never stored: it is computed from the stored facts and a `StatusWindow`, in Python for one
task and as SQL for queries that filter and count. Both read the same window, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, or_

from models.calendar import WorkingCalendar
from models.defaults import DEFAULT_DUE_SOON_DAYS
from models.tasks import Task, TaskStatus


class DerivedStatus(StrEnum):
    IN_TIME = "in_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"

    @property
    def is_open(self) -> bool:
        return self in (DerivedStatus.IN_TIME, DerivedStatus.DUE_SOON, DerivedStatus.OVERDUE)


@dataclass(frozen=True)
class StatusWindow:
    """The moment a status is read at: today, and the last deadline that counts as due soon.

    A task is overdue the day after its deadline (the deadline day itself is still in time);
    it is due soon when its deadline is at most `due_soon_days` working days away. A task
    done after `today` was still open on `today`, so past moments read the history right.
    """

    today: date
    due_soon_until: date
    # A moment in the past: a task done since then was still open. Queries for the present
    # skip that test, because no task is done after today, and so can use the open-task index.
    past: bool = False

    @classmethod
    def at(
        cls,
        today: date,
        calendar: WorkingCalendar,
        due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
        *,
        past: bool = False,
    ) -> StatusWindow:
        until = calendar.add_working_days(today, due_soon_days)
        return cls(today=today, due_soon_until=until, past=past)


def derived_status(
    status: TaskStatus,
    deadline: date | None,
    completed_date: date | None,
    window: StatusWindow,
) -> DerivedStatus:
    if status is TaskStatus.DONE and completed_date is not None and completed_date <= window.today:
        if deadline is None or completed_date <= deadline:
            return DerivedStatus.DONE_ON_TIME
        return DerivedStatus.DONE_LATE
    if deadline is None:
        return DerivedStatus.IN_TIME
    if deadline < window.today:
        return DerivedStatus.OVERDUE
    if deadline <= window.due_soon_until:
        return DerivedStatus.DUE_SOON
    return DerivedStatus.IN_TIME


def task_status(task: Task, window: StatusWindow) -> DerivedStatus:
    return derived_status(task.status, task.deadline, task.completed_date, window)


def is_overdue(task: Task, window: StatusWindow) -> bool:
    """One task overdue at the window's moment: the rule `overdue_clause` writes as SQL."""
    return task_status(task, window) is DerivedStatus.OVERDUE


def days_overdue(deadline: date, today: date) -> int:
    """How late a task is on `today`: one day on the day after its deadline."""
    return (today - deadline).days


def done_clause(window: StatusWindow) -> ColumnElement[bool]:
    if not window.past:
        return Task.status == TaskStatus.DONE
    return and_(Task.status == TaskStatus.DONE, Task.completed_date <= window.today)


def open_clause(window: StatusWindow) -> ColumnElement[bool]:
    if not window.past:
        return Task.status != TaskStatus.DONE
    return or_(Task.status != TaskStatus.DONE, Task.completed_date > window.today)


def overdue_clause(window: StatusWindow, *, already_on: date | None = None) -> ColumnElement[bool]:
    """Tasks overdue at the window's moment — and, given `already_on`, overdue on that day too.

    The one SQL definition of overdue: every query that lists, counts or orders by it uses
    this. A bare comparison of the indexed deadline, so the open-task index answers it.
    """
    late_from = window.today if already_on is None else min(window.today, already_on)
    return and_(open_clause(window), Task.deadline < late_from)


def derived_status_sql(window: StatusWindow) -> ColumnElement[str]:
    """The same rule as `derived_status`, as a CASE expression for GROUP BY and WHERE."""
    return case(
        (
            done_clause(window),
            case(
                (
                    or_(Task.deadline.is_(None), Task.completed_date <= Task.deadline),
                    DerivedStatus.DONE_ON_TIME.value,
                ),
                else_=DerivedStatus.DONE_LATE.value,
            ),
        ),
        (Task.deadline.is_(None), DerivedStatus.IN_TIME.value),
        (overdue_clause(window), DerivedStatus.OVERDUE.value),
        (Task.deadline <= window.due_soon_until, DerivedStatus.DUE_SOON.value),
        else_=DerivedStatus.IN_TIME.value,
    )
