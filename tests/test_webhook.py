"""Telegram's webhook: updates with the right secret header are handled, others rejected
unread; as an attacker meets it: oversized body, JSON of another shape, deep nesting, a replay —
refused or handled once, never a 500."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.telegram import SECRET_HEADER
from bot.webhook import MAX_BODY
from models import OutboxMessage, TaskEvent
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


# ---------------------------------------------------------------- as an attacker meets it

SECRET = "s3cret-Token_1"


def telegram_update(user: int, text: str, update_id: int = 5000) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "X", "language_code": "vi"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


@pytest.fixture
async def hook(webhook_bot):
    async with httpx.AsyncClient(timeout=10) as http:

        async def post(body: bytes, secret: str = SECRET) -> int:
            try:
                response = await http.post(
                    webhook_bot.sandbox.webhook_url,
                    content=body,
                    headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
                )
            except httpx.HTTPError:  # the server may close the connection on an oversized body
                return 0
            return response.status_code

        yield webhook_bot, post


@pytest.mark.parametrize(
    "body",
    [
        b"[1]",
        b"null",
        b'"text"',
        b"{}",
        b'{"update_id": "x"}',
        b'{"update_id": 1, "message": "x"}',
        b'{"update_id": 1, "message": {"chat": 5}}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe not json",
    ],
)
async def test_malformed_bodies_are_a_bad_request_never_a_500(hook, body: bytes) -> None:
    _bot, post = hook
    assert await post(body) == 400


async def test_an_oversized_body_is_refused_and_a_wrong_secret_refused_unread(hook) -> None:
    bot, post = hook
    big = json.dumps(telegram_update(bot.user("SXD-CV"), "/viec " + "x" * MAX_BODY)).encode()
    assert await post(big) in (0, 413)
    assert await post(big, "wrong") in (0, 403)
    assert await post(b"[1]", "wrong") == 403
    assert await post(b"[1]") == 400  # and the server still serves


async def test_a_replayed_update_is_handled_once(hook) -> None:
    bot, post = hook
    await bot.link("SXD-CV")
    user = bot.user("SXD-CV")
    blocker = json.dumps(telegram_update(user, "/vuongmac 4102 Chờ số liệu")).encode()
    before = len(bot.sandbox.bot_messages(user))
    for _ in range(3):
        assert await post(blocker) == 200
    await bot.sandbox.wait_for_bot_messages(user, before + 1)  # handled after the 200
    await asyncio.sleep(0.5)
    await bot.settle()
    assert len(bot.sandbox.bot_messages(user)) == before + 1  # one answer
    async with bot.sessions() as session:
        blockers = await session.scalar(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.action == "blocker")
        )
    assert blockers == 1


async def test_the_secret_is_compared_in_constant_time(
    hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bot, post = hook
    compared = []

    def compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr("bot.webhook.hmac.compare_digest", compare)
    assert await post(b"[1]", "wrong") == 403
    assert compared == [(b"wrong", SECRET.encode())]
