"""Scores and rankings for a period: the facts of each unit's (or official's) tasks counted
in SQL, scored by the published formula (`models/scoring.py`).

A task counts in a period as in the reports (`models/statistics.in_period`): assigned by
its last day and not finished before its first. Kept apart from the report queries so that
it can later read kept aggregates instead of the tasks. An explanation request counts in
the period whose last day to answer fell in it (before its last day) with no answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models.calendar import WorkingCalendar
from models.explanations import Explanation, ExplanationState
from models.organization import Unit
from models.scoring import Facts, Formula, PerTask, Ranked, long_overdue_before, rank
from models.statistics import in_period, lead_unit_at, people_by_id
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
    (facts,) = await facts_by_keys(session, scope, [key], unit_id)
    return facts


async def facts_by_keys(
    session: AsyncSession,
    scope: Scope,
    keys: Sequence[ColumnElement[int] | ColumnElement[int | None]],
    unit_id: int | None = None,
) -> list[dict[int, Facts]]:
    """The facts per value of each key, from one pass over the period's tasks: grouped by
    all the keys at once, each status summed in its own column, and the groups added up per
    key, so that the report reads the tasks once for its units, leaders and specialists (a
    task with no value for a key is not counted for it)."""
    window, formula = scope.window, scope.formula
    today = literal(window.today, Date)
    last_day = case((done_clause(window), Task.completed_date), else_=today)
    conditions = [] if unit_id is None else [lead_unit_at(window) == unit_id]
    scanned = [keys[0].is_not(None)] if len(keys) == 1 else []
    rows = in_period(
        window,
        scope.period_start,
        [
            *(key.label(f"key{i}") for i, key in enumerate(keys)),
            derived_status_sql(window).label("status"),
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
        *scanned,
    ).subquery()

    def when(status: DerivedStatus, value: Any = 1) -> Any:
        return func.sum(case((rows.c.status == status.value, value), else_=0))

    grouping = [rows.c[f"key{i}"] for i in range(len(keys))]
    query = select(
        *grouping,
        func.count(),
        when(DerivedStatus.DONE_ON_TIME),
        when(DerivedStatus.DONE_LATE),
        when(DerivedStatus.IN_TIME),
        when(DerivedStatus.DUE_SOON),
        when(DerivedStatus.OVERDUE),
        when(DerivedStatus.OVERDUE, rows.c.late),
        when(DerivedStatus.OVERDUE, _points(formula.overdue, rows.c.late)),
        when(DerivedStatus.DONE_LATE, _points(formula.done_late, rows.c.late)),
        when(DerivedStatus.DONE_ON_TIME, rows.c.early),
        when(DerivedStatus.OVERDUE, rows.c.long),
    ).group_by(*grouping)
    width = len(keys)
    found: list[dict[int, list[Any]]] = [{} for _ in keys]
    for row in (await session.execute(query)).tuples():
        sums = row[width:]
        for by_value, value in zip(found, row[:width], strict=True):
            if value is None:
                continue
            have = by_value.get(value)
            if have is None:
                by_value[value] = [*sums, 0]
            else:
                for i, amount in enumerate(sums):
                    have[i] += amount
    for key, by_value in zip(keys, found, strict=True):
        missed = _missed(scope, key, [key.is_not(None), *conditions])
        for value, n in (await session.execute(missed)).tuples():
            by_value.setdefault(value, [0] * len(fields(Facts)))[-1] = int(n)
    return [{value: _facts(sums) for value, sums in by_value.items()} for by_value in found]


def _facts(sums: list[Any]) -> Facts:
    """The query's sums, then the explanations not given in time: positional, in the order
    of `Facts` (for 30,000 officials a keyword dict each is a measurable cost)."""
    return Facts(*sums[:7], float(sums[7]), float(sums[8]), *sums[9:])


def _missed(
    scope: Scope,
    key: ColumnElement[int] | ColumnElement[int | None],
    conditions: list[ColumnElement[bool]],
) -> Any:
    """Explanation requests not answered in time, per `key`: those whose last day to answer
    fell in the period, before its last day, and that were not answered (recorded as missed,
    or still waiting for the daily sweep to record it)."""
    window = scope.window
    # Counted per task first: the few requests are then joined to their tasks, where SQLite,
    # knowing nothing of the requests table, would walk a whole index of the tasks.
    per_task = (
        select(Explanation.task_id, func.count(Explanation.id).label("n"))
        .where(
            Explanation.state != ExplanationState.ANSWERED,
            Explanation.due_date >= scope.period_start,
            Explanation.due_date < window.today,
        )
        .group_by(Explanation.task_id)
        .subquery()
    )
    return (
        select(key, func.sum(per_task.c.n))
        .join_from(per_task, Task, Task.id == per_task.c.task_id)
        .where(*conditions)
        .group_by(key)
    )


async def unit_ranking(
    session: AsyncSession, scope: Scope, unit_id: int | None = None
) -> list[Ranked]:
    """Every unit with a task in the period, best first (one unit's row, given `unit_id`)."""
    facts = await facts_by(session, scope, lead_unit_at(scope.window), unit_id)
    return await ranked_units(session, scope.formula, facts)


async def ranked_units(
    session: AsyncSession, formula: Formula, facts: dict[int, Facts]
) -> list[Ranked]:
    """The units whose facts are counted, scored and placed, best first."""
    units = await session.execute(
        select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(list(facts)))
    )
    return rank(formula, ((uid, code, name, facts[uid]) for uid, code, name in units))


async def official_scores(
    session: AsyncSession, scope: Scope, unit_id: int | None = None
) -> dict[tuple[str, str], Ranked]:
    """(official code, "leader" or "specialist") → their score and place among the
    officials of that role: the staff evaluation tied to the tasks they answer for."""
    leaders, specialists = await facts_by_keys(
        session, scope, [Task.leader_id, Task.specialist_id], unit_id
    )
    people = await people_by_id(session, set(leaders) | set(specialists))
    return ranked_officials(scope.formula, {"leader": leaders, "specialist": specialists}, people)


def ranked_officials(
    formula: Formula,
    by_role: dict[str, dict[int, Facts]],
    people: dict[int, tuple[str, str, str]],
) -> dict[tuple[str, str], Ranked]:
    """Each role's officials scored and placed among themselves, by (code, role)."""
    scored: dict[tuple[str, str], Ranked] = {}
    for role, facts in by_role.items():
        entries = ((oid, *people[oid][:2], f) for oid, f in facts.items() if oid in people)
        scored.update(((r.code, role), r) for r in rank(formula, entries))
    return scored
