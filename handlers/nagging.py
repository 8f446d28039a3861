"""Early warnings and accounts of lateness: /nguyco (tasks at risk) and /giaitrinh (the task
force asks a late task's lead unit for an explanation; its leader answers)."""

from __future__ import annotations

from itertools import groupby

from handlers.arguments import note_problem, syntax, task_and_rest
from handlers.core import Request
from handlers.overview import _scope
from locales import Translator
from messages.cards import comrade, short
from messages.reply import Reply
from models.explanations import (
    ExplanationState,
    answer_due,
    answer_once,
    explanation_for,
    may_be_asked,
    open_request,
    request_explanation,
)
from models.nagging import at_risk, unit_labels
from models.organization import Role
from models.outbox import Priority
from models.permissions import may_answer_explanation, may_ask_explanation
from models.recipients import distinct, with_role
from models.status import is_overdue
from models.tasks import Task
from models.urgings import urging_counts

PER_UNIT = 3
ONE_UNIT_LIMIT = 60
CITY_UNITS = 20


async def at_risk_list(req: Request) -> list[Reply]:
    """/nguyco [mã đơn vị]: open tasks whose progress lags their time, by unit."""
    t = req.t
    scope = await _scope(req)
    if isinstance(scope, list):
        return scope
    rows = await at_risk(req.session, req.window, req.calendar, req.settings.nagging, scope)
    if not rows:
        return [Reply(t._("✅ No task is at risk of being late ({date}).", date=t.date(req.today)))]
    labels = await unit_labels(req.session)
    rows.sort(key=lambda r: (labels[r.unit_id][0], r.deadline, r.task_id))
    by_unit = [(unit, list(found)) for unit, found in groupby(rows, key=lambda r: r.unit_id)]
    by_unit.sort(key=lambda pair: -len(pair[1]))
    lines = [
        t._(
            "⚠️ At risk of being late on {date}: {tasks} tasks at {units} units",
            date=t.date(req.today),
            tasks=t.number(len(rows)),
            units=t.number(len(by_unit)),
        )
    ]
    one_unit = scope is not None or len(by_unit) == 1
    for unit_id, found in by_unit if one_unit else by_unit[:CITY_UNITS]:
        code, name = labels[unit_id]
        lines.append("")
        lines.append(
            t.ngettext(
                "{name} ({code}) — {n} task",
                "{name} ({code}) — {n} tasks",
                len(found),
                name=name,
                code=code,
            )
        )
        shown = found[: ONE_UNIT_LIMIT if one_unit else PER_UNIT]
        for row in shown:
            lines.append(
                t._(
                    "• #{id} {content} — progress {progress}%, {elapsed}% of the time gone, "
                    "due {date}",
                    id=row.task_id,
                    content=short(row.content, 50),
                    progress=row.progress,
                    elapsed=row.risk.elapsed_percent,
                    date=t.date(row.deadline),
                )
            )
        if len(found) > len(shown):
            lines.append(
                t._(
                    "  … and {count} more: /nguyco {code}",
                    count=t.number(len(found) - len(shown)),
                    code=code,
                )
            )
    if not one_unit and len(by_unit) > CITY_UNITS:
        lines.append("")
        lines.append(
            t._(
                "… and {count} more units; one unit's list: /nguyco <unit code>",
                count=t.number(len(by_unit) - CITY_UNITS),
            )
        )
    return [Reply("\n".join(lines))]


async def explain(req: Request) -> list[Reply]:
    """/giaitrinh N: the task force asks; /giaitrinh N lý do: the lead unit's leader answers."""
    t = req.t
    found = await task_and_rest(req)
    if isinstance(found, list):
        return found
    task, reason = found
    answering = may_answer_explanation(req.me, task)
    if may_ask_explanation(req.me) and not (answering and reason):
        return await _ask(req, task)
    if answering:
        return await _answer(req, task, reason)
    return [
        Reply(
            t._(
                "Only the task force asks for an explanation, and only a leader of the lead "
                "unit ({unit}) answers it; nothing was recorded.",
                unit=task.lead_unit.name,
            ),
            refused=True,
        )
    ]


async def _ask(req: Request, task: Task) -> list[Reply]:
    t, rules = req.t, req.settings.nagging
    if task.deadline is None or not is_overdue(task, req.window):
        return [
            Reply(
                t._(
                    "Task #{id} is not overdue; an explanation is asked only of a late task.",
                    id=task.id,
                ),
                refused=True,
            )
        ]
    asked = await explanation_for(req.session, task.id, task.deadline)
    if asked is not None:
        if asked.state is ExplanationState.ANSWERED:
            return [
                Reply(
                    t._(
                        "Task #{id} was already explained on {date}: {reason}",
                        id=task.id,
                        date=t.date(asked.answered_at),
                        reason=asked.reason,
                    )
                )
            ]
        return [
            Reply(
                t._(
                    "An explanation of task #{id} was already asked on {date}; the answer "
                    "was due by {due}.",
                    id=task.id,
                    date=t.date(asked.requested_at),
                    due=t.date(asked.due_date),
                )
            )
        ]
    late = req.calendar.working_days_between(task.deadline, req.today)
    urged = (await urging_counts(req.session, [(task.id, task.deadline)])).get(task.id, 0)
    if not may_be_asked(late, urged, rules.explain_after_days):
        return [
            Reply(
                t._(
                    "Task #{id} is {days} working days overdue and was urged {urged} times: an "
                    "explanation may be asked when it is more than {after} working days overdue "
                    "or after the second urging.",
                    id=task.id,
                    days=t.number(late),
                    urged=t.number(urged),
                    after=t.number(rules.explain_after_days),
                ),
                refused=True,
            )
        ]
    due = answer_due(req.today, req.calendar, rules.explain_days)
    asked = request_explanation(req.session, task, req.actor, due)
    await req.session.flush()
    leaders = distinct(
        [task.leader, *await with_role(req.session, Role.LEADER, [task.lead_unit_id])]
    )
    deadline = task.deadline

    def request(t2: Translator) -> Reply:
        return Reply(
            t2._(
                "📝 The task force asks you to explain why task #{id} is late (due {deadline}, "
                "{days} days overdue). Please answer by {date}: /giaitrinh {id} <reason>\n"
                "{content}",
                id=task.id,
                deadline=t2.date(deadline),
                days=t2.number((req.today - deadline).days),
                date=t2.date(due, weekday=True),
                content=short(task.content, 200),
            )
        )

    await req.notify(
        leaders, f"explain-asked:explanation {asked.id}", request, not_before=req.for_officials
    )
    names = ", ".join(comrade(t, o.full_name) for o in leaders) or t._("no leader in the register")
    return [
        Reply(
            t._(
                "📝 An explanation of task #{id} was asked of {unit} ({leaders}); the answer is "
                "due by {date}.",
                id=task.id,
                unit=task.lead_unit.name,
                leaders=names,
                date=t.date(due, weekday=True),
            )
        )
    ]


async def _answer(req: Request, task: Task, reason: str) -> list[Reply]:
    t = req.t
    asked = await open_request(req.session, task.id)
    if asked is None:
        return [
            Reply(
                t._(
                    "The task force has not asked for an explanation of task #{id} (or it was "
                    "answered already); nothing was recorded. To report a difficulty: "
                    "/vuongmac {id} <the difficulty>",
                    id=task.id,
                ),
                refused=True,
            )
        ]
    if not reason:
        return syntax(req, t._("The reason is missing."))
    if problem := note_problem(req, reason):
        return problem
    if not await answer_once(req.session, asked, task, req.actor, reason):
        return [Reply(t._("Task #{id} was already explained; nothing was changed.", id=task.id))]
    who = req.me.official

    def shown(t2: Translator) -> Reply:
        return Reply(
            t2._(
                "📝 {unit} explains why task #{id} is late ({who}, {date}): {reason}",
                unit=task.lead_unit.name,
                id=task.id,
                who=comrade(t2, who.full_name),
                date=t2.date(req.today),
                reason=reason,
            )
        )

    task_force = await with_role(req.session, Role.TASK_FORCE)
    # At once, like a blocker: the task force hears the answer the moment it is given.
    await req.notify(
        task_force, f"explain-answered:explanation {asked.id}", shown, priority=Priority.ALERT
    )
    return [
        Reply(
            t._(
                "📝 The explanation of task #{id} is recorded and sent to the task force.",
                id=task.id,
            )
        )
    ]
