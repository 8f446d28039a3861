"""A notice sent to the bot: the tasks it assigns proposed, fixed (/sua, /bo), created (/giao).

Only the task force does this. Nothing is created before /giao, which validates and writes the
tasks exactly as `dondoc import tasks` does (models/imports.py), under the notice's document.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from handlers.arguments import read_date, whole_number
from handlers.core import Request
from messages.proposals import (
    document_title,
    open_tasks,
    proposal_text,
    status_line,
    task_line,
)
from messages.reply import Reply
from models.imports import all_officials, all_units, write_tasks
from models.permissions import may_assign_from_notice
from models.proposals import drop_proposal, keep_proposal, proposal_for, task_ids_of_document
from paperwork.extract import ExtractError, UnitIndex, read_bytes, read_notice
from paperwork.extract.names import fold, unit_names
from paperwork.extract.reading import MAX_BYTES, describe
from paperwork.extract.sheet import needs_choice, template_lines
from paperwork.headers import TASK_COLUMNS, MappedRows
from paperwork.tabular import table_of
from paperwork.task_rows import check_tasks

FIELDS = {
    "chutri": "lead",
    "lead": "lead",
    "phoihop": "coordinating",
    "coord": "coordinating",
    "hanchot": "deadline",
    "deadline": "deadline",
    "noidung": "content",
    "content": "content",
}
ONGOING = {"thuongxuyen", "thường xuyên", "thuong xuyen", "ongoing"}
NONE_WORDS = {"-", "khong", "không", "none"}


def _refuse(text: str) -> list[Reply]:
    return [Reply(text, refused=True)]


def _not_task_force(req: Request) -> list[Reply] | None:
    if may_assign_from_notice(req.me):
        return None
    return _refuse(
        req.t._(
            "Reading notices into tasks is done by the task force. If a notice assigns your"
            " unit work, the task force will register it."
        )
    )


async def received(req: Request) -> list[Reply]:
    """A file: read it and propose its tasks, or say why it cannot be read."""
    t = req.t
    if refusal := _not_task_force(req):
        return refusal
    sent = req.incoming.file
    assert sent is not None
    try:
        if sent.size > MAX_BYTES:
            raise ExtractError("too_big", megabytes=MAX_BYTES // (1024 * 1024))
        if sent.data is None:
            raise ExtractError("not_received")
        blocks = read_bytes(sent.data, Path(sent.name).suffix.lower())
    except ExtractError as error:
        return _refuse(describe(error, t, sent.name))
    units = unit_names(await all_units(req.session))
    notice = read_notice(blocks, units, req.calendar)
    if not notice.tasks:
        return _refuse(
            t._(
                "{name}: no task was found (no sentence assigns work to a unit). Nothing was"
                " created.",
                name=sent.name,
            )
        )
    content = notice.proposal()
    incoming = req.incoming
    await keep_proposal(
        req.session, req.me.official.id, incoming.channel.value, incoming.chat_id, content, req.now
    )
    return [Reply(proposal_text(t, content))]


async def _proposal(req: Request):
    incoming = req.incoming
    proposal = await proposal_for(
        req.session, req.me.official.id, incoming.channel.value, incoming.chat_id
    )
    if proposal is None:
        return None, _refuse(
            req.t._(
                "No notice is waiting here. Send the signed notice (DOCX or PDF) to the bot first."
            )
        )
    return proposal, None


def _task(req: Request, content: dict[str, Any], word: str):
    number = whole_number(word)
    open_numbers = [n for n, _ in open_tasks(content)]
    if number is None or number not in open_numbers:
        return None, _refuse(
            req.t._(
                "There is no proposed task {value}: the numbers are {numbers}.",
                value=word[:12],
                numbers=", ".join(map(str, open_numbers)) or "—",
            )
        )
    return content["tasks"][number - 1], None


def _edit_syntax(req: Request) -> list[Reply]:
    return _refuse(
        req.t._(
            "Syntax: /sua <number> chutri|phoihop|hanchot|noidung <value>\n"
            "Examples: /sua 3 chutri SXD · /sua 3 phoihop STC, H-TX · /sua 3 hanchot 31/12/2026"
            " · /sua 3 hanchot thuongxuyen"
        )
    )


async def edit(req: Request) -> list[Reply]:
    """`/sua 3 chutri SXD`: one field of one proposed task."""
    t = req.t
    if refusal := _not_task_force(req):
        return refusal
    parts = req.args.split(maxsplit=2)
    if len(parts) < 3 or parts[1].lower() not in FIELDS:
        return _edit_syntax(req)
    proposal, refusal = await _proposal(req)
    if refusal:
        return refusal
    content = proposal.content
    task, refusal = _task(req, content, parts[0])
    if refusal:
        return refusal
    field, value = FIELDS[parts[1].lower()], parts[2].strip()
    units = unit_names(await all_units(req.session))
    index = UnitIndex(units)
    if field == "lead":
        code = index.resolve(value)
        if code is None:
            return _refuse(
                t._("There is no unit '{value}'. Write its code, e.g. SXD.", value=value[:60])
            )
        task["lead_unit"], task["lead_unit_text"] = code, index.names[code]
        task["coordinating_units"] = [c for c in task["coordinating_units"] if c != code]
    elif field == "coordinating":
        codes: list[str] = []
        if fold(value) not in NONE_WORDS:
            for part in re.split(r"[,;]", value):
                if not part.strip():
                    continue
                code = index.resolve(part)
                if code is None:
                    return _refuse(
                        t._(
                            "There is no unit '{value}'. Write its code, e.g. SXD.",
                            value=part.strip()[:60],
                        )
                    )
                codes.append(code)
        task["coordinating_units"] = [c for c in dict.fromkeys(codes) if c != task["lead_unit"]]
    elif field == "deadline":
        if fold(value) in ONGOING:
            task["deadline"], task["deadline_text"], task["vague"] = None, "thường xuyên", False
        else:
            day = read_date(value)
            issued = content["document"]["date"]
            if day is None:
                return _refuse(
                    t._(
                        "'{value}' is not a date: write dd/mm/yyyy, or thuongxuyen.",
                        value=value[:20],
                    )
                )
            if issued and day < date.fromisoformat(issued):
                return _refuse(
                    t._(
                        "The deadline {date} is before the notice's date {issued}.",
                        date=t.date(day),
                        issued=t.date(date.fromisoformat(issued)),
                    )
                )
            task["deadline"], task["deadline_text"], task["vague"] = day.isoformat(), value, False
    else:
        task["content"] = value[:4000]
    await keep_proposal(
        req.session, proposal.official_id, proposal.channel, proposal.chat_id, content, req.now
    )
    number = content["tasks"].index(task) + 1
    return [Reply(f"{task_line(t, number, task)}\n{status_line(t, content)}")]


async def drop(req: Request) -> list[Reply]:
    """`/bo 3`: the proposed task 3 is not created."""
    t = req.t
    if refusal := _not_task_force(req):
        return refusal
    if not req.args.strip():
        return _refuse(t._("Which proposed task? Syntax: /bo <number>, e.g. /bo 3"))
    proposal, refusal = await _proposal(req)
    if refusal:
        return refusal
    content = proposal.content
    task, refusal = _task(req, content, req.args.split()[0])
    if refusal:
        return refusal
    task["dropped"] = True
    await keep_proposal(
        req.session, proposal.official_id, proposal.channel, proposal.chat_id, content, req.now
    )
    left = len(open_tasks(content))
    text = t.ngettext(
        "Task {number} is dropped from the proposal; {n} task remains.",
        "Task {number} is dropped from the proposal; {n} tasks remain.",
        left,
        number=content["tasks"].index(task) + 1,
    )
    return [Reply(f"{text}\n{status_line(t, content)}" if left else text)]


async def assign(req: Request) -> list[Reply]:
    """`/giao`: the notice's document and its tasks, created as an import creates them."""
    t = req.t
    if refusal := _not_task_force(req):
        return refusal
    proposal, refusal = await _proposal(req)
    if refusal:
        return refusal
    content = proposal.content
    tasks = open_tasks(content)
    if not tasks:
        return _refuse(t._("Every proposed task was dropped: there is nothing to create."))
    unsure = [n for n, task in tasks if needs_choice(task)]
    if unsure:
        return _refuse(
            t._(
                "Nothing was created: tasks {numbers} still need a lead unit or a real deadline."
                " Fix them with /sua (e.g. /sua {first} chutri SXD, /sua {first} hanchot"
                " 31/12/2026, or hanchot thuongxuyen) or drop them with /bo {first}.",
                numbers=", ".join(map(str, unsure)),
                first=unsure[0],
            )
        )
    lines = template_lines(content, t)
    mapped = MappedRows(table_of(lines), TASK_COLUMNS, t)
    mapped.require(t, "content", "lead_unit_code")
    errors = list(mapped.errors)
    documents, checked = [], []
    if not errors:
        documents, checked, errors = check_tasks(
            mapped, await all_units(req.session), await all_officials(req.session), t, now=req.now
        )
    if errors:
        numbers = [n for n, _ in tasks]
        problems = [
            t._(
                "task {number}: {message}",
                number=numbers[e.row - 2] if 2 <= e.row < len(numbers) + 2 else "?",
                message=e.message,
            )
            for e in errors
        ]
        return _refuse(t._("Nothing was created:") + "\n" + "\n".join(problems[:10]))
    written = await write_tasks(req.session, documents, checked, at=req.now)
    await drop_proposal(req.session, proposal.official_id, proposal.channel, proposal.chat_id)
    document = content["document"]
    ids: list[int] = []
    if document["number"] and document["date"]:
        ids = await task_ids_of_document(
            req.session, document["number"], date.fromisoformat(document["date"])
        )
    text = t.ngettext(
        "✅ {n} task registered under {document}.",
        "✅ {n} tasks registered under {document}.",
        written.created,
        document=document_title(t, document),
    )
    if written.updated or written.unchanged:
        text += " " + t.ngettext(
            "{n} was registered already.",
            "{n} were registered already.",
            written.updated + written.unchanged,
        )
    if ids:
        text += (
            "\n" + " ".join(f"#{i}" for i in ids[:60]) + "\n" + t._("Details: /xem {id}", id=ids[0])
        )
    return [Reply(text)]
