"""End to end on every channel: a task handed over (/chuyen), a coordinating unit's report
(/phoihop), and new assignments from an import — each told once to the people it concerns."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE, translator
from models import Contribution, Notice, OutboxMessage, Task, TaskEvent, Unit
from models.accounts import ChatAccount, ChatChannel
from models.calendar import WorkingCalendar
from models.clock import FixedClock
from models.reports import Period, build_report
from paperwork.importing import import_tasks
from paperwork.report_files import TableName, tables
from tests import harness
from tests.city import City
from tests.conftest import NOW
from tests.core_chat import CoreChat
from tests.files import TASK_HEADER, write_csv
from tests.test_bot import snapshot


@pytest.fixture(params=["telegram", "zalo", "matrix"])
async def bot(request: pytest.FixtureRequest, sessions, city: City):
    homeserver = request.getfixturevalue("homeserver") if request.param == "matrix" else None
    running = await harness.start(
        sessions, FixedClock(NOW), channel=request.param, homeserver=homeserver
    )
    yield running
    await harness.stop(running)


async def contributions(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Contribution))


async def coordinated_by(sessions, task_id: int, *codes: str) -> None:
    async with sessions() as session, session.begin():
        task = await session.get_one(Task, task_id)
        await session.refresh(task, ["coordinating_units"])
        task.coordinating_units = list(
            (await session.scalars(select(Unit).where(Unit.code.in_(codes)))).all()
        )


# ------------------------------------------------------------------ /phoihop


async def test_a_coordinating_update_reaches_the_lead_unit(bot) -> None:
    await coordinated_by(bot.sessions, 4102, "STP")
    for code in ("SXD-CV", "SXD-LD", "STP-CV"):
        await bot.link(code)
    [reply] = await bot.send("STP-CV", "/phoihop 4102 50 Đã gửi ý kiến thẩm định dự thảo")
    assert reply == (
        "Đã ghi nhận phần phối hợp của Sở Tư pháp đối với nhiệm vụ #4102 và gửi đơn vị chủ trì "
        "(Sở Xây dựng)."
    )
    for code in ("SXD-CV", "SXD-LD"):
        told = await bot.inbox(code, 2)
        assert told[-1].startswith(
            "🤝 Sở Tư pháp (đơn vị phối hợp) báo cáo về nhiệm vụ #4102, do đ/c Phạm Quang Huy gửi:\n"
            "Phần việc của đơn vị: đã thực hiện 50%.\n"
            "Đã gửi ý kiến thẩm định dự thảo"
        )
    [card] = await bot.send("SXD-CV", "/xem 4102")
    assert "Đơn vị phối hợp đã báo cáo:\n• Sở Tư pháp, 25/11/2026 (50%): Đã gửi ý kiến" in card
    assert "đ/c Phạm Quang Huy: Sở Tư pháp (phối hợp) báo cáo (50%): Đã gửi ý kiến" in card
    # The lead unit's progress is its own: a coordinating unit's percent does not move it.
    assert (await _task(bot.sessions, 4102)).progress == 60
    # The month's report lists it under the coordinating unit.
    async with bot.sessions() as session:
        report = await build_report(
            session, Period.MONTHLY, NOW.date(), WorkingCalendar(), due_soon_days=3, past=False
        )
    sheet = tables(translator("vi"), report)[TableName.CONTRIBUTIONS]
    assert sheet.name == "Phối hợp"
    assert sheet.rows == [
        [
            "Sở Tư pháp",
            4102,
            "Sở Xây dựng",
            date(2026, 11, 25),
            50,
            "Phạm Quang Huy",
            "Đã gửi ý kiến thẩm định dự thảo",
        ]
    ]


async def test_only_a_coordinating_unit_may_report_its_part_and_a_refusal_changes_nothing(
    bot,
) -> None:
    await coordinated_by(bot.sessions, 4102, "STP")
    for code in ("SXD-CV", "Q1-CV", "STP-CV"):
        await bot.link(code)
    before = await snapshot(bot.sessions)
    [lead] = await bot.send("SXD-CV", "/phoihop 4102 Đã xong phần của mình")
    assert lead.startswith("Nhiệm vụ #4102 do Sở Xây dựng chủ trì: đề nghị cập nhật tiến độ")
    [other] = await bot.send("Q1-CV", "/contribute 4102 Đã xong")
    assert other.startswith("Không có nhiệm vụ #4102 trong các nhiệm vụ đồng chí được xem.")
    [percent] = await bot.send("STP-CV", "/phoihop 4102 150 Đã xong")
    assert percent.startswith("Tiến độ phải là số nguyên từ 0 đến 100")
    assert await snapshot(bot.sessions) == before and await contributions(bot.sessions) == 0


# ------------------------------------------------------------------ /chuyen


async def test_a_reassignment_is_announced_once_and_the_history_keeps_both(bot) -> None:
    for code in ("TCT", "STP-LD", "STP-CV", "SXD-CV"):
        await bot.link(code)
    [reply] = await bot.send("TCT", "/chuyen 4103 STP STP-LD STP-CV")
    assert reply == (
        "Nhiệm vụ #4103 nay do Sở Tư pháp chủ trì — lãnh đạo phụ trách đ/c Lê Thị Hạnh, "
        "chuyên viên đ/c Phạm Quang Huy.\n"
        "Lịch sử nhiệm vụ vẫn ghi Sở Xây dựng là đơn vị chủ trì trước đây."
    )
    for code in ("STP-LD", "STP-CV"):
        told = await bot.inbox(code, 2)
        assert told[-1].startswith(
            "📋 Đồng chí được giao 1 nhiệm vụ mới:\n"
            "#4103 Kiểm tra, xử lý vi phạm trật tự xây dựng — hạn thứ Sáu, 20/11/2026\n"
            "Tổ công tác chuyển từ Sở Xây dựng."
        )
    # A sweep afterwards sends nothing more about it.
    await run_due(bot.sessions, NOW, Cadence())
    await bot.settle()
    for code in ("STP-LD", "STP-CV"):
        inbox = await bot.inbox(code, 2)
        assert sum(m.startswith("📋 Đồng chí được giao") for m in inbox) == 1
    moved = await _task(bot.sessions, 4103)
    assert (moved.leader_id, moved.specialist_id) == (bot.ids["STP-LD"], bot.ids["STP-CV"])
    async with bot.sessions() as session:
        trail = (
            await session.execute(
                select(TaskEvent.field, TaskEvent.note)
                .where(TaskEvent.task_id == 4103, TaskEvent.field.is_not(None))
                .order_by(TaskEvent.id)
            )
        ).all()
        assert ("lead_unit_id", "Sở Xây dựng → Sở Tư pháp") in trail
        # The month's report on a day before the handover counts it for Sở Xây dựng.
        earlier = await build_report(
            session,
            Period.MONTHLY,
            date(2026, 11, 24),
            WorkingCalendar(),
            due_soon_days=3,
            past=True,
        )
        now = await build_report(
            session, Period.MONTHLY, NOW.date(), WorkingCalendar(), due_soon_days=3, past=False
        )
    overdue = {u.code: u.columns.overdue for u in earlier.units}
    assert overdue.get("SXD") == 1 and not overdue.get("STP")
    assert {u.code: u.columns.overdue for u in now.units}.get("STP") == 1
    [card] = await bot.send("TCT", "/xem 4103")
    assert "đơn vị chủ trì: Sở Xây dựng → Sở Tư pháp" in card


async def test_only_the_task_force_hands_a_task_over_and_a_refusal_changes_nothing(bot) -> None:
    for code in ("SXD-LD", "TCT"):
        await bot.link(code)
    before = await snapshot(bot.sessions)
    [leader] = await bot.send("SXD-LD", "/chuyen 4103 STP")
    assert leader.startswith("Chỉ Tổ công tác mới chuyển nhiệm vụ cho đơn vị hoặc cán bộ khác.")
    [unknown] = await bot.send("TCT", "/reassign 4103 XYZ")
    assert unknown.startswith("Không có đơn vị mã 'XYZ'.")
    [stranger] = await bot.send("TCT", "/chuyen 4103 STP SXD-CV")
    assert stranger.startswith("Đồng chí Bùi Minh Hà (SXD-CV) không công tác tại Sở Tư pháp.")
    [done] = await bot.send("TCT", "/chuyen 4104 SXD")
    assert done == "Nhiệm vụ #4104 đã hoàn thành; không cần chuyển giao."
    assert await snapshot(bot.sessions) == before


# ------------------------------------------------------------------ import


async def test_a_new_assignment_by_import_is_announced_once(bot, tmp_path: Path) -> None:
    await bot.link("Q1-CV")
    rows = [
        ["", "", "", "", "", "", content, "Q1", "", "Q1-LD", "Q1-CV", "20/11/2026", due, "", ""]
        for content, due in (
            ("Rà soát điểm trông giữ xe trái phép", "15/12/2026"),
            ("Báo cáo kết quả xử lý lấn chiếm vỉa hè", "04/12/2026"),
        )
    ]
    path = write_csv(tmp_path / "giao.csv", TASK_HEADER, rows)
    for _ in range(2):  # the same file again: nothing new to tell
        async with bot.sessions() as session:
            result = await import_tasks(session, path, translator("vi"), now=NOW)
        assert result.ok
        await bot.settle()
    told = await bot.inbox("Q1-CV", 2)
    assert len(told) == 2
    lines = told[-1].split("\n")
    assert lines[0] == "📋 Đồng chí được giao 2 nhiệm vụ mới:"
    assert lines[1].startswith("#") and "Báo cáo kết quả xử lý lấn chiếm vỉa hè" in lines[1]
    assert "hạn thứ Sáu, 04/12/2026" in lines[1] and "Rà soát điểm trông giữ xe" in lines[2]


async def test_an_import_after_hours_tells_people_the_next_working_morning(
    sessions, city, tmp_path: Path
) -> None:
    row = ["", "", "", "", "", "", "Kiểm tra", "Q1", "", "", "Q1-CV", "20/11/2026", "", "", ""]
    path = write_csv(tmp_path / "giao.csv", TASK_HEADER, [row])
    evening = datetime(2026, 11, 27, 20, 0, tzinfo=TIMEZONE)  # a Friday
    async with sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.TELEGRAM,
                external_user_id="77",
                chat_id="77",
                official_id=city.officials["Q1-CV"].id,
                linked_at=evening,
            )
        )
    async with sessions() as session:
        assert (await import_tasks(session, path, translator("vi"), now=evening)).ok
    async with sessions() as session:
        [waiting] = (await session.scalars(select(OutboxMessage.not_before))).all()
    assert waiting == datetime(2026, 11, 30, 7, 30, tzinfo=TIMEZONE)


async def _task(sessions, task_id: int) -> Task:
    async with sessions() as session:
        return await session.get_one(Task, task_id)


async def test_a_task_handed_to_a_unit_without_names_goes_to_its_leaders(sessions, city) -> None:
    chat = CoreChat(sessions)
    tct = await chat.link("TCT")
    [reply] = await chat.say(tct, "/reassign 4103 Q1")
    assert reply.endswith(
        "Đề nghị phân công người phụ trách: /chuyen 4103 Q1 <mã lãnh đạo> <mã chuyên viên>"
    )
    async with sessions() as session:  # Q1-LD is not linked: the notice is kept all the same
        notices = (
            await session.scalars(select(Notice.key).where(Notice.key.like("assigned:task 4103:%")))
        ).all()
    assert [key.rsplit(":", 1)[1] for key in notices] == [f"to {city.officials['Q1-LD'].id}"]
