"""Reading a command's arguments, and the replies for arguments that cannot be read."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import MAX_NOTE, Request
from locales import Translator
from messages.reply import Reply
from models.permissions import in_lead_unit, may_update, may_view
from models.task_lookup import task_to_change
from models.task_queries import get_task
from models.tasks import Task
from paperwork.cells import parse_date

Load = Callable[[AsyncSession, int], Awaitable[Task | None]]


def usage(t: Translator, command: str) -> tuple[str, str]:
    """The right form of a command and one example, in the reader's language."""
    forms = {
        "xong": (t._("/done <task number> [result]"), t._("/done 4102 The plan has been issued")),
        "xem": (t._("/show <task number>"), t._("/show 4102")),
        "tiendo": (
            t._("/progress <task number> <percent> [note]"),
            t._("/progress 4102 60 Draft sent for comments"),
        ),
        "vuongmac": (
            t._("/blocker <task number> <the difficulty>"),
            t._("/blocker 4102 Waiting for the land survey from the district"),
        ),
        "giahan": (
            t._("/extend <task number> <dd/mm/yyyy> <reason>"),
            t._("/extend 4102 31/12/2026 Waiting for the Finance Department's appraisal"),
        ),
        "duyet": (t._("/approve <task number>"), t._("/approve 4102")),
        "tuchoi": (
            t._("/reject <task number> <reason>"),
            t._("/reject 4102 The reason is not convincing"),
        ),
        "quahan": (t._("/overdue [unit code]"), t._("/overdue SXD")),
        "baocao": (
            t._("/report [week|biweekly|month|quarter] [month, quarter or day] [unit code]"),
            t._("/report month 10/2026 SXD"),
        ),
        "sapden": (t._("/upcoming [working days]"), t._("/upcoming 5")),
        "giaitrinh": (
            t._("/explain <task number> [reason]"),
            t._("/explain 4103 The land survey came three weeks late"),
        ),
        "nguyco": (t._("/atrisk [unit code]"), t._("/atrisk SXD")),
        "xephang": (t._("/ranking [month|quarter]"), t._("/ranking quarter")),
        "ngonngu": (t._("/lang vi|en"), t._("/lang en")),
        "kenh": (t._("/channel telegram|zalo|ca-hai"), t._("/channel zalo")),
        "huylienket": (t._("/unlink [confirm]"), t._("/unlink confirm")),
        "chuyen": (
            t._("/reassign <task number> <unit code> [leader code] [specialist code]"),
            t._("/reassign 4102 STP STP-LD STP-CV"),
        ),
        "phoihop": (
            t._("/contribute <task number> [percent] <what your unit did>"),
            t._("/contribute 4102 50 Sent the legal appraisal of the draft"),
        ),
        "dungdinhky": (t._("/endseries <task number>"), t._("/endseries 4102")),
    }
    return forms[command]


def syntax(req: Request, problem: str) -> list[Reply]:
    form, example = usage(req.t, req.command)
    return [
        Reply(
            req.t._(
                "{problem} Syntax: {form}\nExample: {example}",
                problem=problem,
                form=form,
                example=example,
            ),
            refused=True,
        )
    ]


def note_problem(req: Request, note: str) -> list[Reply] | None:
    if len(note) > MAX_NOTE:
        return [
            Reply(
                req.t._(
                    "The text is too long ({length} characters); at most {limit}. Please shorten it and "
                    "send again.",
                    length=req.t.number(len(note)),
                    limit=req.t.number(MAX_NOTE),
                ),
                refused=True,
            )
        ]
    return None


async def task_and_rest(req: Request, load: Load = get_task) -> tuple[Task, str] | list[Reply]:
    """The task named by the first argument, if this person may see it; the rest of the text.
    `load`: how it is read (the same parts either way)."""
    t = req.t
    parts = req.args.split(maxsplit=1)
    if not parts:
        return syntax(req, t._("The task number is missing."))
    number = parts[0].lstrip("#")
    task_id = whole_number(number)
    if task_id is None:
        return syntax(req, t._("'{value}' is not a task number.", value=parts[0][:20]))
    task = await load(req.session, task_id)
    if task is None or not may_view(req.me, task):
        return [
            Reply(
                t._(
                    "There is no task #{id} among the tasks you may see. Send /viec to "
                    "see your tasks.",
                    id=number,
                )
            )
        ]
    if req.incoming.is_group and not in_lead_unit(req.me, task):
        return [
            Reply(
                t._(
                    "Task #{id} is led by another unit; please open it in a private chat "
                    "with the bot.",
                    id=task.id,
                )
            )
        ]
    return task, parts[1].strip() if len(parts) > 1 else ""


def only_numbers(text: str) -> bool:
    """`/xong 12 13`: the rest looks like more task numbers, not a result."""
    return bool(text) and all(re.fullmatch(r"#?\d+", word) for word in text.split())


# Digits a person types: ASCII only (`str.isdigit` also says yes to ² and ①, which `int`
# refuses), and few enough to fit any integer column.
_NUMBER = re.compile(r"[0-9]{1,9}")
# Dates the bot accepts at all; anything outside is a typing mistake, and far years
# overflow the date arithmetic of reports.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def whole_number(text: str) -> int | None:
    """`12` → 12; None for anything but ASCII digits (`²`, `①`, `٣`, `1.5`, a long run)."""
    return int(text) if _NUMBER.fullmatch(text) else None


def read_date(text: str, *, bounded: bool = True) -> date | None:
    """A `dd/mm/yyyy` date written in ASCII digits, from 2000 to 2100 (`bounded`: the
    caller checks its own, narrower range); None otherwise."""
    if not text.isascii():
        return None
    day = parse_date(text)
    if day is None or (bounded and not FIRST_DAY <= day <= LAST_DAY):
        return None
    return day


async def task_to_update(
    req: Request, load: Load = task_to_change
) -> tuple[Task, str] | list[Reply]:
    """Like `task_and_rest`, for a change: the lead unit and the task force only."""
    found = await task_and_rest(req, load)
    if isinstance(found, list):
        return found
    task, _ = found
    if not may_update(req.me, task):
        if in_lead_unit(req.me, task):
            return [
                Reply(
                    req.t._(
                        "City leaders have read-only views in the bot: task #{id} is updated "
                        "by its lead unit or the task force.",
                        id=task.id,
                    ),
                    refused=True,
                )
            ]
        return [
            Reply(
                req.t._(
                    "Task #{id} cannot be updated: it is led by {unit}, and you are not in the "
                    "lead unit. If the assignment is wrong, please tell the task force.",
                    id=task.id,
                    unit=task.lead_unit.name,
                )
            )
        ]
    return found
