"""Scores and rankings: each rule of the formula on the small city, worked out by hand.

The city on Wednesday 25/11/2026, month of November (tests/city.py):
SXD — #4103 overdue 5 days (deadline 20/11), #4102 due soon, #4101 in time.
STP — #4104 done 10/11, deadline 16/11: on time, 6 days early; #4105 done 20/11, deadline
18/11: 2 days late.
Q1  — #4106 ongoing, #4107 in time (extended to 10/12).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from models.calendar import WorkingCalendar, load_calendar
from models.explanations import Explanation, ExplanationState
from models.scores import Scope, official_scores, unit_ranking
from models.scoring import (
    DEFAULT_FORMULA_FILE,
    Colour,
    Facts,
    Formula,
    FormulaError,
    colour,
    long_overdue_before,
    rank,
)
from models.status import StatusWindow
from tests.city import City
from tests.conftest import NOW

TODAY = NOW.date()
NOVEMBER = date(2026, 11, 1)


async def _ranking(session, formula: Formula) -> list[tuple[str, float, int]]:
    calendar = await load_calendar(session)
    scope = Scope(StatusWindow.at(TODAY, calendar), NOVEMBER, formula, calendar)
    return [(r.code, r.score, r.rank) for r in await unit_ranking(session, scope)]


def _only(**rules: object) -> Formula:
    return Formula.of({"version": "test", **rules})


async def test_the_shipped_formula_on_the_small_city(session, city: City) -> None:
    formula = Formula.load()
    assert formula.version == "2026.1"
    # SXD: 100 − (2 + 0.2 × 5) = 97; STP: 100 − (1 + 0.1 × 2) + 0.5 = 99.3; Q1: nothing.
    assert await _ranking(session, formula) == [
        ("Q1", 100.0, 1),
        ("STP", 99.3, 2),
        ("SXD", 97.0, 3),
    ]


async def test_an_overdue_task_costs_its_points_and_its_days_up_to_the_cap(session, city) -> None:
    uncapped = _only(overdue={"points": 2, "per_day": 0.5})
    assert ("SXD", 95.5, 3) in await _ranking(session, uncapped)  # 100 − (2 + 0.5 × 5)
    capped = _only(overdue={"points": 2, "per_day": 0.5, "max_per_task": 4})
    assert ("SXD", 96.0, 3) in await _ranking(session, capped)  # 100 − min(4.5, 4)


async def test_a_task_done_late_costs_its_points_and_its_days(session, city) -> None:
    formula = _only(done_late={"points": 1, "per_day": 1})
    assert ("STP", 97.0, 3) in await _ranking(session, formula)  # 100 − (1 + 1 × 2)


async def test_a_task_done_early_enough_earns_its_points(session, city) -> None:
    six_days = _only(done_early={"points": 2, "days_ahead": 6})
    assert (await _ranking(session, six_days))[0] == ("STP", 102.0, 1)  # #4104, 6 days early
    seven_days = _only(done_early={"points": 2, "days_ahead": 7})
    assert ("STP", 100.0, 2) in await _ranking(session, seven_days)


def test_an_unanswered_explanation_costs_its_points() -> None:
    formula = _only(explanation={"points": 3})
    assert formula.score(Facts(unanswered_explanations=2)) == 94.0  # 100 − 2 × 3


async def test_explanations_not_given_in_the_period_cost_their_points(session, city) -> None:
    """Counted: a request whose last day to answer fell in November before today and that
    got no answer — recorded as missed (#4103, 23/11) or not yet swept (#4102, 24/11).
    Not counted: answered (#4101), last day today (#4106: still time), last day in October
    (#4105, missed in the period before)."""

    def asked(task_id: int, due: date, state: ExplanationState) -> Explanation:
        return Explanation(
            task_id=task_id,
            deadline=due - timedelta(days=7),
            requested_at=NOW - timedelta(days=10),
            due_date=due,
            state=state,
            reason="",
        )

    session.add_all(
        [
            asked(4103, date(2026, 11, 23), ExplanationState.MISSED),
            asked(4102, date(2026, 11, 24), ExplanationState.REQUESTED),
            asked(4101, date(2026, 11, 20), ExplanationState.ANSWERED),
            asked(4106, TODAY, ExplanationState.REQUESTED),
            asked(4105, date(2026, 10, 30), ExplanationState.MISSED),
        ]
    )
    await session.flush()
    # SXD: 100 − (2 + 0.2 × 5) − 2 × 3 = 91; STP and Q1 as before.
    assert await _ranking(session, Formula.load()) == [
        ("Q1", 100.0, 1),
        ("STP", 99.3, 2),
        ("SXD", 91.0, 3),
    ]
    assert ("SXD", 93.0, 3) in await _ranking(session, _only(explanation={"points": 3.5}))
    calendar = await load_calendar(session)
    scope = Scope(StatusWindow.at(TODAY, calendar), NOVEMBER, Formula.load(), calendar)
    scores = await official_scores(session, scope)
    assert scores[("SXD-LD", "leader")].facts.unanswered_explanations == 2
    assert scores[("SXD-CV", "specialist")].score == 91.0
    assert scores[("Q1-CV", "specialist")].facts.unanswered_explanations == 0


async def test_no_score_falls_below_the_floor(session, city) -> None:
    formula = _only(floor=0, overdue={"points": 250})
    assert ("SXD", 0.0, 3) in await _ranking(session, formula)
    assert ("SXD", -150.0, 3) in await _ranking(session, _only(overdue={"points": 250}))


async def test_equal_scores_are_told_apart_by_the_documented_rule(session, city) -> None:
    # Everything weighs nothing: all three score 100. Fewer overdue first (SXD has one, last);
    # Q1 and STP have none and no days overdue; STP has one done late, so Q1 comes first.
    nothing = _only()
    assert await _ranking(session, nothing) == [
        ("Q1", 100.0, 1),
        ("STP", 100.0, 2),
        ("SXD", 100.0, 3),
    ]


def test_the_last_tie_rules_are_days_overdue_done_late_done_on_time_then_the_code() -> None:
    formula = _only()
    rows = [
        (1, "B", "b", Facts(overdue=1, overdue_days=3)),
        (2, "A", "a", Facts(overdue=1, overdue_days=9)),
        (3, "D", "d", Facts(done_on_time=1)),
        (4, "C", "c", Facts(done_on_time=2)),
        (5, "F", "f", Facts()),
        (6, "E", "e", Facts()),
        (7, "G", "g", Facts(done_late=1, done_on_time=5)),
    ]
    assert [r.code for r in rank(formula, rows)] == ["C", "D", "E", "F", "G", "B", "A"]


async def test_changing_the_formula_file_changes_the_ranking(session, city, tmp_path: Path) -> None:
    assert [code for code, *_ in await _ranking(session, Formula.load())] == ["Q1", "STP", "SXD"]
    harsh = DEFAULT_FORMULA_FILE.read_text(encoding="utf-8")
    harsh = harsh.replace('version = "2026.1"', 'version = "2026.1-harsh"')
    harsh = harsh.replace("[done_late]\npoints = 1.0", "[done_late]\npoints = 10.0")
    harsh = harsh.replace("max_per_task = 5.0", "max_per_task = 20.0")
    path = tmp_path / "harsh.toml"
    path.write_text(harsh, encoding="utf-8")
    formula = Formula.load(path)
    assert formula.version == "2026.1-harsh"
    # STP: 100 − (10 + 0.1 × 2) + 0.5 = 90.3, now below SXD's 97.
    assert await _ranking(session, formula) == [
        ("Q1", 100.0, 1),
        ("SXD", 97.0, 2),
        ("STP", 90.3, 3),
    ]


async def test_officials_are_scored_by_the_same_formula(session, city) -> None:
    calendar = await load_calendar(session)
    scope = Scope(StatusWindow.at(TODAY, calendar), NOVEMBER, Formula.load(), calendar)
    scores = await official_scores(session, scope)
    assert scores[("SXD-CV", "specialist")].score == 97.0
    assert scores[("STP-LD", "leader")].score == 99.3
    assert scores[("Q1-CV", "specialist")].rank == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("start = 100", "`version` is required"),
        ('version = "x"\n[overdue]\npoints = -1', "must be a number ≥ 0"),
        ('version = "x"\nbonus = 3', "unknown key bonus"),
        ('version = "x"\n[overdue]\nper_dya = 1', "unknown key per_dya"),
        ("version = ", "formula.toml"),
    ],
)
def test_a_wrong_formula_file_is_refused_naming_the_problem(tmp_path, text, problem) -> None:
    path = tmp_path / "formula.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormulaError, match=problem):
        Formula.load(path)


def test_the_colour_rule() -> None:
    colours = Formula.load().colours
    assert colour(Facts(), colours) is Colour.GREEN
    assert colour(Facts(done_on_time=19, done_late=1), colours) is Colour.GREEN  # 95 %
    assert colour(Facts(done_on_time=9, done_late=1), colours) is Colour.YELLOW  # 90 %
    assert colour(Facts(overdue=1), colours) is Colour.YELLOW
    assert colour(Facts(overdue=1, long_overdue=1), colours) is Colour.RED
    assert colour(Facts(done_on_time=3, done_late=1), colours) is Colour.RED  # 75 %


def test_long_overdue_counts_working_days() -> None:
    """The last long-overdue deadline is overdue more than N working days; the day after it,
    N at most: on working days, weekends and holidays (24/11 is one in `holidays`)."""
    calendar = WorkingCalendar()
    for today in (date(2026, 11, 25), date(2026, 11, 24), date(2026, 11, 28), date(2027, 2, 17)):
        for n in (1, 3, 10):
            last = long_overdue_before(today, calendar, n)
            assert calendar.working_days_between(last, today) > n
            assert calendar.working_days_between(last + timedelta(days=1), today) <= n


def test_a_wrong_formula_file_stops_the_command_line_naming_it(
    dondoc, monkeypatch, tmp_path
) -> None:
    path = tmp_path / "cong-thuc.toml"
    path.write_text('version = "x"\n[overdue]\nper_dya = 1\n', encoding="utf-8")
    monkeypatch.setenv("DONDOC_SCORING_FILE", str(path))
    code, _, err = dondoc("overdue")
    assert code == 2
    assert "cong-thuc.toml [overdue]: unknown key per_dya" in err


def test_the_operators_formula_file_reorders_the_reports_ranking(
    dondoc, city: City, monkeypatch, tmp_path
) -> None:
    def places() -> dict[str, str]:
        path = tmp_path / "summary.csv"
        assert dondoc("report", "monthly", "--format", "csv", "-o", str(path))[0] == 0
        with path.open(encoding="utf-8-sig") as file:
            rows = list(csv.reader(file))
        assert rows[0][-2:] == [f"Điểm (công thức {version})", "Hạng"]
        return {row[0]: row[-1] for row in rows[1:] if row[0]}

    version = "2026.1"
    assert places() == {"Q1": "1", "STP": "2", "SXD": "3"}
    path = tmp_path / "cong-thuc.toml"
    path.write_text('version = "HP-2027"\n[done_late]\npoints = 10\n', encoding="utf-8")
    monkeypatch.setenv("DONDOC_SCORING_FILE", str(path))
    version = "HP-2027"
    assert places() == {"Q1": "1", "SXD": "2", "STP": "3"}
