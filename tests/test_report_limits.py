"""/baocao under pressure: identical asks share one build, a person's asks are throttled,
and nothing is stored for an ask that was refused."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select

from handlers import reports
from handlers.core import Incoming
from models import OutboxMessage
from models.accounts import ChatChannel
from models.attachments import Attachment
from tests.city import City
from tests.core_chat import CoreChat

_ids = itertools.count(1)


@pytest.fixture
async def chat(sessions, city: City, monkeypatch: pytest.MonkeyPatch) -> CoreChat:
    builds = []
    real = reports.build_report_files

    async def slow_build(*args, **kwargs):
        builds.append(args[1])  # the order
        await asyncio.sleep(
            2.0
        )  # a big city: the build outlasts the burst, even on a loaded machine
        return await real(*args, **kwargs)

    monkeypatch.setattr(reports, "build_report_files", slow_build)
    chat = CoreChat(sessions)
    chat.builds = builds  # type: ignore[attr-defined]
    return chat


async def count(sessions, table) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def burst(chat: CoreChat, user: str, texts: list[str]) -> list[str]:
    """Everything sent at once, as a person tapping again and again would."""
    ids = await asyncio.gather(
        *(
            chat.core.handle(
                Incoming(ChatChannel.TELEGRAM, user, user, f"burst {next(_ids)}", text)
            )
            for text in texts
        )
    )
    await chat.core.idle()
    async with chat.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.text).where(OutboxMessage.id.in_([i[0] for i in ids]))
        )
        return list(rows.all())


async def test_thirty_identical_asks_build_once_and_store_one_set_of_files(chat: CoreChat) -> None:
    user = await chat.link("TCT")
    replies = await burst(chat, user, ["/baocao thang"] * 30)
    assert len(chat.builds) == 1
    assert sum(r.startswith("⏳ Đang lập") for r in replies) == 1
    assert sum("đang được chuẩn bị" in r for r in replies) == 29
    files = await count(chat.sessions, Attachment)
    assert 1 <= files <= 3  # one report's chart and workbook, not thirty


async def test_two_people_asking_the_same_report_share_the_build(chat: CoreChat) -> None:
    first, second = await chat.link("TCT"), await chat.link("CT")
    await asyncio.gather(
        burst(chat, first, ["/baocao thang"]), burst(chat, second, ["/baocao thang"])
    )
    assert len(chat.builds) == 1
    async with chat.sessions() as session:
        summaries = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.text.startswith("📊"))
        )
    assert summaries == 2  # each gets the report


async def test_a_person_asking_many_reports_is_throttled(chat: CoreChat) -> None:
    user = await chat.link("TCT")
    asks = [
        "/baocao tuan",
        "/baocao thang",
        "/baocao quy",
        "/baocao 2tuan",
        "/baocao thang 10/2026",
    ]
    for text in asks:
        [reply] = await chat.say(user, text)
        assert reply.startswith("⏳"), reply
    files = await count(chat.sessions, Attachment)
    [refused] = await chat.say(user, "/baocao thang 9/2026")
    assert refused.startswith("Đồng chí đã yêu cầu nhiều báo cáo trong vài phút vừa qua.")
    assert len(chat.builds) == 5 and await count(chat.sessions, Attachment) == files
