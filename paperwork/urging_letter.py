"""The written urging (công văn đôn đốc) to one unit, as a DOCX the office can edit and sign.

Laid out the usual administrative way: the issuing body and a number to fill in on the left,
the national motto and the date on the right, the subject, the addressee, a table of the
unit's overdue tasks with their source documents and deadlines, the date by which reasons
are due, the recipients and the signature block.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from locales import Translator, translator
from models.calendar import WorkingCalendar
from models.documents import DocumentKind
from models.organization import Official, Role, Unit
from models.recipients import head_of, letter_sender, with_role
from models.reports import OverdueRow, overdue_rows
from models.status import StatusWindow
from models.urgings import urging_counts
from paperwork.exporting import document_name
from paperwork.letter_layout import LetterTexts, package

REPLY_WORKING_DAYS = 5


@dataclass(frozen=True)
class UrgingLetter:
    unit: Unit
    head: Official | None  # the addressee: the unit's head
    authority: str  # the body the task force belongs to: the city's People's Committee
    signer: Official | None  # the head of the task force
    day: date
    reply_by: date
    tasks: list[OverdueRow]
    counts: dict[int, int]  # task id -> times urged under its deadline in force

    @property
    def times(self) -> int:
        return max((self.counts.get(row.task_id, 1) for row in self.tasks), default=1)


async def urging_letter(
    session: AsyncSession,
    unit: Unit,
    window: StatusWindow,
    calendar: WorkingCalendar,
    *,
    deadline_before: date | None = None,
) -> UrgingLetter:
    """The letter for the tasks of `unit` overdue at the window's moment (or before a day)."""
    tasks = await overdue_rows(session, window, unit.id, deadline_before=deadline_before)
    authority, signer = await letter_sender(session)
    return UrgingLetter(
        unit=unit,
        head=head_of(await with_role(session, Role.LEADER, [unit.id])),
        authority=authority,
        signer=signer,
        day=window.today,
        reply_by=reply_by(window.today, calendar),
        tasks=tasks,
        counts=await urging_counts(session, [(row.task_id, row.deadline) for row in tasks]),
    )


def reply_by(day: date, calendar: WorkingCalendar) -> date:
    """The day the reasons for the delay are due: five working days after the letter."""
    return calendar.add_working_days(day, REPLY_WORKING_DAYS)


def addressee(letter: UrgingLetter) -> str:
    """`Giám đốc Sở Xây dựng`: the head's title and the unit, or the unit alone."""
    head = letter.head
    if head and head.position and letter.unit.name.lower() not in head.position.lower():
        return f"{head.position} {letter.unit.name}"
    return head.position if head and head.position else letter.unit.name


def letter_texts(letter: UrgingLetter, t: Translator) -> tuple[LetterTexts, list[list[str]]]:
    """The letter's texts in a language, and its table's rows."""
    texts = LetterTexts(
        authority=(letter.authority or t._("People's Committee")).upper(),
        task_force=t._("TASK FORCE"),
        number=t._("No.: …/CV-TCT"),
        subject=t._("Re: urging overdue tasks"),
        nation=t._("SOCIALIST REPUBLIC OF VIETNAM"),
        motto=t._("Independence - Freedom - Happiness"),
        dated=t._(
            "……, day {day} month {month} year {year}",
            day=f"{letter.day.day:02d}",
            month=f"{letter.day.month:02d}",
            year=letter.day.year,
        ),
        to=t._("To: {addressee}.", addressee=addressee(letter)),
        summary=t.ngettext(
            "According to the task tracking system, as of {date} {unit} has {n} overdue task "
            "(urging no. {times}):",
            "According to the task tracking system, as of {date} {unit} has {n} overdue tasks "
            "(urging no. {times}):",
            len(letter.tasks),
            date=t.date(letter.day),
            unit=letter.unit.name,
            times=letter.times,
        ),
        header=(
            t._("No."),
            t._("Content"),
            t._("Assigned by"),
            t._("Deadline"),
            t._("Days overdue"),
            t._("Leader in charge / specialist"),
            t._("Times urged"),
        ),
        closing=t._(
            "The task force asks you to direct the prompt completion of these tasks, to update "
            "their results in the system, and to report the reasons for the delay in writing "
            "before {date}.",
            date=t.date(letter.reply_by),
        ),
        recipients=t._("Recipients:"),
        copies=(
            t._("- As above;"),
            t._("- City leaders (to report);"),
            t._("- Filed: clerical office, task force."),
        ),
        on_behalf=t._("ON BEHALF OF THE TASK FORCE"),
        head=t._("HEAD"),
        signer=letter.signer.full_name if letter.signer else "",
    )
    rows = []
    for number, row in enumerate(letter.tasks, start=1):
        people = " / ".join(name for name in (row.leader_name, row.specialist_name) if name)
        rows.append(
            [
                str(number),
                f"#{row.task_id} {row.content}",
                document_name(t, row.document) if row.document else "",
                t.date(row.deadline),
                t.number(row.days_overdue),
                people,
                t.number(letter.counts.get(row.task_id, 1)),
            ]
        )
    return texts, rows


def docx_bytes(letter: UrgingLetter, t: Translator) -> bytes:
    return package(*letter_texts(letter, t))


def write_docx(target: Path | BinaryIO, letter: UrgingLetter, t: Translator) -> None:
    content = docx_bytes(letter, t)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    else:
        target.write(content)


@dataclass(frozen=True)
class _UnitFacts:
    code: str
    name: str


@dataclass(frozen=True)
class _PersonFacts:
    full_name: str
    position: str


@dataclass(frozen=True)
class _DocumentFacts:
    kind: DocumentKind
    number: str
    issued_on: date


def portable(letter: UrgingLetter) -> UrgingLetter:
    """The letter with plain values where it held database rows (the unit, the people, the
    documents): what is sent to the process that writes it, cheap to pickle."""

    def person(official: Official | None) -> Official | None:
        if official is None:
            return None
        return _PersonFacts(official.full_name, official.position)  # type: ignore[return-value]

    rows = [
        row._replace(
            document=_DocumentFacts(row.document.kind, row.document.number, row.document.issued_on)
            if row.document
            else None,
        )
        for row in letter.tasks
    ]
    return replace(
        letter,
        unit=_UnitFacts(letter.unit.code, letter.unit.name),  # type: ignore[arg-type]
        head=person(letter.head),
        signer=person(letter.signer),
        tasks=rows,
    )


def letter_docx(letter: UrgingLetter, language: str) -> bytes:
    """The DOCX in a language: what a worker process runs (`portable` letters only)."""
    return docx_bytes(letter, translator(language))


def letter_filename(letter: UrgingLetter) -> str:
    return f"don-doc-{letter.unit.code}-{letter.day.isoformat()}.docx"
