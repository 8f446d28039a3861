"""Fan-out at Telegram's limits: the real outbox sender against a fake that enforces them.

Run: python -m bench.fanout [--chats 600 --per-chat 3 --groups 10 --per-group 10]
     [--per-second S (default: the settings' DONDOC_SEND_PER_SECOND)] [--url DATABASE_URL]

The fake Bot API (in this process, as in `bench.chaos faults`) answers 429 to any send over
30 a second overall, one a second per chat or 20 a minute per group. A fan-out is queued in
one go (`chats` × `per_chat` messages interleaved, and `groups` × `per_group`), and while
the sender drains it a command's reply is written and sent every `--reply-every` seconds to
one of the fan-out's chats, as `Core` does (claimed with its commit, then `send_now`).

Prints the sustained rate (accepted sends from the first to the last, and over the busiest
part: the last message's tail, when only a group's minute or a chat's second is left, is
reported apart), the 429s our pacing earned (goal 0), and the replies' waits from their
commit to the fake's acceptance (goal: a reply waits at most a slot or two, not behind bulk).
The goal is ≥ 95 % of Telegram's 30 a second; the baseline is the configured rate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.chaos import TOKEN, Delivered, FanOut, _database, states
from bot.config import Settings
from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import FloodLimits, Sandbox
from bot.telegram import TelegramSender, build_application
from models.accounts import ChatChannel
from models.clock import SystemClock
from models.db import create_engine, session_factory
from models.outbox import Envelope, enqueue

TELEGRAM_PER_SECOND = 30
GOAL = 0.95 * TELEGRAM_PER_SECOND


class Watched(RateLimiter):
    """The limiter, timing a reply's wait for its place and each send's round trip."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reply_waits: list[float] = []
        self.round_trips: list[float] = []
        self._leaving: dict[str, float] = {}

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        started = time.monotonic()
        await super().wait(chat_id, reply=reply)
        self._leaving[chat_id] = time.monotonic()
        if reply:
            self.reply_waits.append(self._leaving[chat_id] - started)

    def done(self, chat_id: str) -> None:
        if (left := self._leaving.pop(chat_id, None)) is not None:
            self.round_trips.append(time.monotonic() - left)
        super().done(chat_id)


async def reply(sessions, sender: OutboxSender, clock: SystemClock, chat: str, n: int) -> float:
    """A command's reply, written claimed and sent at once; seconds from commit to sent."""
    envelope = Envelope(
        key=f"bench:reply:{n}",
        channel=ChatChannel.TELEGRAM,
        chat_id=chat,
        text=f"reply {n}",
        reply=True,
    )
    async with sessions() as session, session.begin():
        message_id = await enqueue(session, envelope, clock.now())
    started = time.monotonic()
    assert message_id is not None
    await sender.send_now([message_id])
    return time.monotonic() - started


async def run(url: str, fan_out: FanOut, per_second: float, reply_every: float) -> dict:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = SystemClock()
    await fan_out.queue(sessions, clock.now())
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=FloodLimits())
    bot = build_application(TOKEN, api_url=sandbox.url).bot
    waits: dict[bool, list[float]] = {True: [], False: []}  # to a chat of the fan-out or not
    rng = random.Random(7)
    private = [chat for chat in fan_out.chats if not chat.startswith("-")]
    loads = [os.getloadavg()[0]]
    limiter = Watched(per_second, 1, per_group_minute=20)
    try:
        async with bot:
            sender = OutboxSender(
                sessions,
                clock,
                {ChatChannel.TELEGRAM: TelegramSender(bot)},
                limiter=limiter,
            )
            sending = asyncio.create_task(sender.run())
            started = time.monotonic()
            n = 0
            while True:
                await asyncio.sleep(reply_every)
                counts = await states(sessions)
                if counts["sent"] + counts["failed"] >= fan_out.total + n:
                    break
                if counts["sent"] < fan_out.total * 0.9:  # replies only while bulk is busy
                    busy = n % 2 == 0
                    chat = rng.choice(private) if busy else str(900_000 + n)
                    waits[busy].append(await reply(sessions, sender, clock, chat, n))
                    n += 1
                loads.append(os.getloadavg()[0])
            sender.stop()
            await sending
        seconds = time.monotonic() - started
        delivered = Delivered.of(sandbox, fan_out)
        traffic = sandbox.traffic
    finally:
        await sandbox.stop()
        await engine.dispose()
    times = sorted(traffic.times)
    whole = (len(times) - 1) / (times[-1] - times[0])
    busy = times[: int(len(times) * 0.9)]  # the tail of groups and last chats left out
    return {
        "seconds": seconds,
        "sent": len(times),
        "rate": whole,
        "busy_rate": (len(busy) - 1) / (busy[-1] - busy[0]),
        "pacing_429s": traffic.pacing_429s,
        "counts": dict(traffic.counts),
        "lost": delivered.lost(fan_out),
        "out_of_order": delivered.out_of_order(fan_out),
        "waits": waits,
        "load": max(loads),
        "reply_limiter": sorted(limiter.reply_waits),
        "round_trip": statistics.mean(limiter.round_trips),
    }


async def quick() -> dict:
    """A short run for `bench.all`: 950 messages, about 35 s."""
    with tempfile.TemporaryDirectory() as folder:
        url = await _database(None, Path(folder))
        fan_out = FanOut.of(300, 3, 5, 10)
        return await run(url, fan_out, Settings().send_per_second, 0.5)


def main() -> None:
    logging.getLogger("tornado.access").disabled = True
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--url", help="a migrated, empty database (default: a new SQLite file)")
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--per-chat", type=int, default=3)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--per-second", type=float, default=Settings().send_per_second)
    parser.add_argument("--reply-every", type=float, default=0.5)
    args = parser.parse_args()
    fan_out = FanOut.of(args.chats, args.per_chat, args.groups, args.per_group)
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {fan_out.total} "
        f"messages to {args.chats} chats and {args.groups} groups, sender at "
        f"{args.per_second:g}/s; the fake enforces 30/s, 1/s per chat, 20/min per group"
    )

    async def go() -> dict:
        with tempfile.TemporaryDirectory() as folder:
            url = await _database(args.url, Path(folder))
            return await run(url, fan_out, args.per_second, args.reply_every)

    result = asyncio.run(go())
    holds = (
        result["busy_rate"] >= GOAL
        and result["pacing_429s"] == 0
        and result["lost"] == 0
        and result["out_of_order"] == 0
    )
    print(
        f"sustained {result['busy_rate']:.1f} msg/s over the first 90 % "
        f"({result['busy_rate'] / TELEGRAM_PER_SECOND:.0%} of 30; whole run with its tail "
        f"{result['rate']:.1f}/s, {result['seconds']:.0f} s)   goal ≥ {GOAL:.1f}/s   "
        f"baseline: the configured {args.per_second:g}/s"
    )
    print(
        f"429s of our pacing: {result['pacing_429s']} (goal 0); lost {result['lost']}; "
        f"chats out of order {result['out_of_order']}; {result['counts']}"
    )
    for busy, waits in sorted(result["waits"].items(), reverse=True):
        if waits:
            waits = sorted(waits)
            print(
                f"a reply's wait during the fan-out, to "
                f"{'a chat the fan-out is sending to' if busy else 'another chat'} "
                f"({len(waits)} replies): p50 {statistics.median(waits) * 1000:.0f} ms, max "
                f"{waits[-1] * 1000:.0f} ms (from its commit to sent and recorded)"
            )
    limited = result["reply_limiter"]
    if limited:
        print(
            f"  of which waiting for the limiter: p50 {statistics.median(limited) * 1000:.0f} ms, "
            f"max {limited[-1] * 1000:.0f} ms; a send's round trip {result['round_trip'] * 1000:.0f}"
            f" ms on average (a place is held from leaving to a second after the answer)"
        )
    print(f"load average up to {result['load']:.1f}: {'holds' if holds else 'FAILS'}")
    raise SystemExit(0 if holds else 1)


if __name__ == "__main__":
    main()
