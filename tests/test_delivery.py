"""Delivery: flood limits, retries, blocked chats, a restart mid fan-out, replies before bulk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from telegram import Bot

from bot.config import Settings
from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Failure, Sandbox
from bot.telegram import TelegramSender
from locales import TIMEZONE
from models import DeliveryAttempt, OutboxMessage, OutboxState, db
from models.accounts import ChatAccount, ChatChannel
from models.clock import FixedClock
from models.db import create_engine, session_factory
from models.outbox import Envelope, Priority, enqueue
from models.tasks import Task, TaskStatus
from tests import harness
from tests.city import City

TOKEN = "123456:DELIVERY"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)


@pytest.fixture
async def api():
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        yield sandbox, bot
    await sandbox.stop()


def sender(sessions, bot: Bot, moment: datetime, **options) -> OutboxSender:
    return OutboxSender(
        sessions,
        FixedClock(moment),
        {ChatChannel.TELEGRAM: TelegramSender(bot)},
        limiter=RateLimiter(per_second=0, per_chat_seconds=0),
        **options,
    )


async def queue(
    sessions, chats: range, priority: int = Priority.BULK, prefix: str = "test"
) -> None:
    async with sessions() as session, session.begin():
        for chat in chats:
            envelope = Envelope(
                key=f"{prefix}:{chat}",
                channel=ChatChannel.TELEGRAM,
                chat_id=str(chat),
                text=f"Tin nhắn {prefix} {chat}",
                priority=priority,
            )
            await enqueue(session, envelope, T0)


async def row(sessions, key: str) -> OutboxMessage:
    async with sessions() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


async def outcomes(sessions) -> list[str]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id))
            ).all()
        )


async def test_429_waits_retry_after_then_sends(sessions, api) -> None:
    sandbox, bot = api
    await queue(sessions, range(1, 2))
    sandbox.fail_next(
        "sendMessage", Failure(429, "Too Many Requests: retry after 5", retry_after=5)
    )
    assert await sender(sessions, bot, T0).drain() == 0
    waiting = await row(sessions, "test:1")
    assert (waiting.state, waiting.not_before, waiting.attempts) == (
        OutboxState.PENDING,
        T0 + timedelta(seconds=5),
        1,  # tried (the chat's next messages wait for it); more 429s add no tries
    )
    assert await sender(sessions, bot, T0 + timedelta(seconds=4)).drain() == 0  # not yet
    assert await sender(sessions, bot, T0 + timedelta(seconds=5)).drain() == 1
    assert (await row(sessions, "test:1")).state is OutboxState.SENT
    assert await outcomes(sessions) == ["wait", "sent"]
    assert len(sandbox.bot_messages(1)) == 1


async def test_a_message_waiting_out_a_429_holds_its_chats_next_message_back(sessions, api) -> None:
    sandbox, bot = api
    async with sessions() as session, session.begin():
        for n in range(2):
            envelope = Envelope(
                key=f"fifo:{n}", channel=ChatChannel.TELEGRAM, chat_id="1", text=f"m{n}"
            )
            await enqueue(session, envelope, T0)
    sandbox.fail_next("sendMessage", Failure(429, "Too Many Requests: retry after 5", 5))
    assert await sender(sessions, bot, T0).drain() == 0  # m1 went back untried, behind m0
    assert await sender(sessions, bot, T0 + timedelta(seconds=1)).drain() == 0  # still held
    assert await sender(sessions, bot, T0 + timedelta(seconds=5)).drain() == 2
    assert [m["text"] for m in sandbox.bot_messages(1)] == ["m0", "m1"]


async def test_server_errors_retry_with_backoff(sessions, api) -> None:
    sandbox, bot = api
    await queue(sessions, range(1, 2))
    sandbox.fail_next("sendMessage", Failure(502, "Bad Gateway"))
    sandbox.fail_next("sendMessage", Failure(500, "Internal Server Error"))
    assert await sender(sessions, bot, T0).drain() == 0
    assert (await row(sessions, "test:1")).not_before == T0 + timedelta(seconds=1)
    assert await sender(sessions, bot, T0 + timedelta(seconds=1)).drain() == 0
    assert (await row(sessions, "test:1")).not_before == T0 + timedelta(seconds=3)  # 1 s, then 2 s
    assert await sender(sessions, bot, T0 + timedelta(seconds=3)).drain() == 1
    assert await outcomes(sessions) == ["retry", "retry", "sent"]


@pytest.mark.parametrize(
    "failure",
    [
        Failure(403, "Forbidden: bot was blocked by the user"),
        Failure(400, "Bad Request: chat not found"),
    ],
    ids=["blocked", "chat not found"],
)
async def test_blocked_chat_is_marked_unreachable_and_not_retried(
    sessions, city: City, api, failure
) -> None:
    sandbox, bot = api
    official = city.officials["SXD-CV"]
    async with sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.TELEGRAM,
                external_user_id="77",
                chat_id="77",
                official_id=official.id,
                linked_at=T0,
            )
        )
    await queue(sessions, range(77, 78))
    sandbox.fail_next("sendMessage", failure)
    assert await sender(sessions, bot, T0).drain() == 0
    assert (await row(sessions, "test:77")).state is OutboxState.FAILED
    async with sessions() as session:
        account = await session.scalar(select(ChatAccount))
    assert account.unreachable_since == T0
    assert await sender(sessions, bot, T0 + timedelta(hours=1)).drain() == 0
    assert await outcomes(sessions) == ["unreachable"]


async def test_restart_in_the_middle_of_a_fan_out_loses_nothing_and_repeats_at_most_in_flight(
    sessions, api
) -> None:
    sandbox, bot = api
    await queue(sessions, range(1, 41))
    sandbox.send_delay = 0.03
    first = asyncio.create_task(sender(sessions, bot, T0, batch=10).run())
    while len([c for c in sandbox.calls if c[0] == "sendMessage"]) < 15:
        await asyncio.sleep(0.005)
    first.cancel()  # like kill -9: whatever was claimed or in flight is not marked sent
    with contextlib.suppress(asyncio.CancelledError):
        await first
    async with sessions() as session:
        in_flight = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.SENDING)
        )
    sandbox.send_delay = 0
    # A new process: abandoned claims are taken over once they are older than the claim timeout.
    await sender(sessions, bot, T0 + timedelta(seconds=61)).drain()
    per_chat = Counter(str(c[1]["chat_id"]) for c in sandbox.calls if c[0] == "sendMessage")
    assert set(per_chat) == {str(n) for n in range(1, 41)}  # nothing lost
    # Each row is marked sent as soon as it is accepted: only those in flight are repeated.
    # Two lanes: one batch being sent while the next is claimed.
    assert sum(per_chat.values()) - 40 <= in_flight <= 2 * 10
    async with sessions() as session:
        states = (
            await session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            )
        ).all()
    assert dict(states) == {OutboxState.SENT: 40}


async def test_a_retried_message_is_not_overtaken_by_the_next_one_to_the_same_chat(
    sessions, api
) -> None:
    sandbox, bot = api
    async with sessions() as session, session.begin():
        for n in range(1, 4):
            envelope = Envelope(f"line:{n}", ChatChannel.TELEGRAM, "5", f"Tin số {n}")
            await enqueue(session, envelope, T0)
    sandbox.fail_next("sendMessage", Failure(500, "Internal Server Error"))
    assert await sender(sessions, bot, T0).drain() == 0
    async with sessions() as session, session.begin():
        await enqueue(session, Envelope("other chat", ChatChannel.TELEGRAM, "6", "Chat khác"), T0)
    assert await sender(sessions, bot, T0).drain() == 1  # other chats go on meanwhile
    assert [m["text"] for m in sandbox.bot_messages(5)] == []
    assert [m["text"] for m in sandbox.bot_messages(6)] == ["Chat khác"]
    assert await sender(sessions, bot, T0 + timedelta(seconds=2)).drain() == 3
    assert [m["text"] for m in sandbox.bot_messages(5)] == ["Tin số 1", "Tin số 2", "Tin số 3"]


async def test_replies_and_alerts_are_not_starved_behind_a_long_digest(
    sessions, city: City
) -> None:
    bot = await harness.start(
        sessions, FixedClock(T0), Settings(send_per_second=40, send_per_chat_seconds=0)
    )
    try:
        await bot.link("SXD-CV")
        await queue(sessions, range(10_001, 10_601))  # 600 bulk messages: 15 s at 40 a second
        bot.running.sender.wake.set()
        await asyncio.sleep(0.3)
        await bot.sandbox.say(bot.user("SXD-CV"), "/viec")
        [_, reply] = await bot.sandbox.wait_for_bot_messages(bot.user("SXD-CV"), 2, timeout=5.0)
        assert reply["text"].startswith("📋 Nhiệm vụ của đồng chí")
        async with sessions() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state != OutboxState.SENT, OutboxMessage.key.like("test:%"))
            )
        assert waiting > 300  # the reply came while most of the digest still waited
        await queue(sessions, range(99, 100), priority=Priority.ALERT, prefix="alert")
        bot.running.sender.wake.set()
        # Generous on a loaded machine: the count below, not the time, says it overtook.
        await bot.sandbox.wait_for_bot_messages(99, 1, timeout=5.0)
        async with sessions() as session:
            still = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state != OutboxState.SENT, OutboxMessage.key.like("test:%"))
            )
        assert still > 100  # the alert overtook the rest of the digest
    finally:
        await harness.stop(bot)


async def test_dondoc_tick_runs_the_jobs_and_delivers_once(
    database_url: str, city: City, api, sessions
) -> None:
    sandbox, _ = api
    async with sessions() as session, session.begin():
        for n, code in enumerate(("SXD-CV", "SXD-LD", "TCT", "CT"), start=1):
            session.add(
                ChatAccount(
                    channel=ChatChannel.TELEGRAM,
                    external_user_id=str(n),
                    chat_id=str(n),
                    official_id=city.officials[code].id,
                    linked_at=T0,
                )
            )
    env = {
        **os.environ,
        "DONDOC_DATABASE_URL": database_url,
        "DONDOC_TELEGRAM_TOKEN": TOKEN,
        "DONDOC_TELEGRAM_API_URL": sandbox.url,
    }
    env.pop("DONDOC_LANGUAGE", None)

    async def tick() -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "tick",
            "--at",
            "2026-11-23T09:00",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, out.decode()
        return out.decode()

    first = await tick()
    assert "Các việc đến hạn lúc 09:00 23/11/2026: nhắc hạn 2, cảnh báo quá hạn 2" in first
    sends = ("sendMessage", "sendPhoto", "sendDocument")  # the letter, the chart, the workbook
    sent = len([c for c in sandbox.calls if c[0] in sends])
    assert f"Đã gửi {sent} tin nhắn" in first and sent >= 8
    assert {c[0] for c in sandbox.calls} >= set(sends)
    second = await tick()
    assert "Đã gửi 0 tin nhắn" in second
    assert len([c for c in sandbox.calls if c[0] in sends]) == sent


async def _say(bot: harness.Bot, code: str, text: str) -> None:
    if isinstance(bot, harness.ZaloBot):
        await bot.sandbox.zalo_say(bot.user(code), text)
    else:
        await bot.sandbox.say(bot.user(code), text, chat_id=bot.user(code))


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_a_reply_that_fails_to_send_keeps_the_change_and_arrives_once_when_the_channel_recovers(
    sessions, city: City, channel: str
) -> None:
    clock = FixedClock(T0)
    bot = await harness.start(sessions, clock, channel=channel)
    try:
        await bot.link("SXD-CV")
        await bot.settle()
        before = await bot.inbox("SXD-CV", 1)
        method = "sendMessage" if channel == "telegram" else "zalo:sendMessage"
        bot.sandbox.fail_next(method, Failure(502, "Bad Gateway"))
        async with sessions() as session:
            last = await session.scalar(select(func.max(OutboxMessage.id)))
        await _say(bot, "SXD-CV", "/xong 4102 Đã ban hành kế hoạch")
        for _ in range(250):  # the reply's first try fails; the change stays made
            async with sessions() as session:
                reply = await session.scalar(
                    select(OutboxMessage).where(
                        OutboxMessage.id > last, OutboxMessage.attempts == 1
                    )
                )
            if reply is not None:
                break
            await asyncio.sleep(0.02)
        assert reply.state is OutboxState.PENDING and "Bad Gateway" in reply.error
        async with sessions() as session:
            task = await session.get(Task, 4102)
            assert task.status is TaskStatus.DONE and task.result == "Đã ban hành kế hoạch"
        assert await bot.inbox("SXD-CV", len(before)) == before  # nothing yet, no apology

        clock.set(T0 + timedelta(seconds=5))  # the channel is back, and the retry is due
        bot.running.sender.wake.set()
        messages = await bot.inbox("SXD-CV", len(before) + 1)
        await bot.settle()
        await asyncio.sleep(0.2)
        messages = await bot.inbox("SXD-CV", len(before) + 1)
        assert len(messages) == len(before) + 1  # exactly once
        assert "hoàn thành" in messages[-1].lower() and "#4102" in messages[-1]
        assert not any("thử lại" in m for m in messages)
        async with sessions() as session:
            tries = (
                await session.scalars(
                    select(DeliveryAttempt.outcome)
                    .where(DeliveryAttempt.outbox_id == reply.id)
                    .order_by(DeliveryAttempt.id)
                )
            ).all()
        assert tries == ["retry", "sent"]
    finally:
        await harness.stop(bot)


async def test_a_zalo_reply_to_an_english_speaker_has_its_footer_in_english(
    sessions, city: City
) -> None:
    bot = await harness.start(sessions, FixedClock(T0), channel="zalo")
    try:
        await bot.link("SXD-CV")
        await bot.send("SXD-CV", "/ngonngu en")
        [card] = await bot.send("SXD-CV", "/xem 4102")
        assert "\n\nReply with:\n• " in card and "/xong 4102" in card
        assert "Trả lời nhanh" not in card
        async with sessions() as session:
            languages = set(
                (
                    await session.scalars(
                        select(OutboxMessage.language).where(
                            OutboxMessage.key.like("reply:zalo:%"),
                            OutboxMessage.text == card.split("\n\nReply with:")[0],
                        )
                    )
                ).all()
            )
        assert languages == {"en"}
    finally:
        await harness.stop(bot)


async def test_a_send_is_recorded_once_though_the_database_was_locked_when_it_went(
    tmp_path, sqlite_template, api, monkeypatch
) -> None:
    """Another writer held SQLite past the busy timeout just as the message went: the record
    is written when the lock is free, not lost (which would send the message again)."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "locked.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(engine)
    await queue(sessions, range(1, 2))
    sandbox, bot = api
    held = threading.Event()

    def hold_the_write_lock() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(1.5)  # well past the 0.2 s busy timeout
        connection.execute("COMMIT")
        connection.close()

    class LockedAfterSending(TelegramSender):
        async def send(self, *args, **options) -> str:
            external = await super().send(*args, **options)
            threading.Thread(target=hold_the_write_lock).start()
            await asyncio.to_thread(held.wait)
            return external

    outbox = OutboxSender(
        sessions,
        FixedClock(T0),
        {ChatChannel.TELEGRAM: LockedAfterSending(bot)},
        limiter=RateLimiter(per_second=0, per_chat_seconds=0),
    )
    try:
        assert await outbox.drain() == 1
        sent = await row(sessions, "test:1")
        assert (sent.state, sent.attempts) == (OutboxState.SENT, 1)
        assert await outcomes(sessions) == ["sent"]
        assert await outbox.drain() == 0
        assert len(sandbox.bot_messages(1)) == 1
    finally:
        await engine.dispose()


async def test_a_reply_waits_behind_its_chats_reply_being_retried_and_follows_it_once(
    sessions, city: City
) -> None:
    """The next command's reply is not sent past the reply still to be retried in that chat:
    it goes back to the outbox and follows it; each arrives once, in order."""
    clock = FixedClock(T0)
    bot = await harness.start(sessions, clock)
    try:
        await bot.link("SXD-CV")
        await bot.settle()
        before = await bot.inbox("SXD-CV", 1)
        chat = str(bot.user("SXD-CV"))
        bot.sandbox.fail_next("sendMessage", Failure(502, "Bad Gateway"))
        async with sessions() as session:
            last = await session.scalar(select(func.max(OutboxMessage.id)))
        mine = (OutboxMessage.id > last) & (OutboxMessage.chat_id == chat)
        await _say(bot, "SXD-CV", "/xong 4102 Đã ban hành kế hoạch")
        for _ in range(250):  # the first reply's try failed: it waits for its retry
            async with sessions() as session:
                first = await session.scalar(select(OutboxMessage).where(mine))
            if first is not None and first.attempts == 1:
                break
            await asyncio.sleep(0.02)
        assert first.state is OutboxState.PENDING
        await _say(bot, "SXD-CV", "/viec")
        for _ in range(250):
            async with sessions() as session:
                rows = (await session.scalars(select(OutboxMessage).where(mine))).all()
            if len(rows) == 2 and rows[1].state is not OutboxState.SENDING:
                break
            await asyncio.sleep(0.02)
        second = rows[1]
        assert (second.state, second.attempts, second.claimed_at) == (
            OutboxState.PENDING,
            0,
            None,
        )  # handed back untried, for the outbox sender to send after the first
        assert await bot.inbox("SXD-CV", len(before)) == before

        clock.set(T0 + timedelta(seconds=5))  # the first's retry is due
        bot.running.sender.wake.set()
        await bot.inbox("SXD-CV", len(before) + 2)
        await bot.settle()
        await asyncio.sleep(0.2)
        messages = await bot.inbox("SXD-CV", len(before) + 2)
        assert len(messages) == len(before) + 2
        assert "#4102" in messages[-2] and "hoàn thành" in messages[-2].lower()
        assert "#4102" not in messages[-1]  # the task list, after
        async with sessions() as session:
            sent = (
                await session.scalars(
                    select(DeliveryAttempt.outbox_id)
                    .where(DeliveryAttempt.outcome == "sent", DeliveryAttempt.outbox_id > last)
                    .order_by(DeliveryAttempt.id)
                )
            ).all()
        assert [i for i in sent if i in (first.id, second.id)] == [first.id, second.id]
    finally:
        await harness.stop(bot)
