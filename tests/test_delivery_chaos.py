"""The outbox sender under chaos: killed with SIGKILL mid fan-out and restarted, and against a
Bot API that fails calls — nothing lost, at most the sends in flight repeated, every chat's
messages in the order they were queued. (The large runs are benchmarks; these are small.)"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bench.chaos import TELEGRAM_FAULTS, FanOut, fault_run, kill_run
from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
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
    database_url: str,
) -> None:
    """bench.chaos kill, small: 500 messages, 3 kills (the bench: 10,000 and 20)."""
    run = await kill_run(database_url, FanOut.of(50, 10), kills=3)
    assert run.lost == 0 and run.unsent_rows == 0 and run.out_of_order == 0
    # Two lanes of 25-row claims: one batch being sent while the next is claimed.
    assert all(kill.duplicates <= kill.in_flight <= 2 * 25 for kill in run.kills), run.kills
    assert sum(kill.duplicates for kill in run.kills) == run.duplicates


async def test_a_failing_flood_limiting_bot_api_gets_everything_in_order_without_our_429s(
    sessions,
) -> None:
    """bench.chaos faults, small: 10 % 429, 10 % 500, 5 % lost answers, 5 % resets, and
    Telegram's limits enforced, against the sender paced as in production."""
    fan_out = FanOut.of(12, 4, groups=2, per_group=4)
    run = await fault_run(sessions, fan_out, replace(TELEGRAM_FAULTS, seed=5), timeout=240)
    assert run.delivered == fan_out.total and run.failed_rows == 0
    assert run.out_of_order == 0
    assert run.pacing_429s == 0, run.counts
    assert sum(run.counts[k] for k in ("injected_429", "injected_500", "lost", "reset")) > 0


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
