"""The report: every column worked out by hand for the small city, and the files read back."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from locales import translator
from models.calendar import WorkingCalendar
from models.clock import FixedClock
from models.reports import Period, build_report, period_bounds, previous_period
from models.statistics import FiveColumns
from models.tasks import Task
from paperwork.report_files import write_csv
from paperwork.report_workbook import write_xlsx
from tests.city import City
from tests.conftest import NOW

T = translator("vi")


def test_periods() -> None:
    end = date(2026, 11, 25)
    assert period_bounds(Period.WEEKLY, end) == (date(2026, 11, 19), end)
    assert period_bounds(Period.BIWEEKLY, end) == (date(2026, 11, 12), end)
    assert period_bounds(Period.MONTHLY, end) == (date(2026, 11, 1), end)
    assert period_bounds(Period.QUARTERLY, end) == (date(2026, 10, 1), end)
    assert previous_period(Period.MONTHLY, date(2026, 11, 1)) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert previous_period(Period.QUARTERLY, date(2026, 10, 1)) == (
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    assert previous_period(Period.WEEKLY, date(2026, 11, 19)) == (
        date(2026, 11, 12),
        date(2026, 11, 18),
    )


async def monthly(session, **options):
    return await build_report(
        session,
        Period.MONTHLY,
        date(2026, 11, 25),
        WorkingCalendar(),
        due_soon_days=3,
        past=False,
        **options,
    )


async def test_five_columns_per_unit_worked_out_by_hand(session, city: City) -> None:
    report = await monthly(session)
    by_unit = {u.code: u.columns for u in report.units}
    # SXD: 4101 in time, 4102 due soon (in time), 4103 overdue.
    assert by_unit["SXD"] == FiveColumns(3, 0, 0, 2, 1)
    # STP: 4104 done 10/11 before its deadline 16/11; 4105 done 20/11 after 18/11.
    assert by_unit["STP"] == FiveColumns(2, 1, 1, 0, 0)
    # Q1: 4106 ongoing; 4107 overdue on its original deadline, in time on the extension.
    assert by_unit["Q1"] == FiveColumns(2, 0, 0, 2, 0)
    assert report.total == FiveColumns(7, 1, 1, 4, 1) and report.total.on_time_rate == 0.5
    assert [u.code for u in report.units] == ["SXD", "STP", "Q1"]  # worst first


async def test_previous_period_reads_the_past_as_it_was(session, city: City) -> None:
    report = await monthly(session)
    # On 31/10 nothing was done yet and nothing overdue: all seven in progress in time.
    assert report.previous_total == FiveColumns(7, 0, 0, 7, 0)


async def test_a_task_done_before_the_period_is_not_counted(session, city: City) -> None:
    weekly = await build_report(
        session, Period.WEEKLY, date(2026, 11, 25), WorkingCalendar(), due_soon_days=3, past=False
    )
    # 4104 was done on 10/11, before the week of 19–25/11.
    assert {u.code: u.columns for u in weekly.units}["STP"] == FiveColumns(1, 0, 1, 0, 0)


async def test_per_official_columns_and_the_overdue_list_and_data_errors(
    session, city: City
) -> None:
    report = await monthly(session)
    people = {(p.code, p.role): p.columns for p in report.officials}
    assert people[("SXD-LD", "leader")] == FiveColumns(3, 0, 0, 2, 1)
    assert people[("STP-CV", "specialist")] == FiveColumns(2, 1, 1, 0, 0)
    assert [
        (r.task_id, r.days_overdue, r.leader_name, r.specialist_name) for r in report.overdue
    ] == [(4103, 5, "Đặng Thanh Oanh", "Bùi Minh Hà")]
    assert [(e.task_id, e.problem) for e in report.errors] == [(4106, "no deadline")]


async def test_one_units_report(session, city: City) -> None:
    report = await monthly(session, unit_id=city.units["STP"].id)
    assert [u.code for u in report.units] == ["STP"] and report.overdue == []


async def test_xlsx_has_the_sheets_the_office_prints(session, city: City, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    write_xlsx(path, await monthly(session), T)
    book = load_workbook(path)
    assert book.sheetnames == [
        "Tổng hợp",
        "Quá hạn",
        "Theo cán bộ",
        "Lỗi dữ liệu",
        "Giải trình",
        "Phối hợp",
    ]
    summary = book["Tổng hợp"]
    assert [c.value for c in summary[1]][:7] == [
        "Mã đơn vị",
        "Đơn vị",
        "Tổng số được giao",
        "Hoàn thành đúng hạn",
        "Hoàn thành quá hạn",
        "Đang thực hiện trong hạn",
        "Quá hạn",
    ]
    assert [c.value for c in summary[2]][:10] == ["SXD", "Sở Xây dựng", 3, 0, 0, 2, 1, None, 0, 1]
    assert [c.value for c in summary[5]][1:8] == ["Tổng", 7, 1, 1, 4, 1, 0.5]
    assert summary.freeze_panes == "A2" and summary.page_setup.orientation == "landscape"
    overdue = book["Quá hạn"]
    row = [c.value for c in overdue[2]]
    assert row[0] == 4103 and row[4].date() == date(2026, 11, 20) and row[5] == 5
    assert row[3].startswith("Thông báo ") and row[6] == "Đặng Thanh Oanh"
    assert overdue.cell(2, 5).number_format == "DD/MM/YYYY"
    assert overdue.freeze_panes == "A2" and overdue.print_title_rows == "$1:$1"
    assert summary.cell(5, 2).font.bold and summary.cell(1, 1).font.bold
    assert summary.column_dimensions["B"].width > len("Sở Xây dựng")
    assert [c.value for c in book["Lỗi dữ liệu"][2]][3] == "không có thời hạn (thường xuyên)"


async def test_csv_is_the_summary_table(session, city: City, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.csv"
    write_csv(path, await monthly(session), T)
    with path.open(encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == "Mã đơn vị" and rows[1][:7] == [
        "SXD",
        "Sở Xây dựng",
        "3",
        "0",
        "0",
        "2",
        "1",
    ]
    assert rows[-1][1:7] == ["Tổng", "7", "1", "1", "4", "1"]


def test_dondoc_report_writes_the_file(
    database_url: str, city: City, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    monkeypatch.delenv("DONDOC_LANGUAGE", raising=False)
    path = tmp_path / "thang.xlsx"
    assert (
        main(["report", "monthly", "--at", "2026-11-25", "-o", str(path)], clock=FixedClock(NOW))
        == 0
    )
    out = capsys.readouterr().out
    assert "Báo cáo tháng: từ 01/11/2026 đến 25/11/2026: 7 nhiệm vụ, 1 hoàn thành đúng hạn" in out
    assert load_workbook(path)["Tổng hợp"].max_row == 5
    assert main(["report", "monthly", "--unit", "KHONGCO"], clock=FixedClock(NOW)) == 2
    assert "Không có đơn vị mã 'KHONGCO'." in capsys.readouterr().err


async def test_chart_is_a_phone_sized_png(session, city: City, tmp_path: Path) -> None:
    from matplotlib.image import imread

    from paperwork.report_chart import write_chart

    path = tmp_path / "bieu-do.png"
    write_chart(path, await monthly(session), T)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = imread(path).shape
    assert (width, height) == (1080, 1350)


async def test_the_public_list_names_late_units_and_people(
    session, city: City, tmp_path: Path
) -> None:
    from paperwork.public_list import write_public_csv, write_public_html

    report = await build_report(
        session,
        Period.QUARTERLY,
        date(2026, 11, 25),
        WorkingCalendar(),
        due_soon_days=3,
        past=False,
    )
    html_path, csv_path = tmp_path / "cong-khai.html", tmp_path / "cong-khai.csv"
    write_public_html(html_path, report, T)
    write_public_csv(csv_path, report, T)
    page = html_path.read_text(encoding="utf-8")
    assert "<h1>Đơn vị và cá nhân chậm thực hiện nhiệm vụ</h1>" in page
    assert "<td>Sở Xây dựng</td><td>3</td><td>0</td><td>1</td>" in page
    assert "<td>Sở Tư pháp</td><td>2</td><td>1</td><td>0</td>" in page
    assert "Quận Trung Tâm" not in page  # nothing late there
    assert (
        "<td>Lê Thị Hạnh</td><td>Sở Tư pháp</td><td>lãnh đạo phụ trách</td><td>1</td><td>0</td>"
        in page
    )
    with csv_path.open(encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    # One late task each: in the order of their names.
    assert rows[1] == ["đơn vị", "Sở Tư pháp", "Sở Tư pháp", "", "1", "0", ""]
    assert rows[2] == ["đơn vị", "Sở Xây dựng", "Sở Xây dựng", "", "0", "1", ""]
    assert len(rows) == 1 + 2 + 4  # two units, two leaders and two specialists


async def test_done_on_the_deadline_day_is_on_time(session, city: City) -> None:
    from models.task_changes import Actor, mark_done
    from models.tasks import Channel

    task = await session.get_one(Task, 4102)  # due Friday 27/11
    mark_done(session, task, Actor(None, Channel.IMPORT, NOW), date(2026, 11, 27), "Đã ban hành")
    await session.flush()
    report = await build_report(
        session, Period.MONTHLY, date(2026, 11, 30), WorkingCalendar(), due_soon_days=3, past=False
    )
    # SXD: 4101 in time, 4102 done on its deadline day (on time), 4103 overdue.
    assert {u.code: u.columns for u in report.units}["SXD"] == FiveColumns(3, 1, 0, 1, 1)


async def test_a_reassigned_task_counts_for_the_unit_in_charge_at_the_moment(
    session, city: City
) -> None:
    from models.task_changes import Actor, update_fields
    from models.tasks import Channel, TaskEvent

    task = await session.get_one(Task, 4103)  # overdue since 20/11, with SXD
    handed_over = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # Thursday 10:00 in Hà Nội
    update_fields(
        session,
        task,
        Actor(None, Channel.IMPORT, handed_over),
        {"lead_unit_id": city.units["STP"].id},
        note="Giao lại cho Sở Tư pháp",
    )
    await session.flush()

    async def overdue_by_unit(day: date, past: bool) -> dict[str, int]:
        report = await build_report(
            session, Period.MONTHLY, day, WorkingCalendar(), due_soon_days=3, past=past
        )
        return {u.code: u.columns.overdue for u in report.units}

    # Today (26/11) the task is Sở Tư pháp's; on 25/11 it was still Sở Xây dựng's.
    assert await overdue_by_unit(date(2026, 11, 26), past=False) == {"STP": 1, "SXD": 0, "Q1": 0}
    assert await overdue_by_unit(date(2026, 11, 25), past=True) == {"SXD": 1, "STP": 0, "Q1": 0}
    one_unit = await build_report(
        session,
        Period.MONTHLY,
        date(2026, 11, 25),
        WorkingCalendar(),
        due_soon_days=3,
        past=True,
        unit_id=city.units["SXD"].id,
    )
    assert one_unit.total.overdue == 1
    # The history shows both units.
    events = (
        await session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == 4103, TaskEvent.field == "lead_unit_id")
        )
    ).all()
    assert [(e.old_value, e.new_value) for e in events] == [
        (str(city.units["SXD"].id), str(city.units["STP"].id))
    ]


def test_dondoc_report_writes_each_table_as_csv(
    database_url: str, city: City, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    monkeypatch.delenv("DONDOC_LANGUAGE", raising=False)

    def table(name: str) -> list[list[str]]:
        path = tmp_path / f"{name}.csv"
        argv = ["report", "monthly", "--format", "csv", "--table", name, "-o", str(path)]
        assert main(argv, clock=FixedClock(NOW)) == 0
        with path.open(encoding="utf-8-sig") as file:
            return list(csv.reader(file))

    overdue = table("overdue")
    assert overdue[0][:5] == [
        "Số nhiệm vụ",
        "Nội dung nhiệm vụ",
        "Đơn vị chủ trì",
        "Văn bản giao",
        "Thời hạn",
    ]
    assert overdue[1][0] == "4103" and overdue[1][4] == "2026-11-20" and overdue[1][5] == "5"
    officials = table("officials")
    assert [
        "SXD-LD",
        "Đặng Thanh Oanh",
        "Sở Xây dựng",
        "lãnh đạo phụ trách",
        "3",
        "0",
        "0",
        "2",
        "1",
        "",
        "97.0",  # the score by the shipped formula, 100 − (2 + 0.2 × 5)
        "3",  # the last of the three leaders in charge
    ] in officials
    errors = table("errors")
    assert errors[1][0] == "4106" and errors[1][3] == "không có thời hạn (thường xuyên)"
    assert table("summary")[-1][1] == "Tổng"
