"""The periodic report: the five columns per unit and per official, against the previous
period, with the overdue list and the data errors. One set of queries for every output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import TIMEZONE
from models.calendar import WorkingCalendar
from models.city_facts import city_facts
from models.city_facts import pays as city_facts_pay
from models.contributions import ContributionLine, contributions_between
from models.documents import Document
from models.explanations import ExplanationRow, explanation_rows
from models.nagging import Nagging, quiet_before, risk_by_unit, silent_by_unit
from models.organization import Unit
from models.scores import Scope, facts_by_keys, ranked_officials, ranked_units
from models.scoring import Facts, Formula, Ranked
from models.statistics import (
    FiveColumns,
    OfficialRow,
    UnitRow,
    five_columns_by_unit,
    people_by_id,
)
from models.status import StatusWindow, days_overdue, open_clause, overdue_clause
from models.tallies import lead_unit_at
from models.tasks import Task


class Period(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class TableName(StrEnum):
    """The report's tables, as the workbook's sheets and `--table` of the CSV name them."""

    SUMMARY = "summary"
    OVERDUE = "overdue"
    OFFICIALS = "officials"
    ERRORS = "errors"
    EXPLANATIONS = "explanations"
    CONTRIBUTIONS = "contributions"


def period_bounds(kind: Period, end: date) -> tuple[date, date]:
    """The period ending on `end`: the last 7 or 14 days, or the month or quarter so far."""
    if kind is Period.WEEKLY:
        return end - timedelta(days=6), end
    if kind is Period.BIWEEKLY:
        return end - timedelta(days=13), end
    if kind is Period.MONTHLY:
        return end.replace(day=1), end
    first_month = 3 * ((end.month - 1) // 3) + 1
    return end.replace(month=first_month, day=1), end


def last_day(kind: Period, year: int, number: int) -> date:
    """The last day of month `number`, or of quarter `number`, of `year`."""
    month = number if kind is Period.MONTHLY else 3 * number
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def previous_period(kind: Period, start: date) -> tuple[date, date]:
    """The whole period before: the 7 or 14 days before, or the previous month or quarter."""
    end = start - timedelta(days=1)
    if kind is Period.WEEKLY:
        return start - timedelta(days=7), end
    if kind is Period.BIWEEKLY:
        return start - timedelta(days=14), end
    return period_bounds(kind, end)[0], end


class OverdueRow(NamedTuple):
    """One overdue task as the report and the letter list it: plain columns, no ORM object
    (a tuple: the city's list is 90,000 of them)."""

    task_id: int
    content: str
    unit_code: str
    unit_name: str
    deadline: date
    days_overdue: int
    leader_name: str | None
    specialist_name: str | None
    document: Document | None

    @classmethod
    def of(cls, task: Task, today: date) -> OverdueRow:
        """From a task loaded with its unit, people and document (the weekly job has them)."""
        assert task.deadline is not None
        return cls(
            task.id,
            task.content,
            task.lead_unit.code,
            task.lead_unit.name,
            task.deadline,
            days_overdue(task.deadline, today),
            task.leader.full_name if task.leader else None,
            task.specialist.full_name if task.specialist else None,
            task.document,
        )


async def overdue_rows(
    session: AsyncSession,
    window: StatusWindow,
    unit_id: int | None = None,
    *,
    deadline_before: date | None = None,
    known: dict[int, tuple[str, str, str]] | None = None,
) -> list[OverdueRow]:
    """Every task overdue at the window's moment (and already on `deadline_before`), oldest
    first. The tasks are read as bare columns through the open-task index; their units,
    people and documents are looked up once each, not joined on every row; people already
    `known` (by `people_by_id`) are not read again."""
    query = (
        select(
            Task.id,
            Task.content,
            Task.lead_unit_id,
            Task.deadline,
            Task.leader_id,
            Task.specialist_id,
            Task.document_id,
        )
        .where(overdue_clause(window, already_on=deadline_before))
        .order_by(Task.deadline, Task.id)
    )
    units = select(Unit.id, Unit.code, Unit.name)
    if unit_id is not None:
        query = query.where(Task.lead_unit_id == unit_id)
        units = units.where(Unit.id == unit_id)
    connection = await session.connection()
    found = (await connection.execute(query)).all()
    if not found:
        return []
    labels = (await connection.execute(units)).all()
    ids, contents, unit_ids, deadlines, leaders, specialists, document_ids = zip(
        *found, strict=True
    )
    people = dict(known or {})
    wanted_people = (set(leaders) | set(specialists)) - set(people) - {None}
    people.update(await people_by_id(session, wanted_people) if wanted_people else {})
    names: dict[int | None, str] = {oid: name for oid, (_, name, _) in people.items()}
    documents: dict[int | None, Document] = {}
    wanted = sorted(set(document_ids) - {None})
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        documents.update(
            (d.id, d) for d in await session.scalars(select(Document).where(Document.id.in_(chunk)))
        )
    # Column by column, each through a C-level map: 90,000 rows in a tenth of the time a
    # row-by-row loop takes. The days overdue as `days_overdue` counts them.
    late = map(attrgetter("days"), map(window.today.__sub__, deadlines))
    codes = {uid: code for uid, code, _ in labels}
    unit_names = {uid: name for uid, _, name in labels}
    columns = (
        ids,
        contents,
        map(codes.__getitem__, unit_ids),
        map(unit_names.__getitem__, unit_ids),
        deadlines,
        late,
        map(names.get, leaders),
        map(names.get, specialists),
        map(documents.get, document_ids),
    )
    return list(map(OverdueRow._make, zip(*columns, strict=True)))


class DataError(NamedTuple):
    """One open task nobody answers for, or with no deadline: plain columns, no ORM object."""

    task_id: int
    content: str
    unit_name: str
    problem: str  # "no specialist", "no leader", "no deadline"


@dataclass(frozen=True)
class Report:
    kind: Period
    start: date
    end: date
    units: list[UnitRow]
    total: FiveColumns
    previous: dict[str, FiveColumns]  # by unit code
    previous_total: FiveColumns
    officials: list[OfficialRow]
    overdue: list[OverdueRow]
    errors: list[DataError]
    # By unit code: open tasks silent for DONDOC_STALE_DAYS ("chưa cập nhật") and at risk
    # ("nguy cơ chậm") on the last day; and the explanations asked, answered or missed.
    not_updated: dict[str, int] = field(default_factory=dict)
    at_risk: dict[str, int] = field(default_factory=dict)
    explanations: list[ExplanationRow] = field(default_factory=list)
    # What the coordinating units reported in the period, by unit (their own sheet).
    contributions: list[ContributionLine] = field(default_factory=list)
    # Scores and places by the published formula (models/scoring.py), printed with its version.
    formula_version: str = ""
    unit_scores: dict[str, Ranked] = field(default_factory=dict)  # by unit code
    official_scores: dict[tuple[str, str], Ranked] = field(default_factory=dict)  # (code, role)


async def build_report(
    session: AsyncSession,
    kind: Period,
    end: date,
    calendar: WorkingCalendar,
    *,
    due_soon_days: int,
    past: bool,
    unit_id: int | None = None,
    nagging: Nagging | None = None,
    formula: Formula | None = None,
) -> Report:
    rules = nagging or Nagging()
    window = StatusWindow.at(end, calendar, due_soon_days, past=past)
    start, _ = period_bounds(kind, end)
    formula = formula or Formula.load()
    scope = Scope(window, start, formula, calendar)
    units = await five_columns_by_unit(session, window, start, unit_id)
    before_start, before_end = previous_period(kind, start)
    before_window = StatusWindow.at(before_end, calendar, due_soon_days, past=True)
    before = await five_columns_by_unit(session, before_window, before_start, unit_id)
    by_unit, by_role = await _facts(session, scope, unit_id)
    people = await people_by_id(session, {oid for facts in by_role.values() for oid in facts})
    return Report(
        kind=kind,
        start=start,
        end=end,
        units=units,
        total=sum((u.columns for u in units), FiveColumns()),
        previous={u.code: u.columns for u in before},
        previous_total=sum((u.columns for u in before), FiveColumns()),
        officials=official_rows(by_role, people),
        overdue=await overdue_rows(session, window, unit_id, known=people),
        errors=await data_errors(session, window, unit_id),
        not_updated=await silent_by_unit(
            session, window, quiet_before(end, calendar, rules.stale_days), unit_id
        )
        if rules.stale_days > 0
        else {},
        at_risk=await risk_by_unit(session, window, calendar, rules, unit_id),
        explanations=await explanation_rows(
            session, _local_midnight(start), _local_midnight(end + timedelta(days=1)), unit_id
        ),
        contributions=await contributions_between(session, start, end, unit_id),
        formula_version=formula.version,
        # A unit's place is among all the city's units, even in a report on one unit.
        unit_scores={r.code: r for r in await ranked_units(session, formula, by_unit)},
        official_scores=ranked_officials(formula, by_role, people),
    )


async def _facts(
    session: AsyncSession, scope: Scope, unit_id: int | None
) -> tuple[dict[int, Facts], dict[str, dict[int, Facts]]]:
    """The facts of every unit (the ranking is city-wide) and of the leaders and specialists
    (of the unit, given one): for the city on SQLite, each summed over its own index
    (`city_facts`, half the CPU); elsewhere one pass over the period's tasks for all three."""
    by_unit_at = lead_unit_at(scope.window)
    dialect = (await session.connection()).dialect.name
    if unit_id is None and dialect == "sqlite" and await city_facts_pay(session, scope):
        by_unit, leaders, specialists = await city_facts(session, scope)
    elif unit_id is None:  # PostgreSQL hashes the one pass's groups at least as fast
        by_unit, leaders, specialists = await facts_by_keys(
            session, scope, [by_unit_at, Task.leader_id, Task.specialist_id]
        )
    else:
        (by_unit,) = await facts_by_keys(session, scope, [by_unit_at])
        leaders, specialists = await facts_by_keys(
            session, scope, [Task.leader_id, Task.specialist_id], unit_id
        )
    return by_unit, {"leader": leaders, "specialist": specialists}


def official_rows(
    by_role: dict[str, dict[int, Facts]], people: dict[int, tuple[str, str, str]]
) -> list[OfficialRow]:
    """The five columns per leader in charge and per specialist with a task in the period,
    worst first: what the staff evaluation is tied to (`five_columns_by_official` counts the
    same from the tasks; the tests compare them)."""
    rows = [
        OfficialRow(
            *people[oid],
            role,
            FiveColumns(f.assigned, f.done_on_time, f.done_late, f.in_time + f.due_soon, f.overdue),
        )
        for role, facts in by_role.items()
        for oid, f in facts.items()
        if f.assigned and oid in people
    ]
    rows.sort(key=lambda r: (-r.columns.overdue, -r.columns.done_late, r.role, r.code))
    return rows


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


async def data_errors(
    session: AsyncSession, window: StatusWindow, unit_id: int | None = None
) -> list[DataError]:
    """Open tasks nobody answers for, or with no deadline: what the task force must see. One
    row a problem, by unit and task, each read as bare columns.

    The tasks alone, unordered, so SQLite answers from the indexes of the three columns (a
    handful of rows, none on the bench city: 0.03 s); joined to the units or ordered by unit,
    it read every open task instead (1–4 s). Few rows: their units and order come after."""
    problems = [
        (Task.specialist_id.is_(None), "no specialist"),
        (Task.leader_id.is_(None), "no leader"),
        (Task.deadline.is_(None), "no deadline"),
    ]
    query = select(
        Task.lead_unit_id, Task.id, Task.content, *(condition for condition, _ in problems)
    ).where(open_clause(window), or_(*(condition for condition, _ in problems)))
    if unit_id is not None:
        query = query.where(Task.lead_unit_id == unit_id)
    found = sorted((await session.execute(query)).tuples().all())
    if not found:
        return []
    units = {row[0] for row in found}
    names = dict(
        (await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(units)))).tuples().all()
    )
    return [
        DataError(task_id, content, names[unit], problem)
        for unit, task_id, content, *flags in found
        for flag, (_, problem) in zip(flags, problems, strict=True)
        if flag
    ]
