"""Extensions: /giahan asks, the task force decides with /duyet or /tuchoi, the asker is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from handlers.arguments import note_problem, read_date, syntax, task_and_rest, task_to_update
from handlers.core import Request
from locales import Translator
from messages.cards import comrade, short
from messages.reply import Button, Reply
from models.deadlines import ChangeState, DeadlineChange
from models.organization import Official
from models.permissions import Deciders, deciders_of, may_decide_extension, may_decide_extensions
from models.recipients import extension_deciders
from models.task_changes import (
    approve_extension,
    decide_once,
    reject_extension,
    request_extension,
)
from models.task_queries import pending_extension
from models.tasks import Task, TaskStatus


async def extend(req: Request) -> list[Reply]:
    """/giahan N dd/mm/yyyy lý do — asks for what is missing, one question at a time."""
    t = req.t
    found = await task_to_update(req)
    if isinstance(found, list):
        return found
    task, rest = found
    if task.status is TaskStatus.DONE:
        return [Reply(t._("Task #{id} is already done; it needs no extension.", id=task.id))]
    if task.deadline is None:
        return [Reply(t._("Task #{id} is ongoing and has no deadline to extend.", id=task.id))]
    pending = await pending_extension(req.session, task.id)
    if pending is not None:
        return [
            Reply(
                t._(
                    "Task #{id} already has an extension to {date} awaiting the task "
                    "force's decision.",
                    id=task.id,
                    date=t.date(pending.new_deadline),
                )
            )
        ]
    if not rest:
        await req.ask("giahan", str(task.id))
        return [
            Reply(
                t._(
                    "Extend task #{id} (now due {deadline}) to which date? Send it as "
                    "dd/mm/yyyy, with the reason after it if you like. Send /huy to cancel.",
                    id=task.id,
                    deadline=t.date(task.deadline, weekday=True),
                )
            )
        ]
    date_text, _, reason = rest.partition(" ")
    new_deadline = read_date(date_text, bounded=False)
    if new_deadline is None:
        return syntax(req, t._("'{value}' is not a valid date.", value=date_text[:20]))
    horizon = req.today + timedelta(days=req.settings.extension_horizon_days)
    if new_deadline > horizon:
        return [
            Reply(
                t._(
                    "An extension may reach {date} at the latest. Please send an earlier date.",
                    date=t.date(horizon),
                ),
                refused=True,
            )
        ]
    floor = max(task.deadline, req.today)
    if new_deadline <= floor:
        return [
            Reply(
                t._(
                    "The new deadline must be after {date}. Please send a later date.",
                    date=t.date(floor),
                ),
                refused=True,
            )
        ]
    reason = reason.strip()
    if not reason:
        await req.ask("giahan", f"{task.id} {date_text}")
        return [
            Reply(
                t._(
                    "Why does task #{id} need until {date}? Send the reason, or /huy to cancel.",
                    id=task.id,
                    date=t.date(new_deadline),
                )
            )
        ]
    if problem := note_problem(req, reason):
        return problem
    change = request_extension(req.session, task, req.actor, new_deadline, reason)
    await req.session.flush()
    asker = req.me.official

    def alert(rt: Translator) -> Reply:
        return Reply(
            rt._(
                "⏳ Extension request for task #{id} ({unit}): from {old} to {new}.\n"
                "Asked by {who}. Reason: {reason}\nTask: {task}",
                id=task.id,
                unit=task.lead_unit.name,
                old=rt.date(task.deadline),
                new=rt.date(new_deadline),
                who=comrade(rt, asker.full_name),
                reason=reason,
                task=short(task.content, 120),
            ),
            [
                [
                    Button(rt._("Approve"), f"/duyet {task.id}"),
                    Button(rt._("Refuse"), f"/tuchoi {task.id}"),
                ]
            ],
        )

    deciders = deciders_of(asker)
    await req.notify(
        await extension_deciders(req.session, deciders, asker),
        f"extension:{change.id}:request",
        alert,
    )
    if deciders is not Deciders.TASK_FORCE:
        text = t._(
            "The request to extend task #{id} to {date} has been sent to {deciders}: nobody "
            "approves their own request. You will be told of the decision.",
            id=task.id,
            date=t.date(new_deadline, weekday=True),
            deciders=deciders_name(t, deciders),
        )
        return [Reply(text)]
    return [
        Reply(
            t._(
                "The request to extend task #{id} to {date} has been sent to the task "
                "force. You will be told of its decision.",
                id=task.id,
                date=t.date(new_deadline, weekday=True),
            )
        )
    ]


def deciders_name(t: Translator, deciders: Deciders) -> str:
    return {
        Deciders.TASK_FORCE: t._("the task force"),
        Deciders.HEAD_OF_TASK_FORCE: t._("the head of the task force"),
        Deciders.CITY_LEADER: t._("a city leader"),
    }[deciders]


async def _pending(req: Request) -> tuple[Task, DeadlineChange, str] | list[Reply]:
    t = req.t
    if not may_decide_extensions(req.me):
        return [Reply(t._("Only the task force decides extension requests."))]
    found = await task_and_rest(req)
    if isinstance(found, list):
        return found
    task, rest = found
    change = await pending_extension(req.session, task.id)
    if change is None:
        return [Reply(t._("Task #{id} has no extension request awaiting a decision.", id=task.id))]
    if not may_decide_extension(req.me, change.requested_by):
        deciders = deciders_name(t, deciders_of(change.requested_by))
        if change.requested_by_id == req.me.official.id:
            text = t._(
                "Nobody approves their own request: the extension of task #{id} that you "
                "asked for is decided by {deciders}.",
                id=task.id,
                deciders=deciders,
            )
        else:
            text = t._(
                "The extension request of task #{id} is decided by {deciders}.",
                id=task.id,
                deciders=deciders,
            )
        return [Reply(text, refused=True)]
    return task, change, rest


def _decided_already(req: Request, task: Task) -> list[Reply]:
    """Someone decided the request a moment ago: this decision changes nothing."""
    text = req.t._("Task #{id} has no extension request awaiting a decision.", id=task.id)
    return [Reply(text)]


async def _tell(
    req: Request, task: Task, change: DeadlineChange, build: Callable[[Translator], Reply]
) -> None:
    people: list[Official] = [p for p in (change.requested_by, task.leader, task.specialist) if p]
    await req.notify(people, f"extension:{change.id}:decided", build)


async def approve(req: Request) -> list[Reply]:
    found = await _pending(req)
    if isinstance(found, list):
        return found
    task, change, note = found
    if problem := note_problem(req, note):
        return problem
    if not await decide_once(req.session, change, ChangeState.APPROVED):
        return _decided_already(req, task)
    old = task.deadline
    approve_extension(req.session, task, change, req.actor, note)
    await req.session.flush()

    def told(rt: Translator) -> Reply:
        return Reply(
            rt._(
                "✅ The task force approved the extension of task #{id}: new deadline "
                "{new} (was {old}).\n{task}",
                id=task.id,
                new=rt.date(change.new_deadline, weekday=True),
                old=rt.date(old),
                task=short(task.content, 120),
            )
        )

    await _tell(req, task, change, told)
    return [
        Reply(
            req.t._(
                "Extension of task #{id} approved: new deadline {new} (was {old}).",
                id=task.id,
                new=req.t.date(change.new_deadline, weekday=True),
                old=req.t.date(old),
            )
        )
    ]


async def reject(req: Request) -> list[Reply]:
    t = req.t
    found = await _pending(req)
    if isinstance(found, list):
        return found
    task, change, reason = found
    if not reason:
        await req.ask("tuchoi", str(task.id))
        return [
            Reply(
                t._(
                    "Why is the extension of task #{id} to {date} refused? Send the reason, "
                    "or /huy to cancel.",
                    id=task.id,
                    date=t.date(change.new_deadline),
                )
            )
        ]
    if problem := note_problem(req, reason):
        return problem
    if not await decide_once(req.session, change, ChangeState.REJECTED):
        return _decided_already(req, task)
    reject_extension(req.session, task, change, req.actor, reason)
    await req.session.flush()

    def told(rt: Translator) -> Reply:
        return Reply(
            rt._(
                "The task force refused to extend task #{id} to {new}; the deadline "
                "stays {old}.\nReason: {reason}",
                id=task.id,
                new=rt.date(change.new_deadline),
                old=rt.date(task.deadline),
                reason=reason,
            )
        )

    await _tell(req, task, change, told)
    return [
        Reply(
            t._(
                "Extension of task #{id} refused; the deadline stays {date}. The unit has "
                "been told.",
                id=task.id,
                date=t.date(task.deadline),
            )
        )
    ]
