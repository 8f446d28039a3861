"""CSV in one fixed dialect: the delimiter from the header line only, never from the data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from models import Task
from paperwork.exporting import export_tasks
from paperwork.importing import import_tasks
from paperwork.tabular import read_table
from tests.conftest import NOW
from tests.files import TASK_HEADER, TASKS, write_csv
from tests.test_exporting import WINDOW
from tests.test_importing import load_register, snapshot

QUOTED = 'Triển khai "Đề án 06"; báo cáo, tổng hợp'


def many_tasks(count: int, special: int) -> list[list[str]]:
    """`count` copies of a task, numbered from 5001; row `special` of the file has quotes."""
    rows = []
    for i in range(count):
        row = [*TASKS[0]]
        row[0] = str(5001 + i)
        row[6] = QUOTED if i + 2 == special else f"Nhiệm vụ {i}"
        rows.append(row)
    return rows


async def test_a_quote_far_down_the_file_is_stored_as_written(session, tmp_path: Path, t) -> None:
    await load_register(session, tmp_path, t)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, many_tasks(600, special=501))
    result = await import_tasks(session, path, t, now=NOW)
    assert result.ok, result.errors[:3]
    assert (await session.get_one(Task, 5500)).content == QUOTED

    exported = tmp_path / "export.csv"
    await export_tasks(session, exported, WINDOW, t)
    again = await import_tasks(session, exported, t, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 600)
    contents = {r["id"]: r["content"] for _, r in read_table(exported).records()}
    assert contents["5500"] == QUOTED


async def test_semicolons_in_the_data_do_not_make_a_comma_file_semicolon(
    session, tmp_path: Path, t
) -> None:
    """The sniffer used to read a comma file whose first rows list units with `;` wrongly."""
    await load_register(session, tmp_path, t)
    rows = many_tasks(60, special=0)
    for row in rows:
        row[8] = "STP;Q1"
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, rows)
    assert (await import_tasks(session, path, t, now=NOW)).created == 60


async def test_a_semicolon_file_with_commas_and_quotes_in_cells_is_read(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    rows = many_tasks(3, special=3)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, rows, delimiter=";")
    assert (await import_tasks(session, path, t, now=NOW)).created == 3
    assert (await session.get_one(Task, 5002)).content == QUOTED


def test_dondoc_refuses_an_unclosed_quote_naming_the_line(dondoc, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text('code,name,kind\nSXD,Sở Xây dựng,department\nSTP,"Sở Tư pháp,department\n')
    code, _, err = dondoc("import", "units", str(path))
    assert code == 2
    assert 'dòng 3: có dấu nháy kép (") mở một ô mà không đóng lại' in err


async def test_an_unclosed_quote_changes_nothing(session, tmp_path: Path, t) -> None:
    from paperwork.tabular import TableError

    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, TASKS)
    path.write_text(path.read_text(encoding="utf-8-sig") + '4200,"không đóng\n', encoding="utf-8")
    try:
        await import_tasks(session, path, t, now=NOW)
    except TableError as error:
        assert error.kind == "quoting"
    else:
        raise AssertionError("an unclosed quote was read")
    assert await snapshot(session) == before
    assert (await session.scalars(select(Task))).all() == []
