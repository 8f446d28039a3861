"""Checking the rows of the calendar file (make-up working days and days off)."""

from __future__ import annotations

from locales import Translator
from models.imports import CalendarRow
from paperwork.cells import FALSE_WORDS, TRUE_WORDS, date_problem, duplicates, parse_date
from paperwork.headers import MappedRows, RowError
from paperwork.tabular import header_key


def check_calendar(rows: MappedRows, t: Translator) -> tuple[list[CalendarRow], list[RowError]]:
    """The days to write, or the reasons the file is refused."""
    errors = duplicates(
        ((n, r.get("date", "")) for n, r in rows.rows),
        lambda day, first: t._(
            "the day '{day}' appears again (first on row {first})", day=day, first=first
        ),
    )
    parsed = []
    for number, r in rows.rows:
        day = parse_date(r.get("date", ""))
        word = header_key(r.get("working", ""))
        problems = []
        if day is None:
            problems.append(date_problem(t, rows.header("date"), r.get("date", "")))
        if word not in TRUE_WORDS and word not in FALSE_WORDS:
            problems.append(
                t._(
                    "'working' must be 1 (a working day) or 0 (a day off), not '{value}'",
                    value=r.get("working", ""),
                )
            )
        if problems or day is None:
            errors.append(RowError(number, "; ".join(problems)))
        else:
            parsed.append(CalendarRow(day, word in TRUE_WORDS, r.get("note", "")))
    return parsed, errors
