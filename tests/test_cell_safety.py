"""No sheet we write runs a formula from chat text, and the task export still imports back unchanged."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from models import Task, Unit
from models.calendar import WorkingCalendar
from models.clock import FixedClock
from models.reports import Period, build_report
from paperwork.cell_safety import neutralise, restore
from paperwork.exporting import export_tasks
from paperwork.importing import import_tasks
from paperwork.public_list import write_public_csv
from paperwork.report_files import write_csv
from paperwork.report_workbook import write_xlsx
from tests import harness
from tests.city import City
from tests.conftest import NOW
from tests.test_exporting import WINDOW
from tests.test_reports import T, monthly

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+84 901 000 001", "'+84 901 000 001"),
        ("- Rà soát hồ sơ", "'- Rà soát hồ sơ"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=1+1", "''=1+1"),  # a quote the writer did not add survives the round trip
        ("Đề án 06", "Đề án 06"),
        ("'quoted'", "'quoted'"),
    ],
)
def test_risky_text_gets_a_quote_and_reads_back_as_it_was(text: str, written: str) -> None:
    assert neutralise(text) == written
    assert restore(written) == text


@given(st.text())
def test_neutralise_and_restore_are_inverses(text: str) -> None:
    safe = neutralise(text)
    assert restore(safe) == text
    assert not safe[:1] or safe[0] not in "=+-@\t\r"


def test_numbers_and_dates_are_left_as_they_are() -> None:
    assert neutralise(-5) == -5 and neutralise(date(2026, 1, 1)) == date(2026, 1, 1)


async def test_chat_text_reaches_the_export_neutralised_and_imports_back(
    sessions, session, city: City, tmp_path: Path, t
) -> None:
    bot = await harness.start(sessions, FixedClock(NOW), channel="telegram")
    try:
        await bot.link("SXD-CV")
        await bot.send("SXD-CV", f"/xong 4102 {FORMULA}")
    finally:
        await harness.stop(bot)
    assert (await session.get_one(Task, 4102)).result == FORMULA

    csv_path, xlsx_path = tmp_path / "tasks.csv", tmp_path / "tasks.xlsx"
    await export_tasks(session, csv_path, WINDOW, t)
    await export_tasks(session, xlsx_path, WINDOW, t)
    with csv_path.open(encoding="utf-8-sig", newline="") as file:
        rows = {r["id"]: r for r in csv.DictReader(file)}
    assert rows["4102"]["result"] == "'" + FORMULA
    sheet = load_workbook(xlsx_path).active
    header = [c.value for c in sheet[1]]
    cell = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == 4102)[header.index("result")]
    assert (cell.value, cell.data_type) == ("'" + FORMULA, "s")  # text, not a formula

    for path in (csv_path, xlsx_path):
        again = await import_tasks(session, path, t, now=NOW)
        assert again.exit_code == 0 and again.updated == 0, (again.errors, again.conflicts)
        session.expire_all()
        assert (await session.get_one(Task, 4102)).result == FORMULA


async def test_report_files_and_the_public_list_are_neutralised(
    session, city: City, tmp_path: Path
) -> None:
    (await session.get_one(Unit, city.units["SXD"].id)).name = "=1+1"
    task = await session.scalar(select(Task).where(Task.id == 4103))
    task.content = "@SUM(1)"
    await session.commit()
    report = await monthly(session)
    write_xlsx(tmp_path / "r.xlsx", report, T)
    book = load_workbook(tmp_path / "r.xlsx")
    values = [c.value for sheet in book for row in sheet.iter_rows() for c in row]
    assert "'=1+1" in values and "'@SUM(1)" in values
    assert not [v for v in values if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")]

    write_csv(tmp_path / "r.csv", report, T)
    assert "'=1+1" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")

    quarter = await build_report(
        session,
        Period.QUARTERLY,
        date(2026, 11, 25),
        WorkingCalendar(),
        due_soon_days=3,
        past=False,
    )
    write_public_csv(tmp_path / "p.csv", quarter, T)
    with (tmp_path / "p.csv").open(encoding="utf-8-sig", newline="") as file:
        cells = [c for row in csv.reader(file) for c in row]
    assert "'=1+1" in cells and "=1+1" not in cells
