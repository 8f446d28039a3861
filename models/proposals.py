"""Tasks read from a notice sent in chat, waiting for the task force's /giao: nothing is created
before it. One proposal per person and chat; a new notice replaces it."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.documents import Document
from models.tasks import Task


class TaskProposal(Base):
    __tablename__ = "task_proposals"
    __table_args__ = (
        UniqueConstraint("official_id", "channel", "chat_id", name="uq_task_proposals_chat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("officials.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The notice as read: {"document": {...}, "tasks": [{..., "vague": bool, "dropped": bool}]}
    data: Mapped[str] = mapped_column(Text)

    @property
    def content(self) -> dict[str, Any]:
        return json.loads(self.data)


async def proposal_for(
    session: AsyncSession, official_id: int, channel: str, chat_id: str
) -> TaskProposal | None:
    return await session.scalar(
        select(TaskProposal).where(
            TaskProposal.official_id == official_id,
            TaskProposal.channel == channel,
            TaskProposal.chat_id == chat_id,
        )
    )


async def keep_proposal(
    session: AsyncSession,
    official_id: int,
    channel: str,
    chat_id: str,
    content: dict[str, Any],
    now: datetime,
) -> None:
    """Store the proposal, in place of the one this person had in this chat."""
    proposal = await proposal_for(session, official_id, channel, chat_id)
    if proposal is None:
        proposal = TaskProposal(official_id=official_id, channel=channel, chat_id=chat_id)
        session.add(proposal)
    proposal.created_at = now
    proposal.data = json.dumps(content, ensure_ascii=False)
    await session.flush()


async def drop_proposal(session: AsyncSession, official_id: int, channel: str, chat_id: str):
    await session.execute(
        delete(TaskProposal).where(
            TaskProposal.official_id == official_id,
            TaskProposal.channel == channel,
            TaskProposal.chat_id == chat_id,
        )
    )


async def task_ids_of_document(session: AsyncSession, number: str, issued_on: date) -> list[int]:
    """The tasks registered under a document, in the order they were created."""
    rows = await session.scalars(
        select(Task.id)
        .join(Document, Task.document_id == Document.id)
        .where(Document.number == number, Document.issued_on == issued_on)
        .order_by(Task.id)
    )
    return list(rows.all())
