"""/baocao end to end: the answer at once, then the summary, the chart and the workbook."""

from __future__ import annotations

from io import BytesIO

import httpx
import pytest
from matplotlib.image import imread
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.config import Settings
from bot.runtime import deliver_due
from models import Official, OutboxMessage
from models.attachments import Attachment, File, FileKind, store
from models.clock import FixedClock
from models.notices import Message, Notifier, Outgoing
from models.outbox import Priority
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def bot(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running)


@pytest.fixture
async def zalo(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW), channel="zalo")
    yield running
    await harness.stop(running)


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_task_force_gets_the_monthly_report_with_chart_and_workbook(bot) -> None:
    await bot.link("TCT")
    texts = await bot.send("TCT", "/baocao thang", expect=4)
    assert texts[0].startswith("⏳ Đang lập báo cáo tháng cho toàn thành phố")
    summary = texts[1].split("\n")
    assert summary[0] == "📊 Báo cáo tháng: từ 01/11/2026 đến 25/11/2026"
    assert summary[2] == "Tổng: 7 · 1 · 1 · 4 · 1 — tỷ lệ đúng hạn 50%"
    assert "1. Sở Xây dựng: 3 · 0 · 0 · 2 · 1" in summary
    assert any(line.startswith("⚠️ 1 nhiệm vụ đang thực hiện") for line in summary)

    photo, document = bot.sandbox.bot_messages(bot.user("TCT"))[-2:]
    assert photo["caption"] == "Báo cáo tháng: từ 01/11/2026 đến 25/11/2026"
    height, width, _ = imread(BytesIO(bot.sandbox.file_of(photo)), format="png").shape
    assert (width, height) == (1080, 1350)
    assert document["document"]["file_name"] == "bao-cao-monthly-toan-thanh-pho-2026-11-25.xlsx"
    book = load_workbook(BytesIO(bot.sandbox.file_of(document)))
    total = [c.value for c in book["Tổng hợp"][5]]
    assert total[1:7] == ["Tổng", 7, 1, 1, 4, 1]  # the same numbers as the summary
    assert book["Quá hạn"].cell(2, 1).value == 4103


async def test_a_unit_leader_gets_the_own_units_report_only(bot) -> None:
    await bot.link("SXD-LD")
    texts = await bot.send("SXD-LD", "/report", expect=4)
    assert texts[0].startswith("⏳ Đang lập báo cáo tuần cho Sở Xây dựng")
    assert texts[1].startswith("📊 Báo cáo tuần: từ 19/11/2026 đến 25/11/2026 — Sở Xây dựng")
    document = bot.sandbox.bot_messages(bot.user("SXD-LD"))[-1]
    book = load_workbook(BytesIO(bot.sandbox.file_of(document)))
    assert [row[0].value for row in book["Tổng hợp"].iter_rows(min_row=2)] == ["SXD", None]


async def test_refusals_say_why_and_change_nothing(bot) -> None:
    await bot.link("SXD-LD")
    await bot.link("SXD-CV")
    before = (await _count(bot.sessions, Attachment), await _count(bot.sessions, OutboxMessage))
    [specialist] = await bot.send("SXD-CV", "/baocao thang")
    assert specialist.startswith("Báo cáo dành cho Tổ công tác, lãnh đạo thành phố")
    [other] = await bot.send("SXD-LD", "/baocao thang STP")
    assert other == "Đồng chí chỉ được xem báo cáo của đơn vị mình."
    [unknown] = await bot.send("SXD-LD", "/baocao thang XYZ")
    assert unknown.startswith("Không có đơn vị mã 'xyz'.")
    [wrong] = await bot.send("SXD-LD", "/baocao nam 2026 SXD")
    assert "Cú pháp: /baocao [tuan|2tuan|thang|quy] [tháng, quý hoặc ngày] [mã đơn vị]" in wrong
    [group] = await bot.send("SXD-LD", "/baocao thang", group=-100_847)
    assert group == "Báo cáo chỉ gửi trong cuộc trò chuyện riêng với bot."
    attachments, outbox = before
    assert await _count(bot.sessions, Attachment) == attachments
    assert await _count(bot.sessions, OutboxMessage) == outbox + 5  # only the five replies


async def test_on_zalo_the_files_are_announced_not_lost(zalo) -> None:
    await zalo.link("TCT")
    texts = await zalo.send("TCT", "/baocao quy", expect=4)
    assert texts[1].startswith("📊 Báo cáo quý: từ 01/10/2026 đến 25/11/2026")
    assert "📎 bao-cao-quarterly-toan-thanh-pho-2026-11-25.png" in texts[2]
    assert "📎 bao-cao-quarterly-toan-thanh-pho-2026-11-25.xlsx" in texts[3]


@pytest.fixture
async def zalo_with_links(sessions, city: City):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        files_url=f"http://127.0.0.1:{port}/files",
        files_listen=f"127.0.0.1:{port}",
        files_secret="bi-mat-thu-nghiem",
    )
    running = await harness.start(sessions, FixedClock(NOW), settings, channel="zalo")
    yield running
    await harness.stop(running)


async def test_on_zalo_the_chart_and_workbook_come_as_signed_links(zalo_with_links) -> None:
    zalo = zalo_with_links
    await zalo.link("TCT")
    texts = await zalo.send("TCT", "/baocao thang", expect=4)
    photo = zalo.sandbox.zalo_bot_messages(zalo.user("TCT"))[-2]
    assert photo["text"] == "Báo cáo tháng: từ 01/11/2026 đến 25/11/2026"
    async with httpx.AsyncClient() as client:
        chart = await client.get(photo["photo"])
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"
        line = texts[3].split("\n")[-1]
        assert line.startswith(
            "📎 bao-cao-monthly-toan-thanh-pho-2026-11-25.xlsx (hiệu lực 30 ngày): "
        )
        url = line.rsplit(" ", 1)[1]
        book = load_workbook(BytesIO((await client.get(url)).content))
        assert [c.value for c in book["Tổng hợp"][5]][1:7] == ["Tổng", 7, 1, 1, 4, 1]
        # A link with a changed signature, or to another file, opens nothing.
        forged = url.replace(url.split("/")[-2], "0" * 32)
        assert (await client.get(forged)).status_code == 404
        number = url.split("/")[-4]
        other = url.replace(f"/files/{number}/", f"/files/{int(number) - 1}/")
        assert (await client.get(other)).status_code == 404


async def test_a_past_month_or_week_by_name(bot) -> None:
    await bot.link("TCT")
    texts = await bot.send("TCT", "/baocao thang 10/2026", expect=4)
    summary = texts[1].split("\n")
    assert summary[0] == "📊 Báo cáo tháng: từ 01/10/2026 đến 31/10/2026"
    assert summary[2] == "Tổng: 7 · 0 · 0 · 7 · 0"  # on 31/10 nothing was done or late yet
    texts = await bot.send("TCT", "/baocao tuan 20/11/2026 SXD", expect=4)
    assert texts[1].startswith("📊 Báo cáo tuần: từ 14/11/2026 đến 20/11/2026 — Sở Xây dựng")
    texts = await bot.send("TCT", "/baocao thang 11/2026", expect=4)  # still running: to today
    assert texts[1].startswith("📊 Báo cáo tháng: từ 01/11/2026 đến 25/11/2026")


async def test_a_period_that_cannot_be_reported_is_explained(bot) -> None:
    await bot.link("TCT")
    before = await _count(bot.sessions, Attachment)
    [future] = await bot.send("TCT", "/baocao thang 12/2026")
    assert future == "Kỳ báo cáo này chưa bắt đầu: chưa có gì để báo cáo."
    [month] = await bot.send("TCT", "/baocao quy 5/2026")
    assert month.startswith("'5/2026' không phải là tháng hoặc quý.")
    assert "Cú pháp: /baocao [tuan|2tuan|thang|quy] [tháng, quý hoặc ngày] [mã đơn vị]" in month
    [week] = await bot.send("TCT", "/baocao tuan 11/2026")
    assert week.startswith("Tuần được ghi bằng ngày cuối của tuần, ví dụ 20/11/2026.")
    [day] = await bot.send("TCT", "/baocao tuan 31/02/2026")
    assert day.startswith("'31/02/2026' không phải là kỳ báo cáo hay một ngày.")
    assert await _count(bot.sessions, Attachment) == before


async def test_tick_and_run_send_the_same_attachment_to_zalo(zalo_with_links) -> None:
    """`dondoc tick` takes its senders from the same place as the running bot: a file goes
    to Zalo as the same signed link either way."""
    zalo = zalo_with_links
    await zalo.link("TCT")
    official = zalo.ids["TCT"]
    workbook = File(FileKind.DOCUMENT, "bao-cao.xlsx", b"PK\x03\x04 workbook", "Báo cáo tháng")

    async def queue(key: str) -> None:
        async with zalo.sessions() as session, session.begin():
            person = await session.get(Official, official)
            stored = await store(session, "test:the same workbook", workbook, NOW)
            await Notifier(session, NOW).send(
                [
                    Outgoing(
                        key, person, lambda t: Message("Báo cáo", [], ((stored, "Báo cáo tháng"),))
                    )
                ],
                priority=Priority.BULK,
            )

    await queue("test:by run")
    zalo.running.sender.wake.set()
    by_run = (await zalo.inbox("TCT", 3))[-1]
    await zalo.running.stop()  # the bot stops; cron's tick delivers from now on
    await queue("test:by tick")
    assert await deliver_due(zalo.settings, zalo.sessions, zalo.clock) == 2
    by_tick = (await zalo.inbox("TCT", 5))[-1]
    assert by_tick == by_run
    assert "📎 bao-cao.xlsx (hiệu lực 30 ngày): http://127.0.0.1:" in by_tick
