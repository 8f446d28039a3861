"""Build a big city for the benchmarks: 1,000 units, 30,000 officials, 1,000,000 tasks.

Run: python -m bench.big_city [--tasks 1000000] [--url sqlite+aiosqlite:///bench/big.db]
A fixed seed, bulk inserts; about a minute on SQLite. Each official gets a linked chat.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.operator.progress import counted
from models import ChatAccount, Official, OfficialRole, Task, Unit
from models.db import create_engine, upgrade

DEFAULT_URL = "sqlite+aiosqlite:///bench/big.db"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
UNITS, OFFICIALS = 1_000, 30_000
TASK_FORCE = 14


async def _tasks(
    engine: AsyncEngine,
    rng: random.Random,
    tasks: int,
    by_unit: dict[int, list[int]],
    leaders: dict[int, int],
    advance: Callable[[int], None],
) -> None:
    """The tasks, 20,000 to a transaction (the triggers count them as they go in)."""
    batch: list[dict[str, object]] = []
    for task_id in range(1, tasks + 1):
        unit = rng.randint(2, UNITS)
        assigned = TODAY - timedelta(days=rng.randint(0, 730))
        deadline = assigned + timedelta(days=rng.randint(10, 120))
        done = (deadline < TODAY - timedelta(days=30) and rng.random() < 0.9) or rng.random() < 0.3
        completed = min(TODAY, deadline + timedelta(days=rng.randint(-20, 15))) if done else None
        if completed is not None and completed < assigned:
            completed = assigned
        batch.append(
            {
                "id": task_id,
                "content": f"Nhiệm vụ số {task_id}: rà soát, báo cáo tình hình thực hiện",
                "lead_unit_id": unit,
                "leader_id": leaders[unit],
                "specialist_id": rng.choice(by_unit[unit]),
                "assigned_date": assigned,
                "original_deadline": deadline,
                "deadline": deadline,
                "status": "done" if done else rng.choice(["not_started", "in_progress"]),
                "progress": 100 if done else rng.choice([0, 20, 50, 80]),
                "completed_date": completed,
                "result": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        if len(batch) == 20_000:
            async with engine.begin() as connection:
                await connection.execute(insert(Task), batch)
            batch.clear()
            advance(20_000)
    if batch:
        async with engine.begin() as connection:
            await connection.execute(insert(Task), batch)
        advance(len(batch))


async def build(url: str, tasks: int, seed: int = 847) -> None:
    rng = random.Random(seed)
    if url.startswith("sqlite") and (path := Path(url.split("///", 1)[1])).exists():
        path.unlink()
    engine = create_engine(url)
    await upgrade(engine)
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(
            insert(Unit),
            [
                {
                    "id": u,
                    "code": f"U{u:04d}",
                    "name": f"Đơn vị số {u}",
                    "kind": "department" if u < 200 else "commune",
                }
                for u in range(1, UNITS + 1)
            ],
        )
        officials, roles, accounts = [], [], []
        for o in range(1, OFFICIALS + 1):
            unit = 1 if o <= TASK_FORCE else (o % UNITS) + 1
            officials.append(
                {
                    "id": o,
                    "code": f"CB{o:05d}",
                    "full_name": f"Cán bộ {o}",
                    "position": "Chuyên viên",
                    "unit_id": unit,
                    "phone": "",
                    "email": "",
                    "language": "vi",
                    "active": True,
                }
            )
            role = (
                "task_force"
                if o <= TASK_FORCE
                else ("leader" if o <= TASK_FORCE + UNITS else "specialist")
            )
            roles.append({"official_id": o, "role": role})
            accounts.append(
                {
                    "channel": "telegram",
                    "external_user_id": str(o),
                    "chat_id": str(o),
                    "official_id": o,
                    "linked_at": NOW,
                }
            )
        for chunk in range(0, OFFICIALS, 5000):
            await connection.execute(insert(Official), officials[chunk : chunk + 5000])
            await connection.execute(insert(OfficialRole), roles[chunk : chunk + 5000])
            await connection.execute(insert(ChatAccount), accounts[chunk : chunk + 5000])
    by_unit: dict[int, list[int]] = {}
    for o in range(TASK_FORCE + 1, OFFICIALS + 1):
        by_unit.setdefault((o % UNITS) + 1, []).append(o)
    leaders = {u: people[0] for u, people in by_unit.items()}
    with counted("tasks", tasks, "task") as advance:
        await _tasks(engine, rng, tasks, by_unit, leaders, advance)
    async with engine.begin() as connection:
        if url.startswith("sqlite"):
            await connection.execute(text("ANALYZE"))
        else:
            await connection.execute(text("ANALYZE"))
            await connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('tasks','id'), (SELECT MAX(id) FROM tasks))"
                )
            )
    await engine.dispose()
    print(
        f"built {UNITS} units, {OFFICIALS} officials, {tasks} tasks in {time.perf_counter() - started:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    asyncio.run(build(args.url, args.tasks))


if __name__ == "__main__":
    main()
