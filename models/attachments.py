"""Files sent with messages — a report's chart and workbook, an urging letter.

Stored once under a key that names them (`report:monthly 2026-11-30:all:vi:xlsx`); every
outbox row that carries the file points here, so a fan-out does not copy the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, enum_column
from models.db import insert_ignoring_duplicates


class FileKind(StrEnum):
    PHOTO = "photo"  # shown inline: the chart
    DOCUMENT = "document"  # a file to open: XLSX, DOCX


MEDIA_TYPES = {
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".csv": "text/csv",
    ".html": "text/html",
}


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[FileKind] = mapped_column(enum_column(FileKind, "file_kind"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def media_type(self) -> str:
        return media_type(self.filename)


def media_type(filename: str) -> str:
    suffix = filename[filename.rfind(".") :].lower()
    return MEDIA_TYPES.get(suffix, "application/octet-stream")


@dataclass(frozen=True)
class File:
    """A file about to be sent: what a handler or a job produces."""

    kind: FileKind
    filename: str
    content: bytes
    caption: str = ""
    id: int | None = None  # once stored: what a link to the file names

    @property
    def media_type(self) -> str:
        return media_type(self.filename)


async def store(session: AsyncSession, key: str, file: File, now: datetime) -> int:
    """Keep the file under `key` (the first one stored wins) and return its id."""
    row = {
        "key": key,
        "kind": file.kind,
        "filename": file.filename,
        "content": file.content,
        "created_at": now,
    }
    await insert_ignoring_duplicates(session, Attachment, [row], ["key"])
    found = await session.scalar(select(Attachment.id).where(Attachment.key == key))
    assert found is not None
    return found


async def attachments(session: AsyncSession, ids: set[int | None]) -> dict[int, File]:
    """The files behind these attachment ids, loaded for sending."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))
    return {a.id: File(a.kind, a.filename, a.content, id=a.id) for a in rows}


async def attachment(session: AsyncSession, attachment_id: int) -> Attachment | None:
    """One stored file with its bytes, as a link to it serves it."""
    return await session.scalar(select(Attachment).where(Attachment.id == attachment_id))
