"""The published scoring formula (chấm điểm, xếp hạng): a score from a unit's or an
official's facts for a period, the ranking with its tie rule, and the dashboard's colours.

Plain rules over counted facts: `models/scores.py` counts the facts in SQL. The formula is a
TOML file under the operator's control (`scoring.toml` beside this module by default,
`DONDOC_SCORING_FILE` to use another); its `version` is printed with every score.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the formula is read with the settings, before SQLAlchemy is loaded
    from models.calendar import WorkingCalendar

DEFAULT_FORMULA_FILE = Path(__file__).with_name("scoring.toml")


class FormulaError(ValueError):
    """The formula file cannot be used as written; the message names the file and the key."""


@dataclass(frozen=True)
class PerTask:
    """Points for each task, plus points for each day late, at most `max_per_task` a task."""

    points: float = 0.0
    per_day: float = 0.0
    max_per_task: float | None = None

    def of(self, days: int) -> float:
        value = self.points + self.per_day * max(days, 0)
        return value if self.max_per_task is None else min(value, self.max_per_task)


@dataclass(frozen=True)
class Colours:
    red_overdue_working_days: int = 10
    red_on_time_rate: float = 0.80
    yellow_on_time_rate: float = 0.95


@dataclass(frozen=True)
class Formula:
    version: str
    start: float = 100.0
    floor: float | None = 0.0
    overdue: PerTask = PerTask()
    done_late: PerTask = PerTask()
    early_points: float = 0.0
    early_days_ahead: int = 1
    explanation_points: float = 0.0
    colours: Colours = Colours()

    @classmethod
    def load(cls, path: Path | None = None) -> Formula:
        """Read a formula file (the shipped one by default); refuses a wrong key or value."""
        path = path or DEFAULT_FORMULA_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise FormulaError(f"{path}: {error}") from error
        return cls.of(data, str(path))

    @classmethod
    def of(cls, data: dict[str, Any], where: str = "formula") -> Formula:
        known = {"version", "start", "floor", "overdue", "done_late", "done_early"}
        _no_other_keys(data, known | {"explanation", "colours"}, where)
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise FormulaError(f'{where}: `version` is required, as a string (e.g. "2026.1")')
        early = _table(data, "done_early", where)
        return cls(
            version=version.strip(),
            start=_number(data, "start", where, 100.0),
            floor=_number(data, "floor", where, None),
            overdue=_per_task(data, "overdue", where),
            done_late=_per_task(data, "done_late", where),
            early_points=_number(early, "points", f"{where} [done_early]", 0.0),
            early_days_ahead=int(_number(early, "days_ahead", f"{where} [done_early]", 1)),
            explanation_points=_number(
                _table(data, "explanation", where), "points", f"{where} [explanation]", 0.0
            ),
            colours=_colours(_table(data, "colours", where), f"{where} [colours]"),
        )

    def score(self, facts: Facts) -> float:
        """start − overdue − done late − unanswered explanations + done early; to 2 decimals."""
        value = (
            self.start
            - facts.overdue_points
            - facts.late_points
            - self.explanation_points * facts.unanswered_explanations
            + self.early_points * facts.done_early
        )
        if self.floor is not None:
            value = max(value, self.floor)
        return round(value + 0.0, 2)


def _no_other_keys(data: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise FormulaError(f"{where}: unknown key {', '.join(unknown)}")


def _table(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise FormulaError(f"{where}: [{name}] must be a table")
    return table


N = TypeVar("N", float, None)


def _number(data: dict[str, Any], key: str, where: str, default: N) -> float | N:
    value = data.get(key, default)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (value < 0 and key != "floor")
    ):
        raise FormulaError(f"{where}: `{key}` must be a number ≥ 0, not {value!r}")
    return float(value)


def _per_task(data: dict[str, Any], name: str, where: str) -> PerTask:
    table = _table(data, name, where)
    inside = f"{where} [{name}]"
    _no_other_keys(table, {"points", "per_day", "max_per_task"}, inside)
    return PerTask(
        points=_number(table, "points", inside, 0.0),
        per_day=_number(table, "per_day", inside, 0.0),
        max_per_task=_number(table, "max_per_task", inside, None),
    )


def _colours(table: dict[str, Any], where: str) -> Colours:
    _no_other_keys(table, {f.name for f in fields(Colours)}, where)
    default = Colours()
    return Colours(
        red_overdue_working_days=int(
            _number(table, "red_overdue_working_days", where, default.red_overdue_working_days)
        ),
        red_on_time_rate=_number(table, "red_on_time_rate", where, default.red_on_time_rate),
        yellow_on_time_rate=_number(
            table, "yellow_on_time_rate", where, default.yellow_on_time_rate
        ),
    )


@dataclass(frozen=True)
class Facts:
    """What a unit's (or an official's) tasks of a period came to, counted at its last day."""

    assigned: int = 0
    done_on_time: int = 0
    done_late: int = 0
    in_time: int = 0  # open, deadline not near (or none)
    due_soon: int = 0
    overdue: int = 0
    overdue_days: int = 0  # days late of the overdue tasks, added up (the tie rule)
    overdue_points: float = 0.0  # the formula's points for them, each task capped
    late_points: float = 0.0  # the formula's points for the tasks done late
    done_early: int = 0
    long_overdue: int = 0  # overdue more than the red rule's working days
    unanswered_explanations: int = 0

    @property
    def open(self) -> int:
        return self.in_time + self.due_soon + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        done = self.done_on_time + self.done_late
        return self.done_on_time / done if done else None

    def __add__(self, other: Facts) -> Facts:
        return Facts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Facts)))


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def colour(facts: Facts, colours: Colours) -> Colour:
    """Red: a task overdue too long, or too few done on time; yellow: any task overdue, or
    fewer on time than hoped; green otherwise. A period with nothing done has no rate."""
    rate = facts.on_time_rate
    if facts.long_overdue or (rate is not None and rate < colours.red_on_time_rate):
        return Colour.RED
    if facts.overdue or (rate is not None and rate < colours.yellow_on_time_rate):
        return Colour.YELLOW
    return Colour.GREEN


def long_overdue_before(today: date, calendar: WorkingCalendar, working_days: int) -> date:
    """The last deadline that is overdue more than `working_days` working days on `today`:
    a deadline on or before it is long overdue."""
    day, counted = today, 0
    while counted <= working_days:
        counted += calendar.is_working_day(day)
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Ranked:
    """One unit or official in a ranking: their place (1 is best), score and facts."""

    key: int
    code: str
    name: str
    facts: Facts
    score: float
    rank: int = 0


def tie_order(score: float, f: Facts, code: str) -> tuple[float, int, int, int, int, str]:
    """Higher score first; on equal scores fewer overdue tasks, then fewer days overdue in
    all, then fewer done late, then more done on time, then the code in alphabetical order."""
    return (-score, f.overdue, f.overdue_days, f.done_late, -f.done_on_time, code)


def rank(formula: Formula, entries: Iterable[tuple[int, str, str, Facts]]) -> list[Ranked]:
    """Score every (id, code, name, facts) and give each its own place by the tie rule: each
    `Ranked` made once, with its place (30,000 officials in a city's report)."""
    scored = [(formula.score(facts), key, code, name, facts) for key, code, name, facts in entries]
    scored.sort(key=lambda s: tie_order(s[0], s[4], s[2]))
    return [
        Ranked(key, code, name, facts, score, place)
        for place, (score, key, code, name, facts) in enumerate(scored, start=1)
    ]
