"""The audit trail: every change to a task is recorded, and the record is never rewritten."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import ChangeState, DeadlineChange, Task, TaskEvent
from models.task_changes import (
    Actor,
    approve_deadline,
    mark_done_once,
    set_progress,
    update_fields,
)
from models.tasks import Channel, TaskStatus
from tests.city import City
from tests.conftest import NOW


async def test_each_changed_field_is_recorded_old_to_new(session, city: City) -> None:
    task = await session.get_one(Task, 4101)
    actor = Actor(city.officials["SXD-CV"], Channel.TELEGRAM, NOW)
    changed = update_fields(
        session,
        task,
        actor,
        {"status": TaskStatus.IN_PROGRESS, "progress": 40, "content": task.content},
    )
    await session.commit()
    assert changed == ["status", "progress"]
    events = (
        await session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == 4101).order_by(TaskEvent.id)
        )
    ).all()
    assert [(e.field, e.old_value, e.new_value, e.channel, e.actor_id) for e in events] == [
        ("status", "not_started", "in_progress", Channel.TELEGRAM, city.officials["SXD-CV"].id),
        ("progress", "0", "40", Channel.TELEGRAM, city.officials["SXD-CV"].id),
    ]
    assert events[0].at == NOW


async def test_approved_extension_keeps_the_original_deadline(session, city: City) -> None:
    task = await session.get_one(Task, 4107)
    assert (task.original_deadline, task.deadline) == (date(2026, 11, 10), date(2026, 12, 10))
    change = await session.scalar(select(DeadlineChange).where(DeadlineChange.task_id == 4107))
    assert (change.old_deadline, change.new_deadline, change.state) == (
        date(2026, 11, 10),
        date(2026, 12, 10),
        ChangeState.APPROVED,
    )
    approve_deadline(
        session, task, Actor(city.officials["TCT"], Channel.CLI, NOW), date(2026, 12, 20), "Lần 2"
    )
    await session.commit()
    changes = (
        await session.scalars(
            select(DeadlineChange).where(DeadlineChange.task_id == 4107).order_by(DeadlineChange.id)
        )
    ).all()
    assert [(c.old_deadline, c.new_deadline) for c in changes] == [
        (date(2026, 11, 10), date(2026, 12, 10)),
        (date(2026, 12, 10), date(2026, 12, 20)),
    ]
    assert (task.original_deadline, task.deadline) == (date(2026, 11, 10), date(2026, 12, 20))


async def test_events_cannot_be_rewritten(session, city: City) -> None:
    event = await session.scalar(select(TaskEvent).where(TaskEvent.task_id == 4107))
    event.note = "sửa lại lịch sử"
    with pytest.raises(ValueError, match="append-only"):
        await session.flush()


async def test_done_once_writes_every_field_and_the_trail_and_is_not_taken_twice(
    sessions, city: City
) -> None:
    actor = Actor(city.officials["SXD-CV"], Channel.TELEGRAM, NOW)
    async with sessions() as session, session.begin():
        task = await session.get_one(Task, 4102)
        before = (task.status, task.progress)
        assert await mark_done_once(session, task, actor, date(2026, 11, 25), "Đã xong")
        assert (task.status, task.progress, task.result) == (TaskStatus.DONE, 100, "Đã xong")
    async with sessions() as session, session.begin():  # what the database holds
        task = await session.get_one(Task, 4102)
        assert (task.status, task.completed_date, task.progress, task.result, task.updated_at) == (
            TaskStatus.DONE,
            date(2026, 11, 25),
            100,
            "Đã xong",
            NOW,
        )
        events = (
            await session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == 4102).order_by(TaskEvent.id)
            )
        ).all()
        assert [(e.field, e.old_value, e.new_value) for e in events] == [
            ("status", before[0].value, "done"),
            ("completed_date", None, "2026-11-25"),
            ("progress", str(before[1]), "100"),
            ("result", "", "Đã xong"),
        ]
        assert {(e.actor_id, e.channel, e.at, e.action) for e in events} == {
            (city.officials["SXD-CV"].id, Channel.TELEGRAM, NOW, "update")
        }
        assert not await mark_done_once(session, task, actor, date(2026, 11, 26), "Lần nữa")
    async with sessions() as session:
        count = await session.scalar(select(func.count()).where(TaskEvent.task_id == 4102))
        assert count == 4


async def test_progress_writes_what_changed_and_a_bare_note_keeps_the_task_from_silence(
    sessions, city: City
) -> None:
    actor = Actor(city.officials["SXD-CV"], Channel.ZALO, NOW)
    later = Actor(city.officials["SXD-CV"], Channel.ZALO, NOW + timedelta(hours=1))
    async with sessions() as session, session.begin():
        task = await session.get_one(Task, 4101)
        await set_progress(session, task, actor, 40, "")
        await set_progress(session, task, later, 40, "")  # nothing new: nothing written
        await set_progress(session, task, later, 40, "Đã khảo sát")
    async with sessions() as session:
        task = await session.get_one(Task, 4101)
        assert (task.status, task.progress, task.updated_at) == (
            TaskStatus.IN_PROGRESS,
            40,
            later.at,
        )
        events = (
            await session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == 4101).order_by(TaskEvent.id)
            )
        ).all()
        assert [(e.action, e.field, e.new_value, e.note, e.at) for e in events] == [
            ("update", "status", "in_progress", "", NOW),
            ("update", "progress", "40", "", NOW),
            ("progress_note", None, None, "Đã khảo sát", later.at),
        ]
