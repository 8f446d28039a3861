"""A notice sent to the bot: proposed tasks, fixed in chat, created by /giao as an import would."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document as Docx
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import Document, Task, TaskEvent, TaskProposal
from models.clock import FixedClock
from tests import harness
from tests.city import City
from tests.conftest import NOW

LINES = [
    "ỦY BAN NHÂN DÂN THÀNH PHỐ",
    "Số: 520/TB-UBND",
    "Đông Hải, ngày 20 tháng 11 năm 2026",
    "THÔNG BÁO",
    "Kết luận của Chủ tịch UBND thành phố tại cuộc họp về chỉnh trang đô thị",
    "Chủ tịch UBND thành phố kết luận như sau:",
    "1. Giao Sở Xây dựng chủ trì, phối hợp với Sở Tư pháp rà soát quy chế quản lý kiến trúc,"
    " báo cáo UBND thành phố trước ngày 15/12/2026.",
    "2. UBND quận Trung Tâm khẩn trương kiểm tra, xử lý các biển quảng cáo sai phép.",
    "3. Sở Tư pháp hướng dẫn thủ tục xử phạt vi phạm hành chính, hoàn thành trong tháng 12/2026.",
    "Thời gian qua, Sở Xây dựng đã phối hợp tốt với các quận.",
    "UBND thành phố thông báo để các cơ quan, đơn vị biết, thực hiện./.",
    "Nơi nhận:",
    "- Như trên;",
    "TL. CHỦ TỊCH",
    "CHÁNH VĂN PHÒNG",
    "Lê Minh Tuấn",
]


def notice_docx(lines: list[str] = LINES) -> bytes:
    document = Docx()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
async def bot(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW), only=True)
    yield running
    await harness.stop(running)


async def send_file(bot, code: str, name: str, content: bytes, expect: int = 1) -> list[str]:
    chat = bot.user(code)
    await bot.settle()
    before = len(bot.sandbox.bot_messages(chat))
    await bot.sandbox.send_file(chat, name, content)
    await bot.sandbox.wait_for_bot_messages(chat, before + expect)
    await bot.settle()
    return [m.get("text", "") for m in bot.sandbox.bot_messages(chat)[before:]]


async def counts(sessions) -> tuple[int, ...]:
    async with sessions() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Document, Task, TaskEvent, TaskProposal)
            ]
        )


async def test_a_notice_sent_in_chat_is_fixed_then_assigned_as_an_import_would(
    bot, sessions
) -> None:
    await bot.link("TCT")
    before = await counts(sessions)
    [proposal] = await send_file(bot, "TCT", "tb520.docx", notice_docx())
    lines = proposal.split("\n")
    assert lines[0] == (
        "📄 Thông báo 520/TB-UBND ngày 20/11/2026: 3 nhiệm vụ đề xuất; chưa tạo nhiệm vụ nào"
        " cho đến khi có lệnh /giao."
    )
    assert lines[1].startswith("1. Giao Sở Xây dựng chủ trì")
    assert "chủ trì SXD; hạn 15/12/2026; phối hợp STP" in lines[1]
    assert "hạn ? (khẩn trương)" in lines[2]
    assert lines[-1].startswith("⚠️ 1 nhiệm vụ cần chọn (?)")
    assert (await counts(sessions))[:3] == before[:3]  # nothing created before /giao

    [refused] = await bot.send("TCT", "/giao")
    assert refused.startswith("Chưa tạo nhiệm vụ nào: nhiệm vụ 2")
    assert (await counts(sessions))[:3] == before[:3]

    [fixed] = await bot.send("TCT", "/sua 2 hanchot 31/12/2026")
    assert fixed.startswith("2. UBND quận Trung Tâm khẩn trương") and "hạn 31/12/2026" in fixed
    [done] = await bot.send("TCT", "/assign")
    assert done.startswith("✅ Đã đăng ký 3 nhiệm vụ theo Thông báo 520/TB-UBND ngày 20/11/2026.")

    async with sessions() as session:
        tasks = (
            await session.scalars(
                select(Task)
                .options(selectinload(Task.coordinating_units), selectinload(Task.lead_unit))
                .join(Document, Task.document_id == Document.id)
                .where(Document.number == "520/TB-UBND")
                .order_by(Task.id)
            )
        ).all()
        document = await session.scalar(select(Document).where(Document.number == "520/TB-UBND"))
        assert document.issued_on == date(2026, 11, 20) and document.signer == "Lê Minh Tuấn"
        assert [(t.lead_unit.code, t.deadline) for t in tasks] == [
            ("SXD", date(2026, 12, 15)),
            ("Q1", date(2026, 12, 31)),
            ("STP", date(2026, 12, 31)),
        ]
        assert [u.code for u in tasks[0].coordinating_units] == ["STP"]
        events = await session.scalar(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.task_id.in_([t.id for t in tasks]))
        )
        assert events == 3  # one "created" each, as the import records it
    assert (await counts(sessions))[3] == 0  # the proposal is gone with /giao


async def test_a_dropped_task_is_not_created_and_a_lead_can_be_chosen(bot, sessions) -> None:
    await bot.link("TCT")
    broadcast = [
        *LINES[:6],
        "1. Các sở, ban, ngành rà soát thủ tục hành chính trước ngày 10/12/2026.",
    ]
    [proposal] = await send_file(bot, "TCT", "tb.docx", notice_docx([*broadcast, *LINES[6:]]))
    assert "1. Các sở, ban, ngành" in proposal and "chủ trì ? (Các sở, ban, ngành" in proposal
    [chosen] = await bot.send("TCT", "/edit 1 chutri Sở Tư pháp")
    assert "chủ trì STP" in chosen
    [dropped] = await bot.send("TCT", "/drop 3")
    assert dropped.startswith("Đã bỏ nhiệm vụ 3 khỏi danh sách đề xuất; còn 3 nhiệm vụ.")
    [done] = await bot.send("TCT", "/giao")
    assert done.startswith("✅ Đã đăng ký 3 nhiệm vụ")


@pytest.mark.parametrize("code", ["SXD-CV", "SXD-LD", "CT"])
async def test_only_the_task_force_reads_notices_into_tasks(bot, sessions, code) -> None:
    await bot.link(code)
    before = await counts(sessions)
    [refused] = await send_file(bot, code, "tb520.docx", notice_docx())
    assert refused.startswith("Việc đọc văn bản thành nhiệm vụ do Tổ công tác thực hiện")
    for command in ("/giao", "/sua 1 chutri SXD", "/bo 1"):
        [again] = await bot.send(code, command)
        assert again.startswith("Việc đọc văn bản thành nhiệm vụ do Tổ công tác thực hiện")
    assert await counts(sessions) == before


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("anh.docx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, "không phải là tệp DOCX"),
        ("trong.pdf", b"", "tệp rỗng"),
        ("bang.xlsx", b"PK\x03\x04", "không đọc được tệp '.xlsx'"),
    ],
)
async def test_a_file_that_cannot_be_read_gets_a_clear_reply_and_nothing_is_kept(
    bot, sessions, name, content, words
) -> None:
    await bot.link("TCT")
    before = await counts(sessions)
    [reply] = await send_file(bot, "TCT", name, content)
    assert reply.startswith(name) and words in reply
    assert await counts(sessions) == before


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("/giao", "Chưa có văn bản nào đang chờ"),
        ("/sua 1 chutri SXD", "Chưa có văn bản nào đang chờ"),
        ("/sua", "Cú pháp: /sua"),
        ("/sua 1 mau do", "Cú pháp: /sua"),
        ("/bo", "Bỏ nhiệm vụ đề xuất nào?"),
    ],
)
async def test_fixing_commands_without_a_notice_or_with_bad_input_change_nothing(
    bot, sessions, command, words
) -> None:
    await bot.link("TCT")
    before = await counts(sessions)
    [reply] = await bot.send("TCT", command)
    assert words in reply
    assert await counts(sessions) == before


async def test_bad_edits_are_refused_and_the_proposal_stays(bot, sessions) -> None:
    await bot.link("TCT")
    await send_file(bot, "TCT", "tb520.docx", notice_docx())
    for command, words in (
        ("/sua 9 chutri SXD", "Không có nhiệm vụ đề xuất số 9"),
        ("/sua 1 chutri Sở Ngoại giao", "Không có đơn vị 'Sở Ngoại giao'"),
        ("/sua 1 hanchot 31/02/2026", "không phải là ngày"),
        ("/sua 1 hanchot 01/01/2026", "trước ngày ban hành văn bản"),
    ):
        [reply] = await bot.send("TCT", command)
        assert words in reply, reply
    [done] = await bot.send("TCT", "/sua 2 hanchot thuongxuyen")
    assert "không có thời hạn (thường xuyên)" in done


async def test_help_tells_the_task_force_how_to_send_a_notice(bot) -> None:
    await bot.link("TCT")
    await bot.link("SXD-CV")
    [task_force] = await bot.send("TCT", "/trogiup")
    [specialist] = await bot.send("SXD-CV", "/trogiup")
    assert "/giao" in task_force and "Gửi văn bản đã ký (DOCX, PDF)" in task_force
    assert "/giao" not in specialist


async def test_the_same_notice_assigned_twice_registers_its_tasks_once(bot, sessions) -> None:
    await bot.link("TCT")
    for _ in range(2):
        await send_file(bot, "TCT", "tb520.docx", notice_docx())
        await bot.send("TCT", "/sua 2 hanchot 31/12/2026")
        [done] = await bot.send("TCT", "/giao")
    assert done.startswith("✅ Đã đăng ký 0 nhiệm vụ theo Thông báo 520/TB-UBND")
    assert done.split("\n")[0].endswith("3 nhiệm vụ đã được đăng ký từ trước.")
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Task)
            .join(Document, Task.document_id == Document.id)
            .where(Document.number == "520/TB-UBND")
        )
    assert count == 3
