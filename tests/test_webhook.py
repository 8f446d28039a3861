"""Webhook mode: updates with the right secret header are handled, others rejected unread."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from models import OutboxMessage
from models.clock import FixedClock
from tests import harness
from tests.city import City
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def webhook_bot(sessions, city: City):
    port = free_port()
    settings = Settings(
        webhook_url=f"http://127.0.0.1:{port}/telegram-hook",
        webhook_secret="s3cret-Token_1",
        webhook_listen=f"127.0.0.1:{port}",
    )
    bot = await harness.start(sessions, FixedClock(NOW), settings)
    yield bot
    await harness.stop(bot)


async def test_bot_registers_its_webhook_with_the_secret(webhook_bot) -> None:
    assert webhook_bot.sandbox.webhook_url.endswith("/telegram-hook")
    assert webhook_bot.sandbox.webhook_secret == "s3cret-Token_1"


async def test_update_with_the_right_secret_is_answered(webhook_bot) -> None:
    reply = await webhook_bot.link("SXD-CV")
    assert reply.startswith("Xin chào đồng chí Bùi Minh Hà")
    [tasks] = await webhook_bot.send("SXD-CV", "/viec")
    assert tasks.startswith("📋 Nhiệm vụ của đồng chí: 3 đang thực hiện")


async def test_update_with_a_wrong_or_missing_secret_is_rejected(webhook_bot) -> None:
    user = webhook_bot.user("SXD-CV")
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "X"},
            "text": "/start",
        },
    }
    assert await webhook_bot.sandbox.post_webhook(update, "wrong") == 403
    assert await webhook_bot.sandbox.post_webhook(update, "") == 403
    async with webhook_bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert webhook_bot.sandbox.bot_messages(user) == []
