"""The write gate tells a watcher who held it, and lets a waiting command go before a job."""

from __future__ import annotations

import asyncio

from models.db import WriteGate


async def test_a_watcher_sees_each_hold_and_a_command_goes_before_a_job_waiting() -> None:
    gate = WriteGate(enabled=True)
    seen: list[tuple[str, float, float]] = []
    gate.watch = lambda kind, waited, held: seen.append((kind, waited, held))
    order: list[str] = []

    async def job() -> None:
        async with gate.bulk():
            order.append("job")

    async with gate.urgent():
        waiting = asyncio.create_task(job())
        await asyncio.sleep(0)
        order.append("command")
    await waiting
    assert order == ["command", "job"]
    assert [kind for kind, _, _ in seen] == ["urgent", "bulk"]
    assert all(waited >= 0 and held >= 0 for _, waited, held in seen)


async def test_a_gate_that_is_off_lets_everything_through_and_reports_nothing() -> None:
    gate = WriteGate(enabled=False)  # PostgreSQL's
    seen: list[str] = []
    gate.watch = lambda kind, waited, held: seen.append(kind)
    async with gate.urgent(), gate.bulk():
        pass
    assert seen == []
