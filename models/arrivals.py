"""What the core reads of every message before it answers: one statement, not three.

Whether the update was answered already (its first reply's outbox key), the official linked
to the chat user with their roles, and the question the bot waits for in that chat (if any):
each used to be its own round trip to the database, on every command.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models.accounts import ChatAccount, ChatChannel
from models.conversations import Conversation
from models.organization import Official
from models.outbox import OutboxMessage


@dataclass(frozen=True)
class Arrival:
    answered: bool  # a reply under the key exists: the update was handled before
    official: Official | None  # who is asking, with their roles; None: not linked
    conversation: Conversation | None  # the question waiting in this chat, stale or not


async def arrival(
    session: AsyncSession, channel: ChatChannel, chat_id: str, user_id: str, reply_key: str
) -> Arrival:
    """The three facts at once: one row, whichever of them exist (outer joins from a
    one-row table)."""
    one = select(literal(1).label("one")).subquery("one")
    answered = select(OutboxMessage.id).where(OutboxMessage.key == reply_key).scalar_subquery()
    query = (
        select(answered.label("answered"), ChatAccount, Conversation)
        .select_from(one)
        .outerjoin(
            ChatAccount,
            and_(ChatAccount.channel == channel, ChatAccount.external_user_id == user_id),
        )
        .outerjoin(
            Conversation,
            and_(
                Conversation.channel == channel,
                Conversation.chat_id == chat_id,
                Conversation.user_id == user_id,
            ),
        )
        .options(joinedload(ChatAccount.official).joinedload(Official.role_links))
    )
    answered_id, account, conversation = (await session.execute(query)).unique().one()
    return Arrival(
        answered=answered_id is not None,
        official=account.official if account is not None else None,
        conversation=conversation,
    )
