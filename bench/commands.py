"""Command latency on the big city: the core's answer to each command, p50 / p95 / p99.

Run after `python -m bench.big_city`: python -m bench.commands [--url …] [--n 300]
Measures `Core.handle` (parse, permission, queries, the change, the outbox row, commit),
which is everything but the network hop to Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from datetime import datetime

from sqlalchemy import event, select

from bench.big_city import DEFAULT_URL, TASK_FORCE
from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from locales import TIMEZONE
from models import OutboxMessage, Task, TaskStatus
from models.accounts import ChatChannel
from models.clock import FixedClock
from models.db import create_engine, session_factory

MOMENT = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.5):6.1f} ms   p95 {pick(0.95):6.1f} ms   p99 {pick(0.99):6.1f} ms   max {ordered[-1] * 1000:6.1f} ms"


async def run(url: str, n: int, synchronous: str) -> dict[str, list[float]]:
    engine = create_engine(url, synchronous=synchronous)
    statements = [0]  # every statement sent, the reply's read-back included (one each call)

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    sessions = session_factory(engine)
    core = Core(sessions, FixedClock(MOMENT), CoreSettings())
    rng = random.Random(7)
    async with sessions() as session:
        open_tasks = (
            await session.execute(
                select(Task.id, Task.specialist_id)
                .where(Task.status != TaskStatus.DONE)
                .limit(50_000)
            )
        ).all()
    rng.shuffle(open_tasks)
    run_id = time.time_ns()
    counter = iter(range(10**9))

    async def ask(user: int, text: str) -> float:
        incoming = Incoming(
            ChatChannel.TELEGRAM, str(user), str(user), f"bench {run_id} {next(counter)}", text=text
        )
        started = time.perf_counter()
        replies = await core.handle(incoming)
        elapsed = time.perf_counter() - started
        async with sessions() as session:  # the replies stay in the outbox: no channel here
            first = await session.scalar(
                select(OutboxMessage.text).where(OutboxMessage.id == replies[0])
            )
        assert first and "Xin lỗi" not in first, first
        return elapsed

    await ask(open_tasks[0][1], "/viec")  # warm up the pool and the calendar
    cases = {
        "/viec (specialist)": lambda i: (open_tasks[i][1], "/viec"),
        "/xem N": lambda i: (open_tasks[i][1], f"/xem {open_tasks[i][0]}"),
        "/xong N kết quả": lambda i: (
            open_tasks[n + i][1],
            f"/xong {open_tasks[n + i][0]} Đã hoàn thành",
        ),
        "/tiendo N 50": lambda i: (
            open_tasks[2 * n + i][1],
            f"/tiendo {open_tasks[2 * n + i][0]} 50 Đang làm",
        ),
        "/sapden": lambda i: (open_tasks[i][1], "/sapden"),
        "/quahan U0123 (task force)": lambda i: (
            1 + i % TASK_FORCE,
            f"/quahan U{rng.randint(2, 999):04d}",
        ),
        "/quahan (task force, city)": lambda i: (1 + i % TASK_FORCE, "/quahan"),
        "/thongke (task force, city)": lambda i: (1 + i % TASK_FORCE, "/thongke"),
    }
    print(f"{n} calls each, database {url}, synchronous={synchronous}")
    measured: dict[str, list[float]] = {}
    for name, make in cases.items():
        calls = n
        sent = statements[0]
        samples = [await ask(*make(i)) for i in range(calls)]
        per_call = (statements[0] - sent) / calls - 1  # less the bench's own read-back
        measured[name] = samples
        print(
            f"{name:30} {percentiles(samples)}   (mean {statistics.mean(samples) * 1000:.1f} ms,"
            f" {per_call:.1f} statements, {calls} calls)"
        )
    await engine.dispose()
    return measured


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def goals(measured: dict[str, list[float]]) -> list[str]:
    """The city-wide views' goals of issue 14 beside their figures, `/viec` as the baseline
    measured in the same run."""
    p50 = {name: sorted(samples)[len(samples) // 2] * 1000 for name, samples in measured.items()}
    p99s = {name: p99(samples) * 1000 for name, samples in measured.items()}
    viec = "/viec (specialist)"
    lines = []
    for name in (
        "/thongke (task force, city)",
        "/quahan (task force, city)",
        "/quahan U0123 (task force)",
    ):
        ratio = (
            f"; {p99s[name] / p99s[viec]:.1f} × /viec p99, {p50[name] / p50[viec]:.1f} × /viec p50"
        )
        lines.append(
            f"{name:30} p99 {p99s[name]:6.1f} ms, p50 {p50[name]:6.1f} ms   goal ≤ 25 ms p99"
            + (" and ≤ 3 × /viec" if "thongke" in name else "")
            + ratio
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--synchronous", default="FULL", help="SQLite: FULL or NORMAL")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    measured = asyncio.run(run(args.url, args.n, args.synchronous))
    print(f"load average {os.getloadavg()[0]:.1f} at the end; the goals, /viec the baseline:")
    print("\n".join(goals(measured)))


if __name__ == "__main__":
    main()
