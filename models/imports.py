"""What an import writes: checked rows of units, officials, calendar days and tasks, into the register.

The rows arrive already checked (paperwork/ reads and checks the files); these functions only
match each row to what is stored and create or update it, recording every change to a task.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.accounts import unlink
from models.calendar import CalendarOverride
from models.documents import Document
from models.import_history import Conflict, changed_since_import, disagreements
from models.organization import Official, Role, Unit, UnitKind
from models.recurrence import Rule, set_rule
from models.task_changes import Actor, approve_deadline, record, update_fields
from models.tasks import Channel, Task, TaskStatus

# Lists of ids are sent in chunks: SQLite allows a limited number of bound parameters.
CHUNK = 500


@dataclass
class Written:
    """How many rows of a file made a new record, changed one, or matched one exactly."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows left as the register has them: officials changed the task since the last import.
    conflicts: list[Conflict] = field(default_factory=list)
    # Open tasks and the people this import newly named on them, to be told (models/assignments).
    assigned: list[tuple[Official, Task]] = field(default_factory=list)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: UnitKind
    parent_code: str  # "" for a unit at the top
    aliases: str = ""  # other names, `;`-separated; "" leaves the stored ones alone


@dataclass(frozen=True)
class OfficialRow:
    code: str
    full_name: str
    position: str
    unit_id: int
    phone: str
    email: str
    language: str
    roles: frozenset[Role]
    active: bool = True  # false: left the unit; their chats are unlinked, their codes void
    matrix_id: str = ""  # "" keeps what is stored: a file without the column erases nothing


@dataclass(frozen=True)
class CalendarRow:
    day: date
    working: bool
    note: str


@dataclass(frozen=True)
class DocumentRow:
    number: str
    issued_on: date
    kind_label: str  # as the file writes it; "" lets the number decide the kind
    signer: str
    summary: str


@dataclass
class TaskRow:
    number: int
    id: int | None  # None: the task with the same document, lead unit and content, or a new one
    document_key: tuple[str, date] | None
    content: str
    lead_unit: Unit
    coordinating: list[Unit]
    leader: Official | None
    specialist: Official | None
    assigned_date: date
    deadline: date | None
    original_deadline: date | None
    status: TaskStatus
    progress: int
    completed_date: date | None
    result: str
    recurrence: Rule | None = None  # None: the file says nothing, the stored rule stays


async def all_units(session: AsyncSession) -> Sequence[Unit]:
    return (await session.scalars(select(Unit))).all()


async def all_officials(session: AsyncSession) -> Sequence[Official]:
    return (await session.scalars(select(Official))).all()


async def write_units(session: AsyncSession, rows: Sequence[UnitRow]) -> Written:
    written = Written()
    existing = {u.code.casefold(): u for u in await all_units(session)}
    by_code = dict(existing)
    for row in rows:
        if row.code.casefold() not in by_code:
            unit = Unit(code=row.code, name=row.name, kind=row.kind, aliases=row.aliases)
            session.add(unit)
            by_code[row.code.casefold()] = unit
            written.created += 1
    await session.flush()  # new units need ids before children can point at them
    for row in rows:
        key = row.code.casefold()
        unit = by_code[key]
        parent_id = by_code[row.parent_code.casefold()].id if row.parent_code else None
        if key not in existing:
            unit.parent_id = parent_id
            continue
        aliases = row.aliases or unit.aliases
        changed = (unit.name, unit.kind, unit.parent_id, unit.aliases) != (
            row.name,
            row.kind,
            parent_id,
            aliases,
        )
        unit.name, unit.kind, unit.parent_id, unit.aliases = row.name, row.kind, parent_id, aliases
        written.updated += changed
        written.unchanged += not changed
    await session.flush()
    return written


async def write_officials(session: AsyncSession, rows: Sequence[OfficialRow]) -> Written:
    written = Written()
    existing = {o.code.casefold(): o for o in await all_officials(session)}
    for row in rows:
        values = {
            "full_name": row.full_name,
            "position": row.position,
            "unit_id": row.unit_id,
            "phone": row.phone,
            "email": row.email,
            "language": row.language,
            "active": row.active,
        }
        if row.matrix_id:
            values["matrix_id"] = row.matrix_id
        official = existing.get(row.code.casefold())
        if official is None:
            official = Official(code=row.code, **values)
            official.set_roles(row.roles)
            session.add(official)
            existing[row.code.casefold()] = official
            written.created += 1
            continue
        changed = official.roles != row.roles
        for name, value in values.items():
            if getattr(official, name) != value:
                setattr(official, name, value)
                changed = True
        if official.roles != row.roles:
            official.set_roles(row.roles)
        written.updated += changed
        written.unchanged += not changed
    await session.flush()
    # Deactivation takes access away: no chat stays linked, no code can link one.
    leavers = [o.id for o in existing.values() if not o.active and o.id is not None]
    if leavers:
        await unlink(session, leavers)
    return written


async def write_calendar(session: AsyncSession, rows: Iterable[CalendarRow]) -> Written:
    written = Written()
    for row in rows:
        override = await session.get(CalendarOverride, row.day)
        if override is None:
            session.add(CalendarOverride(day=row.day, working=row.working, note=row.note))
            written.created += 1
        elif (override.working, override.note) != (row.working, row.note):
            override.working, override.note = row.working, row.note
            written.updated += 1
        else:
            written.unchanged += 1
    await session.flush()
    return written


async def write_tasks(
    session: AsyncSession,
    documents: Iterable[DocumentRow],
    rows: list[TaskRow],
    *,
    at: datetime,
    overwrite: bool = False,
) -> Written:
    """The documents first, then the tasks under them; every change is recorded as the import's.

    A row that would undo what officials reported since the last import is left alone and
    listed as a conflict, unless `overwrite` (see models/import_history.py)."""
    document_ids = await _upsert_documents(session, documents)
    actor = Actor(None, Channel.IMPORT, at)
    return await _upsert_tasks(session, rows, document_ids, actor, overwrite)


async def _upsert_documents(
    session: AsyncSession, documents: Iterable[DocumentRow]
) -> dict[tuple[str, date], int]:
    ids: dict[tuple[str, date], int] = {}
    for row in documents:
        document = await session.scalar(
            select(Document).where(
                Document.number == row.number, Document.issued_on == row.issued_on
            )
        )
        if document is None:
            document = Document(number=row.number, issued_on=row.issued_on)
            session.add(document)
        # A later file that leaves these empty does not erase what an earlier one said.
        document.set_kind(row.kind_label or document.kind_label or "")
        document.signer = row.signer or document.signer or ""
        document.summary = row.summary or document.summary or ""
        await session.flush()
        ids[(row.number, row.issued_on)] = document.id
    return ids


def _natural_key(
    row: TaskRow, document_ids: dict[tuple[str, date], int]
) -> tuple[int | None, int, str]:
    document_id = document_ids.get(row.document_key) if row.document_key else None
    return (document_id, row.lead_unit.id, row.content)


async def _match_rows_without_id(
    session: AsyncSession, rows: list[TaskRow], document_ids: dict[tuple[str, date], int]
) -> None:
    """A row without a number is the task with the same document, lead unit and content, if
    one exists: so a file without numbers can be imported again without duplicating tasks."""
    contents = sorted({row.content for row in rows if row.id is None})
    known: dict[tuple[int | None, int, str], int] = {}
    for start in range(0, len(contents), CHUNK):
        query = (
            select(Task.document_id, Task.lead_unit_id, Task.content, Task.id)
            .where(Task.content.in_(contents[start : start + CHUNK]))
            .order_by(Task.id.desc())
        )
        for document_id, lead_unit_id, content, task_id in await session.execute(query):
            known[(document_id, lead_unit_id, content)] = task_id
    for row in rows:
        if row.id is None:
            row.id = known.get(_natural_key(row, document_ids))


def _newly_named(
    written: Written, task: Task, row: TaskRow, before: tuple[int | None, int | None] | None
) -> None:
    """The specialist and leader the row names on an open task and the task did not name."""
    if row.status is TaskStatus.DONE:
        return
    named: set[int] = set()
    for person in (row.specialist, row.leader):
        if person is None or not person.active or person.id in (before or ()):
            continue
        if person.id not in named:
            named.add(person.id)
            written.assigned.append((person, task))


async def _upsert_tasks(
    session: AsyncSession,
    rows: list[TaskRow],
    document_ids: dict[tuple[str, date], int],
    actor: Actor,
    overwrite: bool,
) -> Written:
    written = Written()
    await _match_rows_without_id(session, rows, document_ids)
    given = [row.id for row in rows if row.id is not None]
    existing: dict[int, Task] = {}
    for start in range(0, len(given), CHUNK):
        chunk = given[start : start + CHUNK]
        query = (
            select(Task).where(Task.id.in_(chunk)).options(selectinload(Task.coordinating_units))
        )
        existing.update({task.id: task for task in (await session.scalars(query)).all()})
    next_id = max([*given, (await session.scalar(select(func.max(Task.id)))) or 0]) + 1
    reported = {} if overwrite else await changed_since_import(session, existing)

    for row in rows:
        fields = {
            "document_id": document_ids.get(row.document_key) if row.document_key else None,
            "content": row.content,
            "lead_unit_id": row.lead_unit.id,
            "leader_id": row.leader.id if row.leader else None,
            "specialist_id": row.specialist.id if row.specialist else None,
            "assigned_date": row.assigned_date,
            "status": row.status,
            "progress": row.progress,
            "completed_date": row.completed_date,
            "result": row.result,
        }
        task = existing.get(row.id) if row.id is not None else None
        if task is None:
            if row.id is None:
                row.id, next_id = next_id, next_id + 1
            original = row.original_deadline or row.deadline
            task = Task(
                id=row.id,
                original_deadline=original,
                deadline=original,
                created_at=actor.at,
                updated_at=actor.at,
                coordinating_units=list(row.coordinating),
                **fields,
            )
            session.add(task)
            record(session, task, actor, "created")
            if row.deadline != original and row.deadline is not None:
                approve_deadline(session, task, actor, row.deadline, "")
            if row.recurrence is not None:
                await set_rule(session, task, row.recurrence, actor)
            written.created += 1
            _newly_named(written, task, row, None)
            continue
        from_file = {**fields, "deadline": row.deadline}
        if differ := disagreements(task, reported.get(task.id, set()), from_file):
            written.conflicts.append(Conflict(row.number, task.id, differ))
            continue
        before = (task.specialist_id, task.leader_id)
        changed = update_fields(session, task, actor, fields)
        _newly_named(written, task, row, before)
        if row.recurrence is not None and await set_rule(session, task, row.recurrence, actor):
            changed.append("recurrence")
        # Without an original deadline in the file, a new deadline is an extension of the old.
        if row.original_deadline and row.original_deadline != task.original_deadline:
            changed += update_fields(
                session, task, actor, {"original_deadline": row.original_deadline}
            )
        if row.deadline != task.deadline:
            if row.deadline is None:
                changed += update_fields(session, task, actor, {"deadline": None})
            else:
                approve_deadline(session, task, actor, row.deadline, "")
                changed.append("deadline")
        old_codes = sorted(u.code for u in task.coordinating_units)
        new_codes = sorted(u.code for u in row.coordinating)
        if old_codes != new_codes:
            task.coordinating_units = list(row.coordinating)
            record(
                session,
                task,
                actor,
                "update",
                field="coordinating_units",
                old=";".join(old_codes),
                new=";".join(new_codes),
            )
            changed.append("coordinating_units")
        written.updated += bool(changed)
        written.unchanged += not changed
    await session.flush()
    if (await session.connection()).dialect.name == "postgresql":
        # Explicit ids bypass the sequence; move it past them so new tasks get fresh numbers.
        await session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('tasks', 'id'),"
                " GREATEST((SELECT MAX(id) FROM tasks), 1))"
            )
        )
    return written
