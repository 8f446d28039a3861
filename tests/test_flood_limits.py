"""The fake Bot API's flood limits and faults (off unless asked), and our sender's pacing
against them: Telegram's 30 a second, one a second per chat, 20 a minute per group."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from telegram import Bot

from bot.config import Settings
from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Faults, FloodLimits, Sandbox
from bot.telegram import TelegramSender
from locales import TIMEZONE
from models import OutboxMessage, OutboxState
from models.accounts import ChatChannel
from models.clock import FixedClock
from models.outbox import Envelope, Priority, enqueue_many

TOKEN = "123456:FLOOD"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)


@pytest.fixture
async def sandbox():
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


async def send(client: httpx.AsyncClient, sandbox: Sandbox, chat: int, text: str = "hi") -> int:
    response = await client.post(
        f"{sandbox.url}/bot{TOKEN}/sendMessage", json={"chat_id": chat, "text": text}
    )
    return response.status_code


async def test_by_default_the_fake_accepts_every_send_at_once(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        codes = [await send(client, sandbox, 1) for _ in range(40)]
    assert codes == [200] * 40
    assert sandbox.traffic.pacing_429s == 0 and not sandbox.traffic.active


async def test_a_second_send_to_a_chat_within_a_second_is_a_429_of_our_pacing(
    sandbox: Sandbox,
) -> None:
    sandbox.misbehave(limits=FloodLimits())
    async with httpx.AsyncClient() as client:
        assert await send(client, sandbox, 1) == 200
        response = await client.post(
            f"{sandbox.url}/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "again"}
        )
        assert await send(client, sandbox, 2) == 200  # on its way already: forgiven
        await asyncio.sleep(0.3)  # past the grace, within the 429's retry_after
        assert await send(client, sandbox, 3) == 429
    assert response.status_code == 429
    assert response.json()["parameters"]["retry_after"] == 1
    assert sandbox.traffic.counts["pacing_chat"] == 1
    assert sandbox.traffic.counts["pacing_retry_after"] == 1
    assert [m["text"] for m in sandbox.bot_messages(1)] == ["hi"]


async def test_the_overall_and_the_group_limits_are_enforced(sandbox: Sandbox) -> None:
    sandbox.misbehave(limits=FloodLimits(per_second=5, per_chat_seconds=0, per_group_minute=3))
    async with httpx.AsyncClient() as client:
        overall = [await send(client, sandbox, chat) for chat in range(1, 7)]
    assert overall == [200] * 5 + [429]
    assert sandbox.traffic.counts["pacing_overall"] == 1

    sandbox.misbehave(limits=FloodLimits(per_second=100, per_chat_seconds=0, per_group_minute=3))
    async with httpx.AsyncClient() as client:
        group = [await send(client, sandbox, -100) for _ in range(4)]
    assert group == [200, 200, 200, 429]
    assert sandbox.traffic.counts["pacing_group"] == 1


async def test_faults_refuse_reset_or_lose_the_answer_of_a_kept_message(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        sandbox.misbehave(Faults(too_many=1.0, retry_after=3))
        response = await client.post(
            f"{sandbox.url}/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "a"}
        )
        assert response.status_code == 429 and response.json()["parameters"]["retry_after"] == 3
        sandbox.misbehave(Faults(server_error=1.0))
        assert await send(client, sandbox, 1, "b") == 500
        sandbox.misbehave(Faults(reset=1.0))
        with pytest.raises(httpx.TransportError):
            await send(client, sandbox, 1, "c")
        sandbox.misbehave(Faults(lost=1.0))
        with pytest.raises(httpx.TransportError):
            await send(client, sandbox, 1, "d")
    assert [m["text"] for m in sandbox.bot_messages(1)] == ["d"]  # kept, though unanswered
    assert sandbox.traffic.counts["lost"] == 1 and sandbox.traffic.pacing_429s == 0


def test_a_group_gets_a_new_slot_a_minute_after_its_earliest_of_the_last_twenty() -> None:
    limiter = RateLimiter(0, 0, per_group_minute=3)
    for _ in range(3):
        limiter.done("telegram:-100")
    first = limiter._groups["telegram:-100"][0]
    assert limiter._group_slot("telegram:-100") == first + 60
    assert limiter._group_slot("telegram:100") == 0.0  # a private chat has no such limit
    for _ in range(2):
        limiter.done("telegram:-200")
    assert limiter._group_slot("telegram:-200") == 0.0  # two of three: one more may go


async def test_a_reply_takes_the_next_free_place_before_bulk_waiting_for_one() -> None:
    limiter = RateLimiter(1, 0)
    await limiter.wait("telegram:1")
    bulk = asyncio.create_task(limiter.wait("telegram:2"))
    await asyncio.sleep(0.01)
    reply = asyncio.create_task(limiter.wait("telegram:3", reply=True))
    await asyncio.sleep(0.01)
    limiter.done("telegram:1")
    done, _ = await asyncio.wait({bulk, reply}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {reply}
    bulk.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bulk
    limiter.done("telegram:3")
    assert limiter._holding == 0  # the cancelled one gave nothing away


async def test_a_chats_next_send_waits_for_the_one_on_its_way_then_its_second() -> None:
    limiter = RateLimiter(0, 0.3)
    await limiter.wait("telegram:1")
    reply = asyncio.create_task(limiter.wait("telegram:1", reply=True))
    await asyncio.sleep(0.2)
    assert not reply.done()  # a reply keeps the chat's second too: Telegram counts it
    limiter.done("telegram:1")
    answered = time.monotonic()
    await reply
    assert time.monotonic() - answered >= 0.25


async def test_our_sender_earns_no_429_from_a_fake_that_enforces_telegrams_limits(
    sessions, sandbox: Sandbox
) -> None:
    """Private chats and groups, several messages each: paced by the default settings
    (Telegram's 30 a second, one a second per chat; the group limit lowered so the test
    stays short)."""
    chats = [str(1000 + n) for n in range(30)] + ["-1001", "-1002"]
    async with sessions() as session, session.begin():
        await enqueue_many(
            session,
            [
                Envelope(
                    key=f"flood:{chat}:{n}",
                    channel=ChatChannel.TELEGRAM,
                    chat_id=chat,
                    text=f"{chat}:{n}",
                    priority=Priority.BULK,
                )
                for n in range(4)
                for chat in chats
            ],
            T0,
        )
    sandbox.misbehave(limits=FloodLimits(per_group_minute=3))
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        limiter = RateLimiter(Settings().send_per_second, 1, per_group_minute=3)
        sender = OutboxSender(
            sessions, FixedClock(T0), {ChatChannel.TELEGRAM: TelegramSender(bot)}, limiter=limiter
        )
        # Only the group's fourth message must wait a minute: send the rest, check, stop.
        drain = asyncio.create_task(sender.drain())
        for _ in range(400):
            await asyncio.sleep(0.05)
            if sum(len(sandbox.bot_messages(chat)) for chat in chats) >= 4 * 30 + 2 * 3:
                break
        await asyncio.sleep(0.5)
        drain.cancel()
    assert sandbox.traffic.pacing_429s == 0, sandbox.traffic.counts
    assert all(len(sandbox.bot_messages(chat)) == 4 for chat in chats[:30])
    assert [len(sandbox.bot_messages(chat)) for chat in chats[30:]] == [3, 3]  # a minute's worth
    async with sessions() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.SENT)
        )
    assert sent == 4 * 30 + 2 * 3


async def test_a_group_waiting_out_its_minute_goes_back_to_the_outbox_and_holds_no_one_back(
    sessions, sandbox: Sandbox
) -> None:
    """A group that had its minute's sends waits in the outbox, not in the batch: the
    private chat claimed with it is sent and the batch is done; the group's message is due
    when its minute ends, its try not counted, and its next message stays behind it."""
    limiter = RateLimiter(0, 0, per_group_minute=3)
    for _ in range(3):
        limiter.done("telegram:-100")
    async with sessions() as session, session.begin():
        await enqueue_many(
            session,
            [
                Envelope(
                    key=f"group:{n}", channel=ChatChannel.TELEGRAM, chat_id="-100", text=f"g{n}"
                )
                for n in range(2)
            ]
            + [Envelope(key="private", channel=ChatChannel.TELEGRAM, chat_id="7", text="p")],
            T0,
        )
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        sender = OutboxSender(
            sessions, FixedClock(T0), {ChatChannel.TELEGRAM: TelegramSender(bot)}, limiter=limiter
        )
        assert await sender.drain() == 1
    assert [m["text"] for m in sandbox.bot_messages(7)] == ["p"]
    assert sandbox.bot_messages(-100) == []
    async with sessions() as session:
        rows = {
            m.key: m for m in await session.scalars(select(OutboxMessage)) if m.chat_id == "-100"
        }
    first, second = rows["group:0"], rows["group:1"]
    assert first.state is OutboxState.PENDING and first.attempts == 1  # tried, not counted
    due = first.not_before
    left = ((due if due.tzinfo else due.replace(tzinfo=UTC)) - T0).total_seconds()
    assert 55 < left <= 60  # when the group's earliest of its last three is a minute old
    assert second.state is OutboxState.PENDING  # behind the first, in order
