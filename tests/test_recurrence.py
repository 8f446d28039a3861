"""Recurring duties: the rules as offices write them, and a series over simulated months —
across Tết, ended mid-way, each occurrence created once and announced once."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.sandbox import Sandbox
from locales import TIMEZONE, translator
from models import Series, Task, TaskStatus
from models.calendar import WorkingCalendar
from models.clock import FixedClock
from models.recurrence import LAST, Kind, Rule, Shift, parse_rule, shifted
from models.task_changes import Actor, mark_done
from models.tasks import Channel
from paperwork.importing import import_tasks
from tests.city import City
from tests.core_chat import CoreChat
from tests.files import TASK_HEADER, write_csv
from tests.jobs_sim import TOKEN, Simulation

FIRST = date(2026, 12, 8)  # a Tuesday


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("monthly:20", Rule(Kind.MONTHLY, 20)),
        ("monthly:last", Rule(Kind.MONTHLY, LAST)),
        ("weekly:fri", Rule(Kind.WEEKLY, 4)),
        ("quarterly:15", Rule(Kind.QUARTERLY, 15)),
        ("yearly:15/12", Rule(Kind.YEARLY, 15, 12)),
        ("monthly", Rule(Kind.MONTHLY, 8)),  # the bare word: the first deadline's day
        ("weekly", Rule(Kind.WEEKLY, 1)),
        ("yearly", Rule(Kind.YEARLY, 8, 12)),
        ("Hằng tháng, trước ngày 20", Rule(Kind.MONTHLY, 20)),
        ("hang thang, truoc ngay 20", Rule(Kind.MONTHLY, 20)),
        ("Báo cáo định kỳ hằng tháng", Rule(Kind.MONTHLY, 8)),
        ("hàng tuần", Rule(Kind.WEEKLY, 1)),
        ("hằng tuần, thứ Sáu", Rule(Kind.WEEKLY, 4)),
        ("hằng quý, ngày cuối quý", Rule(Kind.QUARTERLY, LAST)),
        ("hằng năm, trước ngày 15/12", Rule(Kind.YEARLY, 15, 12)),
        ("Hằng năm", Rule(Kind.YEARLY, 8, 12)),
    ],
)
def test_rules_are_read_as_offices_write_them(written: str, rule: Rule) -> None:
    assert parse_rule(written, FIRST) == rule


@pytest.mark.parametrize(
    "written", ["monthly:32", "weekly:xyz", "yearly:31/02", "every month", "hằng ngày", "x:1"]
)
def test_what_is_not_a_rule_is_refused(written: str) -> None:
    assert parse_rule(written, FIRST) is None


def test_bare_quarterly_needs_a_deadline_in_the_quarters_last_month() -> None:
    assert parse_rule("quarterly", date(2026, 12, 20)) == Rule(Kind.QUARTERLY, 20)
    assert parse_rule("quarterly", date(2026, 11, 20)) is None


def test_the_next_date_is_in_the_next_period() -> None:
    assert Rule(Kind.MONTHLY, 31).after(date(2027, 1, 31)) == date(2027, 2, 28)
    assert Rule(Kind.MONTHLY, 31).after(date(2027, 2, 28)) == date(2027, 3, 31)
    assert Rule(Kind.QUARTERLY, LAST).after(date(2027, 3, 31)) == date(2027, 6, 30)
    assert Rule(Kind.WEEKLY, 4).after(date(2026, 12, 4)) == date(2026, 12, 11)
    assert Rule(Kind.YEARLY, 15, 12).after(date(2026, 12, 15)) == date(2027, 12, 15)
    # A first deadline moved off a day off still leads to the rule's next date.
    assert Rule(Kind.MONTHLY, 8).after(date(2027, 2, 3)) == date(2027, 3, 8)


def test_a_date_in_tet_moves_to_a_working_day() -> None:
    calendar = WorkingCalendar()
    # Tết Đinh Mùi: 04/02/2027 (Thursday) to 10/02/2027 (Wednesday) are days off.
    assert shifted(date(2027, 2, 8), calendar, Shift.PREVIOUS) == date(2027, 2, 3)
    assert shifted(date(2027, 2, 8), calendar, Shift.NEXT) == date(2027, 2, 11)
    assert shifted(date(2027, 1, 8), calendar, Shift.PREVIOUS) == date(2027, 1, 8)


# ------------------------------------------------------------------ simulated months

IMPORTED = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)
DUTY = "Báo cáo tình hình cải cách hành chính hằng tháng"


@pytest.fixture
async def sim(sessions, city: City):
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        simulation = Simulation(sessions, sandbox, bot, city)
        await simulation.link(*city.officials)
        yield simulation
    await sandbox.stop()


async def import_duty(sessions, tmp_path: Path, recurrence: str) -> int:
    header = [*TASK_HEADER, "Định kỳ"]
    row = [
        "",
        "105/TB-UBND",
        "03/10/2026",
        "Thông báo",
        "",
        "",
        DUTY,
        "SXD",
        "STP",
        "SXD-LD",
        "SXD-CV",
        "25/11/2026",
        FIRST.strftime("%d/%m/%Y"),
        "chưa thực hiện",
        "",
        recurrence,
    ]
    path = write_csv(tmp_path / "dinh-ky.csv", header, [row])
    async with sessions() as session:
        result = await import_tasks(session, path, translator("vi"), now=IMPORTED)
    assert result.ok and result.created == 1, result.errors
    async with sessions() as session:
        return await session.scalar(select(Task.id).where(Task.content == DUTY))


async def occurrences(sessions) -> list[tuple[int, date, date, TaskStatus]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Task.id, Task.series_date, Task.deadline, Task.status)
            .where(Task.series_id.is_not(None))
            .order_by(Task.series_date)
        )
        return [tuple(row) for row in rows]


async def finish(sessions, task_id: int, day: date) -> None:
    async with sessions() as session, session.begin():
        task = await session.get_one(Task, task_id)
        moment = datetime.combine(day, time(10), TIMEZONE)
        mark_done(session, task, Actor(None, Channel.CLI, moment), day, "Đã gửi báo cáo")


NEW_TASK = "📋 Đồng chí được giao 1 nhiệm vụ mới:"


async def test_a_monthly_series_across_tet_moves_to_a_working_day(sim, tmp_path: Path) -> None:
    first = await import_duty(sim.sessions, tmp_path, "hằng tháng, trước ngày 8")
    await sim.tick(IMPORTED)  # the import's announcement goes out
    told = [r for r in sim.received if r.text.startswith(NEW_TASK)]
    assert sorted(r.code for r in told) == ["SXD-CV", "SXD-LD"]
    assert f"#{first} {DUTY}" in told[0].text

    # Done early: the January occurrence is created by the next sweep, not before.
    await sim.run(date(2026, 11, 26), date(2026, 12, 3), times=(time(9),))
    assert len(await occurrences(sim.sessions)) == 1
    await finish(sim.sessions, first, date(2026, 12, 4))
    await sim.run(date(2026, 12, 4), date(2027, 2, 5), times=(time(9),))

    found = await occurrences(sim.sessions)
    assert [(nominal, deadline) for _, nominal, deadline, _ in found] == [
        (date(2026, 12, 8), date(2026, 12, 8)),
        (date(2027, 1, 8), date(2027, 1, 8)),
        # 08/02/2027 is the fourth day of Tết: due the working day before the holiday.
        (date(2027, 2, 8), date(2027, 2, 3)),
    ]
    january, february = found[1][0], found[2][0]
    announced = sorted(
        (r.at.date(), r.code) for r in sim.received if r.text.startswith("📋 Đồng chí được giao")
    )
    # Each occurrence announced once to its two people: January at once (the previous one
    # done), February 10 working days before its deadline.
    assert announced == [
        (date(2026, 11, 25), "SXD-CV"),
        (date(2026, 11, 25), "SXD-LD"),
        (date(2026, 12, 4), "SXD-CV"),
        (date(2026, 12, 4), "SXD-LD"),
        (date(2027, 1, 20), "SXD-CV"),
        (date(2027, 1, 20), "SXD-LD"),
    ]
    assert WorkingCalendar().working_days_between(date(2027, 1, 20), date(2027, 2, 3)) == 10
    # Each occurrence is a task of its own: reminded before its own deadline.
    reminders = [r for r in sim.received if r.text.startswith(f"⏰ Nhiệm vụ #{february}")]
    assert reminders and "hạn thứ Tư, 03/02/2027" in reminders[0].text
    async with sim.sessions() as session:
        copy = await session.get_one(Task, january)
        assert (copy.lead_unit_id, copy.specialist_id, copy.status) == (
            sim.city.units["SXD"].id,
            sim.city.officials["SXD-CV"].id,
            TaskStatus.NOT_STARTED,
        )
    # A sweep run again at the same moment creates and sends nothing more.
    before = len(sim.received)
    counts = await sim.tick(datetime(2027, 2, 5, 9, 0, tzinfo=TIMEZONE))
    assert counts["recurrence"] == 0 and len(sim.received) == before
    assert len(await occurrences(sim.sessions)) == 3


async def test_a_series_ended_mid_way_keeps_the_past_and_makes_no_more(sim, tmp_path: Path) -> None:
    first = await import_duty(sim.sessions, tmp_path, "monthly")
    await finish(sim.sessions, first, date(2026, 12, 4))
    await sim.run(date(2026, 12, 4), date(2026, 12, 7), times=(time(9),))
    [_, (january, *_)] = await occurrences(sim.sessions)

    chat = CoreChat(sim.sessions, clock=FixedClock(datetime(2026, 12, 7, 10, tzinfo=TIMEZONE)))
    # Not the task force: refused, nothing changes.
    [refusal] = await chat.say(sim.chat("SXD-LD"), f"/dungdinhky {january}")
    assert refusal.startswith("Chỉ Tổ công tác mới dừng nhiệm vụ định kỳ")
    async with sim.sessions() as session:
        assert (await session.scalar(select(Series))).ended_at is None
    # Any occurrence's number ends the whole series.
    [reply] = await chat.say(sim.chat("TCT"), f"/endseries {first}")
    assert reply.startswith(f"🔁 Đã dừng nhiệm vụ định kỳ của nhiệm vụ #{first} (hằng tháng")
    [again] = await chat.say(sim.chat("TCT"), f"/dungdinhky {january}")
    assert again.startswith(f"Nhiệm vụ định kỳ của nhiệm vụ #{january} đã được dừng từ ngày")

    await finish(sim.sessions, january, date(2026, 12, 8))
    await sim.run(date(2026, 12, 8), date(2027, 3, 31), times=(time(9),))
    assert [(task_id, status) for task_id, _, _, status in await occurrences(sim.sessions)] == [
        (first, TaskStatus.DONE),
        (january, TaskStatus.DONE),
    ]
    [show] = await chat.say(sim.chat("TCT"), f"/xem {january}")
    assert "🔁 Định kỳ: hằng tháng, trước ngày 8 — đã dừng từ 07/12/2026" in show


async def test_an_unreadable_recurrence_refuses_the_file(sessions, city, tmp_path: Path) -> None:
    header = [*TASK_HEADER, "Lặp lại"]
    row = ["", "", "", "", "", "", DUTY, "SXD", "", "", "", "25/11/2026", "", "", "", "monthly"]
    other = [*row[:6], "Khác", *row[7:12], "20/12/2026", *row[13:15], "mỗi khi"]
    path = write_csv(tmp_path / "x.csv", header, [row, other])
    async with sessions() as session:
        result = await import_tasks(session, path, translator("vi"), now=IMPORTED)
    assert [e.row for e in result.errors] == [2, 3]
    assert "nhiệm vụ định kỳ cần có thời hạn" in result.errors[0].message
    assert "không đọc được định kỳ 'mỗi khi'" in result.errors[1].message


async def test_the_export_writes_the_rule_and_imports_back_unchanged(
    sessions, city, tmp_path: Path
) -> None:
    from models.status import StatusWindow
    from paperwork.exporting import export_tasks
    from paperwork.tabular import read_table

    first = await import_duty(sessions, tmp_path, "Hằng tháng, trước ngày 8")
    exported = tmp_path / "xuat.csv"
    window = StatusWindow.at(IMPORTED.date(), WorkingCalendar(), 3)
    async with sessions() as session:
        assert await export_tasks(session, exported, window, translator("vi")) == 8
    rules = {r["id"]: r["recurrence"] for _, r in read_table(exported).records()}
    assert rules[str(first)] == "monthly:8" and rules["4101"] == ""
    async with sessions() as session:
        again = await import_tasks(session, exported, translator("vi"), now=IMPORTED)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)


def test_an_old_series_starts_again_from_the_first_date_still_ahead() -> None:
    from models.recurrence import next_due

    series = Series(rule="monthly:8")
    old = Task(series_date=date(2026, 6, 8), status=TaskStatus.DONE)
    old.series = series
    today = date(2026, 11, 25)
    assert next_due(old, today, WorkingCalendar(), Shift.PREVIOUS, 10) == (
        date(2026, 12, 8),
        date(2026, 12, 8),
    )
    # Not done, and its next date still far: nothing yet.
    recent = Task(series_date=date(2026, 11, 8), status=TaskStatus.IN_PROGRESS)
    recent.series = series
    assert next_due(recent, today, WorkingCalendar(), Shift.PREVIOUS, 5) is None
