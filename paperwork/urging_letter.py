"""The written urging (công văn đôn đốc) to one unit, as a DOCX the office can edit and sign.

Laid out the usual administrative way: the issuing body and a number to fill in on the left,
the national motto and the date on the right, the subject, the addressee, a table of the
unit's overdue tasks with their source documents and deadlines, the date by which reasons
are due, the recipients and the signature block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from docx import Document as new_document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Length, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
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

REPLY_WORKING_DAYS = 5
FONT = "Times New Roman"
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML forbids


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


def _paragraph(
    cell_or_doc: _Cell | object,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float = 13,
    align: WD_ALIGN_PARAGRAPH | None = None,
    space_after: float = 0,
) -> None:
    first = cell_or_doc.paragraphs[0] if isinstance(cell_or_doc, _Cell) else None
    # A new cell holds one empty paragraph: write into it rather than below it.
    if first is not None and not first.text and len(cell_or_doc.paragraphs) == 1:  # type: ignore[attr-defined]
        paragraph = first
    else:
        paragraph = cell_or_doc.add_paragraph()  # type: ignore[attr-defined]
    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.size, run.font.name = Pt(size), FONT
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)


def _fixed_widths(table: Table, widths: list[Length]) -> None:
    """Column widths that both Word (cell widths) and LibreOffice (the grid) respect."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, width in zip(table.rows[0].cells, widths, strict=True):
        cell.width = width


def _cell_text(cell: _Cell, text: str, style: ParagraphStyle, *, bold: bool = False) -> None:
    """A cell's text in the table's paragraph style.

    The style id is written straight into the paragraph: `paragraph.style = …` looks the
    style up among all of them each time, which made a 90-task letter take a second.
    """
    paragraph = cell.paragraphs[0]
    paragraph._p.style = style.style_id
    paragraph.add_run(text).bold = bold


def _append_rows(table: Table, rows: list[list[str]], style_id: str) -> None:
    """The task rows, parsed from one piece of WordprocessingML by python-docx's own parser.

    Adding them cell by cell through the object API costs about 3 ms a row; a letter to a
    unit with ninety overdue tasks took a quarter of a second, and the weekly job writes one
    per unit. Plain runs in the table's paragraph style need nothing more.
    """

    def cell(text: str) -> str:
        clean = escape(_NOT_XML.sub("", text))
        return (
            f'<w:tc><w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>'
            f'<w:r><w:t xml:space="preserve">{clean}</w:t></w:r></w:p></w:tc>'
        )

    body = "".join("<w:tr>" + "".join(cell(v) for v in values) + "</w:tr>" for values in rows)
    for tr in parse_xml(f"<w:tbl {nsdecls('w')}>{body}</w:tbl>").iterchildren():
        table._tbl.append(tr)


def write_docx(target: Path | BinaryIO, letter: UrgingLetter, t: Translator) -> None:
    document = new_document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)  # type: ignore[attr-defined]
    in_table = document.styles.add_style("Bảng", WD_STYLE_TYPE.PARAGRAPH)
    in_table.base_style = style
    in_table.font.size = Pt(10)  # type: ignore[attr-defined]
    in_table.paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]
    center = WD_ALIGN_PARAGRAPH.CENTER

    # The heading: who issues it, and the motto, side by side.
    heading = document.add_table(rows=1, cols=2)
    _fixed_widths(heading, [Cm(6.6), Cm(9.4)])
    left, right = heading.rows[0].cells
    left.text = right.text = ""
    _paragraph(left, (letter.authority or t._("People's Committee")).upper(), size=11, align=center)
    _paragraph(left, t._("TASK FORCE"), bold=True, size=12, align=center)
    _paragraph(left, t._("No.: …/CV-TCT"), size=12, align=center)
    _paragraph(
        left, t._("Re: urging overdue tasks"), italic=True, size=11, align=center, space_after=6
    )
    _paragraph(right, t._("SOCIALIST REPUBLIC OF VIETNAM"), bold=True, size=12, align=center)
    _paragraph(
        right,
        t._("Independence - Freedom - Happiness"),
        bold=True,
        underline=True,
        size=13,
        align=center,
    )
    _paragraph(
        right,
        t._(
            "……, day {day} month {month} year {year}",
            day=f"{letter.day.day:02d}",
            month=f"{letter.day.month:02d}",
            year=letter.day.year,
        ),
        italic=True,
        align=center,
    )

    _paragraph(document, "", space_after=6)
    _paragraph(
        document,
        t._("To: {addressee}.", addressee=addressee(letter)),
        align=center,
        space_after=12,
    )
    _paragraph(
        document,
        t.ngettext(
            "According to the task tracking system, as of {date} {unit} has {n} overdue task "
            "(urging no. {times}):",
            "According to the task tracking system, as of {date} {unit} has {n} overdue tasks "
            "(urging no. {times}):",
            len(letter.tasks),
            date=t.date(letter.day),
            unit=letter.unit.name,
            times=letter.times,
        ),
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        space_after=6,
    )

    header = [
        t._("No."),
        t._("Content"),
        t._("Assigned by"),
        t._("Deadline"),
        t._("Days overdue"),
        t._("Leader in charge / specialist"),
        t._("Times urged"),
    ]
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Cm(w) for w in (1.1, 4.6, 2.8, 2.2, 1.4, 2.5, 1.4)]  # 16 cm: the page less margins
    _fixed_widths(table, widths)
    # The header row repeats on every page of a long list.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title, width in zip(table.rows[0].cells, header, widths, strict=True):
        _cell_text(cell, title, in_table, bold=True)
        cell.width = width
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
    _append_rows(table, rows, in_table.style_id)

    _paragraph(document, "", space_after=6)
    _paragraph(
        document,
        t._(
            "The task force asks you to direct the prompt completion of these tasks, to update "
            "their results in the system, and to report the reasons for the delay in writing "
            "before {date}.",
            date=t.date(letter.reply_by),
        ),
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        space_after=12,
    )

    # Recipients on the left, the signature on the right.
    footer = document.add_table(rows=1, cols=2)
    _fixed_widths(footer, [Cm(7.5), Cm(8.5)])
    left, right = footer.rows[0].cells
    left.text = right.text = ""
    _paragraph(left, t._("Recipients:"), bold=True, italic=True, size=12)
    for line in (
        t._("- As above;"),
        t._("- City leaders (to report);"),
        t._("- Filed: clerical office, task force."),
    ):
        _paragraph(left, line, size=11)
    _paragraph(right, t._("ON BEHALF OF THE TASK FORCE"), bold=True, size=13, align=center)
    _paragraph(right, t._("HEAD"), bold=True, size=13, align=center, space_after=60)
    _paragraph(right, letter.signer.full_name if letter.signer else "", bold=True, align=center)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    document.save(target)  # type: ignore[arg-type]


def docx_bytes(letter: UrgingLetter, t: Translator) -> bytes:
    buffer = BytesIO()
    write_docx(buffer, letter, t)
    return buffer.getvalue()


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
