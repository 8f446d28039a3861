"""The jobs over simulated days: exactly who gets what and when, sent once, in working hours."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select
from telegram import Bot

from bot.sandbox import Sandbox
from jobs.cadence import Cadence, first_working_day_of_week
from jobs.reminders import applicable_offset
from locales import TIMEZONE
from models import Notice, OutboxMessage, Task, Urging
from models.attachments import Attachment as AttachmentRow
from models.calendar import WorkingCalendar
from models.task_changes import Actor, approve_deadline, mark_done
from models.tasks import Channel
from tests.city import City
from tests.jobs_sim import TOKEN, Simulation


def at(day: int, month: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TIMEZONE)


# ------------------------------------------------------------------ rules beneath


def test_next_working_moment_waits_for_the_next_working_morning() -> None:
    calendar, cadence = WorkingCalendar(), Cadence()
    assert cadence.next_working_moment(at(27, 11, 10), calendar) == at(27, 11, 10)
    assert cadence.next_working_moment(at(27, 11, 18), calendar) == at(30, 11, 7, 30)  # Fri evening
    assert cadence.next_working_moment(at(28, 11, 10), calendar) == at(30, 11, 7, 30)  # Saturday
    assert cadence.next_working_moment(at(23, 11, 6), calendar) == at(23, 11, 7, 30)  # early Monday
    assert cadence.next_working_moment(at(23, 11, 17), calendar) == at(
        25, 11, 7, 30
    )  # 24/11 is a holiday


def test_week_of_tet_has_no_first_working_day() -> None:
    calendar = WorkingCalendar()
    assert first_working_day_of_week(date(2026, 2, 18), calendar) is None
    assert first_working_day_of_week(date(2026, 4, 29), calendar) == date(
        2026, 4, 28
    )  # 27/4 Giỗ Tổ observed


@pytest.mark.parametrize(
    ("days_left", "offset"), [(8, None), (7, 7), (5, 7), (3, 3), (2, 3), (1, 1), (0, 0)]
)
def test_a_missed_reminder_is_sent_late_rather_than_never(
    days_left: int, offset: int | None
) -> None:
    assert applicable_offset(days_left, (7, 3, 1)) == offset


# ------------------------------------------------------------------ simulated days


@pytest.fixture
async def sim(sessions, city: City):
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        simulation = Simulation(sessions, sandbox, bot, city)
        await simulation.link(*[code for code in city.officials if code != "Q1-CV"])
        yield simulation
    await sandbox.stop()


FORTNIGHT = [
    (
        "Mon 23/11 07:30",
        "SXD-CV",
        "⏰ Nhiệm vụ #4102 còn 3 ngày làm việc (hạn thứ Sáu, 27/11/2026).",
    ),
    (
        "Mon 23/11 07:30",
        "SXD-LD",
        "⏰ Nhiệm vụ #4102 còn 3 ngày làm việc (hạn thứ Sáu, 27/11/2026).",
    ),
    (
        "Mon 23/11 07:30",
        "TCT",
        "🔴 Nhiệm vụ #4103 đã quá hạn (hạn 20/11/2026). Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà.",
    ),
    (
        "Mon 23/11 07:30",
        "SXD-LD",
        "🔴 Nhiệm vụ #4103 đã quá hạn (hạn 20/11/2026). Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà.",
    ),
    # Once a working day at 07:30: every open task was last updated on 05/10 (silent for
    # more than two periods: the specialists, and the leaders copied, get one list each),
    # and #4107 is at risk. Q1-CV, unlinked, is reported at once.
    (
        "Mon 23/11 07:30",
        "Q1-LD",
        "⚠️ Nhiệm vụ #4107 có nguy cơ chậm: đã qua 74% thời gian, tiến độ 0% (hạn thứ Năm, 10/12/2026, còn 12 ngày làm việc).",
    ),
    ("Mon 23/11 07:30", "Q1-LD", "🕓 2 nhiệm vụ chưa được cập nhật từ lâu:"),
    ("Mon 23/11 07:30", "SXD-CV", "🕓 3 nhiệm vụ chưa được cập nhật từ lâu:"),
    ("Mon 23/11 07:30", "SXD-LD", "🕓 3 nhiệm vụ chưa được cập nhật từ lâu:"),
    ("Mon 23/11 07:30", "TCT", "⚠️ Bot không liên lạc được với 1 cán bộ:"),
    ("Mon 23/11 08:00", "SXD-LD", "📋 Tuần 48/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 23/11 08:00", "SXD-CV", "📋 Tuần 48/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 23/11 08:00", "Q1-LD", "📋 Tuần 48/2026: đồng chí có 2 nhiệm vụ đang thực hiện"),
    ("Mon 23/11 08:30", "SXD-LD", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 48/2026"),
    ("Mon 23/11 08:30", "SXD-CV", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 48/2026"),
    ("Mon 23/11 09:00", "CT", "📊 Báo cáo phục vụ giao ban: từ 10/11/2026 đến 23/11/2026"),
    ("Mon 23/11 09:00", "TCT", "📊 Báo cáo phục vụ giao ban: từ 10/11/2026 đến 23/11/2026"),
    # Tuesday 24/11 is a public holiday (Ngày Văn hóa Việt Nam): nothing goes out.
    (
        "Thu 26/11 07:30",
        "SXD-CV",
        "⏰ Nhiệm vụ #4102 còn 1 ngày làm việc (hạn thứ Sáu, 27/11/2026).",
    ),
    (
        "Thu 26/11 07:30",
        "SXD-LD",
        "⏰ Nhiệm vụ #4102 còn 1 ngày làm việc (hạn thứ Sáu, 27/11/2026).",
    ),
    (
        "Fri 27/11 07:30",
        "SXD-CV",
        "Nhiệm vụ #4102 đến hạn hôm nay (thứ Sáu, 27/11/2026). Đồng chí đã hoàn thành chưa?",
    ),
    ("Fri 27/11 07:30", "SXD-LD", "⏰ Hôm nay (thứ Sáu, 27/11/2026) là hạn của nhiệm vụ #4102."),
    # #4102 is overdue from Saturday; officials hear of it on the next working morning.
    (
        "Mon 30/11 07:30",
        "TCT",
        "🔴 Nhiệm vụ #4102 đã quá hạn (hạn 27/11/2026). Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà.",
    ),
    (
        "Mon 30/11 07:30",
        "SXD-LD",
        "🔴 Nhiệm vụ #4102 đã quá hạn (hạn 27/11/2026). Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà.",
    ),
    ("Mon 30/11 08:00", "SXD-LD", "📋 Tuần 49/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 30/11 08:00", "SXD-CV", "📋 Tuần 49/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 30/11 08:00", "Q1-LD", "📋 Tuần 49/2026: đồng chí có 2 nhiệm vụ đang thực hiện"),
    ("Mon 30/11 08:30", "SXD-LD", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 49/2026"),
    ("Mon 30/11 08:30", "SXD-CV", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 49/2026"),
    (
        "Tue 01/12 07:30",
        "Q1-LD",
        "⏰ Nhiệm vụ #4107 còn 7 ngày làm việc (hạn thứ Năm, 10/12/2026).",
    ),
    (
        "Thu 03/12 07:30",
        "SXD-CV",
        "⚠️ Nhiệm vụ #4101 có nguy cơ chậm: đã qua 71% thời gian, tiến độ 0% (hạn thứ Hai, 28/12/2026, còn 17 ngày làm việc).",
    ),
    (
        "Thu 03/12 07:30",
        "SXD-LD",
        "⚠️ Nhiệm vụ #4101 có nguy cơ chậm: đã qua 71% thời gian, tiến độ 0% (hạn thứ Hai, 28/12/2026, còn 17 ngày làm việc).",
    ),
    ("Tue 01/12 09:00", "CT", "📊 Báo cáo tháng 11/2026: tình hình nhiệm vụ đến ngày 30/11/2026"),
    ("Tue 01/12 09:00", "TCT", "📊 Báo cáo tháng 11/2026: tình hình nhiệm vụ đến ngày 30/11/2026"),
    (
        "Mon 07/12 07:30",
        "Q1-LD",
        "⏰ Nhiệm vụ #4107 còn 3 ngày làm việc (hạn thứ Năm, 10/12/2026).",
    ),
    ("Mon 07/12 08:00", "SXD-LD", "📋 Tuần 50/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 07/12 08:00", "SXD-CV", "📋 Tuần 50/2026: đồng chí có 3 nhiệm vụ đang thực hiện"),
    ("Mon 07/12 08:00", "Q1-LD", "📋 Tuần 50/2026: đồng chí có 2 nhiệm vụ đang thực hiện"),
    # #4103 is urged for the third time (23/11, 30/11, 07/12): escalated; #4102 only twice.
    (
        "Mon 07/12 08:30",
        "CT",
        "⚠️ Nhiệm vụ #4103 đã được đôn đốc 3 lần nhưng vẫn quá hạn; đề nghị đưa vào cuộc họp giao ban. Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà; hạn 20/11/2026.",
    ),
    (
        "Mon 07/12 08:30",
        "TCT",
        "⚠️ Nhiệm vụ #4103 đã được đôn đốc 3 lần nhưng vẫn quá hạn; đề nghị đưa vào cuộc họp giao ban. Chủ trì: Sở Xây dựng — lãnh đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà; hạn 20/11/2026.",
    ),
    ("Mon 07/12 08:30", "SXD-LD", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 50/2026"),
    ("Mon 07/12 08:30", "SXD-CV", "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 50/2026"),
    ("Mon 07/12 09:00", "CT", "📊 Báo cáo phục vụ giao ban: từ 24/11/2026 đến 07/12/2026"),
    ("Mon 07/12 09:00", "TCT", "📊 Báo cáo phục vụ giao ban: từ 24/11/2026 đến 07/12/2026"),
]


async def test_a_simulated_fortnight_sends_exactly_the_plan(sim: Simulation) -> None:
    await sim.run(date(2026, 11, 23), date(2026, 12, 7))
    # Messages of one moment leave in one concurrent batch: their order among them is free.

    assert sorted(sim.log()) == sorted(FORTNIGHT)
    # Nothing outside working hours, on the weekend or on the holiday.
    assert all(
        time(7, 30) <= r.at.time() < time(17, 0) and r.at.weekday() < 5 for r in sim.received
    )
    assert not [r for r in sim.received if r.at.date() == date(2026, 11, 24)]


async def test_reminders_carry_the_update_buttons(sim: Simulation) -> None:
    await sim.run(date(2026, 11, 26), date(2026, 11, 27))
    reminder, ask_done = (
        sim.received[0],
        next(r for r in sim.received if "hoàn thành chưa" in r.text),
    )
    assert reminder.buttons == ["✅ Hoàn thành", "Cập nhật tiến độ", "Xin gia hạn"]
    assert "Theo Thông báo 105/TB-UBND ngày 03/10/2026. Chủ trì: Sở Xây dựng." in reminder.text
    assert ask_done.code == "SXD-CV" and ask_done.buttons == ["Đã xong", "Chưa xong"]


async def test_the_weekly_urging_letter_reads_like_one(sim: Simulation) -> None:
    await sim.run(date(2026, 11, 30), date(2026, 11, 30))
    letter = next(
        r for r in sim.received if r.code == "SXD-LD" and r.text.startswith("ĐÔN ĐỐC")
    ).text
    assert letter.split("\n") == [
        "ĐÔN ĐỐC THỰC HIỆN NHIỆM VỤ — tuần 49/2026",
        "Kính gửi: Giám đốc Sở Xây dựng",
        "Theo dõi trên Hệ thống, đơn vị còn 2 nhiệm vụ quá hạn (lần đôn đốc thứ 1):",
        "1. #4103 Kiểm tra, xử lý vi phạm trật tự xây dựng — hạn 20/11/2026, quá hạn 10 ngày (đã đôn đốc 1 lần)",
        "2. #4102 Tham mưu kế hoạch cải cách hành chính 2027 — hạn 27/11/2026, quá hạn 3 ngày (đã đôn đốc 1 lần)",
        "Đề nghị đồng chí chỉ đạo khẩn trương hoàn thành và báo cáo rõ lý do chậm muộn trước ngày 07/12/2026.",
    ]


async def test_overdue_alert_goes_to_the_task_force_at_once_when_configured(
    sim: Simulation,
) -> None:
    sim.cadence = replace(sim.cadence, alerts_at_once=True)
    await sim.run(date(2026, 11, 28), date(2026, 11, 30), times=(time(6, 0), time(7, 30)))
    alerts = [(r.at, r.code) for r in sim.received if r.text.startswith("🔴 Nhiệm vụ #4102")]
    assert alerts == [(at(28, 11, 6), "TCT"), (at(30, 11, 7, 30), "SXD-LD")]


async def test_an_approved_extension_moves_the_reminders(sim: Simulation) -> None:
    await sim.run(date(2026, 12, 1), date(2026, 12, 1))
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4107)
        approve_deadline(
            session,
            task,
            Actor(None, Channel.TELEGRAM, at(2, 12)),
            date(2026, 12, 15),
            "Chờ thẩm định",
        )
    await sim.run(date(2026, 12, 2), date(2026, 12, 11))
    lines = [
        (r.at.strftime("%d/%m"), r.text.split("\n")[0])
        for r in sim.received
        if r.text.startswith("⏰ Nhiệm vụ #4107")  # the risk flags: tests/test_nag.py
    ]
    assert lines == [
        ("01/12", "⏰ Nhiệm vụ #4107 còn 7 ngày làm việc (hạn thứ Năm, 10/12/2026)."),
        ("04/12", "⏰ Nhiệm vụ #4107 còn 7 ngày làm việc (hạn thứ Ba, 15/12/2026)."),
        ("10/12", "⏰ Nhiệm vụ #4107 còn 3 ngày làm việc (hạn thứ Ba, 15/12/2026)."),
    ]


async def test_tick_at_the_same_moment_twice_sends_nothing_new(sim: Simulation) -> None:
    first = await sim.tick(at(23, 11, 9))
    # Outbox rows: the urging is a message and its DOCX letter to each of two people.
    assert first["reminders"] == 2 and first["digest"] == 3 and first["urging"] == 4
    async with sim.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
        urgings = await session.scalar(select(func.count()).select_from(Urging))
        notices = await session.scalar(select(func.count()).select_from(Notice))
        files = await session.scalar(select(func.count()).select_from(AttachmentRow))
    second = await sim.tick(at(23, 11, 9))
    assert set(second.values()) == {0}
    async with sim.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == rows
        assert await session.scalar(select(func.count()).select_from(Urging)) == urgings
        assert await session.scalar(select(func.count()).select_from(AttachmentRow)) == files
        assert await session.scalar(select(func.count()).select_from(Notice)) == notices


async def test_catching_up_after_downtime_sends_this_weeks_digest_once(sim: Simulation) -> None:
    # Down all Monday; back on Wednesday afternoon: the week's digest still goes, once.
    await sim.tick(at(25, 11, 15))
    await sim.tick(at(25, 11, 16))
    digests = [r.code for r in sim.received if r.text.startswith("📋 Tuần 48/2026")]
    assert sorted(digests) == ["Q1-LD", "SXD-CV", "SXD-LD"]


async def test_a_task_done_before_its_reminder_gets_none(sim: Simulation) -> None:
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4102)
        mark_done(
            session, task, Actor(None, Channel.TELEGRAM, at(25, 11)), date(2026, 11, 25), "Xong"
        )
    await sim.run(date(2026, 11, 26), date(2026, 11, 30))
    assert not [r for r in sim.received if "#4102" in r.text]


async def test_the_bot_schedules_a_handful_of_fixed_jobs_not_one_per_task(
    sessions, city: City
) -> None:
    from bot.config import Settings
    from bot.demo import SANDBOX_TOKEN
    from bot.runtime import start_bot
    from models.clock import FixedClock

    sandbox = Sandbox(token=SANDBOX_TOKEN)
    await sandbox.start()
    running = await start_bot(
        Settings(telegram_token=SANDBOX_TOKEN, telegram_api_url=sandbox.url),
        sessions,
        FixedClock(at(23, 11, 9)),
        cadence=Cadence(),
    )
    try:
        jobs = running.scheduler.get_jobs()
        assert sorted(job.id for job in jobs) == [
            "at 07:30:00",
            "at 08:00:00",
            "at 08:30:00",
            "at 09:00:00",
            "sweep",
        ]
        await running.scheduler.get_job("sweep").func()  # what the scheduler runs every 5 minutes
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Notice)) > 0
    finally:
        await running.stop()
        await sandbox.stop()


async def test_a_new_leaders_first_sweep_comes_by_itself_and_loads_the_jobs(
    sessions, city: City
) -> None:
    """The jobs are not imported at start-up: the scheduled first sweep loads them (in a
    thread) and runs them, with nobody calling it."""
    from bot.config import Settings
    from bot.demo import SANDBOX_TOKEN
    from bot.runtime import start_bot
    from models.clock import FixedClock

    sandbox = Sandbox(token=SANDBOX_TOKEN)
    await sandbox.start()
    running = await start_bot(
        Settings(telegram_token=SANDBOX_TOKEN, telegram_api_url=sandbox.url),
        sessions,
        FixedClock(at(23, 11, 9)),
        cadence=Cadence(),
        first_sweep_seconds=0.0,
    )
    try:
        for _ in range(1500):
            async with sessions() as session:
                notices = await session.scalar(select(func.count()).select_from(Notice))
            if notices:
                break
            await asyncio.sleep(0.02)
        assert notices > 0
    finally:
        await running.stop()
        await sandbox.stop()


async def test_the_letter_and_the_report_files_go_with_their_messages(sim: Simulation) -> None:
    from io import BytesIO

    from docx import Document as open_docx
    from openpyxl import load_workbook

    await sim.run(date(2026, 11, 30), date(2026, 12, 1))
    letters = [f for f in sim.files if f.method == "sendDocument" and f.filename.endswith(".docx")]
    assert sorted((f.at.strftime("%a %d/%m %H:%M"), f.code) for f in letters) == [
        ("Mon 30/11 08:30", "SXD-CV"),
        ("Mon 30/11 08:30", "SXD-LD"),
    ]
    assert letters[0].filename == "don-doc-SXD-2026-11-30.docx"
    assert letters[0].caption == "Văn bản đôn đốc dạng tệp Word, để lưu và trả lời."
    document = open_docx(BytesIO(letters[0].content))
    rows = [[c.text for c in row.cells] for row in document.tables[1].rows]
    # The same two tasks as the message's list, each urged once (this week's letter).
    assert [(row[1][:5], row[6]) for row in rows[1:]] == [("#4103", "1"), ("#4102", "1")]

    monthly = [f for f in sim.files if f.at.day == 1]
    assert sorted((f.code, f.method, f.filename) for f in monthly) == [
        ("CT", "sendDocument", "bao-cao-monthly-toan-thanh-pho-2026-11-30.xlsx"),
        ("CT", "sendPhoto", "bao-cao-monthly-toan-thanh-pho-2026-11-30.png"),
        ("TCT", "sendDocument", "bao-cao-monthly-toan-thanh-pho-2026-11-30.xlsx"),
        ("TCT", "sendPhoto", "bao-cao-monthly-toan-thanh-pho-2026-11-30.png"),
    ]
    workbook = next(f for f in monthly if f.method == "sendDocument")
    summary = load_workbook(BytesIO(workbook.content))["Tổng hợp"]
    assert summary.cell(1, 3).value == "Tổng số được giao"
    # One stored copy per file, however many people receive it.
    async with sim.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(AttachmentRow))
    assert stored == 3  # the letter, the chart, the workbook


async def test_after_a_quarter_the_public_list_goes_to_the_leaders(sim: Simulation) -> None:
    # 1/1/2027 is a holiday: the first working day of the quarter is Monday 4/1.
    await sim.tick(datetime(2027, 1, 4, 9, 0, tzinfo=TIMEZONE))
    reports = [r for r in sim.received if r.text.startswith("📊 Báo cáo quý 4/2026")]
    assert sorted(r.code for r in reports) == ["CT", "TCT"]
    assert "📢 Kèm theo để đăng trên cổng thông tin" in reports[0].text
    files = sorted((f.code, f.filename) for f in sim.files if f.filename.startswith("cong-khai"))
    assert files == [
        ("CT", "cong-khai-quy-4-2026.csv"),
        ("CT", "cong-khai-quy-4-2026.html"),
        ("TCT", "cong-khai-quy-4-2026.csv"),
        ("TCT", "cong-khai-quy-4-2026.html"),
    ]
    page = next(f for f in sim.files if f.filename.endswith(".html")).content.decode()
    assert "<h1>Đơn vị và cá nhân chậm thực hiện nhiệm vụ</h1>" in page
    assert "<td>Sở Xây dựng</td>" in page
    again = await sim.tick(datetime(2027, 1, 5, 9, 0, tzinfo=TIMEZONE))
    assert again.get("quarterly") == 0
