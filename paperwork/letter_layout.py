"""The urging letter's layout: written by python-docx once, then filled in letter by letter.

python-docx opens its template package for each new document and builds an object for every
paragraph, run and property: about 0.1 s a letter, and the weekly job writes a thousand. Laid
out once with numbered marks where the texts go (`Template`), a letter is that document.xml
with its texts escaped into the marks and its table's rows spliced in, zipped with the other
parts as they were: the same bytes in every part as python-docx writes for the same letter
(`lay_out`, which `tests/test_urging_letter.py` compares them with).
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, NamedTuple
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

FONT = "Times New Roman"
TABLE_STYLE = "Bảng"  # the table's paragraph style: its name, and the id python-docx gives it
HEADER_COLUMNS, COPIES = 7, 3
# Control characters XML forbids (a cell loses them), and what it cannot hold at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
DOCUMENT = "word/document.xml"
ROWS = "\ue002"  # the one cell of the row that marks where the table's rows go
# A text's mark as python-docx writes its run: <w:t>, U+E000, the number, U+E001, </w:t>.
_MARK = re.compile("<w:t>\ue000([0-9]+)\ue001</w:t>".encode())
# What python-docx writes otherwise (a tab, a line break) or refuses (XML's forbidden
# characters): such a letter is laid out by python-docx itself.
_NOT_PLAIN = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_ROWS_HERE = -1


def mark(number: int) -> str:
    """The text laid out where the `number`th text of a letter goes."""
    return f"\ue000{number}\ue001"


def run_text(text: str) -> bytes | None:
    """A run's text as python-docx writes it (`CT_R.add_t`: kept spaces at either end
    preserved), nothing for no text, or None where python-docx would write more than a
    `<w:t>` or refuse."""
    if not text:
        return b""
    if _NOT_PLAIN.search(text):
        return None
    space = ' xml:space="preserve"' if len(text.strip()) < len(text) else ""
    return f"<w:t{space}>{escape(text)}</w:t>".encode()


@dataclass(frozen=True)
class Template:
    """The laid-out package without its document.xml (its other parts, compressed once), and
    document.xml cut at the marks: bytes, a text's number, or where the rows go."""

    others: bytes
    pieces: tuple[bytes | int, ...]

    @classmethod
    def of(cls, package: bytes, texts: int, rows_marker: bytes) -> Template:
        """From a package laid out with `mark(0)` … `mark(texts - 1)` for its texts, each
        once, and one row `rows_marker` in its table."""
        others = BytesIO()
        with (
            zipfile.ZipFile(BytesIO(package)) as laid_out,
            zipfile.ZipFile(others, "w", compression=zipfile.ZIP_DEFLATED) as kept,
        ):
            for info in laid_out.infolist():
                if info.filename != DOCUMENT:
                    kept.writestr(info.filename, laid_out.read(info))
            document = laid_out.read(DOCUMENT)
        before, after = document.split(rows_marker)  # exactly one table of rows

        def cut(xml: bytes) -> list[bytes | int]:
            split = _MARK.split(xml)  # bytes, number, bytes, number, …, bytes
            return [int(p) if n % 2 else p for n, p in enumerate(split)]

        pieces = (*cut(before), _ROWS_HERE, *cut(after))
        numbers = sorted(p for p in pieces if isinstance(p, int) and p != _ROWS_HERE)
        if numbers != list(range(texts)):
            raise ValueError(f"the layout shows texts {numbers}, not each of {texts} once")
        return cls(others.getvalue(), pieces)

    def fill(self, texts: Sequence[str], rows: bytes) -> bytes | None:
        """The letter's package with these texts and the table's rows (WordprocessingML
        `<w:tr>`s as python-docx serializes them), or None if a text needs python-docx.

        Its document.xml is added after the other parts: compressing those (styles alone
        are 0.8 MB) took half a letter's time when each letter did it again."""
        written = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                written.append(piece)
            elif piece == _ROWS_HERE:
                written.append(rows)
            elif (run := run_text(texts[piece])) is not None:
                written.append(run)
            else:
                return None
        buffer = BytesIO(self.others)
        buffer.seek(0, 2)
        with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as package:
            package.writestr(DOCUMENT, b"".join(written))
        return buffer.getvalue()


class LetterTexts(NamedTuple):
    """Every text the letter prints: what a letter and its language change in the layout."""

    authority: str
    task_force: str
    number: str
    subject: str
    nation: str
    motto: str
    dated: str
    to: str
    summary: str
    header: tuple[str, ...]
    closing: str
    recipients: str
    copies: tuple[str, ...]
    on_behalf: str
    head: str
    signer: str

    def flat(self) -> list[str]:
        return [text for field in self for text in ((field,) if isinstance(field, str) else field)]

    @classmethod
    def marks(cls) -> LetterTexts:
        """`mark(n)` where the nth text of `flat()` goes: what the template is laid out with."""
        numbers = iter(range(len(cls._fields) - 2 + HEADER_COLUMNS + COPIES))
        sizes = {"header": HEADER_COLUMNS, "copies": COPIES}
        return cls(
            *(
                tuple(mark(next(numbers)) for _ in range(sizes[name]))
                if name in sizes
                else mark(next(numbers))
                for name in cls._fields
            )
        )


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


def _rows_xml(rows: list[list[str]]) -> str:
    """The task rows as WordprocessingML, each cell a plain run in the table's style.

    Adding them cell by cell through python-docx's object API costs about 3 ms a row; a
    letter to a unit with ninety overdue tasks took a quarter of a second. Line ends are
    written as XML reads them (a parser turns CR LF and CR into LF), so that these are the
    bytes python-docx serializes once it has parsed them.
    """

    def cell(text: str) -> str:
        clean = escape(_NOT_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n"))
        return (
            f'<w:tc><w:p><w:pPr><w:pStyle w:val="{TABLE_STYLE}"/></w:pPr>'
            f'<w:r><w:t xml:space="preserve">{clean}</w:t></w:r></w:p></w:tc>'
        )

    return "".join("<w:tr>" + "".join(cell(v) for v in values) + "</w:tr>" for values in rows)


def lay_out(target: Path | BinaryIO, texts: LetterTexts, rows: list[list[str]]) -> None:
    """The letter written by python-docx: the layout, and the reference its template copies."""
    document = new_document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)  # type: ignore[attr-defined]
    in_table = document.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    in_table.base_style = style
    in_table.font.size = Pt(10)  # type: ignore[attr-defined]
    in_table.paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]
    center = WD_ALIGN_PARAGRAPH.CENTER

    # The heading: who issues it, and the motto, side by side.
    heading = document.add_table(rows=1, cols=2)
    _fixed_widths(heading, [Cm(6.6), Cm(9.4)])
    left, right = heading.rows[0].cells
    left.text = right.text = ""
    _paragraph(left, texts.authority, size=11, align=center)
    _paragraph(left, texts.task_force, bold=True, size=12, align=center)
    _paragraph(left, texts.number, size=12, align=center)
    _paragraph(left, texts.subject, italic=True, size=11, align=center, space_after=6)
    _paragraph(right, texts.nation, bold=True, size=12, align=center)
    _paragraph(right, texts.motto, bold=True, underline=True, size=13, align=center)
    _paragraph(right, texts.dated, italic=True, align=center)

    _paragraph(document, "", space_after=6)
    _paragraph(document, texts.to, align=center, space_after=12)
    _paragraph(document, texts.summary, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=6)

    table = document.add_table(rows=1, cols=len(texts.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Cm(w) for w in (1.1, 4.6, 2.8, 2.2, 1.4, 2.5, 1.4)]  # 16 cm: the page less margins
    _fixed_widths(table, widths)
    # The header row repeats on every page of a long list.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title, width in zip(table.rows[0].cells, texts.header, widths, strict=True):
        _cell_text(cell, title, in_table, bold=True)
        cell.width = width
    # The task rows, parsed from one piece of WordprocessingML by python-docx's own parser.
    for tr in parse_xml(f"<w:tbl {nsdecls('w')}>{_rows_xml(rows)}</w:tbl>").iterchildren():
        table._tbl.append(tr)

    _paragraph(document, "", space_after=6)
    _paragraph(document, texts.closing, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=12)

    # Recipients on the left, the signature on the right.
    footer = document.add_table(rows=1, cols=2)
    _fixed_widths(footer, [Cm(7.5), Cm(8.5)])
    left, right = footer.rows[0].cells
    left.text = right.text = ""
    _paragraph(left, texts.recipients, bold=True, italic=True, size=12)
    for line in texts.copies:
        _paragraph(left, line, size=11)
    _paragraph(right, texts.on_behalf, bold=True, size=13, align=center)
    _paragraph(right, texts.head, bold=True, size=13, align=center, space_after=60)
    _paragraph(right, texts.signer, bold=True, align=center)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    document.save(target)  # type: ignore[arg-type]


@functools.cache
def _template() -> Template:
    """The layout with marks for its texts, laid out once per process."""
    laid_out = BytesIO()
    lay_out(laid_out, LetterTexts.marks(), [[ROWS]])
    texts = len(LetterTexts.marks().flat())
    return Template.of(laid_out.getvalue(), texts, _rows_xml([[ROWS]]).encode())


def package(texts: LetterTexts, rows: list[list[str]]) -> bytes:
    """The letter as a DOCX: the template filled in, or laid out by python-docx where a text
    holds what only python-docx writes (a tab, a line break) or refuses."""
    filled = _template().fill(texts.flat(), _rows_xml(rows).encode())
    if filled is not None:
        return filled
    laid_out = BytesIO()
    lay_out(laid_out, texts, rows)
    return laid_out.getvalue()
