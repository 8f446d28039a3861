"""Who does a task: the task force hands it over (/chuyen), a coordinating unit reports its
part (/phoihop), the task force ends a recurring duty (/dungdinhky)."""

from __future__ import annotations

from handlers.arguments import note_problem, syntax, task_and_rest, whole_number
from handlers.core import Request
from locales import Translator
from messages.assignments import contribution_notice, new_tasks, rule_text
from messages.reply import Reply
from models.assignments import announce, newly_named
from models.clock import local_date
from models.contributions import contribute as record_contribution
from models.contributions import coordinating_unit_of
from models.notices import Notifier, Outgoing
from models.organization import Official, Role, official_by_code
from models.outbox import Priority
from models.permissions import (
    in_lead_unit,
    may_contribute,
    may_end_series,
    may_reassign,
    unit_parents,
)
from models.recipients import with_role
from models.recurrence import end_series, series_of
from models.task_changes import record, update_fields
from models.task_queries import unit_by_code
from models.tasks import TaskStatus


def _task_force_only(t: Translator, what: str) -> list[Reply]:
    return [
        Reply(
            t._(
                "Only the task force {what}. If something needs to change, please tell the task "
                "force.",
                what=what,
            ),
            refused=True,
        )
    ]


def _action_key(req: Request) -> str:
    """One key per command received: a message that arrives twice announces once."""
    return f"{req.incoming.channel.value} update {req.incoming.update_id}"


async def reassign(req: Request) -> list[Reply]:
    """/chuyen N MÃ_ĐƠN_VỊ [lãnh đạo] [chuyên viên]: the task force hands the task to another
    unit (or other people); the history keeps both, the new people are told (with no leader
    named, the new unit's leaders, who name them)."""
    t = req.t
    if not may_reassign(req.me):
        return _task_force_only(t, t._("hands a task over to another unit or person"))
    found = await task_and_rest(req)
    if isinstance(found, list):
        return found
    task, rest = found
    words = rest.split()
    if not words:
        return syntax(req, t._("The unit code is missing."))
    if len(words) > 3:
        return syntax(req, t._("Give a unit code and at most a leader and a specialist code."))
    unit = await unit_by_code(req.session, words[0])
    if unit is None:
        return syntax(req, t._("There is no unit with the code '{code}'.", code=words[0][:20]))
    if task.status is TaskStatus.DONE:
        return [
            Reply(
                t._("Task #{id} is already done; there is nothing to hand over.", id=task.id),
                refused=True,
            )
        ]
    parents = await unit_parents(req.session)
    people: list[Official | None] = []
    for code in words[1:]:
        official = await official_by_code(req.session, code) or await official_by_code(
            req.session, code.upper()
        )
        if official is None or not official.active:
            return syntax(req, t._("There is no official with the code '{code}'.", code=code[:20]))
        if not _within(official.unit_id, unit.id, parents):
            return syntax(
                req,
                t._(
                    "{name} ({code}) does not work in {unit}.",
                    name=official.full_name,
                    code=official.code,
                    unit=unit.name,
                ),
            )
        people.append(official)
    leader, specialist = [*people, None, None][:2]
    if (unit.id, leader, specialist) == (task.lead_unit_id, task.leader, task.specialist):
        return [Reply(t._("Task #{id} already stands so; nothing was changed.", id=task.id))]
    old_unit = task.lead_unit
    before = (task.specialist_id, task.leader_id)
    actor = req.actor
    if unit.id != old_unit.id:
        update_fields(
            req.session,
            task,
            actor,
            {"lead_unit_id": unit.id},
            note=f"{old_unit.name} → {unit.name}",
        )
        task.lead_unit = unit
        if unit in task.coordinating_units:  # one lead unit, never also coordinating
            old_codes = ";".join(u.code for u in task.coordinating_units)
            task.coordinating_units = [u for u in task.coordinating_units if u.id != unit.id]
            record(
                req.session,
                task,
                actor,
                "update",
                field="coordinating_units",
                old=old_codes,
                new=";".join(u.code for u in task.coordinating_units),
            )
    for field, was, now in (
        ("leader_id", task.leader, leader),
        ("specialist_id", task.specialist, specialist),
    ):
        update_fields(
            req.session,
            task,
            actor,
            {field: now.id if now else None},
            note=f"{was.full_name if was else '—'} → {now.full_name if now else '—'}",
        )
    task.leader, task.specialist = leader, specialist
    await req.session.flush()
    handed_from = old_unit.name if unit.id != old_unit.id else None
    told = newly_named(task, before)
    if leader is None and handed_from:  # nobody named yet: the unit's leaders name someone
        named = {person.id for person in told}
        told += [
            o for o in await with_role(req.session, Role.LEADER, [unit.id]) if o.id not in named
        ]
    await announce(
        Notifier(req.session, req.now),
        f"assigned:task {task.id}:{_action_key(req)}",
        [(person, task) for person in told],
        new_tasks(handed_from),
        not_before=req.for_officials,
    )
    lines = [
        t._(
            "Task #{id} is now led by {unit} — leader in charge {leader}, specialist {specialist}.",
            id=task.id,
            unit=unit.name,
            leader=_name(t, leader),
            specialist=_name(t, specialist),
        )
    ]
    if handed_from:
        lines.append(t._("The history keeps {unit} as the earlier lead unit.", unit=handed_from))
    if leader is None or specialist is None:
        lines.append(
            t._(
                "Name the missing people: /chuyen {id} {code} <leader code> <specialist code>",
                id=task.id,
                code=unit.code,
            )
        )
    return [Reply("\n".join(lines))]


def _name(t: Translator, official: Official | None) -> str:
    return t._("comrade {name}", name=official.full_name) if official else t._("(nobody named)")


def _within(unit_id: int, lead_id: int, parents: dict[int, int | None]) -> bool:
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        if current == lead_id:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


async def contribute(req: Request) -> list[Reply]:
    """/phoihop N [phần trăm] nội dung: a coordinating unit's part, told to the lead unit."""
    t = req.t
    found = await task_and_rest(req)
    if isinstance(found, list):
        return found
    task, rest = found
    if not may_contribute(req.me, task):
        if in_lead_unit(req.me, task) or req.me.is_task_force:
            text = t._(
                "Task #{id} is led by {unit}: report its progress with /tiendo {id} <percent>. "
                "/phoihop is for the coordinating units.",
                id=task.id,
                unit=task.lead_unit.name,
            )
        else:
            text = t._(
                "Your unit does not coordinate task #{id}; only its coordinating units report "
                "with /phoihop.",
                id=task.id,
            )
        return [Reply(text, refused=True)]
    unit = coordinating_unit_of(req.me.unit_chain, task)
    assert unit is not None
    percent = None
    first, _, after = rest.partition(" ")
    if first.endswith("%") or whole_number(first) is not None:
        percent = whole_number(first.rstrip("%"))
        if percent is None or percent > 100:
            return syntax(
                req,
                t._(
                    "The progress must be a whole number from 0 to 100, not '{value}'.",
                    value=first[:20],
                ),
            )
        rest = after.strip()
    if not rest:
        await req.ask("phoihop", f"{task.id} {percent}" if percent is not None else str(task.id))
        return [
            Reply(
                t._(
                    "What has {unit} done on task #{id}? Send it in one message, or /huy to "
                    "cancel.",
                    unit=unit.name,
                    id=task.id,
                )
            )
        ]
    if problem := note_problem(req, rest):
        return problem
    contribution = await record_contribution(req.session, task, unit, req.actor, percent, rest)
    who = req.me.official.full_name
    build = contribution_notice(task, unit.name, who, percent, rest)
    lead_people = {p.id: p for p in (task.specialist, task.leader) if p is not None and p.active}
    await Notifier(req.session, req.now).send(
        [
            Outgoing(f"contribution:task {task.id}:{contribution.id}:to {p.id}", p, build)
            for p in lead_people.values()
        ],
        priority=Priority.ALERT,
        not_before=req.for_officials,
    )
    return [
        Reply(
            t._(
                "The part of {unit} in task #{id} has been recorded and sent to the lead unit, "
                "{lead}.",
                unit=unit.name,
                id=task.id,
                lead=task.lead_unit.name,
            )
        )
    ]


async def end_recurrence(req: Request) -> list[Reply]:
    """/dungdinhky N: no further occurrence of the duty N belongs to; the past ones stay."""
    t = req.t
    if not may_end_series(req.me):
        return _task_force_only(t, t._("ends a recurring duty"))
    found = await task_and_rest(req)
    if isinstance(found, list):
        return found
    task, _ = found
    series = await series_of(req.session, task)
    if series is None:
        return [
            Reply(
                t._("Task #{id} is not a recurring duty; nothing was changed.", id=task.id),
                refused=True,
            )
        ]
    if series.ended_at is not None:
        return [
            Reply(
                t._(
                    "The recurring duty of task #{id} was already ended on {date}.",
                    id=task.id,
                    date=t.date(local_date(series.ended_at)),
                )
            )
        ]
    end_series(req.session, series, task, req.actor)
    return [
        Reply(
            t._(
                "🔁 The recurring duty of task #{id} ({rule}) is ended: no new occurrence will "
                "be created. The occurrences already created stay as they are.",
                id=task.id,
                rule=rule_text(t, series.parsed),
            )
        )
    ]
