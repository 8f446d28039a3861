"""End to end on every channel: the real bot over real HTTP (the loopback Telegram and Zalo
fakes, a real Synapse for Matrix), the real database."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

import handlers.overview
from models import DeadlineChange, Official, OutboxMessage, OutboxState, Task, TaskEvent
from models.accounts import ChatAccount, ChatChannel
from models.clock import FixedClock
from models.deadlines import ChangeState
from models.tasks import Channel, TaskStatus
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture(params=["telegram", "zalo", "matrix"])
async def bot(request: pytest.FixtureRequest, sessions, city: City):
    """The same scenarios on every channel: Telegram's buttons are typed commands on Zalo
    and Matrix. A scenario marked `only_on` is about what one channel alone has."""
    only = request.node.get_closest_marker("only_on")
    if only is not None and request.param not in only.args:
        pytest.skip(f"only on {', '.join(only.args)}: {only.kwargs['reason']}")
    homeserver = request.getfixturevalue("homeserver") if request.param == "matrix" else None
    running = await harness.start(
        sessions, FixedClock(NOW), channel=request.param, homeserver=homeserver
    )
    yield running
    await harness.stop(running)


async def snapshot(sessions) -> tuple:
    """Everything a command could change, to prove that a refused one changed nothing."""
    async with sessions() as session:
        tasks = (
            await session.execute(
                select(
                    Task.id,
                    Task.status,
                    Task.progress,
                    Task.deadline,
                    Task.completed_date,
                    Task.result,
                ).order_by(Task.id)
            )
        ).all()
        events = await session.scalar(select(func.count()).select_from(TaskEvent))
        changes = await session.scalar(select(func.count()).select_from(DeadlineChange))
    return tuple(tasks), events, changes


async def task(sessions, task_id: int) -> Task:
    async with sessions() as session:
        return await session.get_one(Task, task_id)


# ------------------------------------------------------------------ linking


async def test_start_with_a_code_links_the_account_and_greets(bot) -> None:
    reply = await bot.link("SXD-CV")
    assert reply.startswith(
        "Xin chào đồng chí Bùi Minh Hà (Sở Xây dựng). Tài khoản này đã được liên kết"
    )
    async with bot.sessions() as session:
        account = await session.scalar(select(ChatAccount))
    assert (account.external_user_id, account.official_id) == (
        str(bot.user("SXD-CV")),
        bot.ids["SXD-CV"],
    )


async def test_wrong_or_used_code_is_refused_and_says_whom_to_ask(bot) -> None:
    [reply] = await bot.send("SXD-CV", "/start SAIMA12345")
    assert reply == (
        "Mã liên kết không đúng hoặc đã hết hạn. Đề nghị đồng chí liên hệ Văn phòng UBND "
        "thành phố để được cấp mã mới."
    )
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatAccount)) == 0


async def test_start_alone_explains_how_to_link(bot) -> None:
    [reply] = await bot.send("SXD-CV", "/start")
    assert "liên hệ Văn phòng UBND thành phố để nhận mã liên kết" in reply


async def test_unlinked_account_cannot_use_commands_and_nothing_changes(bot) -> None:
    before = await snapshot(bot.sessions)
    [reply] = await bot.send("SXD-CV", "/xong 4102 Đã xong")
    assert reply.startswith("Tài khoản này chưa được liên kết.")
    assert await snapshot(bot.sessions) == before


async def test_code_in_a_group_is_refused(bot) -> None:
    [reply] = await bot.send("SXD-CV", "/start ABCDEFGHJK", group=-1001)
    assert "tin nhắn riêng" in reply


# ------------------------------------------------------------------ reading tasks


async def test_viec_lists_open_tasks_overdue_first(bot) -> None:
    await bot.link("SXD-CV")
    [reply] = await bot.send("SXD-CV", "/viec")
    lines = reply.split("\n")
    assert lines[0] == "📋 Nhiệm vụ của đồng chí: 3 đang thực hiện, 1 quá hạn"
    assert (
        lines[1]
        == "🔴 #4103 Kiểm tra, xử lý vi phạm trật tự xây dựng — hạn 20/11/2026, quá hạn 5 ngày"
    )
    assert lines[2] == (
        "⚠️ #4102 Tham mưu kế hoạch cải cách hành chính 2027 — hạn thứ Sáu, 27/11/2026, "
        "còn 2 ngày làm việc (60%)"
    )
    assert lines[3].startswith("#4101 Rà soát hồ sơ giải phóng mặt bằng") and lines[3].endswith(
        "hạn 28/12/2026"
    )
    assert lines[4] == "Xem chi tiết: /xem 4103 · Báo hoàn thành: /xong 4103 <kết quả>"


async def test_long_list_pages_with_buttons(bot) -> None:
    async with bot.sessions() as session, session.begin():
        template = await session.get_one(Task, 4101)
        for n in range(12):
            session.add(
                Task(
                    id=5000 + n,
                    content=f"Nhiệm vụ bổ sung số {n}",
                    lead_unit_id=template.lead_unit_id,
                    specialist_id=template.specialist_id,
                    leader_id=template.leader_id,
                    assigned_date=date(2026, 10, 5),
                    deadline=date(2027, 1, 10) + timedelta(days=n),
                    original_deadline=date(2027, 1, 10) + timedelta(days=n),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    await bot.link("SXD-CV")
    [first] = await bot.send("SXD-CV", "/viec")
    assert (
        "(trang 1/2)" in first
        and first.count("\n#") + first.count("\n🔴") + first.count("\n⚠️") == 10
    )
    message = bot.last("SXD-CV")
    assert list(bot.buttons(message)) == ["Sau ▶"]
    [second] = await bot.press("SXD-CV", message, "Sau ▶", expect=0)
    assert "(trang 2/2)" in second and "#5011" in second
    assert list(bot.buttons(bot.last("SXD-CV"))) == ["◀ Trước"]


async def test_xem_shows_the_card_with_buttons(bot) -> None:
    await bot.link("Q1-CV")
    [card] = await bot.send("Q1-CV", "/xem 4107")
    assert card.startswith("📌 Nhiệm vụ #4107: Hoàn thiện hồ sơ dự án công viên Trung Tâm")
    assert "Theo Thông báo 105/TB-UBND ngày 03/10/2026: Kết luận của Chủ tịch" in card
    assert (
        "Chủ trì: Quận Trung Tâm — lãnh đạo phụ trách đ/c Hoàng Văn Nam, chuyên viên đ/c Vũ Thu Trang"
        in card
    )
    assert "Đã gia hạn: 10/11/2026 → 10/12/2026" in card
    assert "Tình trạng: chưa thực hiện — trong hạn" in card
    assert "đ/c Trần Văn Tổ: duyệt gia hạn: 10/11/2026 → 10/12/2026" in card
    assert set(bot.buttons(bot.last("Q1-CV"))) == {
        "✅ Hoàn thành",
        "Cập nhật tiến độ",
        "Báo vướng mắc",
        "Xin gia hạn",
    }


async def test_specialist_cannot_see_another_units_task(bot) -> None:
    await bot.link("STP-CV")
    [reply] = await bot.send("STP-CV", "/xem 4101")
    assert reply.startswith("Không có nhiệm vụ #4101 trong các nhiệm vụ đồng chí được xem.")


# ------------------------------------------------------------------ updating


async def test_xong_records_done_on_time_with_the_result(bot) -> None:
    await bot.link("SXD-CV")
    [reply] = await bot.send("SXD-CV", "/xong 4102 Đã ban hành Kế hoạch số 12/KH-SXD")
    assert reply == (
        "✅ Đã ghi nhận hoàn thành nhiệm vụ #4102 ngày 25/11/2026 — đúng hạn (hạn 27/11/2026).\n"
        "Kết quả: Đã ban hành Kế hoạch số 12/KH-SXD"
    )
    done = await task(bot.sessions, 4102)
    assert (done.status, done.completed_date, done.progress, done.result) == (
        TaskStatus.DONE,
        date(2026, 11, 25),
        100,
        "Đã ban hành Kế hoạch số 12/KH-SXD",
    )
    async with bot.sessions() as session:
        events = (await session.scalars(select(TaskEvent).where(TaskEvent.task_id == 4102))).all()
    assert {e.channel for e in events} == {Channel(bot.channel.value)}
    assert {e.actor_id for e in events} == {bot.ids["SXD-CV"]}
    [again] = await bot.send("SXD-CV", "/done 4102")
    assert (
        again
        == "Nhiệm vụ #4102 đã được ghi nhận hoàn thành ngày 25/11/2026; không có thay đổi nào."
    )


async def test_xong_late_says_how_late(bot) -> None:
    await bot.link("SXD-LD")
    [reply] = await bot.send("SXD-LD", "/xong 4103")
    assert (
        reply
        == "✅ Đã ghi nhận hoàn thành nhiệm vụ #4103 ngày 25/11/2026 — quá hạn 5 ngày (hạn 20/11/2026)."
    )


async def test_specialist_cannot_mark_other_units_task_done(bot) -> None:
    await bot.link("STP-CV")
    before = await snapshot(bot.sessions)
    [reply] = await bot.send("STP-CV", "/xong 4101 Xong")
    assert reply.startswith("Không có nhiệm vụ #4101 trong các nhiệm vụ đồng chí được xem.")
    assert await snapshot(bot.sessions) == before


async def test_coordinating_unit_sees_but_may_not_change(bot) -> None:
    async with bot.sessions() as session, session.begin():
        from models import Unit
        from models.tasks import task_coordinators

        sxd = await session.scalar(select(Unit.id).where(Unit.code == "SXD"))
        await session.execute(task_coordinators.insert().values(task_id=4106, unit_id=sxd))
    await bot.link("SXD-CV")
    [card] = await bot.send("SXD-CV", "/xem 4106")
    assert card.startswith("📌 Nhiệm vụ #4106") and not bot.buttons(bot.last("SXD-CV"))
    before = await snapshot(bot.sessions)
    [reply] = await bot.send("SXD-CV", "/xong 4106 Đã xong")
    assert reply == (
        "Không thể cập nhật nhiệm vụ #4106: nhiệm vụ do Quận Trung Tâm chủ trì, đồng chí không "
        "thuộc đơn vị chủ trì. Nếu phân công chưa đúng, đề nghị báo Tổ công tác."
    )
    assert await snapshot(bot.sessions) == before


BAD_XONG = [
    (
        "/xong",
        "Chưa rõ số nhiệm vụ. Cú pháp: /xong <số nhiệm vụ> [kết quả]\nVí dụ: /xong 4102 Đã ban hành kế hoạch",
    ),
    ("/xong abc", "'abc' không phải số nhiệm vụ. Cú pháp: /xong <số nhiệm vụ> [kết quả]"),
    ("/xong 99999", "Không có nhiệm vụ #99999 trong các nhiệm vụ đồng chí được xem."),
    (
        "/xong 4102 4103",
        "Mỗi lần chỉ báo hoàn thành một nhiệm vụ: gửi /xong 4102, sau đó /xong 4103.",
    ),
    ("/xong 4102 " + "x" * 5000, "Nội dung quá dài (5.000 ký tự); tối đa 1.000 ký tự."),
    ("/tiendo 4102 150", "Tiến độ phải là số nguyên từ 0 đến 100, không phải '150'."),
    ("/tiendo 4102 nhiều", "Tiến độ phải là số nguyên từ 0 đến 100"),
    ("/giahan 4102 31/02/2026 Chờ số liệu", "'31/02/2026' không phải ngày hợp lệ."),
    ("/giahan 4102 20/11/2026 Chờ số liệu", "Thời hạn mới phải sau ngày 27/11/2026."),
    ("/sapden 0", "Số ngày làm việc phải từ 1 đến 60."),
    ("/ngonngu fr", "Chọn vi (Tiếng Việt) hoặc en (English)."),
    ("/khongco", "Không có lệnh /khongco. Gõ /trogiup để xem các lệnh."),
    ("xin chào", "Chưa rõ yêu cầu của đồng chí."),
]


@pytest.mark.parametrize(("text", "expected"), BAD_XONG, ids=[t[:20] for t, _ in BAD_XONG])
async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    bot, text: str, expected: str
) -> None:
    await bot.link("SXD-CV")
    before = await snapshot(bot.sessions)
    [reply] = await bot.send("SXD-CV", text)
    assert reply.startswith(expected), reply
    assert await snapshot(bot.sessions) == before


async def test_sticker_gets_a_reply_and_changes_nothing(bot) -> None:
    await bot.link("SXD-CV")
    before = await snapshot(bot.sessions)
    [reply] = await bot.send("SXD-CV", None, sticker=True)
    assert reply == "Bot chỉ đọc được tin nhắn văn bản. Gõ /trogiup để xem các lệnh."
    assert await snapshot(bot.sessions) == before


async def test_progress_by_buttons(bot) -> None:
    await bot.link("SXD-CV")
    await bot.send("SXD-CV", "/xem 4101")
    [question] = await bot.press("SXD-CV", bot.last("SXD-CV"), "Cập nhật tiến độ")
    assert question.startswith("Tiến độ nhiệm vụ #4101 đạt bao nhiêu phần trăm")
    [done] = await bot.press("SXD-CV", bot.last("SXD-CV"), "50%")
    assert done == "Đã cập nhật tiến độ nhiệm vụ #4101: 50%."
    updated = await task(bot.sessions, 4101)
    assert (updated.status, updated.progress) == (TaskStatus.IN_PROGRESS, 50)


async def test_progress_answer_typed_after_the_question(bot) -> None:
    await bot.link("SXD-CV")
    await bot.send("SXD-CV", "/tiendo 4101")
    [wrong] = await bot.send("SXD-CV", "200")
    assert wrong.startswith("Tiến độ phải là số nguyên từ 0 đến 100")
    [right] = await bot.send("SXD-CV", "70 Đã có dự thảo")
    assert right == "Đã cập nhật tiến độ nhiệm vụ #4101: 70%."
    [after] = await bot.send("SXD-CV", "80")
    assert after.startswith("Chưa rõ yêu cầu")  # the question was answered and closed


async def test_cancel_a_question(bot) -> None:
    await bot.link("SXD-CV")
    await bot.send("SXD-CV", "/vuongmac 4101")
    [reply] = await bot.send("SXD-CV", "/huy")
    assert reply == "Đã hủy. Không có thay đổi nào."
    [after] = await bot.send("SXD-CV", "Chờ số liệu")
    assert after.startswith("Chưa rõ yêu cầu")


async def test_blocker_reaches_the_task_force_at_once(bot) -> None:
    await bot.link("TCT")
    await bot.link("SXD-CV")
    [reply] = await bot.send("SXD-CV", "/vuongmac 4102 Chờ Sở Tài chính thẩm định kinh phí")
    assert reply == "Đã ghi nhận khó khăn, vướng mắc của nhiệm vụ #4102 và chuyển Tổ công tác."
    messages = await bot.inbox("TCT", 2)
    assert messages[-1].startswith(
        "⚠️ Khó khăn, vướng mắc ở nhiệm vụ #4102 (Sở Xây dựng), đ/c Bùi Minh Hà báo:\n"
        "Chờ Sở Tài chính thẩm định kinh phí"
    )


async def test_extension_asked_step_by_step_then_approved(bot) -> None:
    await bot.link("TCT")
    await bot.link("SXD-CV")
    await bot.send("SXD-CV", "/xem 4102")
    [ask_date] = await bot.press("SXD-CV", bot.last("SXD-CV"), "Xin gia hạn")
    assert ask_date.startswith(
        "Đồng chí đề nghị gia hạn nhiệm vụ #4102 (hạn hiện tại thứ Sáu, 27/11/2026) đến ngày nào?"
    )
    [bad_date] = await bot.send("SXD-CV", "31/02/2026")
    assert bad_date.startswith("'31/02/2026' không phải ngày hợp lệ.")
    [ask_reason] = await bot.send("SXD-CV", "15/12/2026")
    assert ask_reason.startswith("Lý do đề nghị gia hạn nhiệm vụ #4102 đến 15/12/2026?")
    [sent] = await bot.send("SXD-CV", "Chờ ý kiến thẩm định")
    assert sent.startswith(
        "Đã gửi Tổ công tác đề nghị gia hạn nhiệm vụ #4102 đến thứ Ba, 15/12/2026."
    )
    alerts = await bot.inbox("TCT", 2)
    assert alerts[-1].startswith(
        "⏳ Đề nghị gia hạn nhiệm vụ #4102 (Sở Xây dựng): từ 27/11/2026 đến 15/12/2026."
    )
    tct_message = bot.last("TCT")
    [approved] = await bot.press("TCT", tct_message, "Duyệt")
    assert (
        approved
        == "Đã duyệt gia hạn nhiệm vụ #4102: hạn mới thứ Ba, 15/12/2026 (hạn cũ 27/11/2026)."
    )
    told = await bot.inbox("SXD-CV", 7)
    assert told[-1].startswith(
        "✅ Tổ công tác đã đồng ý gia hạn nhiệm vụ #4102: hạn mới thứ Ba, 15/12/2026"
    )
    extended = await task(bot.sessions, 4102)
    assert (extended.original_deadline, extended.deadline) == (
        date(2026, 11, 27),
        date(2026, 12, 15),
    )
    [again] = await bot.send("TCT", "/duyet 4102")
    assert again == "Nhiệm vụ #4102 không có đề nghị gia hạn nào đang chờ quyết định."


async def test_only_the_task_force_decides_and_refusal_needs_a_reason(bot) -> None:
    await bot.link("TCT")
    await bot.link("SXD-LD")
    await bot.send("SXD-LD", "/giahan 4102 15/12/2026 Chờ thẩm định")
    before = await snapshot(bot.sessions)
    [refused] = await bot.send("SXD-LD", "/duyet 4102")
    assert refused == "Chỉ Tổ công tác quyết định các đề nghị gia hạn."
    assert await snapshot(bot.sessions) == before
    [ask] = await bot.send("TCT", "/tuchoi 4102")
    assert ask.startswith("Lý do không đồng ý gia hạn nhiệm vụ #4102 đến 15/12/2026?")
    [done] = await bot.send("TCT", "Đề nghị tập trung hoàn thành đúng hạn")
    assert done.startswith("Đã từ chối gia hạn nhiệm vụ #4102; giữ nguyên hạn 27/11/2026.")
    async with bot.sessions() as session:
        change = await session.scalar(select(DeadlineChange).where(DeadlineChange.task_id == 4102))
    assert (change.state, change.decision_note) == (
        ChangeState.REJECTED,
        "Đề nghị tập trung hoàn thành đúng hạn",
    )
    assert (await task(bot.sessions, 4102)).deadline == date(2026, 11, 27)


# ------------------------------------------------------------------ lists for the task force and leaders


async def test_quahan_for_the_task_force_covers_every_unit(bot) -> None:
    await bot.link("TCT")
    [reply] = await bot.send("TCT", "/quahan")
    assert reply.startswith("🔴 Quá hạn tính đến ngày 25/11/2026: 1 nhiệm vụ tại 1 đơn vị")
    assert "Sở Xây dựng (SXD) — 1 nhiệm vụ, lâu nhất quá hạn 5 ngày" in reply
    assert (
        "• #4103 Kiểm tra, xử lý vi phạm trật tự xây dựng — hạn 20/11/2026, quá hạn 5 ngày; LĐ đ/c Đặng Thanh Oanh, CV đ/c Bùi Minh Hà"
        in reply
    )


async def test_quahan_unit_leader_sees_own_unit_and_specialist_is_refused(bot) -> None:
    await bot.link("STP-LD")
    await bot.link("SXD-CV")
    [own] = await bot.send("STP-LD", "/quahan")
    assert own.startswith("✅ Không có nhiệm vụ quá hạn")
    [other] = await bot.send("STP-LD", "/quahan SXD")
    assert other == "Đồng chí chỉ được xem danh sách của đơn vị mình."
    [specialist] = await bot.send("SXD-CV", "/overdue")
    assert specialist.startswith("Danh sách theo đơn vị dành cho Tổ công tác")
    [unknown] = await bot.send("STP-LD", "/quahan XYZ")
    assert unknown == "Không có đơn vị mã 'XYZ'."


async def test_long_overdue_list_is_split_at_line_ends(bot) -> None:
    async with bot.sessions() as session, session.begin():
        template = await session.get_one(Task, 4103)
        for n in range(60):
            session.add(
                Task(
                    id=6000 + n,
                    content="Rà soát, xử lý dứt điểm các tồn tại về trật tự xây dựng " * 2 + str(n),
                    lead_unit_id=template.lead_unit_id,
                    specialist_id=template.specialist_id,
                    leader_id=template.leader_id,
                    assigned_date=date(2026, 9, 1),
                    deadline=date(2026, 10, 1),
                    original_deadline=date(2026, 10, 1),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    await bot.link("TCT")
    replies = await bot.send("TCT", "/quahan SXD", expect=2)
    assert len(replies) >= 2 and all(len(r) <= bot.max_text for r in replies)
    assert replies[0].startswith("🔴 Quá hạn tính đến ngày 25/11/2026: 61 nhiệm vụ tại 1 đơn vị")
    assert "• #" in replies[1].split("\n")[0]  # cut between lines, never inside one


async def test_thongke_gives_the_five_columns(bot) -> None:
    await bot.link("TCT")
    [reply] = await bot.send("TCT", "/thongke")
    lines = reply.split("\n")
    assert lines[0] == "📊 Số liệu tháng 11/2026 (đến ngày 25/11/2026)"
    assert lines[2] == "Tổng: 7 · 1 · 1 · 4 · 1 — tỷ lệ đúng hạn 50%"
    assert lines[4] == "3 trong số 5 đơn vị, nhiều nhiệm vụ quá hạn nhất trước:"
    assert lines[5:8] == [
        "Sở Xây dựng: 3 · 0 · 0 · 2 · 1",
        "Sở Tư pháp: 2 · 1 · 1 · 0 · 0",
        "Quận Trung Tâm: 2 · 0 · 0 · 2 · 0",
    ]
    assert lines[-1] == (
        "Xem từng đơn vị: /thongke <mã đơn vị>; bảng đầy đủ các đơn vị: /baocao thang"
    )


async def test_thongke_for_the_city_lists_the_worst_units_and_one_unit_on_request(
    bot, monkeypatch
) -> None:
    """The city's total stays whole; only the worst units are listed (the report has all)."""
    monkeypatch.setattr(handlers.overview, "CITY_UNITS", 2)
    await bot.link("TCT")
    [city] = await bot.send("TCT", "/thongke")
    lines = city.split("\n")
    assert lines[2] == "Tổng: 7 · 1 · 1 · 4 · 1 — tỷ lệ đúng hạn 50%"
    assert lines[4:7] == [
        "2 trong số 5 đơn vị, nhiều nhiệm vụ quá hạn nhất trước:",
        "Sở Xây dựng: 3 · 0 · 0 · 2 · 1",
        "Sở Tư pháp: 2 · 1 · 1 · 0 · 0",
    ]
    assert "Quận Trung Tâm" not in city
    [one] = await bot.send("TCT", "/thongke Q1")
    assert one.split("\n")[2:] == [
        "Tổng: 2 · 0 · 0 · 2 · 0",
        "Quận Trung Tâm: 2 · 0 · 0 · 2 · 0",
    ]
    await bot.send("TCT", "/lang en")
    [english] = await bot.send("TCT", "/stats")
    assert english.split("\n")[4] == "Worst first, 2 of 5 units:"
    assert english.split("\n")[-1] == "One unit: /thongke <unit code>; every unit: /baocao thang"


async def test_sapden_lists_tasks_due_within_working_days(bot) -> None:
    await bot.link("SXD-CV")
    [reply] = await bot.send("SXD-CV", "/sapden 3")
    assert reply.startswith("⏰ Nhiệm vụ đến hạn trong 3 ngày làm việc tới (đến 30/11/2026):")
    assert "#4102" in reply and "#4101" not in reply


# ------------------------------------------------------------------ language, help, groups


async def test_english_after_ngonngu_en(bot) -> None:
    await bot.link("SXD-CV")
    [switched] = await bot.send("SXD-CV", "/lang en")
    assert switched == "From now on the bot writes to you in English."
    [reply] = await bot.send("SXD-CV", "/tasks")
    assert reply.startswith("📋 Your tasks: 3 open, 1 overdue")
    assert "due 20/11/2026, 5 days overdue" in reply
    [back] = await bot.send("SXD-CV", "/ngonngu vi")
    assert back == "Từ nay bot sẽ trả lời đồng chí bằng tiếng Việt."


async def test_help_shows_what_this_person_may_use(bot) -> None:
    await bot.link("SXD-CV")
    await bot.link("TCT")
    [specialist] = await bot.send("SXD-CV", "/trogiup")
    [task_force] = await bot.send("TCT", "/help")
    assert "/xong 4102" in specialist and "/duyet" not in specialist and "/quahan" not in specialist
    assert "/duyet 4102" in task_force and "/quahan" in task_force


async def test_group_chat_never_lists_another_units_tasks(bot) -> None:
    await bot.link("TCT")
    await bot.link("SXD-CV")
    [mine] = await bot.send("SXD-CV", "/viec", group=-2002)
    assert "#4103" in mine
    [other] = await bot.send("TCT", "/xem 4103", group=-2002)
    assert (
        other == "Nhiệm vụ #4103 do đơn vị khác chủ trì; đề nghị xem trong tin nhắn riêng với bot."
    )
    [overdue] = await bot.send("TCT", "/quahan", group=-2002)
    assert "#4103" not in overdue


@pytest.mark.only_on("telegram", reason="only Telegram bots have a command menu")
async def test_command_menu_is_registered_in_vietnamese_and_english(bot) -> None:
    async with asyncio.timeout(15):  # set in the background once the bot is up
        while "en" not in bot.sandbox.commands:
            await asyncio.sleep(0.01)
    assert bot.sandbox.commands[""][0] == {"command": "viec", "description": "Nhiệm vụ của tôi"}
    assert bot.sandbox.commands["en"][0] == {"command": "viec", "description": "My open tasks"}


async def test_every_reply_is_recorded_in_the_outbox_as_sent(bot) -> None:
    await bot.link("SXD-CV")
    await bot.send("SXD-CV", "/viec")
    for _ in range(100):  # marked sent just after the Bot API accepted it
        async with bot.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        if all(r.state is OutboxState.SENT for r in rows):
            break
        await asyncio.sleep(0.02)
    assert [r.state for r in rows] == [OutboxState.SENT, OutboxState.SENT]
    assert rows[1].text.startswith("📋 Nhiệm vụ của đồng chí")
    assert rows[1].key.startswith(f"reply:{bot.channel.value}:update ")


async def test_kenh_takes_one_channel_several_or_all_and_refuses_what_is_none(bot) -> None:
    await bot.link("SXD-CV")
    [one] = await bot.send("SXD-CV", "/kenh zalo")
    assert one.startswith("Từ nay nhắc việc và cảnh báo được gửi qua Zalo.")
    assert await _notify_channel(bot) == "zalo"
    [wrong] = await bot.send("SXD-CV", "/kenh zalo fax")
    assert "tatca" in wrong
    assert await _notify_channel(bot) == "zalo"  # unchanged
    [named] = await bot.send("SXD-CV", "/kenh " + " ".join(c.value for c in ChatChannel))
    assert named.startswith("Từ nay nhắc việc và cảnh báo được gửi đến mọi kênh")
    [every] = await bot.send("SXD-CV", "/channel all")
    assert every == "Từ nay nhắc việc và cảnh báo được gửi đến mọi kênh đồng chí đã liên kết."
    assert await _notify_channel(bot) == "all"


async def _notify_channel(bot) -> str:
    async with bot.sessions() as session:
        return await session.scalar(
            select(Official.notify_channel).where(Official.code == "SXD-CV")
        )
