"""Headers as offices write them: synonyms, columns for reading only, two-row merged headers;
a column we would drop refuses the file, naming its letter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy.orm import selectinload

from models import Task, TaskStatus
from paperwork.importing import import_tasks
from tests.conftest import NOW
from tests.files import OFFICIAL_HEADER, OFFICIALS, TASKS, UNIT_HEADER, UNITS, write_csv
from tests.test_importing import load_register, snapshot

SYNONYMS = [
    "STT",
    "Số nhiệm vụ",
    "Nội dung nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Ngày giao nhiệm vụ",
    "Thời hạn thực hiện",
    "Trạng thái",
    "Ghi chú",
]


def synonym_row(number: int, row: list[str]) -> list[str]:
    return [str(number), row[0], row[6], row[7], row[8], row[11], row[12], row[13], "xem lại"]


async def task(session, task_id: int) -> Task:
    session.expire_all()
    return await session.get_one(Task, task_id, options=[selectinload(Task.coordinating_units)])


async def test_vietnamese_synonyms_are_read_and_stt_and_notes_ignored(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    rows = [synonym_row(i, row) for i, row in enumerate(TASKS[:2], start=1)]
    result = await import_tasks(session, write_csv(tmp_path / "t.csv", SYNONYMS, rows), t, now=NOW)
    assert result.exit_code == 0, result.errors
    assert result.ignored_columns == ["STT", "Ghi chú"]
    first = await task(session, 4101)
    assert (first.deadline, first.assigned_date) == (date(2026, 12, 28), date(2026, 10, 5))
    assert [u.code for u in first.coordinating_units] == ["Q1", "STP"]


async def test_an_unknown_header_refuses_the_file_naming_its_letter(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    header = [*SYNONYMS]
    header[6] = "Hạn chót dự kiến"
    rows = [synonym_row(1, TASKS[0])]
    result = await import_tasks(session, write_csv(tmp_path / "t.csv", header, rows), t, now=NOW)
    assert result.exit_code == 1
    [error] = result.errors
    assert error.message.startswith(
        "cột G 'Hạn chót dự kiến' không phải là cột hệ thống đọc được: đổi tên cột thành"
    )
    assert "deadline" in error.message and "hoặc xóa cột này" in error.message
    assert await snapshot(session) == before


async def test_a_column_with_data_and_no_header_refuses_the_file(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    header = [*SYNONYMS[:-1], ""]
    result = await import_tasks(
        session, write_csv(tmp_path / "t.csv", header, [synonym_row(1, TASKS[0])]), t, now=NOW
    )
    assert [e.message.split(":")[0] for e in result.errors] == [
        "cột I có dữ liệu nhưng không có tiêu đề"
    ]
    assert await snapshot(session) == before


async def test_an_empty_column_without_a_header_is_no_problem(session, tmp_path: Path, t) -> None:
    await load_register(session, tmp_path, t)
    rows = [[*synonym_row(1, TASKS[0])[:-1], ""]]
    result = await import_tasks(
        session, write_csv(tmp_path / "t.csv", [*SYNONYMS[:-1], ""], rows), t, now=NOW
    )
    assert result.exit_code == 0 and result.created == 1


def merged_workbook(path: Path, rows: list[list[object]]) -> Path:
    """`Đơn vị chủ trì` merged over the lead and coordinating columns, `Thời hạn` over the
    deadline and status columns, each named again in a second header row."""
    book = Workbook()
    sheet = book.active
    sheet.append(
        ["STT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", None, "Ngày giao", "Thời hạn", None]
    )
    sheet.append([None, None, "Chủ trì", "Phối hợp", None, None, "Trạng thái"])
    for merged in ("A1:A2", "B1:B2", "C1:D1", "E1:E2", "F1:G1"):
        sheet.merge_cells(merged)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


async def test_a_two_row_header_under_merged_cells_is_read_as_one(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    rows = [
        [1, "Rà soát hồ sơ GPMB", "SXD", "STP;Q1", "05/10/2026", "28/12/2026", "đang thực hiện"],
        [2, "Báo cáo chuyển đổi số", "STP", "", "02/09/2026", "30/12/2026", "chưa thực hiện"],
    ]
    path = merged_workbook(tmp_path / "t.xlsx", rows)
    result = await import_tasks(session, path, t, now=NOW)
    assert result.exit_code == 0, result.errors
    assert result.created == 2
    first = await task(session, 1)
    assert [u.code for u in first.coordinating_units] == ["Q1", "STP"]
    assert (first.status, first.deadline) == (TaskStatus.IN_PROGRESS, date(2026, 12, 28))


async def test_a_bad_row_under_a_two_row_header_has_its_row_number(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    rows = [[1, "Rà soát hồ sơ GPMB", "SXX", "", "05/10/2026", "28/12/2026", ""]]
    result = await import_tasks(session, merged_workbook(tmp_path / "t.xlsx", rows), t, now=NOW)
    assert [e.row for e in result.errors] == [3]


def test_dondoc_import_names_the_column_to_fix(dondoc, tmp_path: Path) -> None:
    dondoc("import", "units", str(write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS)))
    dondoc("import", "officials", str(write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS)))
    header = [*SYNONYMS]
    header[5] = "Ngày nhận"
    path = write_csv(tmp_path / "t.csv", header, [synonym_row(1, TASKS[0])])
    code, _, err = dondoc("import", "tasks", str(path))
    assert code == 1
    assert "Dòng 1: cột F 'Ngày nhận' không phải là cột hệ thống đọc được" in err
    assert "Chưa nhập dữ liệu nào" in err
