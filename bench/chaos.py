"""Delivery under chaos: the outbox sender killed mid fan-out, and against a Bot API that fails.

    python -m bench.chaos kill [--messages 10000] [--kills 20] [--url DATABASE_URL]
    python -m bench.chaos faults [--chats 150 --per-chat 10 --groups 10 --per-group 30]

`kill`: a fan-out queued in one go, sent by `bench.chaos_sender` processes against the loopback
Bot API; each is killed with SIGKILL at a random moment and the next one takes over the claims
the dead one left. Per kill it prints the sends in flight (requests the API had received whose
sent mark was not yet in the database) and the duplicates that kill caused (messages the API
accepted before the kill and again after). Then one more process finishes: nothing may be
lost, a chat's messages first seen in the order queued.

`faults`: the real sender (Telegram's settings: 25 a second, one a second per chat, 20 a minute
per group) against a fake that enforces Telegram's flood limits and injects 10 % 429 with
retry_after, 10 % 500, 5 % connection resets and 5 % responses lost after the message was
kept. Everything must arrive, each chat's messages in order, with no 429 of our own pacing.

The CI runs both small (tests/test_delivery_chaos.py); the figures in the README are these.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Faults, FloodLimits, Sandbox
from bot.telegram import TelegramSender, build_application
from models import OutboxMessage, OutboxState
from models.accounts import ChatChannel
from models.clock import SystemClock
from models.db import create_engine, session_factory, upgrade
from models.outbox import Envelope, Priority, enqueue_many

TOKEN = "123456:CHAOS"
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CLAIM_TAKEOVER = 61  # seconds the next process's clock is ahead: past the claim timeout
TELEGRAM_FAULTS = Faults(too_many=0.10, server_error=0.10, lost=0.05, reset=0.05, retry_after=1)


@dataclass
class FanOut:
    """Messages `chat:n` to each chat, queued interleaved (n = 0 to all chats, then 1 …)."""

    chats: list[str]
    per_chat: dict[str, int]

    @classmethod
    def of(cls, private: int, per_private: int, groups: int = 0, per_group: int = 0) -> FanOut:
        people = [str(100_000 + n) for n in range(private)]
        rooms = [str(-1_000_000_000_000 - n) for n in range(groups)]
        counts = {chat: per_private for chat in people} | {chat: per_group for chat in rooms}
        return cls(people + rooms, counts)

    @property
    def total(self) -> int:
        return sum(self.per_chat.values())

    async def queue(self, sessions, at: datetime) -> None:
        longest = max(self.per_chat.values())
        envelopes = [
            Envelope(
                key=f"chaos:{chat}:{n}",
                channel=ChatChannel.TELEGRAM,
                chat_id=chat,
                text=f"{chat}:{n}",
                priority=Priority.BULK,
            )
            for n in range(longest)
            for chat in self.chats
            if n < self.per_chat[chat]
        ]
        for start in range(0, len(envelopes), 2000):
            async with sessions() as session, session.begin():
                await enqueue_many(session, envelopes[start : start + 2000], at)


@dataclass
class Delivered:
    """What the fake Bot API kept, read back per chat."""

    order: dict[str, list[int]]

    @classmethod
    def of(cls, sandbox: Sandbox, fan_out: FanOut) -> Delivered:
        order: dict[str, list[int]] = defaultdict(list)
        for chat in fan_out.chats:
            for message in sandbox.bot_messages(chat):
                if message["text"].startswith(f"{chat}:"):  # not a bench's reply
                    order[chat].append(int(message["text"].rpartition(":")[2]))
        return cls(order)

    def lost(self, fan_out: FanOut) -> int:
        return sum(
            len(set(range(fan_out.per_chat[chat])) - set(self.order[chat]))
            for chat in fan_out.chats
        )

    def duplicates(self) -> int:
        return sum(len(numbers) - len(set(numbers)) for numbers in self.order.values())

    def out_of_order(self, fan_out: FanOut) -> int:
        """Chats whose messages were not first seen in the order queued."""
        wrong = [
            chat
            for chat in fan_out.chats
            if list(dict.fromkeys(self.order[chat])) != list(range(fan_out.per_chat[chat]))
        ]
        for chat in wrong[:5]:
            print(f"  out of order: chat {chat} got {self.order[chat]}")
        return len(wrong)


async def states(sessions) -> Counter[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return Counter({state.value: count for state, count in rows.all()})


async def sent_texts(sessions) -> set[str]:
    async with sessions() as session:
        texts = await session.scalars(
            select(OutboxMessage.text).where(OutboxMessage.state == OutboxState.SENT)
        )
        return set(texts.all())


# ---------------------------------------------------------------- kill -9


@dataclass
class Kill:
    calls: int  # sends the killed process made
    claimed: int  # rows claimed and not yet settled at the kill (at most a batch of 25)
    in_flight: int  # received by the API, not marked sent in the database at the kill
    duplicates: int = 0  # accepted before the kill and again after it
    unmarked: set[str] = field(default_factory=set, repr=False)


@dataclass
class KillRun:
    fan_out: FanOut
    kills: list[Kill] = field(default_factory=list)
    lost: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    unsent_rows: int = 0
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return (
            self.lost == 0
            and self.out_of_order == 0
            and self.unsent_rows == 0
            and all(kill.duplicates <= kill.in_flight for kill in self.kills)
            and sum(kill.duplicates for kill in self.kills) == self.duplicates
        )


async def _sender_process(url: str, api_url: str, offset: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.chaos_sender",
        url,
        api_url,
        TOKEN,
        str(offset),
        START.isoformat(),
    )


def _texts(calls: list[tuple[str, dict]]) -> list[str]:
    return [str(params["text"]) for method, params in calls if method == "sendMessage"]


async def kill_run(url: str, fan_out: FanOut, kills: int, seed: int = 7, report=None) -> KillRun:
    """Fan out on the database at `url` (migrated, empty), killing the sender `kills` times."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    await fan_out.queue(sessions, START)
    sandbox = Sandbox(token=TOKEN)
    sandbox.send_delay = 0.005  # a send takes a moment, as on a network
    await sandbox.start()
    rng = random.Random(seed)
    run = KillRun(fan_out)
    started = time.monotonic()
    try:
        for number in range(kills):
            before = len(sandbox.calls)
            process = await _sender_process(url, sandbox.url, CLAIM_TAKEOVER * number)
            target = rng.randint(1, max(1, 2 * fan_out.total // (3 * kills)))
            while len(sandbox.calls) - before < target and process.returncode is None:
                await asyncio.sleep(0.002)
            await asyncio.sleep(rng.random() * 0.02)  # anywhere: a send, a mark, a claim
            if process.returncode is None:
                process.kill()
            await process.wait()
            received = set(_texts(sandbox.calls[before:]))
            unmarked = received - await sent_texts(sessions)
            claimed = (await states(sessions))["sending"]
            run.kills.append(Kill(len(sandbox.calls) - before, claimed, len(unmarked), 0, unmarked))
        last = await _sender_process(url, sandbox.url, CLAIM_TAKEOVER * kills)
        if await last.wait() != 0:
            raise RuntimeError("the last sender process failed")
        run.seconds = time.monotonic() - started
        delivered = Delivered.of(sandbox, fan_out)
        accepted = Counter(_texts(sandbox.calls))
    finally:
        await sandbox.stop()
    for kill in run.kills:
        kill.duplicates = sum(1 for text in kill.unmarked if accepted[text] > 1)
        if report:
            report(kill)
    run.lost = delivered.lost(fan_out)
    run.duplicates = delivered.duplicates()
    run.out_of_order = delivered.out_of_order(fan_out)
    counts = await states(sessions)
    run.unsent_rows = fan_out.total - counts["sent"]
    await engine.dispose()
    return run


# ---------------------------------------------------------------- faults


@dataclass
class FaultRun:
    fan_out: FanOut
    delivered: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    failed_rows: int = 0
    pacing_429s: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    late: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return (
            self.delivered == self.fan_out.total
            and self.out_of_order == 0
            and self.failed_rows == 0
            and self.pacing_429s == 0
        )


async def fault_run(
    sessions,
    fan_out: FanOut,
    faults: Faults = TELEGRAM_FAULTS,
    limits: FloodLimits | None = None,
    limiter: RateLimiter | None = None,
    timeout: float = 3600,
) -> FaultRun:
    """Send the fan-out through a misbehaving fake with Telegram's pacing; what arrived."""
    clock = SystemClock()
    await fan_out.queue(sessions, clock.now())
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(faults, limits or FloodLimits())
    run = FaultRun(fan_out)
    bot = build_application(TOKEN, api_url=sandbox.url).bot
    started = time.monotonic()
    try:
        async with bot:
            sender = OutboxSender(
                sessions,
                clock,
                {ChatChannel.TELEGRAM: TelegramSender(bot)},
                limiter=limiter or RateLimiter(25, 1, per_group_minute=20),
                idle_seconds=0.2,
            )
            sending = asyncio.create_task(sender.run())
            while time.monotonic() - started < timeout:
                await asyncio.sleep(0.5)
                counts = await states(sessions)
                if counts["sent"] + counts["failed"] + counts["unreachable"] >= fan_out.total:
                    break
            sender.stop()
            await sending
        run.seconds = time.monotonic() - started
        delivered = Delivered.of(sandbox, fan_out)
    finally:
        await sandbox.stop()
    run.delivered = fan_out.total - delivered.lost(fan_out)
    run.duplicates = delivered.duplicates()
    run.out_of_order = delivered.out_of_order(fan_out)
    run.failed_rows = fan_out.total - (await states(sessions))["sent"]
    run.pacing_429s = sandbox.traffic.pacing_429s
    run.counts = Counter(sandbox.traffic.counts)
    run.late = list(sandbox.traffic.late)
    return run


async def _database(url: str | None, folder: Path) -> str:
    if url:
        return url
    url = f"sqlite+aiosqlite:///{folder / 'chaos.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


async def main_kill(args: argparse.Namespace) -> bool:
    chats = max(1, args.messages // args.per_chat)
    fan_out = FanOut.of(chats, args.per_chat)
    with tempfile.TemporaryDirectory() as folder:
        url = await _database(args.url, Path(folder))
        print(f"{fan_out.total} messages to {chats} chats, {args.kills} kills (SIGKILL)")

        def report(kill: Kill) -> None:
            print(
                f"  kill: {kill.calls:5d} sends made, {kill.claimed:3d} claimed, "
                f"{kill.in_flight:3d} in flight, {kill.duplicates:3d} duplicated"
            )

        run = await kill_run(url, fan_out, args.kills, args.seed, report)
    print(
        f"{run.seconds:.0f} s; lost {run.lost}; duplicates {run.duplicates} "
        f"(max per kill {max(k.duplicates for k in run.kills)}, in flight max "
        f"{max(k.in_flight for k in run.kills)}); chats out of order {run.out_of_order}; "
        f"rows not sent {run.unsent_rows}: {'holds' if run.holds else 'FAILS'}"
    )
    return run.holds


async def main_faults(args: argparse.Namespace) -> bool:
    fan_out = FanOut.of(args.chats, args.per_chat, args.groups, args.per_group)
    with tempfile.TemporaryDirectory() as folder:
        url = await _database(args.url, Path(folder))
        engine = create_engine(url)
        faults = Faults(
            too_many=0.10, server_error=0.10, lost=0.05, reset=0.05, retry_after=1, seed=args.seed
        )
        print(
            f"{fan_out.total} messages to {args.chats} chats and {args.groups} groups; "
            "faults 10 % 429, 10 % 500, 5 % lost after acceptance, 5 % resets; "
            "Telegram's flood limits enforced"
        )
        run = await fault_run(session_factory(engine), fan_out, faults)
        await engine.dispose()
    counts = run.counts
    print(
        f"{run.seconds:.0f} s ({fan_out.total / run.seconds:.1f} a second); delivered "
        f"{run.delivered}/{fan_out.total}; chats out of order {run.out_of_order}; duplicates "
        f"{run.duplicates} (responses lost {counts['lost']}); rows not sent {run.failed_rows}"
    )
    print(
        f"injected: {counts['injected_429']} × 429, {counts['injected_500']} × 500, "
        f"{counts['reset']} resets, {counts['lost']} lost; 429s of our pacing: {run.pacing_429s}"
        f" ({', '.join(f'{k} {v}' for k, v in counts.items() if k.startswith('pacing'))})"
        f": {'holds' if run.holds else 'FAILS'}"
    )
    if run.late:
        print("  those came " + ", ".join(f"{s:.2f}" for s in run.late) + " s after the 429")
    return run.holds


def main() -> None:
    logging.getLogger("tornado.access").disabled = True  # a line per injected fault otherwise
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--url", help="a migrated, empty database (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    modes = parser.add_subparsers(dest="mode", required=True)
    kill = modes.add_parser("kill", help="SIGKILL the sender at random moments")
    kill.add_argument("--messages", type=int, default=10_000)
    kill.add_argument("--per-chat", type=int, default=10)
    kill.add_argument("--kills", type=int, default=20)
    faults = modes.add_parser("faults", help="a failing, flood-limiting Bot API")
    faults.add_argument("--chats", type=int, default=150)
    faults.add_argument("--per-chat", type=int, default=10)
    faults.add_argument("--groups", type=int, default=10)
    faults.add_argument("--per-group", type=int, default=30)
    args = parser.parse_args()
    holds = asyncio.run(main_kill(args) if args.mode == "kill" else main_faults(args))
    raise SystemExit(0 if holds else 1)


if __name__ == "__main__":
    main()
