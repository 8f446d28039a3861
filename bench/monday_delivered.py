"""Monday delivered: how long every message of Monday's run takes to leave at the channels' limits.

Run: python -m bench.monday_delivered [--city bench/big.db] [--queued URL] [--rate R]

Runs Monday's jobs (as `bench.digest`: Monday 23/11 09:30, every weekly job due) on a copy of
the bench city, or takes the outbox already queued in `--queued`, and counts what they queued
per channel, per chat and per group. Measures the real sender's sustained rate against the
fake that enforces Telegram's limits (`bench.fanout`, unless `--rate` gives one), then
computes the time to send it all: the longest of the total at that rate, the busiest chat at
one a second (plus a round trip each) and the busiest group at 20 a minute. The time is
computed from a measured rate, not waited out (two hours of sending); the goal is within
2 hours of 08:00 on Telegram. Zalo's time is at its configured rate (DONDOC_ZALO_SEND_PER_SECOND).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bench.chaos import FanOut, _database
from bench.digest import MONDAY
from bot.config import Settings
from jobs.cadence import Cadence
from jobs.run import run_due
from models import OutboxMessage, OutboxState
from models.accounts import ChatChannel
from models.db import create_engine, session_factory

GOAL_SECONDS = 2 * 3600


async def queue_monday(url: str) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    await run_due(session_factory(engine), MONDAY, Cadence())
    await engine.dispose()
    return time.perf_counter() - started


async def per_chat(url: str) -> dict[ChatChannel, Counter[str]]:
    engine = create_engine(url)
    counts: dict[ChatChannel, Counter[str]] = {}
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(OutboxMessage.channel, OutboxMessage.chat_id, func.count())
            .where(OutboxMessage.state == OutboxState.PENDING)
            .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
        )
        for channel, chat, count in rows.all():
            counts.setdefault(channel, Counter())[chat] = count
    await engine.dispose()
    return counts


async def measured_rate() -> tuple[float, float]:
    """(sustained messages a second, mean round trip) of the sender against the fake."""
    from bench.fanout import run

    with tempfile.TemporaryDirectory() as folder:
        url = await _database(None, Path(folder))
        result = await run(url, FanOut.of(600, 3), Settings().send_per_second, 3600)
    return result["busy_rate"], result["round_trip"]


def seconds_to_send(
    chats: Counter[str], rate: float, chat_seconds: float, group_minute: int
) -> tuple[float, str]:
    """The longest of: all at `rate`, the busiest chat one per `chat_seconds`, the busiest
    group `group_minute` a minute; and which it was."""
    total = sum(chats.values())
    terms = {"the overall rate": total / rate}
    private = [n for chat, n in chats.items() if not chat.startswith("-")]
    groups = [n for chat, n in chats.items() if chat.startswith("-")]
    if private:
        terms[f"the busiest chat ({max(private)} messages)"] = max(private) * chat_seconds
    if groups and group_minute:
        busiest = max(groups)
        terms[f"the busiest group ({busiest} messages)"] = math.ceil(busiest / group_minute) * 60
    binding = max(terms, key=lambda name: terms[name])
    return terms[binding], binding


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h ({seconds / 60:.0f} min)"


async def main_async(args: argparse.Namespace) -> None:
    settings = Settings()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        if args.queued:
            url = args.queued
        else:
            copy = Path(folder) / "monday.db"
            shutil.copyfile(args.city, copy)
            url = f"sqlite+aiosqlite:///{copy}"
            seconds = await queue_monday(url)
            print(f"Monday's jobs on a copy of {args.city}: {seconds:.0f} s")
        counts = await per_chat(url)
    if args.rate:
        rate, trip = args.rate, 0.0
        print(f"sender rate {rate:.1f}/s (given)")
    else:
        rate, trip = await measured_rate()
        print(
            f"sender rate {rate:.1f}/s, measured against the enforcing fake (bench.fanout), "
            f"round trip {trip * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f}"
        )
    telegram = counts.get(ChatChannel.TELEGRAM, Counter())
    total = sum(telegram.values())
    took, binding = seconds_to_send(
        telegram, rate, settings.send_per_chat_seconds + trip, settings.send_per_group_minute
    )
    print(
        f"Telegram: {total} messages to {len(telegram)} chats (at most {max(telegram.values())}"
        f" to one); computed {hours(took)} from 08:00, set by {binding}   goal ≤ 2 h   "
        f"baseline: at the former 25/s {hours(total / 25)}: "
        f"{'holds' if took <= GOAL_SECONDS else 'MISSES'}"
    )
    zalo = counts.get(ChatChannel.ZALO, Counter())
    if zalo:
        took, binding = seconds_to_send(
            zalo, settings.zalo_send_per_second, settings.zalo_send_per_chat_seconds, 0
        )
        print(
            f"Zalo: {sum(zalo.values())} messages to {len(zalo)} chats at the configured "
            f"{settings.zalo_send_per_second:g}/s: {hours(took)}, set by {binding}"
        )
    else:  # the bench city links everyone on Telegram: the same run, were it all on Zalo
        took, binding = seconds_to_send(
            telegram, settings.zalo_send_per_second, settings.zalo_send_per_chat_seconds, 0
        )
        print(
            f"Zalo: none linked there; the same {total} messages on Zalo at the configured "
            f"{settings.zalo_send_per_second:g}/s would take {hours(took)}, set by {binding}"
        )
    for channel, chats in counts.items():
        if channel not in (ChatChannel.TELEGRAM, ChatChannel.ZALO):
            print(f"{channel.value}: {sum(chats.values())} messages to {len(chats)} chats")


def main() -> None:
    logging.getLogger("tornado.access").disabled = True
    parser = argparse.ArgumentParser(prog="python -m bench.monday_delivered", description=__doc__)
    parser.add_argument("--city", type=Path, default=Path("bench/big.db"))
    parser.add_argument("--queued", help="a database whose outbox holds Monday's run already")
    parser.add_argument("--rate", type=float, help="the sender's rate, instead of measuring it")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
