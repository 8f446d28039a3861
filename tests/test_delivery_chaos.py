"""The outbox sender under chaos: killed with SIGKILL mid fan-out and restarted, and against a
Bot API that fails calls — nothing lost, at most the sends in flight repeated, every chat's
messages in the order they were queued. (The large runs are benchmarks; these are small.)"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.delivery import OutboxSender, RateLimiter
from bot.sandbox import Failure, Sandbox
from bot.telegram import TelegramSender
from locales import TIMEZONE
from models import OutboxMessage, OutboxState
from models.accounts import ChatChannel
from models.clock import FixedClock
from models.outbox import Envelope, Priority, enqueue_many

TOKEN = "123456:CHAOS"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)
CHATS, PER_CHAT = 50, 10


async def queue_fan_out(sessions) -> None:
    async with sessions() as session, session.begin():
        await enqueue_many(
            session,
            [
                Envelope(
                    key=f"chaos:{chat}:{n}",
                    channel=ChatChannel.TELEGRAM,
                    chat_id=str(1000 + chat),
                    text=f"{chat}:{n}",
                    priority=Priority.BULK,
                )
                for n in range(PER_CHAT)  # queued in order within each chat
                for chat in range(CHATS)
            ],
            T0,
        )


def received(sandbox: Sandbox) -> dict[int, list[int]]:
    """Each chat's messages as numbers, in the order the Bot API accepted them."""
    order: dict[int, list[int]] = defaultdict(list)
    for chat in range(CHATS):
        for message in sandbox.bot_messages(1000 + chat):
            order[chat].append(int(message["text"].split(":")[1]))
    return order


def first_seen_in_order(numbers: list[int]) -> bool:
    seen: list[int] = []
    for n in numbers:
        if n not in seen:
            seen.append(n)
    return seen == list(range(PER_CHAT))


async def in_state(sessions, state: OutboxState) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == state)
        )


async def test_sigkill_mid_fan_out_loses_nothing_and_repeats_at_most_what_was_in_flight(
    database_url: str, sessions
) -> None:
    await queue_fan_out(sessions)
    sandbox = Sandbox(token=TOKEN)
    sandbox.send_delay = 0.01
    await sandbox.start()
    rng = random.Random(7)
    in_flight_at_kills = 0
    try:
        for kill in range(3):
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.chaos_sender",
                    database_url,
                    sandbox.url,
                    TOKEN,
                    str(61 * kill),  # each restart comes after the claim timeout
                    T0.isoformat(),
                ]
            )
            before = len(sandbox.telegram.calls)
            while len(sandbox.telegram.calls) - before < rng.randint(20, 120):
                await asyncio.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait, 30)
            in_flight_at_kills += await in_state(sessions, OutboxState.SENDING)
        last = await asyncio.to_thread(  # the fake Bot API answers from this event loop
            subprocess.run,
            [
                sys.executable,
                "-m",
                "tests.chaos_sender",
                database_url,
                sandbox.url,
                TOKEN,
                str(61 * 3),
                T0.isoformat(),
            ],
            timeout=120,
        )
        assert last.returncode == 0
        order = received(sandbox)
    finally:
        await sandbox.stop()
    total = sum(len(numbers) for numbers in order.values())
    assert all(set(order[chat]) == set(range(PER_CHAT)) for chat in range(CHATS))  # none lost
    assert total - CHATS * PER_CHAT <= in_flight_at_kills  # repeats: only the sends in flight
    assert all(first_seen_in_order(order[chat]) for chat in range(CHATS))
    assert await in_state(sessions, OutboxState.SENT) == CHATS * PER_CHAT


async def test_a_bot_api_failing_one_call_in_four_still_gets_everything_in_order(sessions) -> None:
    await queue_fan_out(sessions)
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    rng = random.Random(11)
    failures = [
        Failure(429, "Too Many Requests: retry after 1", retry_after=1),
        Failure(500, "Internal Server Error"),
        Failure(502, "Bad Gateway"),
    ]
    for _ in range(CHATS * PER_CHAT // 4):  # one call in four or so fails, at random
        sandbox.fail_next("sendMessage", rng.choice(failures))
    clock = FixedClock(T0)
    try:
        from telegram import Bot

        async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
            sender = OutboxSender(
                sessions,
                clock,
                {ChatChannel.TELEGRAM: TelegramSender(bot)},
                limiter=RateLimiter(per_second=0, per_chat_seconds=0),
            )
            for _ in range(200):
                await sender.drain()
                if await in_state(sessions, OutboxState.SENT) == CHATS * PER_CHAT:
                    break
                clock.set(clock.now() + timedelta(seconds=30))  # past any retry's wait
        order = received(sandbox)
    finally:
        await sandbox.stop()
    assert await in_state(sessions, OutboxState.SENT) == CHATS * PER_CHAT  # all delivered
    assert all(order[chat] == list(range(PER_CHAT)) for chat in range(CHATS))  # in order, once
