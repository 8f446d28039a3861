"""The report's one pass over the period's tasks: the facts of units, leaders and
specialists it adds up agree with the tasks themselves, counted one by one in Python, and the
officials' columns with the per-official query; the overdue list with the tasks it names."""

from __future__ import annotations

import random
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.calendar import WorkingCalendar
from models.city_facts import city_facts
from models.explanations import Explanation, ExplanationState
from models.reports import OverdueRow, Period, build_report, overdue_rows
from models.scores import Scope, facts_by_keys, unit_ranking
from models.scoring import Facts, Formula
from models.statistics import five_columns_by_official
from models.status import DerivedStatus, StatusWindow, derived_status
from models.tallies import lead_unit_at
from models.tasks import Channel, Task, TaskEvent, TaskStatus
from tests.city import CREATED, City

START, END = date(2026, 11, 1), date(2026, 11, 25)


async def _random_tasks(session, city: City, rng: random.Random, count: int = 400) -> None:
    """Tasks of every kind, some with nobody named, and explanation requests on some."""
    units = [u.id for u in city.units.values()]
    people = [o.id for o in city.officials.values()]
    document = city.tasks[4101].document_id
    for number in range(count):
        assigned = date(2026, 9, 1) + timedelta(days=rng.randint(0, 100))
        deadline = None if rng.random() < 0.1 else assigned + timedelta(days=rng.randint(-3, 60))
        done = rng.random() < 0.4
        completed = min(assigned + timedelta(days=rng.randint(0, 80)), END)  # never after today
        session.add(
            Task(
                id=9000 + number,
                document_id=document if rng.random() < 0.5 else None,
                content=f"Nhiệm vụ {number}",
                lead_unit_id=rng.choice(units),
                leader_id=rng.choice(people) if rng.random() < 0.9 else None,
                specialist_id=rng.choice(people) if rng.random() < 0.9 else None,
                assigned_date=assigned,
                original_deadline=deadline,
                deadline=deadline,
                status=TaskStatus.DONE if done else rng.choice(list(TaskStatus)[:2]),
                progress=100 if done else rng.randint(0, 90),
                completed_date=completed if done else None,
                result="",
                created_at=CREATED,
                updated_at=CREATED,
            )
        )
    await session.flush()
    for number in rng.sample(range(count), 60):
        for n in range(rng.randint(1, 2)):  # a task may be asked twice (two deadlines)
            session.add(
                Explanation(
                    task_id=9000 + number,
                    deadline=date(2026, 10, 1) + timedelta(days=n),
                    requested_at=datetime(2026, 10, 20, tzinfo=UTC),
                    due_date=date(2026, 10, 25) + timedelta(days=rng.randint(0, 40)),
                    state=rng.choice(list(ExplanationState)),
                )
            )
    await session.flush()


def _by_hand(
    tasks: list[Task], explanations: list[Explanation], scope: Scope, key: str
) -> dict[int, Facts]:
    """The facts per value of `key`, task by task, by the rules of `models/scoring.py`."""
    window, formula = scope.window, scope.formula
    counts: dict[int, dict[str, float]] = {}
    for task in tasks:
        value = getattr(task, key)
        done_before = task.completed_date is not None and task.completed_date < scope.period_start
        if value is None or task.assigned_date > window.today or done_before:
            continue
        facts = counts.setdefault(value, {})

        def add(name: str, amount: float = 1, facts: dict[str, float] = facts) -> None:
            facts[name] = facts.get(name, 0) + amount

        add("assigned")
        status = derived_status(task.status, task.deadline, task.completed_date, window)
        add(status.value)
        if status is DerivedStatus.OVERDUE:
            assert task.deadline is not None
            late = (window.today - task.deadline).days
            add("overdue_days", late)
            add("overdue_points", formula.overdue.of(late))
            add("long_overdue", task.deadline <= scope.long_overdue_until)
        elif status is DerivedStatus.DONE_LATE:
            assert task.deadline is not None and task.completed_date is not None
            add("late_points", formula.done_late.of((task.completed_date - task.deadline).days))
        elif status is DerivedStatus.DONE_ON_TIME and task.deadline is not None:
            assert task.completed_date is not None
            ahead = (task.deadline - task.completed_date).days
            add("done_early", ahead >= formula.early_days_ahead)
    by_id = {task.id: task for task in tasks}
    for asked in explanations:
        value = getattr(by_id[asked.task_id], key)
        missed = asked.state is not ExplanationState.ANSWERED
        if value is not None and missed and scope.period_start <= asked.due_date < window.today:
            counts.setdefault(value, {})
            counts[value]["unanswered_explanations"] = (
                counts[value].get("unanswered_explanations", 0) + 1
            )
    return {value: Facts(**facts) for value, facts in counts.items()}  # type: ignore[arg-type]


def _rounded(facts: dict[int, Facts]) -> dict[int, tuple[object, ...]]:
    """Points are sums of floats, added in another order: equal to the 9th decimal."""
    return {
        value: tuple(round(x, 9) if isinstance(x, float) else x for x in astuple(f))
        for value, f in facts.items()
    }


@pytest.mark.parametrize("past", [False, True], ids=["today", "a past day"])
async def test_one_pass_counts_what_the_tasks_say(session, city: City, past: bool) -> None:
    await _random_tasks(session, city, random.Random(14))
    today = END if not past else date(2026, 11, 20)
    window = StatusWindow.at(today, WorkingCalendar(), 3, past=past)
    scope = Scope(window, START, Formula.load(), WorkingCalendar())
    tasks = list((await session.scalars(select(Task))).all())
    explanations = list((await session.scalars(select(Explanation))).all())
    keys = {"lead_unit_id": lead_unit_at(window), "leader_id": Task.leader_id}
    keys["specialist_id"] = Task.specialist_id
    together = await facts_by_keys(session, scope, list(keys.values()))
    for name, facts in zip(keys, together, strict=True):
        assert _rounded(facts) == _rounded(_by_hand(tasks, explanations, scope, name)), name
    # A unit's officials: the leaders' and specialists' facts of that unit's tasks only.
    sxd = city.units["SXD"].id
    leaders, _ = await facts_by_keys(session, scope, [Task.leader_id, Task.specialist_id], sxd)
    mine = [t for t in tasks if t.lead_unit_id == sxd]
    mine_asked = [e for e in explanations if e.task_id in {t.id for t in mine}]
    assert _rounded(leaders) == _rounded(_by_hand(mine, mine_asked, scope, "leader_id"))


@pytest.mark.parametrize("unit", [None, "SXD"])
async def test_the_officials_table_is_the_per_official_count(
    session, city: City, unit: str | None
) -> None:
    await _random_tasks(session, city, random.Random(15))
    unit_id = city.units[unit].id if unit else None
    report = await build_report(
        session,
        Period.MONTHLY,
        END,
        WorkingCalendar(),
        due_soon_days=3,
        past=False,
        unit_id=unit_id,
    )
    window = StatusWindow.at(END, WorkingCalendar(), 3)
    assert report.officials == await five_columns_by_official(session, window, START, unit_id)
    assert {(p.code, p.role) for p in report.officials} <= set(report.official_scores)
    # Every unit is placed, even in one unit's report: as the ranking places them.
    scope = Scope(window, START, Formula.load(), WorkingCalendar())
    ranked = {r.code: (r.score, r.rank) for r in await unit_ranking(session, scope)}
    assert {c: (r.score, r.rank) for c, r in report.unit_scores.items()} == ranked
    assert len(ranked) == len(city.units)


async def test_the_overdue_list_names_what_the_tasks_name(session, city: City) -> None:
    await _random_tasks(session, city, random.Random(16))
    window = StatusWindow.at(END, WorkingCalendar(), 3)
    tasks = await session.scalars(
        select(Task)
        .options(
            selectinload(Task.lead_unit),
            selectinload(Task.leader),
            selectinload(Task.specialist),
            selectinload(Task.document),
        )
        .order_by(Task.deadline, Task.id)
    )
    expected = [
        OverdueRow.of(task, END)
        for task in tasks
        if derived_status(task.status, task.deadline, task.completed_date, window)
        is DerivedStatus.OVERDUE
    ]
    assert len(expected) > 50
    assert await overdue_rows(session, window) == expected
    sxd = city.units["SXD"].id
    assert await overdue_rows(session, window, sxd) == [r for r in expected if r.unit_code == "SXD"]


@pytest.mark.parametrize("past", [False, True], ids=["today", "a past day"])
async def test_the_city_facts_from_the_indexes_are_the_one_pass_facts(
    session, city: City, past: bool
) -> None:
    """Summed per key over its index and put right for the odd tasks (assigned or done after
    the moment, never dated, handed to another unit since): the same as the one pass."""
    rng = random.Random(17)
    await _random_tasks(session, city, rng)
    today = END if not past else date(2026, 11, 20)
    units = [u.id for u in city.units.values()]
    for number in rng.sample(range(400), 40):  # handed over, some twice, after the moment
        for hour in range(rng.randint(1, 2)):
            session.add(
                TaskEvent(
                    task_id=9000 + number,
                    at=datetime(2026, 11, 22, 3 + hour, tzinfo=UTC),
                    channel=Channel.CLI,
                    action="handover",
                    field="lead_unit_id",
                    old_value=str(rng.choice(units)) if rng.random() < 0.9 else None,
                    new_value="",
                )
            )
    await session.flush()
    window = StatusWindow.at(today, WorkingCalendar(), 3, past=past)
    scope = Scope(window, START, Formula.load(), WorkingCalendar())
    keys = [lead_unit_at(window), Task.leader_id, Task.specialist_id]
    expected = await facts_by_keys(session, scope, keys)
    found = await city_facts(session, scope)
    for name, mine, theirs in zip(
        ("units", "leaders", "specialists"), found, expected, strict=True
    ):
        assert _rounded(mine) == _rounded(theirs), name


async def test_a_past_report_is_the_same_whichever_way_its_facts_are_summed(
    session, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a few tasks done since the moment, the report sums its facts in one pass: the
    same scores and places either way."""
    import models.city_facts

    await _random_tasks(session, city, random.Random(18))
    window = StatusWindow.at(date(2026, 11, 20), WorkingCalendar(), 3, past=True)
    scope = Scope(window, START, Formula.load(), WorkingCalendar())
    assert await models.city_facts.pays(session, scope)  # a handful done since the 20th

    async def built():
        report = await build_report(
            session,
            Period.MONTHLY,
            date(2026, 11, 20),
            WorkingCalendar(),
            due_soon_days=3,
            past=True,
        )
        scores = [report.unit_scores, report.official_scores]
        # Points are sums of floats, added in another order: the scores are rounded.
        return [{k: (r.score, r.rank) for k, r in s.items()} for s in scores], report.officials

    per_key = await built()
    monkeypatch.setattr(models.city_facts, "ODD_LIMIT", 0)
    assert not await models.city_facts.pays(session, scope)
    assert await built() == per_key
