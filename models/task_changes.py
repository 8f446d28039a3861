"""Changing a task: every change goes through here, so every change lands in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Insert, Update, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models.deadlines import ChangeState, DeadlineChange
from models.held_writes import with_next
from models.organization import Official
from models.tasks import Channel, Task, TaskEvent, TaskStatus, event_value


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
    event = TaskEvent(**_trail_row(task, actor, action, field=field, old=old, new=new, note=note))
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
    """Put a new deadline in force at once (an import, a decision taken elsewhere)."""
    change = DeadlineChange(
        task_id=task.id,
        new_deadline=new_deadline,
        reason=reason,
        requested_by_id=requested_by.id if requested_by else actor.official_id,
        requested_at=actor.at,
    )
    session.add(change)
    approve_extension(session, task, change, actor, reason)
    return change


def _done(day: date, result: str) -> dict[str, object]:
    return {"status": TaskStatus.DONE, "completed_date": day, "progress": 100, "result": result}


def mark_done(session: AsyncSession, task: Task, actor: Actor, day: date, result: str) -> None:
    """Done on `day` with the result note; progress goes to 100."""
    update_fields(session, task, actor, _done(day, result))


async def mark_done_once(
    session: AsyncSession, task: Task, actor: Actor, day: date, result: str
) -> bool:
    """`mark_done`, unless the task is done already, in the database and not just in this
    session's copy: one conditional UPDATE (`… WHERE status <> done`) takes it, so two
    reports at once, in one process or two, record one completion. False: done already."""
    return (
        await write_fields(session, task, actor, _done(day, result), unless_done=True) is not None
    )


async def write_fields(
    session: AsyncSession,
    task: Task,
    actor: Actor,
    changes: dict[str, object],
    note: str = "",
    *,
    unless_done: bool = False,
) -> list[str] | None:
    """`update_fields` for a command's change to a task loaded and not yet changed in this
    session, in two statements however many fields change: one UPDATE carrying them all,
    one INSERT of their trail rows (the ORM would write a row, and read its id back, per
    field). The session's copy takes the new values as the database's own, so the commit
    writes nothing more.

    `unless_done`: the UPDATE is conditional (`… WHERE status <> done`) and carries every
    field of `changes`; None, and nothing written, if the task is done already."""
    old = {field: getattr(task, field) for field in changes}
    changed = [field for field, new in changes.items() if old[field] != new]
    if changed or unless_done:
        values = dict(changes) if unless_done else {f: changes[f] for f in changed}
        taken = await session.execute(
            _update_task(tuple(values), unless_done),
            {"task_id_": task.id, "updated_at_": actor.at}
            | {f"{field}_": value for field, value in values.items()},
        )
        if unless_done and taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        for field, value in {**values, "updated_at": actor.at}.items():
            set_committed_value(task, field, value)
    rows = [
        _trail_row(task, actor, "update", field=f, old=old[f], new=changes[f], note=note)
        for f in changed
    ]
    if rows:
        await session.execute(_insert_trail(), rows)
    return changed


@cache
def _update_task(fields: tuple[str, ...], unless_done: bool) -> Update:
    """`UPDATE tasks SET <fields>, updated_at … WHERE id = …`, built once per set of fields:
    on the table, not the mapped class (the ORM's bulk path costs more Python than the
    statement's execution), its values bound at each call (`<name>_`)."""
    table = Task.__table__
    where = [table.c.id == bindparam("task_id_")]
    if unless_done:
        where.append(table.c.status != TaskStatus.DONE)
    names = (*fields, "updated_at")
    return (
        update(table)
        .where(*where)
        .values({name: bindparam(f"{name}_", type_=table.c[name].type) for name in names})
    )


@cache
def _insert_trail() -> Insert:
    """The trail rows' INSERT on the table, built once; every column is in every row. Its
    outcome is never read: on SQLite it goes with the transaction's next statement (the
    reply's outbox row) in one trip to the database's thread (`models/held_writes.py`)."""
    return with_next(insert(TaskEvent.__table__))


def _trail_row(
    task: Task,
    actor: Actor,
    action: str,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    note: str = "",
) -> dict[str, object]:
    """One row of the audit trail: added by `record`, or bulk-inserted by `write_fields`."""
    return {
        "task_id": task.id,
        "at": actor.at,
        "actor_id": actor.official_id,
        "channel": actor.channel,
        "action": action,
        "field": field,
        "old_value": event_value(old),
        "new_value": event_value(new),
        "note": note,
    }


async def decide_once(session: AsyncSession, change: DeadlineChange, state: ChangeState) -> bool:
    """Take a pending request for a decision: one conditional UPDATE (`… WHERE state =
    pending`), so of two decisions at once only one is recorded. False: decided already."""
    taken = await session.execute(
        update(DeadlineChange)
        .where(DeadlineChange.id == change.id, DeadlineChange.state == ChangeState.PENDING)
        .values(state=state)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


async def set_progress(
    session: AsyncSession, task: Task, actor: Actor, percent: int, note: str
) -> None:
    changed = await write_fields(
        session, task, actor, {"status": TaskStatus.IN_PROGRESS, "progress": percent}, note=note
    )
    if not changed and note:
        # A note is news: the task is not silent (models/nagging.py).
        await session.execute(
            update(Task)
            .where(Task.id == task.id)
            .values(updated_at=actor.at)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(task, "updated_at", actor.at)
        row = _trail_row(task, actor, "progress_note", note=note)
        await session.execute(insert(TaskEvent).execution_options(render_nulls=True), [row])


def report_blocker(session: AsyncSession, task: Task, actor: Actor, content: str) -> TaskEvent:
    task.updated_at = actor.at  # a difficulty reported is news: the task is not silent
    return record(session, task, actor, "blocker", note=content)


def request_extension(
    session: AsyncSession, task: Task, actor: Actor, new_deadline: date, reason: str
) -> DeadlineChange:
    change = DeadlineChange(
        task_id=task.id,
        old_deadline=task.deadline,
        new_deadline=new_deadline,
        reason=reason,
        state=ChangeState.PENDING,
        requested_by_id=actor.official_id,
        requested_at=actor.at,
    )
    session.add(change)
    record(
        session,
        task,
        actor,
        "extension_requested",
        field="deadline",
        old=task.deadline,
        new=new_deadline,
        note=reason,
    )
    return change


def approve_extension(
    session: AsyncSession, task: Task, change: DeadlineChange, actor: Actor, note: str = ""
) -> None:
    """The task force approves: the new deadline is in force, the old one stays in the change."""
    change.state = ChangeState.APPROVED
    change.decided_by_id = actor.official_id
    change.decided_at = actor.at
    change.decision_note = note
    change.old_deadline = task.deadline
    record(
        session,
        task,
        actor,
        "extension_approved",
        field="deadline",
        old=task.deadline,
        new=change.new_deadline,
        note=note,
    )
    task.deadline = change.new_deadline
    task.updated_at = actor.at


def reject_extension(
    session: AsyncSession, task: Task, change: DeadlineChange, actor: Actor, note: str
) -> None:
    change.state = ChangeState.REJECTED
    change.decided_by_id = actor.official_id
    change.decided_at = actor.at
    change.decision_note = note
    record(
        session,
        task,
        actor,
        "extension_rejected",
        field="deadline",
        old=task.deadline,
        new=change.new_deadline,
        note=note,
    )
