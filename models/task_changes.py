"""Changing a task: every change goes through here, so every change lands in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.deadlines import ChangeState, DeadlineChange
from models.organization import Official
from models.tasks import Channel, Task, TaskEvent, event_value


@dataclass(frozen=True)
class Actor:
    """Who makes a change, through which channel, at which moment."""

    official: Official | None
    channel: Channel
    at: datetime

    @property
    def official_id(self) -> int | None:
        return self.official.id if self.official else None


def record(
    session: AsyncSession,
    task: Task,
    actor: Actor,
    action: str,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    note: str = "",
) -> TaskEvent:
    event = TaskEvent(
        task_id=task.id,
        at=actor.at,
        actor_id=actor.official_id,
        channel=actor.channel,
        action=action,
        field=field,
        old_value=event_value(old),
        new_value=event_value(new),
        note=note,
    )
    session.add(event)
    return event


def update_fields(
    session: AsyncSession, task: Task, actor: Actor, changes: dict[str, object], note: str = ""
) -> list[str]:
    """Set the fields that differ and log each as old → new; returns the names changed."""
    changed = []
    for field, new in changes.items():
        old = getattr(task, field)
        if old == new:
            continue
        setattr(task, field, new)
        record(session, task, actor, "update", field=field, old=old, new=new, note=note)
        changed.append(field)
    if changed:
        task.updated_at = actor.at
    return changed


def approve_deadline(
    session: AsyncSession,
    task: Task,
    actor: Actor,
    new_deadline: date,
    reason: str,
    *,
    requested_by: Official | None = None,
) -> DeadlineChange:
    """Put a new deadline in force, keeping the old one in the history of changes."""
    change = DeadlineChange(
        task_id=task.id,
        old_deadline=task.deadline,
        new_deadline=new_deadline,
        reason=reason,
        state=ChangeState.APPROVED,
        requested_by_id=requested_by.id if requested_by else actor.official_id,
        requested_at=actor.at,
        decided_by_id=actor.official_id,
        decided_at=actor.at,
    )
    session.add(change)
    record(
        session,
        task,
        actor,
        "extension_approved",
        field="deadline",
        old=task.deadline,
        new=new_deadline,
        note=reason,
    )
    task.deadline = new_deadline
    task.updated_at = actor.at
    return change
