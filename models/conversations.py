"""Multi-step input: what the bot is waiting for from one person in one chat.

Kept in the database, not in memory, so that any bot process behind a webhook can take
the next message, and a restart does not forget the question.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.accounts import ChatChannel
from models.base import Base, UTCDateTime, enum_column

CONVERSATION_TIMEOUT = timedelta(minutes=30)


class Conversation(Base):
    __tablename__ = "conversations"

    channel: Mapped[ChatChannel] = mapped_column(
        enum_column(ChatChannel, "chat_channel"), primary_key=True
    )
    chat_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def values(self) -> dict[str, Any]:
        return dict(json.loads(self.data))


async def current(
    session: AsyncSession, channel: ChatChannel, chat_id: str, user_id: str, now: datetime
) -> Conversation | None:
    return await still_open(
        session, await session.get(Conversation, (channel, chat_id, user_id)), now
    )


async def still_open(
    session: AsyncSession, conversation: Conversation | None, now: datetime
) -> Conversation | None:
    """`current` of a conversation already read: a question left unanswered for too long
    is forgotten."""
    if conversation is not None and conversation.updated_at < now - CONVERSATION_TIMEOUT:
        await session.delete(conversation)
        return None
    return conversation


async def ask(
    session: AsyncSession,
    channel: ChatChannel,
    chat_id: str,
    user_id: str,
    *,
    flow: str,
    step: str,
    values: dict[str, Any],
    now: datetime,
) -> None:
    conversation = await session.get(Conversation, (channel, chat_id, user_id))
    if conversation is None:
        conversation = Conversation(channel=channel, chat_id=chat_id, user_id=user_id)
        session.add(conversation)
    conversation.flow, conversation.step = flow, step
    conversation.data = json.dumps(values, ensure_ascii=False)
    conversation.updated_at = now


async def finish(session: AsyncSession, channel: ChatChannel, chat_id: str, user_id: str) -> bool:
    """Forget the question; True if there was one.

    Looked up by primary key first, so the common case (no question pending) only reads.
    """
    return await close(session, await session.get(Conversation, (channel, chat_id, user_id)))


async def close(session: AsyncSession, conversation: Conversation | None) -> bool:
    """`finish` of a conversation already read (None: there was none)."""
    if conversation is None or inspect(conversation).was_deleted:  # finished meanwhile
        return False
    await session.delete(conversation)
    await session.flush()
    return True
