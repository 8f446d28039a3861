"""The audit trail: every change to a task is recorded, and the record is never rewritten."""

from datetime import date

import pytest
from sqlalchemy import select

from models import ChangeState, DeadlineChange, Task, TaskEvent
from models.task_changes import Actor, approve_deadline, update_fields
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
