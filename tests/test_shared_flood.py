"""The flood budget: N sends in any second as the API counts them, across processes
(bot/flood.py, PostgreSQL), and a reply's pace in its chat, the same on both databases."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.delivery import OutboxSender
from bot.flood import SharedRateLimiter
from bot.pacing import Limits, RateLimiter
from bot.sandbox import FloodLimits, Sandbox
from bot.telegram import TelegramSender
from locales import TIMEZONE
from models.accounts import ChatChannel
from models.clock import FixedClock
from models.outbox import Envelope, enqueue

TOKEN = "123456:SHARED"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)


def on_postgresql(sessions: async_sessionmaker[AsyncSession]) -> None:
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the shared budget is PostgreSQL's; SQLite serves one process")


async def test_no_more_than_n_sends_hold_the_second_however_long_their_way_takes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Three processes' limiters at 5 a second, sends whose way to the API takes 0 to 0.4 s
    and whose process wakes up to 0.2 s late. The API sees a send somewhere between its
    leaving and its answer, so at the moment any send leaves, the sends that may still be
    inside the API's last second (left before, answered less than a second before) are
    fewer than 5: sends paced at 5 a second regardless of their answers would not be."""
    on_postgresql(sessions)
    limiters = [SharedRateLimiter(sessions, "telegram", Limits(5, 0)) for _ in range(3)]
    rng = random.Random(22)
    sends: list[tuple[float, float]] = []  # (left, answered)

    async def send(limiter: SharedRateLimiter, chat: str) -> None:
        await limiter.wait(chat)
        left = time.monotonic()
        await asyncio.sleep(rng.random() * 0.4)  # on its way, then answered
        answered = time.monotonic()
        limiter.done(chat)
        sends.append((left, answered))
        await asyncio.sleep(rng.random() * 0.2)  # the process was busy for a moment

    async def process(limiter: SharedRateLimiter, first: int) -> None:
        await asyncio.gather(*(send(limiter, f"telegram:{first + n}") for n in range(12)))

    began = time.monotonic()
    await asyncio.gather(*(process(limiter, 100 * n) for n, limiter in enumerate(limiters)))
    took = time.monotonic() - began
    assert len(sends) == 36
    for left, _ in sends:
        inside = [s for s in sends if s[0] <= left < s[1] + limiters[0].limits.window]
        assert len(inside) <= 5, (left, inside)
    assert took < 36 / 5 * 1.5 + 1  # and the budget is used: 36 sends at near 5 a second


async def test_a_chat_busy_in_another_process_waits_for_that_send_to_be_answered(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    on_postgresql(sessions)
    first, second = (SharedRateLimiter(sessions, "telegram", Limits(30, 1.0)) for _ in range(2))
    await first.wait("telegram:7")
    waiting = asyncio.create_task(second.wait("telegram:7"))
    await asyncio.sleep(1.5)  # the first send is still on its way: no slot counts from it
    assert not waiting.done()
    answered = time.monotonic()
    first.done("telegram:7")
    await waiting
    assert time.monotonic() - answered >= 1.0  # a second after the answer, not the slot


@pytest.fixture
async def sandbox():
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=FloodLimits())
    yield sandbox
    await sandbox.stop()


async def test_a_reply_goes_at_once_to_a_quiet_chat_and_a_second_after_the_last_answer(
    sessions: async_sessionmaker[AsyncSession], sandbox: Sandbox
) -> None:
    """The same on SQLite (one process's limiter) and PostgreSQL (the shared budget): a
    reply to a chat nothing was sent to in the last second does not wait; the next one in
    that chat waits out Telegram's second, counted from the previous one's answer."""
    arrived: list[float] = []
    original = sandbox.telegram.record_sent

    async def timed(chat_id, message):  # type: ignore[no-untyped-def]
        arrived.append(time.monotonic())
        await original(chat_id, message)

    sandbox.telegram.record_sent = timed  # type: ignore[method-assign]
    async with sessions() as session, session.begin():
        ids = [
            await enqueue(
                session,
                Envelope(
                    key=f"reply:telegram:update {n}:0",
                    channel=ChatChannel.TELEGRAM,
                    chat_id="42",
                    text=f"trả lời {n}",
                    reply=True,
                ),
                T0,
            )
            for n in range(2)
        ]
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        sender = OutboxSender(
            sessions,
            FixedClock(T0),
            {ChatChannel.TELEGRAM: TelegramSender(bot)},
            limiters={ChatChannel.TELEGRAM: RateLimiter(25, 1.0, 20)},
        )
        began = time.monotonic()
        await sender.send_now([i for i in ids if i is not None])
    assert [m["text"] for m in sandbox.bot_messages(42)] == ["trả lời 0", "trả lời 1"]
    assert arrived[0] - began < 0.5  # nothing before it: at once
    assert 1.0 <= arrived[1] - arrived[0] < 1.6  # Telegram's second, and no more
    assert sandbox.traffic.pacing_429s == 0, sandbox.traffic.counts


def the_senders_limiter(sessions: async_sessionmaker[AsyncSession], limiter: RateLimiter):
    """The store the outbox sender keeps a channel's limits in on this database: the
    process's own on SQLite, the database's budget on PostgreSQL."""
    sender = OutboxSender(sessions, FixedClock(T0), {}, limiters={ChatChannel.TELEGRAM: limiter})
    return sender.limiters[ChatChannel.TELEGRAM]


async def test_either_store_holds_a_place_until_a_window_after_its_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """One rule, two stores: two sends on their way hold both places of 2 a second for as
    long as they take, and the third leaves no sooner than a window after an answer."""
    limiter = the_senders_limiter(sessions, RateLimiter(2, 0))
    assert isinstance(limiter, SharedRateLimiter) == (
        sessions.kw["bind"].dialect.name == "postgresql"
    )
    assert limiter.limits == Limits(2, 0) and limiter.limits.window == 1.0
    await limiter.wait("telegram:1")
    await limiter.wait("telegram:2")
    third = asyncio.create_task(limiter.wait("telegram:3"))
    await asyncio.sleep(1.3)
    assert not third.done()  # the first two's places are still theirs, however long
    limiter.done("telegram:1")
    answered = time.monotonic()
    await third
    assert time.monotonic() - answered >= 0.95
    limiter.done("telegram:2")
    limiter.done("telegram:3")


def test_a_slow_channels_place_is_one_in_a_longer_window() -> None:
    """A quarter of a send a second is one place held 4 s after its answer, in either store."""
    limits = Limits(0.25, 0)
    assert (limits.places, limits.window, limits.interval) == (1, 4.0, 4.0)
    assert limits.place_free_at(10.0) == 14.0
    assert Limits(30, 1, 20).spacing("telegram:-5") == 1
    assert Limits(30, 1, 20).spacing("telegram:-5", minute_as_spacing=True) == 3.0
    assert Limits(30, 1, 20).spacing("telegram:5", minute_as_spacing=True) == 1
