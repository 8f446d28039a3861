"""The sweeps after the weekly jobs: what is done is passed over, what is not is finished."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from telegram import Bot

import jobs.alerts
import jobs.nudges
import jobs.reminders
import jobs.run
import jobs.weekly
from bot.sandbox import Sandbox
from locales import TIMEZONE
from models import Notice, OutboxMessage, Task
from models.notice_tasks import NoticeTask
from models.notices import Notifier
from models.task_changes import Actor, approve_deadline
from models.tasks import Channel
from tests.city import City
from tests.jobs_sim import TOKEN, Simulation


def at(day: int, month: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TIMEZONE)


@pytest.fixture
async def sim(sessions, city: City):
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    async with Bot(TOKEN, base_url=f"{sandbox.url}/bot") as bot:
        simulation = Simulation(sessions, sandbox, bot, city)
        await simulation.link(*[code for code in city.officials if code != "Q1-CV"])
        yield simulation
    await sandbox.stop()


def received(sim: Simulation, start: str) -> list[str]:
    return sorted(r.code for r in sim.received if r.text.startswith(start))


async def queued(sim: Simulation, prefix: str) -> int:
    async with sim.sessions() as session:
        rows = select(func.count()).where(OutboxMessage.key.startswith(prefix))
        return await session.scalar(rows) or 0


async def done_rows(sim: Simulation) -> list[str]:
    async with sim.sessions() as session:
        keys = await session.scalars(select(Notice.key).where(Notice.key.like("%:done")))
        return sorted(keys)


def interrupt(monkeypatch: pytest.MonkeyPatch, prefix: str, after: int) -> None:
    """The job dies once `after` notices under `prefix` are queued, one commit each."""
    monkeypatch.setattr(jobs.run, "COMMIT_EVERY", 1)
    write, calls = Notifier._write, []  # one write per notice, or per grouped recipient, here

    async def dying_write(self: Notifier, parts):  # type: ignore[no-untyped-def]
        if parts and parts[0][0] and parts[0][0][0].startswith(prefix):
            calls.append(parts[0][0][0])
            if len(calls) > after:
                raise RuntimeError("the process was stopped")
        return await write(self, parts)

    monkeypatch.setattr(Notifier, "_write", dying_write)


async def test_the_sweep_after_the_weekly_jobs_looks_at_nothing_again(
    sim: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await sim.tick(at(23, 11, 9))
    assert first["digest"] and first["urging"] and first["reminders"] and first["overdue"]
    assert await done_rows(sim) == [
        "digest:week 2026-W48:done",
        "explain-missed:day 2026-11-23:done",
        "overdue:task 4103:deadline 2026-11-20:done",
        "remind:task 4102:deadline 2026-11-27:T-3:done",
        "risk:day 2026-11-23:done",
        "risk:task 4107:deadline 2026-12-10:done",
        "stale:day 2026-11-23:done",
        "urge:week 2026-W48:done",
    ]

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a done job was run again")

    monkeypatch.setattr(jobs.weekly, "open_tasks_by_person", never)
    monkeypatch.setattr(jobs.weekly, "overdue_to_urge_by_units", never)
    monkeypatch.setattr(jobs.weekly, "record_urgings", never)
    monkeypatch.setattr(jobs.nudges, "silent_by_recipient", never)  # once a working day
    monkeypatch.setattr(jobs.nudges, "at_risk", never)
    looked_at: list[int] = []

    def counting(query: Callable) -> Callable:
        async def wrapped(*args: object) -> list[Task]:
            tasks = await query(*args)
            looked_at.append(len(tasks))
            return tasks

        return wrapped

    def counting_batches(query: Callable) -> Callable:
        async def wrapped(*args: object) -> AsyncIterator[list[NoticeTask]]:
            found = 0
            async for batch in query(*args):
                found += len(batch)
                yield batch
            looked_at.append(found)

        return wrapped

    monkeypatch.setattr(
        jobs.reminders, "tasks_to_remind", counting_batches(jobs.reminders.tasks_to_remind)
    )
    monkeypatch.setattr(jobs.alerts, "newly_overdue", counting(jobs.alerts.newly_overdue))
    later = await sim.tick(at(23, 11, 9, 5))
    assert set(later.values()) == {0}
    assert looked_at == [0, 0]  # reminders and alerts: every task of the day is done


async def test_a_digest_interrupted_half_way_is_finished_by_the_next_sweep(
    sim: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt(monkeypatch, "digest:", after=1)
    with pytest.raises(RuntimeError):
        await sim.tick(at(23, 11, 8))
    assert await queued(sim, "digest:") == 1
    assert "digest:week 2026-W48:done" not in await done_rows(sim)
    monkeypatch.undo()
    await sim.tick(at(23, 11, 8, 5))
    # Each official once: the one queued before the stop is not sent again.
    assert received(sim, "📋 Tuần 48/2026") == ["Q1-LD", "SXD-CV", "SXD-LD"]
    assert "digest:week 2026-W48:done" in await done_rows(sim)


async def test_an_alert_interrupted_half_way_reaches_the_rest_on_the_next_sweep(
    sim: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt(monkeypatch, "overdue:", after=1)  # the task force has it; the unit leader not
    with pytest.raises(RuntimeError):
        await sim.tick(at(23, 11, 7, 30))
    assert await queued(sim, "overdue:task 4103:") == 1
    assert "overdue:task 4103:deadline 2026-11-20:done" not in await done_rows(sim)
    monkeypatch.undo()
    await sim.tick(at(23, 11, 7, 35))
    assert received(sim, "🔴 Nhiệm vụ #4103") == ["SXD-LD", "TCT"]
    assert "overdue:task 4103:deadline 2026-11-20:done" in await done_rows(sim)


async def test_a_task_that_falls_overdue_on_wednesday_is_alerted_that_day(
    sim: Simulation,
) -> None:
    await sim.tick(at(23, 11, 9))
    async with sim.sessions() as session, session.begin():  # #4101 brought forward to Tuesday
        task = await session.get_one(Task, 4101)
        actor = Actor(None, Channel.TELEGRAM, at(23, 11, 10))
        approve_deadline(session, task, actor, date(2026, 11, 24), "Chỉ đạo mới")
    await sim.tick(at(23, 11, 10, 5))
    assert not received(sim, "🔴 Nhiệm vụ #4101")
    await sim.tick(at(25, 11, 7, 30))
    assert received(sim, "🔴 Nhiệm vụ #4101") == ["SXD-LD", "TCT"]
    await sim.tick(at(25, 11, 7, 35))
    assert received(sim, "🔴 Nhiệm vụ #4101") == ["SXD-LD", "TCT"]


async def test_an_extension_approved_after_the_days_reminders_gets_its_own_that_day(
    sim: Simulation,
) -> None:
    await sim.tick(at(1, 12, 7, 30))  # #4107, due 10/12: seven working days left
    async with sim.sessions() as session, session.begin():
        task = await session.get_one(Task, 4107)
        actor = Actor(None, Channel.TELEGRAM, at(1, 12, 10))
        approve_deadline(session, task, actor, date(2026, 12, 4), "Rút ngắn")
    await sim.tick(at(1, 12, 10, 5))
    assert [
        r.text.split("\n")[0] for r in sim.received if r.text.startswith("⏰ Nhiệm vụ #4107")
    ] == [
        "⏰ Nhiệm vụ #4107 còn 7 ngày làm việc (hạn thứ Năm, 10/12/2026).",
        "⏰ Nhiệm vụ #4107 còn 3 ngày làm việc (hạn thứ Sáu, 04/12/2026).",
    ]


async def test_a_tick_at_a_past_week_still_sends_that_weeks_digest(sim: Simulation) -> None:
    await sim.tick(at(30, 11, 9))  # week 49 done first, then the clock goes back a week
    await sim.tick(at(23, 11, 9))
    assert received(sim, "📋 Tuần 48/2026") == ["Q1-LD", "SXD-CV", "SXD-LD"]
    assert received(sim, "📋 Tuần 49/2026") == ["Q1-LD", "SXD-CV", "SXD-LD"]
    assert await queued(sim, "digest:") == 6
