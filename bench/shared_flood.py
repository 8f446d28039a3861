"""One flood budget across processes: N sender processes on one PostgreSQL fan out messages
against the fake Bot API enforcing Telegram's limits (30/s, 1/s per chat, 20/min a group).

Run: python -m bench.shared_flood --url postgresql+asyncpg://… [--processes 3]
     [--messages 3000] [--chats 600] [--per-second 30]
Prints the messages accepted, the time from the first to the last, the rate against 30/s,
the 429s our pacing earned (must be 0), how many messages went twice, and the load average.
A pace of 30/s is Telegram's own limit: the budget's tokens keep it as the API counts it
(bot/flood.py), so there is no margin to take.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import FloodLimits, Sandbox
from bot.telegram import TelegramSender
from models import Base, OutboxMessage, OutboxState
from models.accounts import ChatChannel
from models.clock import SystemClock
from models.db import create_engine, session_factory, upgrade
from models.outbox import Envelope, Priority, enqueue_many

TOKEN = "123456:BENCH"


async def worker(url: str, api_url: str, per_second: float) -> None:
    """One process's sender, until the outbox holds nothing to send."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    engine = create_engine(url)
    sessions = session_factory(engine)
    request = HTTPXRequest(connection_pool_size=64)  # as the Application's bot has
    async with Bot(TOKEN, base_url=f"{api_url}/bot", request=request) as bot:
        sender = OutboxSender(
            sessions,
            SystemClock(),
            {ChatChannel.TELEGRAM: TelegramSender(bot)},
            limiters={ChatChannel.TELEGRAM: RateLimiter(per_second, 1.0, 20)},
        )
        while True:
            await sender.drain()
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]))
                )
            if not left:
                break
            await asyncio.sleep(0.2)
    await engine.dispose()


async def run(url: str, processes: int, messages: int, chats: int, per_second: float) -> None:
    load = os.getloadavg()[0]
    engine = create_engine(url)
    await upgrade(engine)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        await enqueue_many(
            session,
            [
                Envelope(
                    key=f"bench:{n}",
                    channel=ChatChannel.TELEGRAM,
                    chat_id=str(1000 + n % chats),
                    text=f"tin {n}",
                    priority=Priority.BULK,
                )
                for n in range(messages)
            ],
            now,
        )
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=FloodLimits())
    accepted: list[float] = []
    original = sandbox.telegram.record_sent

    async def timed(chat_id, message):  # type: ignore[no-untyped-def]
        accepted.append(time.monotonic())
        await original(chat_id, message)

    sandbox.telegram.record_sent = timed  # type: ignore[method-assign]
    command = [sys.executable, "-m", "bench.shared_flood", "--worker", url, sandbox.url]
    workers = [
        await asyncio.create_subprocess_exec(*command, str(per_second)) for _ in range(processes)
    ]
    await asyncio.gather(*(w.wait() for w in workers))
    texts = Counter(m["text"] for chat in sandbox.telegram.messages.values() for m in chat)
    await sandbox.stop()
    await engine.dispose()
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    rate = (len(accepted) - 1) / span if span else 0.0
    print(
        f"{processes} processes, {messages} messages to {chats} chats, pace {per_second}/s: "
        f"{len(accepted)} accepted in {span:.1f} s = {rate:.1f}/s ({rate / 30:.0%} of 30/s); "
        f"429s of our pacing {sandbox.traffic.pacing_429s} {dict(sandbox.traffic.counts)}; "
        f"sent twice {sum(1 for c in texts.values() if c > 1)}; goal: 0 429s and >= 27.0/s; "
        f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        url, api_url, per_second = sys.argv[2:5]
        asyncio.run(worker(url, api_url, float(per_second)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--per-second", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.processes, args.messages, args.chats, args.per_second))


if __name__ == "__main__":
    main()
