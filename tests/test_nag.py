"""A nag that works (issue 15, items 2, 3, 4 and 7): silence noticed, risk seen early, one
message per recipient and sweep, and explanations asked, answered or missed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from telegram import Bot

from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Sandbox
from bot.zalo import ZaloClient, ZaloSender
from handlers.core import CoreSettings
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE, translator
from models import Explanation, ExplanationState, Notice, OutboxMessage, Task, TaskStatus
from models.accounts import ChatAccount, ChatChannel
from models.calendar import WorkingCalendar
from models.clock import FixedClock
from models.reports import Period, build_report
from models.task_changes import Actor, approve_deadline, mark_done, set_progress
from models.tasks import Channel
from paperwork.public_list import public_html
from paperwork.report_workbook import write_xlsx
from tests.city import CREATED, City
from tests.core_chat import CoreChat
from tests.jobs_sim import TOKEN, Simulation

CALENDAR = WorkingCalendar()
EARLY = (time(7, 30),)


def at(day: date, hh: int = 7, mm: int = 30) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TIMEZONE)


@pytest.fixture
async def sim(sessions, city: City):
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        simulation = Simulation(sessions, sandbox, bot, city)
        await simulation.link(*[code for code in city.officials if code != "Q1-CV"])
        yield simulation
    await sandbox.stop()


async def only_open(sim: Simulation, keep: int, *, updated: datetime) -> None:
    """Close every other task, and set `keep`'s last update: one task to watch."""
    async with sim.sessions() as session, session.begin():
        for task in (await session.scalars(select(Task))).all():
            if task.id != keep and task.status is not TaskStatus.DONE:
                mark_done(session, task, Actor(None, Channel.CLI, CREATED), date(2026, 10, 6), "")
        await session.execute(update(Task).where(Task.id == keep).values(updated_at=updated))


# ------------------------------------------------------------------ silence


async def test_a_silent_task_is_nudged_on_day_10_and_its_leader_copied_on_day_20(
    sim: Simulation,
) -> None:
    start = date(2026, 11, 2)  # Monday; 24/11 is a holiday
    await only_open(sim, 4101, updated=at(start, 10))
    day10, day20 = CALENDAR.add_working_days(start, 10), CALENDAR.add_working_days(start, 20)
    await sim.run(date(2026, 11, 3), day20, times=EARLY)
    nudges = [
        (r.at.date(), r.code, r.text.split("\n")[0], r.buttons)
        for r in sim.received
        if r.text.startswith("🕓")
    ]
    first = "🕓 Nhiệm vụ #4101 chưa được cập nhật 10 ngày làm việc — /tiendo 4101 <phần trăm> hoặc /xong 4101"
    second = first.replace("10 ngày", "20 ngày")
    buttons = ["✅ Hoàn thành", "Cập nhật tiến độ"]
    assert sorted(nudges) == [
        (day10, "SXD-CV", first, buttons),
        (day20, "SXD-CV", second, buttons),
        (day20, "SXD-LD", second, buttons),
    ]
    copy = next(r for r in sim.received if r.code == "SXD-LD" and r.text.startswith("🕓"))
    assert "Nhắc lần 2, đồng gửi lãnh đạo phụ trách" in copy.text


async def test_progress_reported_on_day_9_keeps_the_task_from_being_nudged(
    sim: Simulation,
) -> None:
    start = date(2026, 11, 2)
    await only_open(sim, 4101, updated=at(start, 10))
    day9 = CALENDAR.add_working_days(start, 9)
    await sim.run(date(2026, 11, 3), day9, times=EARLY)
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4101)
        await set_progress(
            session, task, Actor(None, Channel.TELEGRAM, at(day9, 10)), 40, "Đã khảo sát"
        )
    # Day 10 of the old silence, and nine working days into the new one: nothing.
    await sim.run(day9, CALENDAR.add_working_days(day9, 9), times=EARLY)
    assert not [r for r in sim.received if r.text.startswith("🕓")]
    # The new silence's tenth working day brings the nudge.
    await sim.run(*[CALENDAR.add_working_days(day9, 10)] * 2, times=EARLY)
    assert [r.code for r in sim.received if r.text.startswith("🕓")] == ["SXD-CV"]


async def test_quahan_counts_the_tasks_not_updated(sessions, city: City) -> None:
    chat = CoreChat(sessions)
    [reply] = await chat.say(await chat.link("TCT"), "/quahan")
    # Every open task of the city was last updated on 05/10/2026.
    assert "🕓 Chưa cập nhật từ 10 ngày làm việc trở lên: 5 nhiệm vụ đang thực hiện" in reply


# ------------------------------------------------------------------ risk


async def test_a_risk_flag_is_raised_once_per_deadline(sim: Simulation) -> None:
    await only_open(sim, 4101, updated=at(date(2026, 12, 1), 10))  # not silent
    await sim.run(date(2026, 12, 1), date(2026, 12, 4), times=EARLY)
    extended = Actor(None, Channel.TELEGRAM, at(date(2026, 12, 4), 10))
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4101)
        approve_deadline(session, task, extended, date(2027, 3, 31), "Chờ vốn")
    # The new deadline leaves time enough: no flag under it.
    await sim.run(date(2026, 12, 5), date(2026, 12, 8), times=EARLY)
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4101)
        approve_deadline(
            session,
            task,
            replace(extended, at=at(date(2026, 12, 8), 10)),
            date(2026, 12, 11),
            "Rút ngắn theo chỉ đạo",
        )
    await sim.run(date(2026, 12, 9), date(2026, 12, 11), times=EARLY)
    flags = [
        (r.at.strftime("%d/%m"), r.code, r.text.split("\n")[0])
        for r in sim.received
        if r.text.startswith("⚠️ Nhiệm vụ #4101")
    ]
    first = (
        "⚠️ Nhiệm vụ #4101 có nguy cơ chậm: đã qua 71% thời gian, tiến độ 0% "
        "(hạn thứ Hai, 28/12/2026, còn 17 ngày làm việc)."
    )
    again = (
        "⚠️ Nhiệm vụ #4101 có nguy cơ chậm: đã qua 95% thời gian, tiến độ 0% "
        "(hạn thứ Sáu, 11/12/2026, còn 2 ngày làm việc)."
    )
    assert sorted(flags) == [
        ("03/12", "SXD-CV", first),
        ("03/12", "SXD-LD", first),
        ("09/12", "SXD-CV", again),
        ("09/12", "SXD-LD", again),
    ]


async def test_nguyco_lists_the_tasks_at_risk_by_unit(sessions, city: City) -> None:
    chat = CoreChat(sessions)
    [city_wide] = await chat.say(await chat.link("TCT"), "/nguyco")
    assert city_wide.split("\n")[:4] == [
        "⚠️ Nguy cơ chậm ngày 25/11/2026: 1 nhiệm vụ tại 1 đơn vị",
        "",
        "Quận Trung Tâm (Q1) — 1 nhiệm vụ",
        "• #4107 Hoàn thiện hồ sơ dự án công viên Trung Tâm — tiến độ 0%, đã qua 76% thời gian, "
        "hạn 10/12/2026",
    ]
    [own] = await chat.say(await chat.link("SXD-LD"), "/atrisk")
    assert own == "✅ Không có nhiệm vụ nào có nguy cơ chậm (25/11/2026)."
    [refused] = await chat.say(await chat.link("SXD-CV"), "/nguyco")
    assert refused.startswith("Danh sách theo đơn vị dành cho")
    [other] = await chat.say(await chat.link("Q1-LD"), "/nguyco SXD")
    assert other == "Đồng chí chỉ được xem danh sách của đơn vị mình."


# ------------------------------------------------------------------ one message, not thirty


async def add_overdue_tasks(sessions, city: City, count: int) -> None:
    """`count` tasks of Sở Tư pháp, 3 to 7 days overdue on Monday 30/11; the task force and
    the two units' leaders linked on Telegram."""
    async with sessions() as session, session.begin():
        for code in ("TCT", "STP-LD", "SXD-LD"):
            session.add(
                ChatAccount(
                    channel=ChatChannel.TELEGRAM,
                    external_user_id=f"t-{code}",
                    chat_id=f"t-{code}",
                    official_id=city.officials[code].id,
                    linked_at=CREATED,
                )
            )
        for n in range(count):
            session.add(
                Task(
                    id=5000 + n,
                    content=f"Nhiệm vụ thứ {n + 1} về rà soát thủ tục hành chính cấp phép xây dựng",
                    lead_unit_id=city.units["STP"].id,
                    leader_id=city.officials["STP-LD"].id,
                    specialist_id=city.officials["STP-CV"].id,
                    assigned_date=date(2026, 10, 5),
                    original_deadline=date(2026, 11, 27 - n % 5),
                    deadline=date(2026, 11, 27 - n % 5),
                    created_at=CREATED,
                    updated_at=CREATED,
                )
            )


async def test_thirty_tasks_overdue_in_one_sweep_are_one_message_split_for_zalo(
    sessions, city: City
) -> None:
    await add_overdue_tasks(sessions, city, 30)
    tct = city.officials["TCT"]
    async with sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.ZALO,
                external_user_id="z-TCT",
                chat_id="z-TCT",
                official_id=tct.id,
                linked_at=CREATED,
            )
        )
    monday = at(date(2026, 11, 30), 7, 30)
    counts = await run_due(sessions, monday, Cadence())
    async with sessions() as session:
        rows = list(
            (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.key.like("overdue:%"),
                        OutboxMessage.channel == ChatChannel.TELEGRAM,
                    )
                )
            ).all()
        )
        on_zalo = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.channel == ChatChannel.ZALO)
        )
        notices = await session.scalar(
            select(func.count()).select_from(Notice).where(Notice.key.like("overdue:task %:to %"))
        )
    # 31 tasks just overdue (the 30 and #4102): the task force and STP's leader get one list
    # each, SXD's leader the single alert of #4102 with its button.
    assert sorted((r.official_id, r.text.split("\n")[0]) for r in rows) == sorted(
        [
            (tct.id, "🔴 31 nhiệm vụ vừa quá hạn:"),
            (city.officials["STP-LD"].id, "🔴 30 nhiệm vụ vừa quá hạn:"),
            (
                city.officials["SXD-LD"].id,
                "🔴 Nhiệm vụ #4102 đã quá hạn (hạn 27/11/2026). Chủ trì: Sở Xây dựng — lãnh "
                "đạo phụ trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà.",
            ),
        ]
    )
    assert notices == 31 + 30 + 1  # every task's alert to every recipient, recorded
    grouped = next(r for r in rows if r.official_id == tct.id)
    assert on_zalo.text == grouped.text  # the same list on each of his chats
    lines = grouped.text.split("\n")
    assert lines[1].startswith("🔴 #5004 ") and "quá hạn 7 ngày" in lines[1]  # worst first
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == (
        "… và 11 nhiệm vụ khác. Xem tất cả nhiệm vụ quá hạn: /quahan · Chi tiết: /xem <số>"
    )
    assert grouped.button_rows == []
    # A second sweep, at once or later, sends nothing again.
    again = await run_due(sessions, monday, Cadence())
    later = await run_due(sessions, at(date(2026, 11, 30), 12), Cadence())
    assert counts["overdue"] == 4 and again["overdue"] == 0 and later["overdue"] == 0

    sandbox = Sandbox(token=TOKEN, zalo_token="42:NAG")
    await sandbox.start()
    client = ZaloClient("42:NAG", f"{sandbox.url}/zalo")
    try:
        sender = OutboxSender(
            sessions,
            FixedClock(monday),
            {ChatChannel.ZALO: ZaloSender(client)},
            limiter=RateLimiter(0, 0),
        )
        await sender.drain()
        received = [m["text"] for m in sandbox.zalo.bot_messages("z-TCT")]
    finally:
        await client.close()
        await sandbox.stop()
    parts = [text for text in received if text in grouped.text]  # besides the unreachable
    assert len(parts) == 2 and all(len(p) <= 2000 for p in received)
    assert "\n".join(parts) == grouped.text


async def test_a_resumed_sweep_finishes_the_others_and_repeats_no_one(sessions, city: City) -> None:
    await add_overdue_tasks(sessions, city, 5)
    monday = at(date(2026, 11, 30), 7, 30)
    async with sessions() as session, session.begin():
        # Stopped half-way: the task force's list went out, the unit leaders' did not.
        session.add_all(
            Notice(
                key=f"overdue:task {5000 + n}:deadline {d}:to {city.officials['TCT'].id}",
                created_at=monday,
            )
            for n in range(5)
            for d in [date(2026, 11, 27 - n % 5).isoformat()]
        )
    await run_due(sessions, monday, Cadence())
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.official_id, OutboxMessage.text).where(
                    OutboxMessage.key.like("overdue:%")
                )
            )
        ).all()
    tct = city.officials["TCT"].id
    # The task force gets only what it had not had: #4102 alone, as its own alert.
    assert [text.split("\n")[0] for oid, text in rows if oid == tct] == [
        "🔴 Nhiệm vụ #4102 đã quá hạn (hạn 27/11/2026). Chủ trì: Sở Xây dựng — lãnh đạo phụ "
        "trách đ/c Đặng Thanh Oanh, chuyên viên đ/c Bùi Minh Hà."
    ]
    assert [t.split("\n")[0] for oid, t in rows if oid == city.officials["STP-LD"].id] == [
        "🔴 5 nhiệm vụ vừa quá hạn:"
    ]


# ------------------------------------------------------------------ explanations

LATE = FixedClock(datetime(2026, 12, 8, 9, 0, tzinfo=TIMEZONE))  # #4103: 11 working days late


async def explanations(sessions) -> list[Explanation]:
    async with sessions() as session:
        return list((await session.scalars(select(Explanation))).all())


async def texts_to(sessions, official_id: int, like: str) -> list[str]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.text).where(
                        OutboxMessage.official_id == official_id, OutboxMessage.key.like(like)
                    )
                )
            ).all()
        )


async def test_an_explanation_asked_answered_and_shown_in_the_report(sessions, city: City) -> None:
    chat = CoreChat(sessions, clock=LATE)
    tct, leader, specialist = (
        await chat.link("TCT"),
        await chat.link("SXD-LD"),
        await chat.link("SXD-CV"),
    )
    [asked] = await chat.say(tct, "/giaitrinh 4103")
    assert asked == (
        "📝 Đã đề nghị Sở Xây dựng (đ/c Đặng Thanh Oanh) giải trình nhiệm vụ #4103; hạn giải "
        "trình thứ Ba, 15/12/2026."
    )
    [request] = await texts_to(sessions, city.officials["SXD-LD"].id, "explain-asked:%")
    assert request.startswith(
        "📝 Tổ công tác đề nghị đồng chí giải trình lý do nhiệm vụ #4103 chậm muộn (hạn "
        "20/11/2026, quá hạn 18 ngày) trước thứ Ba, 15/12/2026: /giaitrinh 4103 <lý do>"
    )
    [again] = await chat.say(tct, "/explain 4103")
    assert again.startswith("Nhiệm vụ #4103 đã được đề nghị giải trình ngày 08/12/2026")
    [not_theirs] = await chat.say(specialist, "/giaitrinh 4103 Chờ số liệu")
    assert not_theirs.startswith("Chỉ Tổ công tác đề nghị giải trình")
    [answered] = await chat.say(leader, "/giaitrinh 4103 Chờ số liệu khảo sát của quận")
    assert answered == "📝 Đã ghi nhận giải trình nhiệm vụ #4103 và gửi Tổ công tác."
    [shown] = await texts_to(sessions, city.officials["TCT"].id, "explain-answered:%")
    assert shown == (
        "📝 Sở Xây dựng giải trình lý do nhiệm vụ #4103 chậm muộn (đ/c Đặng Thanh Oanh, "
        "08/12/2026): Chờ số liệu khảo sát của quận"
    )
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.key.like("explain-answered:%"))
        )
        assert row.not_before == LATE.now()  # at once
    [(state, reason)] = [(e.state, e.reason) for e in await explanations(sessions)]
    assert state is ExplanationState.ANSWERED and reason == "Chờ số liệu khảo sát của quận"

    async with sessions() as session:
        report = await build_report(
            session, Period.MONTHLY, date(2026, 12, 31), CALENDAR, due_soon_days=3, past=False
        )
    t = translator("vi")
    buffer = BytesIO()
    write_xlsx(buffer, report, t)
    sheet = load_workbook(BytesIO(buffer.getvalue()))["Giải trình"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][6:] == [
        "Tình trạng",
        "Ngày giải trình",
        "Người giải trình",
        "Lý do giải trình",
    ]
    assert values[1][0] == 4103 and values[1][6] == "đã giải trình"
    assert values[1][8:] == ["Đặng Thanh Oanh", "Chờ số liệu khảo sát của quận"]
    assert "<td>Chờ số liệu khảo sát của quận</td>" in public_html(report, t)


async def test_an_explanation_not_given_in_time_is_recorded_and_listed(
    sessions, city: City
) -> None:
    chat = CoreChat(sessions, clock=LATE)
    await chat.say(await chat.link("TCT"), "/giaitrinh 4103")
    # The answer was due on Tuesday 15/12; Wednesday morning's sweep records its absence.
    await run_due(sessions, at(date(2026, 12, 15), 16), Cadence())
    assert (await explanations(sessions))[0].state is ExplanationState.REQUESTED
    await run_due(sessions, at(date(2026, 12, 16)), Cadence())
    await run_due(sessions, at(date(2026, 12, 16), 9), Cadence())
    [asked] = await explanations(sessions)
    assert asked.state is ExplanationState.MISSED
    [told] = await texts_to(sessions, city.officials["TCT"].id, "explain-missed:%")
    assert told.startswith(
        "📝 Nhiệm vụ #4103: Sở Xây dựng không giải trình trước hạn 15/12/2026; đã ghi nhận là "
        "không giải trình."
    )
    [late] = await chat.say(await chat.link("SXD-LD"), "/giaitrinh 4103 Muộn")
    assert late.startswith("Tổ công tác chưa đề nghị giải trình nhiệm vụ #4103")
    async with sessions() as session:
        report = await build_report(
            session, Period.MONTHLY, date(2026, 12, 31), CALENDAR, due_soon_days=3, past=False
        )
    t = translator("vi")
    buffer = BytesIO()
    write_xlsx(buffer, report, t)
    sheet = load_workbook(BytesIO(buffer.getvalue()))["Giải trình"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1][0] == 4103 and rows[1][6] == "không giải trình" and rows[1][9] in ("", None)
    assert "<td>không giải trình</td>" in public_html(report, t)


@pytest.mark.parametrize(
    ("who", "text", "starts"),
    [
        ("TCT", "/giaitrinh 4101", "Nhiệm vụ #4101 chưa quá hạn"),
        ("SXD-LD", "/giaitrinh 4103 Lý do", "Tổ công tác chưa đề nghị giải trình"),
        ("SXD-CV", "/giaitrinh 4103", "Chỉ Tổ công tác đề nghị giải trình"),
        ("Q1-LD", "/giaitrinh 4103", "Không có nhiệm vụ #4103"),
        ("CT", "/giaitrinh 4103 Lý do", "Chỉ Tổ công tác đề nghị giải trình"),
        ("TCT", "/giaitrinh", "Chưa rõ số nhiệm vụ"),
    ],
)
async def test_giaitrinh_refused_changes_nothing(
    sessions, city: City, who: str, text: str, starts: str
) -> None:
    chat = CoreChat(sessions, clock=LATE)
    [reply] = await chat.say(await chat.link(who), text)
    assert reply.startswith(starts), reply
    assert await explanations(sessions) == []


async def test_giaitrinh_too_early_is_refused(sessions, city: City) -> None:
    chat = CoreChat(sessions)  # 25/11: #4103 is 2 working days late, never urged
    [reply] = await chat.say(await chat.link("TCT"), "/giaitrinh 4103")
    assert reply == (
        "Nhiệm vụ #4103 quá hạn 2 ngày làm việc, đã đôn đốc 0 lần: chỉ đề nghị giải trình khi "
        "quá hạn trên 10 ngày làm việc hoặc sau lần đôn đốc thứ 2."
    )
    assert await explanations(sessions) == []


def test_settings_read_the_nagging_thresholds() -> None:
    from bot.config import Settings

    settings = Settings.from_env({"DONDOC_STALE_DAYS": "5", "DONDOC_RISK_DAYS_LEFT": "2"})
    assert settings.nagging.stale_days == 5 and settings.cadence.nagging.risk_days_left == 2
    assert settings.nagging.explain_after_days == 10 and settings.nagging.explain_days == 5
    assert CoreSettings().nagging.risk_elapsed_percent == 70
