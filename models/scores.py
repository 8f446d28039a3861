"""Scores and rankings for a period: the facts of each unit's (or official's) tasks counted
in SQL, scored by the published formula (`models/scoring.py`).

A task counts in a period as in the reports (`models/statistics.in_period`): assigned by
its last day and not finished before its first. Kept apart from the report queries so that
it can later read kept aggregates instead of the tasks. An explanation request counts in
the period whose last day to answer fell in it (before its last day) with no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models.calendar import WorkingCalendar
from models.explanations import Explanation, ExplanationState
from models.organization import Official, Unit
from models.scoring import Facts, Formula, PerTask, Ranked, long_overdue_before, rank
from models.statistics import in_period, lead_unit_at
from models.status import DerivedStatus, StatusWindow, derived_status_sql, done_clause
from models.tasks import Task


class days_between(FunctionElement[int]):
    """`later − earlier` in days, for two dates: SQLite has no date subtraction."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _points(rule: PerTask, days: ColumnElement[int]) -> ColumnElement[float]:
    value = literal(rule.points, Float) + literal(rule.per_day, Float) * days
    if rule.max_per_task is None:
        return value
    return case((value > rule.max_per_task, literal(rule.max_per_task, Float)), else_=value)


@dataclass(frozen=True)
class Scope:
    """The moment and the period a ranking is for, with what its rules need."""

    window: StatusWindow
    period_start: date
    formula: Formula
    calendar: WorkingCalendar

    @property
    def long_overdue_until(self) -> date:
        days = self.formula.colours.red_overdue_working_days
        return long_overdue_before(self.window.today, self.calendar, days)


async def facts_by(
    session: AsyncSession,
    scope: Scope,
    key: ColumnElement[int] | ColumnElement[int | None],
    unit_id: int | None = None,
) -> dict[int, Facts]:
    """The facts per value of `key` (lead unit, leader or specialist), in one query."""
    window, formula = scope.window, scope.formula
    today = literal(window.today, Date)
    last_day = case((done_clause(window), Task.completed_date), else_=today)
    conditions = [key.is_not(None)]
    if unit_id is not None:
        conditions.append(lead_unit_at(window) == unit_id)
    status = derived_status_sql(window)
    rows = in_period(
        window,
        scope.period_start,
        [
            key.label("key"),
            status.label("status"),
            func.coalesce(days_between(last_day, Task.deadline), 0).label("late"),
            case(
                (
                    done_clause(window)
                    & (
                        days_between(Task.deadline, Task.completed_date) >= formula.early_days_ahead
                    ),
                    1,
                ),
                else_=0,
            ).label("early"),
            case((Task.deadline <= scope.long_overdue_until, 1), else_=0).label("long"),
        ],
        *conditions,
    ).subquery()
    query = select(
        rows.c.key,
        rows.c.status,
        func.count(),
        func.sum(rows.c.late),
        func.sum(_points(formula.overdue, rows.c.late)),
        func.sum(_points(formula.done_late, rows.c.late)),
        func.sum(rows.c.early),
        func.sum(rows.c.long),
    ).group_by(rows.c.key, rows.c.status)
    found: dict[int, dict[str, Any]] = {}
    for value, derived, n, late, overdue_points, late_points, early, long in (
        await session.execute(query)
    ).tuples():
        counts = found.setdefault(value, {"assigned": 0})
        counts["assigned"] += n
        derived = DerivedStatus(derived)
        if derived is DerivedStatus.OVERDUE:
            counts.update(
                overdue=n,
                overdue_days=int(late or 0),
                overdue_points=float(overdue_points or 0),
                long_overdue=int(long or 0),
            )
        elif derived is DerivedStatus.DONE_LATE:
            counts.update(done_late=n, late_points=float(late_points or 0))
        elif derived is DerivedStatus.DONE_ON_TIME:
            counts.update(done_on_time=n, done_early=int(early or 0))
        else:
            counts[derived.value] = n
    for value, n in (await session.execute(_missed(scope, key, conditions))).tuples():
        found.setdefault(value, {"assigned": 0})["unanswered_explanations"] = n
    return {value: Facts(**counts) for value, counts in found.items()}


def _missed(
    scope: Scope,
    key: ColumnElement[int] | ColumnElement[int | None],
    conditions: list[ColumnElement[bool]],
) -> Any:
    """Explanation requests not answered in time, per `key`: those whose last day to answer
    fell in the period, before its last day, and that were not answered (recorded as missed,
    or still waiting for the daily sweep to record it)."""
    window = scope.window
    return (
        select(key, func.count(Explanation.id))
        .join(Task, Task.id == Explanation.task_id)
        .where(
            Explanation.state != ExplanationState.ANSWERED,
            Explanation.due_date >= scope.period_start,
            Explanation.due_date < window.today,
            *conditions,
        )
        .group_by(key)
    )


async def unit_ranking(
    session: AsyncSession, scope: Scope, unit_id: int | None = None
) -> list[Ranked]:
    """Every unit with a task in the period, best first (one unit's row, given `unit_id`)."""
    facts = await facts_by(session, scope, lead_unit_at(scope.window), unit_id)
    units = await session.execute(
        select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(list(facts)))
    )
    return rank(scope.formula, ((uid, code, name, facts[uid]) for uid, code, name in units))


async def official_scores(
    session: AsyncSession, scope: Scope, unit_id: int | None = None
) -> dict[tuple[str, str], Ranked]:
    """(official code, "leader" or "specialist") → their score and place among the
    officials of that role: the staff evaluation tied to the tasks they answer for."""
    scored: dict[tuple[str, str], Ranked] = {}
    for role, key in (("leader", Task.leader_id), ("specialist", Task.specialist_id)):
        facts = await facts_by(session, scope, key, unit_id)
        people: list[tuple[int, str, str, Facts]] = []
        wanted = sorted(facts)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = await session.execute(
                select(Official.id, Official.code, Official.full_name).where(Official.id.in_(chunk))
            )
            people += [(oid, code, name, facts[oid]) for oid, code, name in found.tuples()]
        scored.update(((r.code, role), r) for r in rank(scope.formula, people))
    return scored
