"""`/xong` through the real pipeline, beside a bare baseline doing the same durable work.

Run: python -m bench.pipeline [--city bench/big.db] [--n 300]

The pipeline: `n` officials of the city (each linked on Telegram, each with an open task of
their own) send `/xong <task> …` at once to the fake Bot API; the bot (`start_bot`, as
`dondoc run` starts it, long polling) fetches the updates over loopback HTTP, PTB hands each
to the core, which marks the task done and commits the change with its reply, and the reply
is sent over HTTP to the fake. The fake has no flood limits: this measures our own ceiling.

The baseline, in the same run on the same database file and engine settings: a bare PTB
Application polling a second fake, whose handler for each update makes as many commits
as the pipeline made per update (a row into a scratch table each) and one sendMessage.

Prints replies a second (the n-th reply's acceptance after the updates were queued) and each
reply's wait (queued → accepted), for both; the goal is ≥ 0.5 × the baseline's rate. Also the
CPU time this process spent per reply during each burst (the fake and SQLite's thread are in
it, the same for both): on a shared machine the rates swing with the load, the CPU far less.
The city is a copy of `--city` (the 1,000,000-task city of `bench.big_city` by default).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, event, select, text
from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.runtime import start_bot
from bot.sandbox import FloodLimits, Sandbox
from bot.telegram import build_application
from models import ChatAccount, OutboxMessage, Task, TaskStatus
from models.accounts import ChatChannel
from models.clock import SystemClock
from models.db import create_engine, session_factory

TOKEN = "123456:PIPELINE"
BARE_TOKEN = "123456:BARE"
# The bot's own pacing lifted too, as the fake has no limits: our ceiling, not Telegram's.
LIFTED = {"send_per_second": 0.0, "send_per_chat_seconds": 0.0, "send_per_group_minute": 0}
NO_LIMITS = FloodLimits(per_second=10**9, per_chat_seconds=0, per_group_minute=10**9, jitter=0)


async def officials(sessions, n: int) -> list[tuple[int, int]]:
    """(Telegram user id, one of their open tasks) for `n` linked specialists."""
    async with sessions() as session:
        rows = await session.execute(
            select(ChatAccount.external_user_id, Task.id)
            .join(Task, Task.specialist_id == ChatAccount.official_id)
            .where(ChatAccount.channel == ChatChannel.TELEGRAM, Task.status != TaskStatus.DONE)
            .order_by(ChatAccount.id, Task.id)
        )
        chosen: dict[int, int] = {}
        for user, task in rows:
            chosen.setdefault(int(user), task)
            if len(chosen) == n:
                break
    return list(chosen.items())


def figures(sandbox: Sandbox, users: list[int], queued: float) -> tuple[float, list[float]]:
    """(replies a second, each reply's wait) from when the updates were queued."""
    arrived = [sandbox.traffic.first_to[str(user)] for user in users]
    return len(users) / (max(arrived) - queued), sorted(t - queued for t in arrived)


async def burst(sandbox: Sandbox, who: list[tuple[int, int]], timeout: float) -> float:
    """Queue every official's `/xong` at once; wait for every reply; when they were queued."""
    queued = time.monotonic()
    for user, task in who:
        await sandbox.say(user, f"/xong {task} Đã hoàn thành", chat_id=user)
    deadline = queued + timeout
    chats = {str(user) for user, _ in who}  # a leader told of the task's end is not counted
    while (missing := chats - set(sandbox.traffic.first_to)) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(who)} replies did not come")
    return queued


async def pipeline(url: str, who: list[tuple[int, int]]) -> tuple[float, list[float], float, float]:
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=NO_LIMITS)
    engine = create_engine(url)
    commits = 0

    def counted(connection) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", counted)
    settings = Settings(telegram_token=TOKEN, telegram_api_url=sandbox.url, **LIFTED)
    running = await start_bot(settings, session_factory(engine), SystemClock(), cadence=None)
    try:
        await running.ready()
        await asyncio.sleep(0.5)  # the menu registration and the first poll settle
        before = commits
        cpu = time.process_time()
        queued = await burst(sandbox, who, 600)
        cpu = (time.process_time() - cpu) / len(who)
        await asyncio.sleep(0.2)  # the last replies' records
        per_update = (commits - before) / len(who)
    finally:
        await running.stop()
        await engine.dispose()
        await sandbox.stop()
    rate, waits = figures(sandbox, [user for user, _ in who], queued)
    return rate, waits, per_update, cpu


async def baseline(
    url: str, who: list[tuple[int, int]], commits: int
) -> tuple[float, list[float], float]:
    sandbox = Sandbox(token=BARE_TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=NO_LIMITS)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE IF NOT EXISTS bench_bare (update_id INTEGER)"))

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        for _ in range(commits):
            async with sessions() as session, session.begin():
                await session.execute(
                    text("INSERT INTO bench_bare VALUES (:id)"), {"id": update.update_id}
                )
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Đã ghi nhận.")

    application = build_application(BARE_TOKEN, api_url=sandbox.url)
    application.handlers.clear()
    application.add_handler(MessageHandler(filters.ALL, handle))
    try:
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=10)
            await asyncio.sleep(0.5)
            cpu = time.process_time()
            queued = await burst(sandbox, who, 600)
            cpu = (time.process_time() - cpu) / len(who)
            await application.updater.stop()
            await application.stop()
    finally:
        await engine.dispose()
        await sandbox.stop()
    rate, waits = figures(sandbox, [user for user, _ in who], queued)
    return rate, waits, cpu


def describe(waits: list[float]) -> str:
    return f"wait p50 {statistics.median(waits):.2f} s, max {waits[-1]:.2f} s"


async def main_async(args: argparse.Namespace) -> None:
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "city.db"
        shutil.copyfile(args.city, copy)
        url = f"sqlite+aiosqlite:///{copy}"
        engine = create_engine(url)
        async with session_factory(engine)() as session, session.begin():
            # What earlier benches left queued would be sent meanwhile: start from none.
            await session.execute(delete(OutboxMessage))
        who = await officials(session_factory(engine), args.n)
        await engine.dispose()
        rate, waits, per_update, cpu = await pipeline(url, who)
        load = os.getloadavg()[0]
        bare_rate, bare_waits, bare_cpu = await baseline(url, who, round(per_update))
    ratio = rate / bare_rate
    print(
        f"pipeline: {len(who)} /xong from {len(who)} officials on a copy of {args.city}: "
        f"{rate:.0f} replies/s, {describe(waits)} ({per_update:.1f} commits per update)"
    )
    print(
        f"baseline (PTB polling and process_update, {round(per_update)} commits, one "
        f"sendMessage): {bare_rate:.0f} replies/s, {describe(bare_waits)}"
    )
    print(
        f"CPU of this process per reply: pipeline {cpu * 1000:.1f} ms, baseline "
        f"{bare_cpu * 1000:.1f} ms (baseline / pipeline {bare_cpu / cpu:.2f})"
    )
    print(
        f"ratio {ratio:.2f}   goal ≥ 0.5   before: 71 replies/s, p50 2.4 s (issue 14); "
        f"load average {load:.1f} / {os.getloadavg()[0]:.1f}: "
        f"{'holds' if ratio >= 0.5 else 'MISSES'}"
    )


def main() -> None:
    logging.getLogger("tornado.access").disabled = True
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--city", type=Path, default=Path("bench/big.db"))
    parser.add_argument("--n", type=int, default=300)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
