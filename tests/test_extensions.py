"""Separation of duties: nobody decides their own extension request; a task-force member's
goes to the head of the task force, the head's to a city leader."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import DeadlineChange, Official, Role, Task, TaskEvent
from models.clock import FixedClock
from models.deadlines import ChangeState
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture(params=["telegram", "zalo"])
async def bot(request: pytest.FixtureRequest, sessions, city: City):
    async with sessions() as session, session.begin():
        member = Official(
            code="TCT-TV",
            full_name="Ngô Thị Thành",
            position="Thành viên Tổ công tác",
            unit_id=city.units["VP"].id,
        )
        member.set_roles(frozenset({Role.TASK_FORCE}))
        session.add(member)
    running = await harness.start(sessions, FixedClock(NOW), channel=request.param)
    yield running
    await harness.stop(running)


async def snapshot(sessions) -> tuple:
    async with sessions() as session:
        deadlines = (await session.execute(select(Task.id, Task.deadline).order_by(Task.id))).all()
        changes = (
            await session.execute(
                select(DeadlineChange.id, DeadlineChange.state).order_by(DeadlineChange.id)
            )
        ).all()
        events = await session.scalar(select(func.count()).select_from(TaskEvent))
    return tuple(deadlines), tuple(changes), events


async def test_task_force_member_cannot_approve_own_request_the_head_decides(bot) -> None:
    for code in ("TCT", "TCT-TV", "CT"):
        await bot.link(code)
    [sent] = await bot.send("TCT-TV", "/giahan 4102 15/12/2026 Chờ số liệu của Sở Tài chính")
    assert sent.startswith("Đã gửi Tổ trưởng Tổ công tác đề nghị gia hạn nhiệm vụ #4102")
    head_alert = (await bot.inbox("TCT", 2))[-1]
    assert head_alert.startswith("⏳ Đề nghị gia hạn nhiệm vụ #4102")
    assert set(bot.buttons(bot.last("TCT"))) == {"Duyệt", "Từ chối"}
    # The asker gets no buttons to decide his own request, the city leader no alert.
    assert not bot.last("TCT-TV")["text"].startswith("⏳")
    assert not bot.last("CT")["text"].startswith("⏳")
    before = await snapshot(bot.sessions)
    [own] = await bot.send("TCT-TV", "/duyet 4102")
    assert own == (
        "Không ai tự duyệt đề nghị của chính mình: đề nghị gia hạn nhiệm vụ #4102 do đồng chí "
        "gửi sẽ do Tổ trưởng Tổ công tác quyết định."
    )
    [own_refusal] = await bot.send("TCT-TV", "/tuchoi 4102 Không cần nữa")
    assert own_refusal.startswith("Không ai tự duyệt đề nghị của chính mình")
    [city] = await bot.send("CT", "/duyet 4102")
    assert city == "Đề nghị gia hạn nhiệm vụ #4102 do Tổ trưởng Tổ công tác quyết định."
    assert await snapshot(bot.sessions) == before
    [approved] = await bot.press("TCT", bot.last("TCT"), "Duyệt")
    assert approved.startswith("Đã duyệt gia hạn nhiệm vụ #4102")
    async with bot.sessions() as session:
        change = await session.scalar(select(DeadlineChange).where(DeadlineChange.task_id == 4102))
        assert (change.state, change.decided_by_id) == (ChangeState.APPROVED, bot.ids["TCT"])
        assert (await session.get_one(Task, 4102)).deadline == date(2026, 12, 15)


async def test_the_heads_own_request_goes_to_a_city_leader(bot) -> None:
    for code in ("TCT", "TCT-TV", "CT"):
        await bot.link(code)
    [sent] = await bot.send("TCT", "/giahan 4101 15/01/2027 Chờ quy hoạch")
    assert sent.startswith("Đã gửi lãnh đạo UBND thành phố đề nghị gia hạn nhiệm vụ #4101")
    alert = (await bot.inbox("CT", 2))[-1]
    assert alert.startswith("⏳ Đề nghị gia hạn nhiệm vụ #4101")
    assert not bot.last("TCT-TV")["text"].startswith("⏳")
    before = await snapshot(bot.sessions)
    [own] = await bot.send("TCT", "/duyet 4101")
    assert own.startswith("Không ai tự duyệt đề nghị của chính mình")
    [member] = await bot.send("TCT-TV", "/duyet 4101")
    assert member == "Đề nghị gia hạn nhiệm vụ #4101 do lãnh đạo UBND thành phố quyết định."
    assert await snapshot(bot.sessions) == before
    [approved] = await bot.send("CT", "/duyet 4101")
    assert approved.startswith("Đã duyệt gia hạn nhiệm vụ #4101")


async def test_a_units_request_still_goes_to_the_whole_task_force(bot) -> None:
    for code in ("TCT", "TCT-TV", "SXD-CV"):
        await bot.link(code)
    await bot.send("SXD-CV", "/giahan 4102 15/12/2026 Chờ thẩm định")
    for code in ("TCT", "TCT-TV"):
        assert (await bot.inbox(code, 2))[-1].startswith("⏳ Đề nghị gia hạn nhiệm vụ #4102")
    [approved] = await bot.send("TCT-TV", "/duyet 4102")
    assert approved.startswith("Đã duyệt gia hạn nhiệm vụ #4102")
