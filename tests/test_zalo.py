"""Zalo's own ways: 408 long polls, a duplicated update, the webhook secret, typed buttons,
its 2,000-character limit, notices through the outbox, and the chosen channel."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Failure
from bot.zalo import ZaloClient, ZaloSender, incoming_from, render
from locales import TIMEZONE
from models import OutboxMessage, OutboxState, TaskEvent
from models.accounts import ChatAccount, ChatChannel
from models.clock import FixedClock
from models.notices import Message, Notifier, Outgoing
from models.outbox import Priority
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def zalo(sessions, city: City):
    bot = await harness.start(sessions, FixedClock(NOW), channel="zalo")
    yield bot
    await harness.stop(bot)


def test_buttons_become_commands_to_type_and_long_text_is_cut_under_2000() -> None:
    parts = render(
        "Dòng đầu\n" + "\n".join(f"Dòng số {n} " + "x" * 60 for n in range(60)),
        [[("Hoàn thành", "/xong 4102")]],
        "vi",
    )
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert parts[-1].endswith("Trả lời nhanh:\n• Hoàn thành: /xong 4102")
    assert all(not p.startswith("x") for p in parts[1:])  # cut between lines


def test_a_sticker_or_an_image_has_no_text() -> None:
    update = {
        "event_name": "message.sticker.received",
        "message": {
            "message_id": "m1",
            "from": {"id": "u1"},
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "date": 0,
            "sticker": "s",
        },
    }
    incoming = incoming_from(update)
    assert incoming is not None and incoming.text is None and incoming.update_id.endswith(":m1")


async def test_long_polling_survives_408_when_nothing_is_new(zalo) -> None:
    await asyncio.sleep(0.2)  # the poller has been answered 408 at least once meanwhile
    assert any(method == "getUpdates" for method, _ in zalo.sandbox.zalo_calls)
    reply = await zalo.link("SXD-CV")
    assert reply.startswith("Xin chào đồng chí Bùi Minh Hà (Sở Xây dựng)")


async def test_a_duplicated_update_is_processed_once(zalo) -> None:
    await zalo.link("SXD-CV")
    user = zalo.user("SXD-CV")
    update = await zalo.sandbox.zalo_say(user, "/vuongmac 4102 Chờ số liệu của quận")
    await zalo.sandbox.wait_for_zalo_messages(user, 2)
    await zalo.sandbox.zalo_push(update)  # Zalo delivers the same event again
    await asyncio.sleep(0.3)
    await zalo.settle()
    assert len(zalo.sandbox.zalo_bot_messages(user)) == 2
    async with zalo.sessions() as session:
        blockers = await session.scalar(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.action == "blocker")
        )
    assert blockers == 1


async def test_the_card_lists_its_buttons_as_commands(zalo) -> None:
    await zalo.link("SXD-CV")
    [card] = await zalo.send("SXD-CV", "/xem 4102")
    assert card.endswith(
        "Trả lời nhanh:\n• ✅ Hoàn thành: /xong 4102\n• Cập nhật tiến độ: /tiendo 4102\n"
        "• Báo vướng mắc: /vuongmac 4102\n• Xin gia hạn: /giahan 4102"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_with_the_right_secret_is_answered_and_a_wrong_one_rejected(
    sessions, city: City
) -> None:
    port = free_port()
    settings = Settings(
        zalo_webhook_url=f"http://127.0.0.1:{port}/zalo-hook",
        zalo_webhook_secret="z-s3cret",
        zalo_webhook_listen=f"127.0.0.1:{port}",
    )
    bot = await harness.start(sessions, FixedClock(NOW), settings, channel="zalo")
    try:
        assert bot.sandbox.zalo_webhook_url.endswith("/zalo-hook")
        assert (await bot.link("SXD-CV")).startswith("Xin chào đồng chí Bùi Minh Hà")
        user = bot.user("SXD-CV")
        forged = {
            "event_name": "message.text.received",
            "message": {
                "message_id": "forged",
                "from": {"id": user},
                "chat": {"id": user, "chat_type": "PRIVATE"},
                "date": 0,
                "text": "/xong 4102",
            },
        }
        assert await bot.sandbox.post_zalo_webhook(forged, "wrong") == 403
        assert await bot.sandbox.post_zalo_webhook(forged, "") == 403
        async with sessions() as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(TaskEvent).where(TaskEvent.task_id == 4102)
                )
                == 0
            )
    finally:
        await harness.stop(bot)


async def test_notices_go_through_the_outbox_to_zalo_and_follow_the_chosen_channel(
    zalo, city: City
) -> None:
    await zalo.link("SXD-CV")
    async with zalo.sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.TELEGRAM,
                external_user_id="555",
                chat_id="555",
                official_id=city.officials["SXD-CV"].id,
                linked_at=NOW,
            )
        )
    [chosen] = await zalo.send("SXD-CV", "/kenh zalo")
    assert chosen == "Từ nay nhắc việc và cảnh báo được gửi qua Zalo."
    official = city.officials["SXD-CV"]
    official.notify_channel = "zalo"
    async with zalo.sessions() as session, session.begin():
        await Notifier(session, NOW).send(
            [
                Outgoing(
                    f"test:notice:to {official.id}",
                    official,
                    lambda t: Message("⏰ Nhắc việc thử", [[("Hoàn thành", "/xong 4102")]]),
                )
            ],
            priority=Priority.ALERT,
        )
    zalo.running.sender.wake.set()
    messages = await zalo.inbox("SXD-CV", 3)
    assert messages[-1] == "⏰ Nhắc việc thử\n\nTrả lời nhanh:\n• Hoàn thành: /xong 4102"
    async with zalo.sessions() as session:
        keys = (
            await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.like("test:notice%"))
            )
        ).all()
    assert keys == [f"test:notice:to {official.id}:zalo {zalo.user('SXD-CV')}"]  # not to Telegram


async def test_zalo_429_is_retried_after_its_wait(sessions, city: City, zalo) -> None:
    await zalo.link("SXD-CV")
    moment = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)
    async with sessions() as session, session.begin():
        official = city.officials["SXD-CV"]
        await Notifier(session, moment).send(
            [Outgoing(f"test:z429:to {official.id}", official, lambda t: Message("Tin thử", []))],
            priority=Priority.ALERT,
        )
    zalo.sandbox.fail_next("zalo:sendMessage", Failure(429, "Too many requests", retry_after=2))
    await zalo.running.stop()  # only this sender now
    client = ZaloClient(harness.ZALO_TOKEN, f"{zalo.sandbox.url}/zalo")
    sender = OutboxSender(
        sessions,
        FixedClock(moment),
        {ChatChannel.ZALO: ZaloSender(client)},
        limiter=RateLimiter(0, 0),
    )
    assert await sender.drain() == 0
    await client.close()
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.key.like("test:z429%"))
        )
    assert row.state is OutboxState.PENDING and (row.not_before - moment).total_seconds() == 2
