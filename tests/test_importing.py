"""Import: good files in CSV and XLSX with English or Vietnamese headers; bad rows write nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import Document, DocumentKind, Official, Role, Task, TaskEvent, TaskStatus, Unit
from paperwork.importing import import_calendar, import_officials, import_tasks, import_units
from tests.conftest import NOW
from tests.files import (
    OFFICIAL_HEADER,
    OFFICIALS,
    TASK_HEADER,
    TASK_HEADER_VI,
    TASKS,
    UNIT_HEADER,
    UNITS,
    write_csv,
    write_xlsx,
)


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def load_register(session, tmp_path: Path, t) -> None:
    assert (await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)).ok
    assert (
        await import_officials(
            session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t
        )
    ).ok


async def snapshot(session) -> list[tuple]:
    """Everything import may touch, to prove a refused file changed nothing."""
    rows = []
    for model in (Unit, Official, Document, Task, TaskEvent):
        rows.append((model.__name__, await count(session, model)))
    tasks = await session.execute(
        select(Task.id, Task.content, Task.deadline, Task.status).order_by(Task.id)
    )
    return rows + [tuple(r) for r in tasks]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
@pytest.mark.parametrize("header", [TASK_HEADER, TASK_HEADER_VI], ids=["en", "vi"])
async def test_good_task_file_imports(session, tmp_path, t, writer, header) -> None:
    await load_register(session, tmp_path, t)
    path = writer(tmp_path / f"tasks{'.csv' if writer is write_csv else '.xlsx'}", header, TASKS)
    result = await import_tasks(session, path, t, now=NOW)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    session.expire_all()
    tasks = (
        await session.scalars(
            select(Task)
            .options(selectinload(Task.coordinating_units), selectinload(Task.document))
            .order_by(Task.id)
        )
    ).all()
    assert [t.id for t in tasks] == [4101, 4102, 4103, 4104]  # the empty id got the next number
    first, second, done, ongoing = tasks
    assert [u.code for u in first.coordinating_units] == ["Q1", "STP"]
    assert first.document.number == "105/TB-UBND" and first.document.kind is DocumentKind.NOTICE
    assert second.document_id == first.document_id  # dd/mm/yyyy and ISO name the same document
    assert second.lead_unit_id == first.lead_unit_id  # by unit name as well as by code
    assert (second.status, second.deadline) == (TaskStatus.IN_PROGRESS, date(2026, 11, 27))
    assert (done.status, done.completed_date, done.progress) == (
        TaskStatus.DONE,
        date(2026, 9, 25),
        100,
    )
    assert done.document.kind is DocumentKind.PLAN
    assert ongoing.deadline is None and ongoing.specialist_id is None
    assert await count(session, TaskEvent) == 4


async def test_reimporting_the_same_file_changes_nothing(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, [r for r in TASKS if r[0]])
    await import_tasks(session, path, t, now=NOW)
    before = await snapshot(session)
    again = await import_tasks(session, path, t, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert await snapshot(session) == before
    units = await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    officials = await import_officials(
        session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t
    )
    assert (units.created, units.updated, officials.created, officials.updated) == (0, 0, 0, 0)


async def test_changed_row_updates_the_task_and_records_it(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    await import_tasks(session, write_csv(tmp_path / "a.csv", TASK_HEADER, TASKS[:1]), t, now=NOW)
    changed = [*TASKS[0]]
    changed[12] = "15/01/2027"
    changed[8] = "STP"
    result = await import_tasks(
        session, write_csv(tmp_path / "b.csv", TASK_HEADER, [changed]), t, now=NOW
    )
    assert (result.created, result.updated) == (0, 1)
    task = await session.get_one(Task, 4101)
    assert (task.original_deadline, task.deadline) == (date(2026, 12, 28), date(2027, 1, 15))
    fields = (
        await session.scalars(
            select(TaskEvent.field).where(TaskEvent.task_id == 4101).order_by(TaskEvent.id)
        )
    ).all()
    assert fields == [None, "deadline", "coordinating_units"]


async def test_original_deadline_column_records_an_approved_extension(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    path = write_csv(
        tmp_path / "t.csv", [*TASK_HEADER, "original_deadline"], [[*TASKS[0], "30/11/2026"]]
    )
    assert (await import_tasks(session, path, t, now=NOW)).ok
    task = await session.get_one(Task, 4101)
    assert (task.original_deadline, task.deadline) == (date(2026, 11, 30), date(2026, 12, 28))
    assert (await import_tasks(session, path, t, now=NOW)).unchanged == 1


def bad(row: list[str], column: int, value: str) -> list[str]:
    row = [*row]
    row[column] = value
    return row


BAD_TASK_ROWS = [
    (bad(TASKS[0], 7, ""), "nhiệm vụ chưa có đơn vị chủ trì"),
    (bad(TASKS[0], 7, "SXX"), "không có đơn vị 'SXX'"),
    (bad(TASKS[0], 7, "SXD;STP"), "mỗi nhiệm vụ chỉ có một đơn vị chủ trì"),
    (bad(TASKS[0], 12, "31/02/2026"), "không phải là ngày hợp lệ"),
    (bad(TASKS[0], 12, "sớm nhất"), "không phải là ngày hợp lệ"),
    (bad(TASKS[0], 10, "STP-CV"), "chuyên viên 'STP-CV' không thuộc đơn vị chủ trì SXD"),
    (bad(TASKS[0], 9, "Q1-LD"), "lãnh đạo phụ trách 'Q1-LD' không thuộc đơn vị chủ trì SXD"),
    (bad(TASKS[0], 10, "NOBODY"), "không có cán bộ mã 'NOBODY'"),
    (bad(TASKS[0], 8, "SXD"), "không thể đồng thời là đơn vị phối hợp"),
    (bad(TASKS[0], 8, "ZZZ"), "không có đơn vị phối hợp 'ZZZ'"),
    (bad(TASKS[0], 13, "xong rồi"), "trạng thái 'xong rồi' không hợp lệ"),
    (bad(TASKS[0], 13, "hoàn thành"), "thiếu ngày hoàn thành"),
    (bad(TASKS[0], 14, "01/11/2026"), "có ngày hoàn thành nhưng trạng thái chưa phải hoàn thành"),
    (bad(TASKS[0], 6, ""), "thiếu nội dung nhiệm vụ"),
    (bad(TASKS[0], 0, "abc"), "không phải số nguyên dương"),
    (bad(TASKS[0], 12, "01/09/2026"), "trước ngày giao"),
    (bad(bad(TASKS[0], 11, ""), 2, ""), "thiếu ngày giao"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_TASK_ROWS, ids=[r for _, r in BAD_TASK_ROWS])
async def test_bad_task_row_is_reported_and_nothing_is_written(
    session, tmp_path, t, row, reason
) -> None:
    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, [TASKS[1], row, TASKS[2]])
    result = await import_tasks(session, path, t, now=NOW)
    assert not result.ok
    assert [e.row for e in result.errors] == [3], result.errors
    assert reason in result.errors[0].message
    assert await snapshot(session) == before


async def test_every_bad_row_is_reported_with_its_row_number(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    rows = [
        TASKS[0],
        bad(TASKS[1], 7, ""),
        TASKS[2],
        bad(TASKS[3], 12, "hôm qua"),
        bad(TASKS[2], 1, "1/CV"),
    ]
    rows[4][0] = "4103"
    result = await import_tasks(
        session, write_csv(tmp_path / "t.csv", TASK_HEADER, rows), t, now=NOW
    )
    assert [e.row for e in result.errors] == [3, 5, 6]
    assert "bị trùng (đã có ở dòng 4)" in result.errors[2].message
    assert await count(session, Task) == 0


async def test_missing_required_column_is_reported(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    header = [h for h in TASK_HEADER if h != "lead_unit_code"]
    rows = [[v for h, v in zip(TASK_HEADER, TASKS[0], strict=True) if h != "lead_unit_code"]]
    result = await import_tasks(session, write_csv(tmp_path / "t.csv", header, rows), t, now=NOW)
    assert [(e.row, e.message) for e in result.errors] == [
        (1, "thiếu cột bắt buộc 'lead_unit_code'")
    ]


async def test_dry_run_validates_and_writes_nothing(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    result = await import_tasks(
        session, write_csv(tmp_path / "t.csv", TASK_HEADER, TASKS), t, now=NOW, dry_run=True
    )
    assert result.ok and result.created == 4
    assert await snapshot(session) == before


async def test_units_with_duplicate_codes_or_unknown_parent_import_nothing(
    session, tmp_path, t
) -> None:
    rows = [
        *UNITS,
        ["SXD", "Sở Xây dựng (trùng)", "department", ""],
        ["P2", "Phòng 2", "other", "KHONGCO"],
        ["X", "X", "hành tinh", ""],
    ]
    result = await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, rows), t)
    assert [e.row for e in result.errors] == [7, 8, 9]
    assert "mã đơn vị 'SXD' bị trùng (đã có ở dòng 3)" in result.errors[0].message
    assert "không có đơn vị cấp trên 'KHONGCO'" in result.errors[1].message
    assert "loại đơn vị 'hành tinh' không hợp lệ" in result.errors[2].message
    assert await count(session, Unit) == 0


async def test_units_that_are_each_others_parent_are_refused(session, tmp_path, t) -> None:
    rows = [["A", "A", "other", "B"], ["B", "B", "other", "A"]]
    result = await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, rows), t)
    assert [e.row for e in result.errors] == [2, 3] and "vòng lặp" in result.errors[0].message


async def test_officials_get_their_roles_and_bad_ones_are_refused(session, tmp_path, t) -> None:
    await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    rows = [
        *OFFICIALS,
        ["X1", "Người Lạ", "", "NOWHERE", "", "", ""],
        ["X2", "Ai Đó", "", "VP", "vua", "", "không-phải-email"],
    ]
    result = await import_officials(
        session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, rows), t
    )
    assert [e.row for e in result.errors] == [7, 8]
    assert "không có đơn vị 'NOWHERE'" in result.errors[0].message
    assert (
        "vai trò 'vua' không hợp lệ" in result.errors[1].message
        and "thư điện tử" in result.errors[1].message
    )
    assert await count(session, Official) == 0
    assert (
        await import_officials(
            session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t
        )
    ).ok
    head = await session.scalar(select(Official).where(Official.code == "TCT"))
    assert head.roles == {Role.TASK_FORCE, Role.LEADER}
    defaulted = await session.scalar(select(Official).where(Official.code == "STP-CV"))
    assert defaulted.roles == {Role.SPECIALIST}


async def test_a_matrix_account_column_is_kept_and_a_file_without_it_erases_nothing(
    session, tmp_path, t
) -> None:
    await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    header = [*OFFICIAL_HEADER, "Tài khoản Matrix"]
    rows = [[*r, ""] for r in OFFICIALS]
    rows[2][-1] = "@ha.bm:thanhpho.gov.vn"
    result = await import_officials(session, write_csv(tmp_path / "o.csv", header, rows), t)
    assert result.ok and not result.ignored_columns
    assert (
        await import_officials(
            session, write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS), t
        )
    ).ok
    named = await session.scalar(select(Official).where(Official.code == "SXD-CV"))
    assert named.matrix_id == "@ha.bm:thanhpho.gov.vn"
    others = await session.scalars(select(Official.matrix_id).where(Official.code != "SXD-CV"))
    assert set(others.all()) == {None}


async def test_a_bad_or_repeated_matrix_account_refuses_the_file_naming_the_row(
    session, tmp_path, t
) -> None:
    await import_units(session, write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), t)
    header = [*OFFICIAL_HEADER, "matrix_id"]
    rows = [[*r, ""] for r in OFFICIALS]
    rows[0][-1] = "to@vp.gov.vn"  # an e-mail address, not a Matrix account
    rows[1][-1] = "@oanh.dt:thanhpho.gov.vn"
    rows[3][-1] = "@oanh.dt:thanhpho.gov.vn"
    result = await import_officials(session, write_csv(tmp_path / "o.csv", header, rows), t)
    assert [(e.row, e.message) for e in result.errors] == [
        (
            2,
            "'to@vp.gov.vn' không phải tài khoản Matrix (viết dạng @tên:máy-chủ, "
            "ví dụ @ha.bm:thanhpho.gov.vn)",
        ),
        (5, "tài khoản Matrix '@oanh.dt:thanhpho.gov.vn' bị trùng (đã có ở dòng 3)"),
    ]
    assert await count(session, Official) == 0


async def test_calendar_overrides_import(session, tmp_path, t) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        ["Ngày", "Làm việc", "Ghi chú"],
        [["22/08/2026", "1", "Làm bù"], ["31/12/2026", "nghỉ", ""]],
    )
    result = await import_calendar(session, path, t)
    assert result.ok and result.created == 2
    bad_path = write_csv(
        tmp_path / "d.csv", ["date", "working"], [["32/12/2026", "1"], ["2026-12-30", "có lẽ"]]
    )
    bad_result = await import_calendar(session, bad_path, t)
    assert [e.row for e in bad_result.errors] == [2, 3]


async def test_semicolon_csv_from_excel_is_read(session, tmp_path, t) -> None:
    path = write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS, delimiter=";")
    assert (await import_units(session, path, t)).created == len(UNITS)


async def test_unnumbered_task_file_imports_again_without_duplicates(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    rows = [["", *row[1:]] for row in TASKS]
    path = write_csv(tmp_path / "t.csv", TASK_HEADER, rows)
    assert (await import_tasks(session, path, t, now=NOW)).created == 4
    again = await import_tasks(session, path, t, now=NOW)
    assert (again.created, again.unchanged) == (0, 4)
    assert await count(session, Task) == 4


async def test_the_same_unnumbered_task_twice_in_a_file_is_refused(session, tmp_path, t) -> None:
    await load_register(session, tmp_path, t)
    row = ["", *TASKS[0][1:]]
    result = await import_tasks(
        session, write_csv(tmp_path / "t.csv", TASK_HEADER, [row, row]), t, now=NOW
    )
    assert [e.row for e in result.errors] == [3] and "dòng 2" in result.errors[0].message


def with_document(row: list[str], task_id: str, number: str, kind: str) -> list[str]:
    return bad(bad(bad(row, 0, task_id), 1, number), 3, kind)


KIND_ROWS = [
    (with_document(TASKS[2], "5001", "20/TB-UBND", "Thông báo kết luận"), DocumentKind.CONCLUSION),
    (with_document(TASKS[2], "5002", "21/TB-UBND", "THÔNG BÁO KẾT LUẬN"), DocumentKind.CONCLUSION),
    (with_document(TASKS[2], "5003", "1234/UBND-KT", "Công văn"), DocumentKind.LETTER),
    (with_document(TASKS[2], "5004", "7/TTr-SXD", "Tờ trình"), DocumentKind.OTHER),
    (with_document(TASKS[2], "5005", "12/NQ-HĐND", ""), DocumentKind.RESOLUTION),
]


async def test_a_document_kind_never_refuses_a_row_and_is_kept_as_written(
    session, tmp_path, t
) -> None:
    await load_register(session, tmp_path, t)
    path = write_csv(tmp_path / "t.csv", TASK_HEADER, [row for row, _ in KIND_ROWS])
    result = await import_tasks(session, path, t, now=NOW)
    assert result.ok, result.errors
    documents = {d.number: d for d in (await session.scalars(select(Document))).all()}
    assert [(documents[row[1]].kind_label, documents[row[1]].kind) for row, _ in KIND_ROWS] == [
        (row[3], kind) for row, kind in KIND_ROWS
    ]


async def test_a_later_file_without_the_label_keeps_the_label_and_its_kind(
    session, tmp_path, t
) -> None:
    await load_register(session, tmp_path, t)
    labelled = with_document(TASKS[0], "4101", "105/TB-UBND", "Thông báo kết luận")
    await import_tasks(session, write_csv(tmp_path / "a.csv", TASK_HEADER, [labelled]), t, now=NOW)
    await import_tasks(session, write_csv(tmp_path / "b.csv", TASK_HEADER, TASKS[:1]), t, now=NOW)
    document = await session.scalar(select(Document))
    assert (document.kind_label, document.kind) == ("Thông báo kết luận", DocumentKind.CONCLUSION)


async def test_unit_aliases_are_read_semicolon_separated_and_kept_when_left_empty(
    session, tmp_path, t
) -> None:
    header = ["code", "name", "kind", "parent_code", "Tên khác"]
    first = [["SKHDT", "Sở Kế hoạch và Đầu tư", "department", "", " Sở KH&ĐT ; Sở KHĐT;"]]
    assert (await import_units(session, write_csv(tmp_path / "a.csv", header, first), t)).ok
    unit = await session.scalar(select(Unit).where(Unit.code == "SKHDT"))
    assert unit.aliases == "Sở KH&ĐT; Sở KHĐT"
    again = [["SKHDT", "Sở Kế hoạch và Đầu tư", "department", "", ""]]
    result = await import_units(session, write_csv(tmp_path / "b.csv", header, again), t)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    session.expire_all()
    unit = await session.scalar(select(Unit).where(Unit.code == "SKHDT"))
    assert unit.aliases == "Sở KH&ĐT; Sở KHĐT"
