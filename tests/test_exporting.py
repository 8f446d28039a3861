"""Export: every task with its deadline in force and derived status; the file imports back unchanged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from models import Document, DocumentKind, Task
from models.calendar import WorkingCalendar
from models.db import session_factory
from models.status import StatusWindow
from paperwork.exporting import export_tasks
from paperwork.importing import import_officials, import_tasks, import_units
from paperwork.tabular import read_table
from tests.city import City
from tests.conftest import NOW
from tests.files import (
    OFFICIAL_HEADER,
    OFFICIALS,
    TASK_HEADER,
    TASKS,
    UNIT_HEADER,
    UNITS,
    write_csv,
)

WINDOW = StatusWindow.at(date(2026, 11, 25), WorkingCalendar())


async def test_export_lists_every_task_with_its_derived_status(
    session, city: City, tmp_path: Path, t
) -> None:
    path = tmp_path / "tasks.csv"
    assert await export_tasks(session, path, WINDOW, t) == 7
    rows = {r["id"]: r for _, r in read_table(path).records()}
    assert rows["4103"]["derived_status"] == "quá hạn"
    assert rows["4102"]["derived_status"] == "sắp đến hạn"
    assert rows["4105"]["derived_status"] == "hoàn thành quá hạn"
    assert (rows["4107"]["original_deadline"], rows["4107"]["deadline"]) == (
        "2026-11-10",
        "2026-12-10",
    )
    assert rows["4106"]["deadline"] == ""
    assert rows["4101"]["lead_unit_name"] == "Sở Xây dựng"


async def test_xlsx_export_has_real_dates_and_a_frozen_header(
    session, city: City, tmp_path: Path, t
) -> None:
    path = tmp_path / "tasks.xlsx"
    await export_tasks(session, path, WINDOW, t)
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == 4107)
    assert row[header.index("deadline")].date() == date(2026, 12, 10)


def comparable(task: Task) -> tuple:
    return (
        task.id,
        task.content,
        task.assigned_date,
        task.original_deadline,
        task.deadline,
        task.status,
        task.progress,
        task.completed_date,
        task.result,
        sorted(u.code for u in task.coordinating_units),
        task.document.number if task.document else None,
        task.document.issued_on if task.document else None,
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_round_trip(engine, session, tmp_path: Path, t, suffix: str) -> None:
    """Export from one register, import into another: the same tasks come back."""
    await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    await import_officials(session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t)
    source = tmp_path / "source.csv"
    write_csv(
        source,
        [*TASK_HEADER, "original_deadline"],
        [[*row, "01/12/2026" if row[0] == "4101" else ""] for row in TASKS],
    )
    assert (await import_tasks(session, source, t, now=NOW)).ok
    query = (
        select(Task)
        .options(selectinload(Task.coordinating_units), selectinload(Task.document))
        .order_by(Task.id)
    )
    before = [comparable(task) for task in (await session.scalars(query)).all()]

    exported = tmp_path / f"export{suffix}"
    await export_tasks(session, exported, WINDOW, t)
    again = await import_tasks(session, exported, t, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    # Into an empty register: wipe the tasks, import the export, compare.
    async with session_factory(engine)() as other:
        await other.execute(delete(Task))
        await other.commit()
        assert (await import_tasks(other, exported, t, now=NOW)).ok
        after = [comparable(task) for task in (await other.scalars(query)).all()]
    assert after == before


async def test_export_writes_each_document_kind_as_written(session, tmp_path: Path, t) -> None:
    """The label as the office wrote it goes out; without one, the kind's name on paper."""
    await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    await import_officials(session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t)
    labels = {
        "4101": "Thông báo kết luận",
        "4102": "THÔNG BÁO KẾT LUẬN",
        "4103": "Công văn",
        "4104": "Tờ trình",
    }
    rows = [[*row] for row in TASKS]
    for row, number in zip(
        rows, ("20/TB-UBND", "21/TB-UBND", "12/UBND-KT", "7/TTr-SXD"), strict=True
    ):
        row[0], row[1], row[2], row[3] = (
            row[0] or "4104",
            number,
            "01/09/2026",
            labels[row[0] or "4104"],
        )
        row[11] = row[11] or "01/10/2026"
    extra = [*rows[2]]
    extra[0], extra[1], extra[3] = "4105", "12/NQ-HĐND", ""
    source = write_csv(tmp_path / "source.csv", TASK_HEADER, [*rows, extra])
    assert (await import_tasks(session, source, t, now=NOW)).ok

    exported = tmp_path / "export.csv"
    await export_tasks(session, exported, WINDOW, t)
    written = {r["id"]: r["document_kind"] for _, r in read_table(exported).records()}
    assert written == {**labels, "4105": "Nghị quyết"}

    again = await import_tasks(session, exported, t, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    kinds = {d.number: d.kind for d in (await session.scalars(select(Document))).all()}
    assert kinds == {
        "20/TB-UBND": DocumentKind.CONCLUSION,
        "21/TB-UBND": DocumentKind.CONCLUSION,
        "12/UBND-KT": DocumentKind.LETTER,
        "7/TTr-SXD": DocumentKind.OTHER,
        "12/NQ-HĐND": DocumentKind.RESOLUTION,
    }
