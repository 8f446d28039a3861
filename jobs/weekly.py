"""The weekly work: each official's digest, and the written urging of units with overdue tasks.

Every urging is counted per task (and per deadline in force); the third urging of a task
still overdue escalates it to the city leaders and the task force for the briefing meeting.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from jobs.cadence import first_working_day_of_week, iso_week
from jobs.context import JobContext
from jobs.rendering import Renderer, renderer
from locales import Translator, translator
from messages.cards import comrade, deadline_phrase, short, task_line
from models.attachments import File, FileKind
from models.notices import Message, Outgoing, Person, Recipient, already_sent
from models.organization import Role
from models.outbox import Priority
from models.recipients import distinct, head_of, letter_sender, recipients, role_holders
from models.reports import OverdueRow
from models.status import days_overdue, is_overdue
from models.urgings import UrgedTask, overdue_to_urge_by_units, record_urgings, urging_counts
from models.weekly import TaskLine, open_tasks_by_person
from paperwork.urging_letter import (
    UrgingLetter,
    addressee,
    letter_docx,
    letter_filename,
    portable,
    reply_by,
)

DIGEST_LINES = 10


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{week}/{year}"


# ------------------------------------------------------------------ digest


async def send_digests(ctx: JobContext) -> int:
    """Monday morning: every official with open tasks gets one message about all of them.

    Read a thousand officials at a time as plain rows and queued as they are built: the job
    holds one batch, never the city's open tasks."""
    week = iso_week(ctx.today)
    queued = 0
    async for batch in open_tasks_by_person(ctx.session, ctx.window):
        items = [
            Outgoing(f"digest:week {week}:to {person.id}", person, _digest(ctx, owned))
            for person, owned in batch
        ]
        queued += await ctx.notifier.send(
            items, priority=Priority.BULK, not_before=ctx.for_officials
        )
    return queued


def _digest(ctx: JobContext, owned: list[TaskLine]) -> Callable[[Translator], Message]:
    """One official's digest: their open tasks, overdue first, then this week's, then the rest."""
    window, calendar = ctx.window, ctx.calendar
    week_end = ctx.today + timedelta(days=6 - ctx.today.weekday())
    overdue = [t for t in owned if is_overdue(t, window)]  # type: ignore[arg-type]
    late = {t.id for t in overdue}
    this_week = [t for t in owned if t.id not in late and t.deadline and t.deadline <= week_end]
    soon = {t.id for t in this_week}
    rest = [t for t in owned if t.id not in late and t.id not in soon]

    def build(t: Translator) -> Message:
        lines = [
            t.ngettext(
                "📋 Week {week}: you have {n} open task",
                "📋 Week {week}: you have {n} open tasks",
                len(owned),
                week=_week_label(ctx.today),
            )
        ]
        shown = 0
        for title, group in (
            (t._("🔴 Overdue ({count}):", count=len(overdue)), overdue),
            (t._("⚠️ Due this week ({count}):", count=len(this_week)), this_week),
            (t._("Other tasks ({count}):", count=len(rest)), rest),
        ):
            if not group:
                continue
            lines.append(title)
            for task in group[: max(0, DIGEST_LINES - shown)]:
                lines.append(task_line(t, task, window, calendar))  # type: ignore[arg-type]
                shown += 1
        if shown < len(owned):
            lines.append(t._("… and {count} more: /viec", count=t.number(len(owned) - shown)))
        return Message("\n".join(lines), [[(t._("My tasks"), "/viec")]])

    return build


# ------------------------------------------------------------------ urging and escalation


async def send_urgings(ctx: JobContext) -> int:
    """Weekly: the written urging to each unit with overdue tasks; escalation at the third.

    The week's urgings are recorded by the database (INSERT … SELECT); then fifty units at a
    time are read, their letters written in a worker process (`jobs/rendering.py`) while the
    bot's loop goes on answering, and queued: the job never holds the city's overdue list."""
    week = iso_week(ctx.today)
    # The letter of the week covers what was overdue on the week's first working day (and is
    # still overdue): a task that falls late on Thursday waits for next week's letter.
    letter_day = first_working_day_of_week(ctx.today, ctx.calendar) or ctx.today
    await record_urgings(ctx.session, ctx.window, letter_day, week, ctx.now)
    sender = await letter_sender(ctx.session)
    sent, counts_of = 0, {}
    to_escalate: list[UrgedTask] = []
    async with renderer() as render:
        previous: _Batch | None = None
        async for overdue in overdue_to_urge_by_units(ctx.session, ctx.window, letter_day):
            counts = await urging_counts(ctx.session, [(t.id, t.deadline) for t in overdue])  # type: ignore[misc]
            # This batch's letters are written in the worker while the last batch is queued.
            batch = await _letters(ctx, overdue, counts, sender, render)
            if previous is not None:
                sent += await _queue(ctx, previous)
            previous = batch
            escalated = [t for t in overdue if counts.get(t.id, 0) >= ctx.cadence.escalate_after]
            to_escalate += escalated
            counts_of.update((t.id, counts[t.id]) for t in escalated)
        if previous is not None:
            sent += await _queue(ctx, previous)
    return sent + await _escalate(ctx, to_escalate, counts_of)


@dataclass
class _Batch:
    """A batch of units' letters: their recipients and keys, and the DOCX being written."""

    letters: list[tuple[UrgingLetter, list[UrgedTask], list[Person], list[str]]]
    languages: list[list[str]]
    written: asyncio.Future[list[bytes]]


async def _letters(
    ctx: JobContext,
    overdue: list[UrgedTask],
    counts: dict[int, int],
    sender: tuple[str, Person | None],
    render: Renderer,
) -> _Batch:
    """The letters of a batch of units not urged yet this week, handed to the worker."""
    week = iso_week(ctx.today)
    by_unit: dict[int, list[UrgedTask]] = defaultdict(list)
    for task in overdue:
        by_unit[task.lead_unit_id].append(task)
    leaders: dict[int, list[Recipient]] = defaultdict(list)
    for leader in await role_holders(ctx.session, Role.LEADER, by_unit):
        leaders[leader.unit_id].append(leader)
    named = {i for t in overdue for i in (t.leader_id, t.specialist_id) if i is not None}
    people = await recipients(ctx.session, sorted(named))
    reply_day = reply_by(ctx.today, ctx.calendar)
    authority, signer = sender
    letters: list[tuple[UrgingLetter, list[UrgedTask], list[Person], list[str]]] = []
    addressed: dict[int, tuple[list[Person], list[str]]] = {}
    for unit_id, tasks in by_unit.items():
        to: list[Person] = distinct(
            [
                *leaders.get(unit_id, []),
                *(people.get(t.leader_id) for t in tasks if t.leader_id is not None),
                *(people.get(t.specialist_id) for t in tasks if t.specialist_id is not None),
            ]
        )
        code = tasks[0].lead_unit.code
        addressed[unit_id] = (to, [f"urge:unit {code}:week {week}:to {o.id}" for o in to])
    given = await already_sent(ctx.session, [k for _, keys in addressed.values() for k in keys])
    for unit_id, tasks in by_unit.items():
        head = head_of(leaders.get(unit_id, []))
        to, keys = addressed[unit_id]
        if not set(keys) - given:
            continue  # this week's letter is out: the sweep does not write it again
        rows = [_overdue_row(task, ctx.today) for task in tasks]
        letter = UrgingLetter(
            tasks[0].lead_unit,  # type: ignore[arg-type]
            head,  # type: ignore[arg-type]
            authority,
            signer,  # type: ignore[arg-type]
            ctx.today,
            reply_day,
            rows,
            counts,
        )
        letters.append((letter, tasks, to, keys))
    languages = [sorted({translator(o.language).language for o in to}) for _, _, to, _ in letters]
    written = asyncio.gather(
        *(
            render(letter_docx, portable(letter), language)
            for (letter, *_), wanted in zip(letters, languages, strict=True)
            for language in wanted
        )
    )
    return _Batch(letters, languages, written)


async def _queue(ctx: JobContext, batch: _Batch) -> int:
    """A batch's letters stored once written, and its messages queued."""
    week = iso_week(ctx.today)
    contents = iter(await batch.written)
    made = {
        f"letter:unit {letter.unit.code}:week {week}": {
            language: [_letter_file(letter, next(contents), translator(language))]
            for language in wanted
        }
        for (letter, *_), wanted in zip(batch.letters, batch.languages, strict=True)
    }
    stored = await ctx.store_many(made)
    items: list[Outgoing] = []
    for letter, tasks, to, keys in batch.letters:
        files = stored[f"letter:unit {letter.unit.code}:week {week}"]
        build = _urging_message(ctx, letter, tasks, files)
        items += [Outgoing(k, o, build) for k, o in zip(keys, to, strict=True)]
    return await ctx.notifier.send(items, priority=Priority.BULK, not_before=ctx.for_officials)


def _overdue_row(task: UrgedTask, today: date) -> OverdueRow:
    """A task as the letter's table lists it."""
    return OverdueRow(
        task.id,
        task.content,
        task.lead_unit.code,
        task.lead_unit.name,
        task.deadline,
        days_overdue(task.deadline, today),
        task.leader_name,
        task.specialist_name,
        task.document,  # type: ignore[arg-type]
    )


def _letter_file(letter: UrgingLetter, content: bytes, t: Translator) -> File:
    """The written letter as a DOCX the unit can file."""
    caption = t._("The urging letter as a document, to file and answer.")
    return File(FileKind.DOCUMENT, letter_filename(letter), content, caption)


def _urging_message(
    ctx: JobContext,
    letter: UrgingLetter,
    tasks: list[UrgedTask],
    letters: dict[str, tuple[tuple[int, str], ...]],
) -> Callable[[Translator], Message]:
    """The letter as a chat message, its DOCX attached: `tasks` are the letter's rows."""
    window, calendar, counts, times = ctx.window, ctx.calendar, letter.counts, letter.times

    def build(t: Translator) -> Message:
        lines = [
            t._("URGING TO CARRY OUT TASKS — week {week}", week=_week_label(ctx.today)),
            t._("To: {addressee}", addressee=addressee(letter)),
            t.ngettext(
                "According to the system, your unit has {n} overdue task (urging no. {times}):",
                "According to the system, your unit has {n} overdue tasks (urging no. {times}):",
                len(tasks),
                times=times,
            ),
        ]
        for number, task in enumerate(tasks, start=1):
            lines.append(
                t._(
                    "{number}. #{id} {content} — {deadline} (urged {count} times)",
                    number=number,
                    id=task.id,
                    content=short(task.content, 70),
                    deadline=deadline_phrase(t, task, window, calendar),
                    count=counts.get(task.id, 1),
                )
            )
        lines.append(
            t._(
                "Please direct the prompt completion of these tasks and report the "
                "reasons for the delay before {date}.",
                date=t.date(letter.reply_by),
            )
        )
        return Message(
            "\n".join(lines), [[(t._("My tasks"), "/viec")]], letters.get(t.language, ())
        )

    return build


async def _escalate(ctx: JobContext, tasks: list[UrgedTask], counts: dict[int, int]) -> int:
    if not tasks:
        return 0
    to = distinct(
        [
            *await role_holders(ctx.session, Role.CITY_LEADER),
            *await role_holders(ctx.session, Role.TASK_FORCE),
        ]
    )
    items = []
    for task in tasks:

        def build(t: Translator, task: UrgedTask = task) -> Message:
            text = t._(
                "⚠️ Task #{id} is still overdue after {count} urgings; proposed for the leaders' "
                "briefing meeting. Lead: {unit} — leader in charge {leader}, specialist "
                "{specialist}; due {date}.\n{content}",
                id=task.id,
                count=counts.get(task.id, 0),
                unit=task.lead_unit.name,
                leader=comrade(t, task.leader_name),
                specialist=comrade(t, task.specialist_name),
                date=t.date(task.deadline),
                content=short(task.content, 200),
            )
            return Message(text, [[(t._("View the task"), f"/xem {task.id}")]])

        key = f"escalate:task {task.id}:deadline {task.deadline.isoformat()}"
        items += [Outgoing(f"{key}:to {o.id}", o, build) for o in to]
    return await ctx.notifier.send(items, priority=Priority.ALERT, not_before=ctx.for_officials)
