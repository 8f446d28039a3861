"""The report built whole from one order, and the parts of
its numbers counted in SQL: the data errors and the tasks at risk."""

from __future__ import annotations

import random
from datetime import date, timedelta

from messages.report_build import ReportOrder, build_report_files
from models.attachments import FileKind
from models.calendar import WorkingCalendar
from models.defaults import Nagging
from models.nagging import at_risk, risk_by_unit
from models.report_store import data_version
from models.reports import DataError, Period, data_errors
from models.status import StatusWindow
from models.tasks import Task, TaskStatus
from tests.city import City

TODAY = date(2026, 11, 25)
MONTH = ReportOrder(Period.MONTHLY, TODAY)


async def test_a_task_with_no_one_and_no_deadline_is_listed_once_per_problem(
    session, city: City
) -> None:
    task = await session.get(Task, 4102)
    task.leader_id = task.specialist_id = task.deadline = None
    await session.commit()
    errors = await data_errors(session, StatusWindow.at(TODAY, WorkingCalendar(), 3))
    assert errors == [
        DataError(4102, "Tham mưu kế hoạch cải cách hành chính 2027", "Sở Xây dựng", problem)
        for problem in ("no specialist", "no leader", "no deadline")
    ] + [DataError(4106, "Quản lý vỉa hè, lòng đường", "Quận Trung Tâm", "no deadline")]


async def test_tasks_at_risk_counted_per_unit_agree_with_the_list(session, city: City) -> None:
    """The groups counted in SQL give each unit the number of tasks `at_risk` lists, for tasks
    of every progress, assigned day and deadline around the thresholds."""
    draw = random.Random(14)
    units = [city.units[code].id for code in ("SXD", "STP", "Q1")]
    for n in range(300):
        assigned = TODAY - timedelta(days=draw.randrange(60))
        session.add(
            Task(
                id=9000 + n,
                content=f"Nhiệm vụ {n}",
                lead_unit_id=draw.choice(units),
                assigned_date=assigned,
                deadline=TODAY + timedelta(days=draw.randrange(-3, 20)),
                status=draw.choice([TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS]),
                progress=draw.choice([0, 10, 29, 30, 31, 49, 50, 51, 90]),
                created_at=city.tasks[4101].created_at,
                updated_at=city.tasks[4101].created_at,
            )
        )
    await session.commit()
    calendar, rules = WorkingCalendar(), Nagging()
    window = StatusWindow.at(TODAY, calendar, 3)
    codes = {unit.id: unit.code for unit in city.units.values()}
    listed: dict[str, int] = {}
    for row in await at_risk(session, window, calendar, rules):
        listed[codes[row.unit_id]] = listed.get(codes[row.unit_id], 0) + 1
    assert sum(listed.values()) > 20
    assert await risk_by_unit(session, window, calendar, rules) == listed
    one = city.units["STP"].id
    assert await risk_by_unit(session, window, calendar, rules, one) == {"STP": listed["STP"]}


async def test_the_order_gives_the_summary_and_the_files_of_the_data_version(
    session, city: City
) -> None:
    built = await build_report_files(session, ReportOrder(Period.MONTHLY, TODAY, language="en"))
    assert built.version == await data_version(session)
    assert built.summary.startswith("📊 Monthly report: 01/11/2026 – 25/11/2026")
    chart, workbook = built.files
    assert chart.kind is FileKind.PHOTO and chart.content.startswith(b"\x89PNG")
    assert workbook.filename == "bao-cao-monthly-toan-thanh-pho-2026-11-25.xlsx"
    one = ReportOrder(Period.MONTHLY, TODAY, unit_id=city.units["SXD"].id)
    unit = await build_report_files(session, one)
    assert unit.summary.startswith("📊 Báo cáo tháng: từ 01/11/2026 đến 25/11/2026 — Sở Xây dựng")
    assert unit.files[1].filename == "bao-cao-monthly-SXD-2026-11-25.xlsx"
