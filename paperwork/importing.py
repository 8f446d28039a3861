"""Import of units, officials, tasks and calendar days from the offices' CSV and XLSX files.

All or nothing: a file with any bad row writes nothing, and every bad row is reported with
its row number and the reason. Importing the same file again changes nothing. A task row
that would undo what officials reported in the bot since the last import is a conflict: left
as the bot has it and listed, the other rows imported (models/import_history.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from locales import Translator
from messages.assignments import new_tasks
from models.assignments import announce
from models.calendar import load_calendar, next_working_moment
from models.import_history import Conflict
from models.imports import (
    Written,
    all_officials,
    all_units,
    write_calendar,
    write_officials,
    write_tasks,
    write_units,
)
from models.notices import Notifier
from paperwork.calendar_rows import check_calendar
from paperwork.headers import (
    CALENDAR_COLUMNS,
    OFFICIAL_COLUMNS,
    TASK_COLUMNS,
    UNIT_COLUMNS,
    MappedRows,
    RowError,
)
from paperwork.organization_rows import check_officials, check_units
from paperwork.tabular import read_table
from paperwork.task_rows import check_tasks

__all__ = [
    "Conflict",
    "ImportResult",
    "RowError",
    "import_calendar",
    "import_officials",
    "import_tasks",
    "import_units",
]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 clean, 1 refused (nothing written), 3 imported but with conflicts left alone."""
        if self.errors:
            return 1
        return 3 if self.conflicts else 0

    def add(self, written: Written) -> None:
        self.created += written.created
        self.updated += written.updated
        self.unchanged += written.unchanged
        self.conflicts += written.conflicts


# The steps of an import, for a progress bar: reading and checking, writing, committing.
STEPS = ("read", "write", "commit")
Step = Callable[[str], None]


def no_step(_name: str) -> None:
    """No progress shown."""


async def _import(
    session: AsyncSession,
    path: Path,
    t: Translator,
    columns: tuple[dict[str, frozenset[str]], tuple[str, ...]],
    check: Callable[[MappedRows], tuple[Any, list[RowError]]],
    write: Callable[[Any], Awaitable[Written]],
    *,
    dry_run: bool,
    step: Step,
) -> ImportResult:
    """Every import's one path: read the file (`columns`: the known ones, the required),
    check its rows against the register, write them only if all are right, and commit
    only then (and not in a dry run)."""
    step("read")
    rows = MappedRows(read_table(path), columns[0], t)
    rows.require(t, *columns[1])
    result = ImportResult(errors=list(rows.errors))
    if not result.errors:
        checked, result.errors = check(rows)
        if not result.errors:
            step("write")
            result.add(await write(checked))
    step("commit")
    result.ignored_columns = rows.ignored
    if result.errors or dry_run:
        await session.rollback()
    else:
        await session.commit()
    if result.errors:
        result.created = result.updated = result.unchanged = 0
        result.conflicts = []
    result.errors.sort(key=lambda e: e.row)
    return result


async def import_units(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False, step: Step = no_step
) -> ImportResult:
    units = await all_units(session)
    return await _import(
        session,
        path,
        t,
        (UNIT_COLUMNS, ("code", "name")),
        lambda rows: check_units(rows, units, t),
        lambda checked: write_units(session, checked),
        dry_run=dry_run,
        step=step,
    )


async def import_officials(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False, step: Step = no_step
) -> ImportResult:
    units = await all_units(session)
    return await _import(
        session,
        path,
        t,
        (OFFICIAL_COLUMNS, ("code", "full_name", "unit_code")),
        lambda rows: check_officials(rows, units, t),
        lambda checked: write_officials(session, checked),
        dry_run=dry_run,
        step=step,
    )


async def import_calendar(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False, step: Step = no_step
) -> ImportResult:
    return await _import(
        session,
        path,
        t,
        (CALENDAR_COLUMNS, ("date", "working")),
        lambda rows: check_calendar(rows, t),
        lambda checked: write_calendar(session, checked),
        dry_run=dry_run,
        step=step,
    )


async def import_tasks(
    session: AsyncSession,
    path: Path,
    t: Translator,
    *,
    now: datetime,
    dry_run: bool = False,
    overwrite: bool = False,
    office_hours: tuple[time, time] = (time(7, 30), time(17, 0)),
    step: Step = no_step,
) -> ImportResult:
    """The tasks of a file; each official newly named on open tasks gets one message listing
    them, in office hours (`office_hours`: DONDOC_WORK_START, DONDOC_WORK_END)."""
    units, officials = await all_units(session), await all_officials(session)

    def check(rows: MappedRows) -> tuple[Any, list[RowError]]:
        documents, tasks, errors = check_tasks(rows, units, officials, t, now=now)
        return (documents, tasks), errors

    async def write(checked: tuple[Any, Any]) -> Written:
        written = await write_tasks(session, *checked, at=now, overwrite=overwrite)
        if written.assigned and not dry_run:
            calendar = await load_calendar(session)
            await announce(
                Notifier(session, now),
                f"assigned:import {now.isoformat()}",
                written.assigned,
                new_tasks(),
                not_before=next_working_moment(now, calendar, *office_hours),
            )
        return written

    return await _import(
        session,
        path,
        t,
        (TASK_COLUMNS, ("content", "lead_unit_code")),
        check,
        write,
        dry_run=dry_run,
        step=step,
    )
