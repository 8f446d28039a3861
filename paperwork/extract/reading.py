"""A notice's text, block by block, from its DOCX, TXT or PDF; files we cannot read are refused."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from locales import Translator

MAX_BYTES = 20 * 1024 * 1024
SUFFIXES = (".docx", ".txt", ".pdf")


class ExtractError(Exception):
    """A file we cannot read; `reason` names which (the caller words it for its reader)."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def describe(error: ExtractError, t: Translator, name: str) -> str:
    """One line that says what is wrong with the file and what to give instead."""
    reason, details = error.reason, error.details
    if reason == "missing":
        return t._("{name}: there is no such file", name=name)
    if reason == "too_big":
        return t._(
            "{name}: the file is larger than {megabytes} MB; give the notice itself"
            " (DOCX, PDF or TXT)",
            name=name,
            megabytes=details["megabytes"],
        )
    if reason == "suffix":
        return t._(
            "{name}: '{suffix}' files are not read; give a .docx, .pdf or .txt file",
            name=name,
            suffix=details["suffix"],
        )
    if reason == "empty":
        return t._("{name}: the file is empty", name=name)
    if reason == "scanned":
        return t._(
            "{name}: the PDF has no text layer (a scan); give the DOCX, or a PDF saved from"
            " the word processor",
            name=name,
        )
    if reason == "bad_docx":
        return t._("{name}: this is not a DOCX file (it cannot be opened as one)", name=name)
    if reason == "bad_pdf":
        return t._("{name}: this is not a PDF file (it cannot be opened as one)", name=name)
    if reason == "not_received":
        return t._("{name}: the file did not arrive whole; please send it again", name=name)
    if reason == "not_utf8":
        return t._("{name}: the text file is not UTF-8; save it as UTF-8", name=name)
    return t._("{name}: the file holds no text", name=name)


@dataclass(frozen=True)
class Block:
    text: str
    list_item: str = ""  # "number" or "bullet" for a Word list paragraph (its marker is not text)
    cells: tuple[str, ...] = field(default=())  # a table row


def read_blocks(path: Path) -> list[Block]:
    if not path.is_file():
        raise ExtractError("missing")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ExtractError("too_big", megabytes=MAX_BYTES // (1024 * 1024))
    return read_bytes(path.read_bytes(), path.suffix.lower())


def read_bytes(data: bytes, suffix: str) -> list[Block]:
    """The blocks of a file given as bytes (a chat sends the file, not a path)."""
    if len(data) > MAX_BYTES:
        raise ExtractError("too_big", megabytes=MAX_BYTES // (1024 * 1024))
    if suffix not in SUFFIXES:
        raise ExtractError("suffix", suffix=suffix or "?")
    if not data.strip():
        raise ExtractError("empty")
    if suffix == ".docx":
        blocks = _docx(data)
    elif suffix == ".pdf":
        blocks = _pdf(data)
    else:
        blocks = _txt(data)
    if not any(b.text.strip() or any(b.cells) for b in blocks):
        raise ExtractError("no_text")
    return blocks


def _txt(data: bytes) -> list[Block]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExtractError("not_utf8") from None
    if "\x00" in text:
        raise ExtractError("not_utf8")
    return [Block(line.strip()) for line in text.splitlines() if line.strip()]


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _text(element) -> str:
    """The words of a paragraph or a cell: its text runs, tabs as spaces, line breaks kept."""
    parts = []
    for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        else:
            parts.append(" " if node.tag == f"{_W}tab" else "\n")
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _docx(data: bytes) -> list[Block]:
    from docx import Document

    try:
        body = Document(io.BytesIO(data)).element.body
    except Exception as error:  # python-docx raises many kinds for a file that is not DOCX
        raise ExtractError("bad_docx") from error
    # The XML is walked directly: python-docx's objects resolve styles per paragraph, ten
    # times slower, and Word's list numbering is not in the text either way.
    blocks: list[Block] = []
    for child in body.iterchildren():
        if child.tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                cells = tuple(
                    "\n".join(t for p in cell.iter(f"{_W}p") if (t := _text(p)))
                    for cell in row.iterchildren(f"{_W}tc")
                )
                blocks.append(Block(" | ".join(cells), cells=cells))
        elif child.tag == f"{_W}p":
            text = _text(child)
            if not text:
                continue
            style = child.find(f"{_W}pPr/{_W}pStyle")
            style_id = (style.get(f"{_W}val") or "").casefold() if style is not None else ""
            numbered = child.find(f"{_W}pPr/{_W}numPr") is not None
            kind = ""
            if style_id.startswith("listbullet"):
                kind = "bullet"
            elif style_id.startswith("list") or numbered:
                kind = "number"
            blocks.append(Block(text, list_item=kind))
    return blocks


_ITEM_START = re.compile(r"^(?:[IVX]+\.|\d+(?:\.\d+)*\.?\s|[a-zđ]\)|[-+•])")


def _pdf(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as error:
        raise ExtractError("bad_pdf") from error
    lines = [line.strip() for page in pages for line in page.splitlines() if line.strip()]
    if not lines:
        raise ExtractError("scanned")
    # A PDF breaks paragraphs into lines: a long line without a closing mark runs on.
    joined: list[str] = []
    for line in lines:
        if (
            joined
            and len(joined[-1]) >= 70
            and (not joined[-1].endswith((".", ":", ";")) or line[0].islower())
            and not _ITEM_START.match(line)
        ):
            joined[-1] += " " + line
        else:
            joined.append(line)
    return [Block(line) for line in joined]
