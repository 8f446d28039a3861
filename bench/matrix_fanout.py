"""Fan-out of reminders to Matrix rooms through a real Synapse on 127.0.0.1, beside the same
messages through the loopback fake Telegram Bot API.

The reminders are queued through `Notifier`, as the reminder job queues them, to officials
linked on both channels; the real outbox sender (`bot.channels.outbox_sender`) then delivers
each channel's rows through that channel, one channel at a time. Synapse keeps its default
message rate for users (0.2 a second, bursts of 10) and the bot's own is lifted with the
admin API, as the README tells operators. Reported: messages a second, and the CPU seconds of
the bot's process, of Synapse and of the fake Bot API (a process of its own) while delivering.

Run: python -m bench.matrix_fanout [--reminders 5000] [--rooms 250] [--max-seconds 600]
Needs the dev extra (matrix-synapse). Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import Channel, configured_channels, outbox_sender
from bot.config import Settings
from bot.matrix_client import checked
from bot.pacing import RateLimiter
from models import Official, OutboxMessage, OutboxState, Unit
from models.accounts import ChatAccount, ChatChannel
from models.clock import SystemClock
from models.db import create_engine, session_factory, upgrade
from models.notices import Message, Notifier, Outgoing
from models.organization import UnitKind
from models.outbox import Priority
from tests.synapse import SYNAPSE_DEFAULT_MESSAGES, Homeserver, Person, scratch_directory

TOKEN = "123456:BENCH"
COMMIT_EVERY = 50  # as jobs/run.py
SETUP_CONCURRENCY = 8
# The fake Bot API in a process of its own, so that its CPU is not counted as the bot's.
FAKE_BOT_API = """
import asyncio, sys
from bot.sandbox import Sandbox

async def main():
    sandbox = Sandbox(token=sys.argv[1])
    await sandbox.start()
    print(sandbox.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    await sandbox.stop()

asyncio.run(main())
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Delivery:
    sent: int
    seconds: float
    retried: int  # rows that met a 429 or an error at least once
    cpu: dict[str, float]  # process → CPU seconds while delivering

    def line(self, name: str) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        cpu = ", ".join(
            f"{who} {used:.1f} s ({100 * used / self.seconds:.0f}% of a core)"
            for who, used in self.cpu.items()
        )
        return (
            f"{name}: {self.sent} messages in {self.seconds:.1f} s = {rate:.0f} a second; "
            f"CPU: {cpu}; retried {self.retried}"
        )


async def waiting(sessions: async_sessionmaker[AsyncSession], channel: ChatChannel) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]),
                )
            )
            or 0
        )


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    channel: Channel,
    processes: dict[str, int],
    max_seconds: float,
) -> Delivery:
    """The real outbox sender with this one channel, until its rows are sent (or time is up)."""
    sender = outbox_sender(sessions, SystemClock(), [channel])
    before = {who: cpu_seconds(pid) for who, pid in processes.items()}
    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < max_seconds:
        sent += await sender.drain()
        if not await waiting(sessions, channel.name):
            break
        await asyncio.sleep(0.05)  # rows held back by a 429 come due again
    seconds = time.perf_counter() - started
    cpu = {who: cpu_seconds(pid) - before[who] for who, pid in processes.items()}
    async with sessions() as session:
        retried = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel.name, OutboxMessage.attempts > 1)
        )
    return Delivery(sent, seconds, int(retried or 0), cpu)


async def in_parallel(jobs: list[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def direct_rooms(homeserver: Homeserver, bot: Channel, rooms: int) -> list[tuple[str, str]]:
    """Officials who each start a chat with the bot, which joins: (their id, the room)."""
    client = bot.client  # type: ignore[attr-defined]

    async def one(n: int) -> tuple[str, str]:
        account = await asyncio.to_thread(homeserver.register, f"canbo{n}-")
        person = Person(homeserver, account)
        try:
            room = await person.start_chat(client.user_id)
        finally:
            await person.close()
        checked(await client.join(room))
        return account.user_id, room

    return await in_parallel([lambda n=n: one(n) for n in range(rooms)], SETUP_CONCURRENCY)


async def queue_reminders(
    sessions: async_sessionmaker[AsyncSession], people: list[tuple[str, str]], reminders: int
) -> float:
    """Officials linked on Matrix and Telegram, and the reminders, queued as the job does."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        unit = Unit(code="SXD", name="Sở Xây dựng", kind=UnitKind.DEPARTMENT)
        session.add(unit)
        await session.flush()
        officials = [
            Official(code=f"CB{n:04}", full_name=f"Cán bộ {n}", unit_id=unit.id)
            for n in range(len(people))
        ]
        session.add_all(officials)
        await session.flush()
        for n, (official, (user_id, room)) in enumerate(zip(officials, people, strict=True)):
            for channel, user, chat in (
                (ChatChannel.MATRIX, user_id, room),
                (ChatChannel.TELEGRAM, str(10_000 + n), str(10_000 + n)),
            ):
                session.add(
                    ChatAccount(
                        channel=channel,
                        external_user_id=user,
                        chat_id=chat,
                        official_id=official.id,
                        linked_at=now,
                    )
                )
    items = [
        Outgoing(
            f"remind:task {9000 + n}:deadline 2026-11-30:T-3:to {officials[n % len(officials)].id}",
            officials[n % len(officials)],
            lambda t, task=9000 + n: Message(
                f"⏰ Nhắc việc: nhiệm vụ #{task} «Rà soát, hoàn thiện hồ sơ giải phóng mặt bằng "
                f"dự án đường vành đai» đến hạn thứ Hai, 30/11/2026 — còn 3 ngày làm việc. "
                f"Tiến độ hiện tại: 60%.",
                [[("✅ Hoàn thành", f"/xong {task}"), ("Xin gia hạn", f"/giahan {task}")]],
            ),
        )
        for n in range(reminders)
    ]
    started = time.perf_counter()
    async with sessions() as session:
        await Notifier(session, now, commit_every=COMMIT_EVERY).send(items, priority=Priority.BULK)
    return time.perf_counter() - started


async def run(reminders: int, rooms: int, max_seconds: float) -> None:
    deadline = time.monotonic() + max_seconds
    work = Path(tempfile.mkdtemp(prefix="dondoc-fanout-"))
    engine = create_engine(f"sqlite+aiosqlite:///{work / 'dondoc.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    directory, remove = scratch_directory(work / "synapse")
    homeserver = Homeserver(directory, remove=remove, message_limit=SYNAPSE_DEFAULT_MESSAGES)
    fake: subprocess.Popen[str] | None = None
    channels: list[Channel] = []
    try:
        started = time.perf_counter()
        await asyncio.to_thread(homeserver.start)
        account = await asyncio.to_thread(homeserver.register, "dondoc")
        await homeserver.limit_messages(account.user_id, per_second=0, burst=0)
        settings = Settings(
            matrix_homeserver=homeserver.url,
            matrix_user=account.user_id,
            matrix_password=account.password,
            matrix_send_per_second=0,  # Synapse's limit is lifted for the bot
        )
        [matrix] = configured_channels(settings, None, sessions=sessions)
        channels.append(matrix)
        await matrix.open()
        people = await direct_rooms(homeserver, matrix, rooms)
        print(
            f"Synapse on {homeserver.url} ({'in /dev/shm' if remove else 'on disk'}), "
            f"{rooms} direct rooms set up in {time.perf_counter() - started:.1f} s"
        )
        queued = await queue_reminders(sessions, people, reminders)
        print(
            f"queued {reminders} reminders to {rooms} officials, each linked on Matrix and "
            f"Telegram ({2 * reminders} outbox rows), through Notifier in {queued:.1f} s"
        )
        synapse_pid = homeserver.process.pid  # type: ignore[union-attr]
        left = max(1.0, deadline - time.monotonic())
        result = await deliver(sessions, matrix, {"bot": os.getpid(), "Synapse": synapse_pid}, left)
        print(result.line(f"Matrix (per-room spacing {settings.matrix_send_per_chat_seconds} s)"))

        fake = subprocess.Popen(
            [sys.executable, "-c", FAKE_BOT_API, TOKEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = int(fake.stdout.readline())  # type: ignore[union-attr]
        telegram_settings = replace(
            Settings(), telegram_token=TOKEN, telegram_api_url=f"http://127.0.0.1:{port}"
        )
        [telegram] = configured_channels(telegram_settings, None, sessions=sessions)
        channels.append(telegram)
        await telegram.open()
        # Telegram's own flood limit (30 a second; the bot keeps to 25) would make this a
        # measure of the limit: lifted, with the same per-chat spacing as Matrix.
        telegram.limiter = RateLimiter(0, settings.matrix_send_per_chat_seconds)
        left = max(1.0, deadline - time.monotonic())
        result = await deliver(
            sessions, telegram, {"bot": os.getpid(), "fake Bot API": fake.pid}, left
        )
        print(result.line("Telegram fake (flood limit lifted)"))
    finally:
        for channel in channels:
            await channel.stop()
        if fake is not None:
            fake.stdin.close()  # type: ignore[union-attr]
            try:
                fake.wait(10)
            except subprocess.TimeoutExpired:
                fake.kill()
        homeserver.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--rooms", type=int, default=250)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    asyncio.run(run(args.reminders, args.rooms, args.max_seconds))


if __name__ == "__main__":
    main()
