"""What the core reads of every message before it answers: one statement, not three.

Whether the update was answered already (its first reply's outbox key), the official linked
to the chat user with their roles, and the question the bot waits for in that chat (if any):
each used to be its own round trip to the database, on every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, and_, bindparam, literal, select
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


@cache
def _query() -> Select[tuple[int | None, Official | None, Conversation | None]]:
    """Built once, its values bound at each call: a statement built per call cost more
    Python than its execution (the joins, the eager loads, and SQLAlchemy's cache key,
    which it computes once per statement object and keeps). The official is read through
    the chat account, not with it: each object loaded costs Python per call."""
    one = select(literal(1).label("one")).subquery("one")
    channel, user_id = bindparam("channel", type_=ChatAccount.channel.type), bindparam("user_id")
    answered = (
        select(OutboxMessage.id)
        .where(OutboxMessage.key == bindparam("reply_key"))
        .scalar_subquery()
    )
    return (
        select(answered.label("answered"), Official, Conversation)
        .select_from(one)
        .outerjoin(
            ChatAccount,
            and_(ChatAccount.channel == channel, ChatAccount.external_user_id == user_id),
        )
        .outerjoin(Official, Official.id == ChatAccount.official_id)
        .outerjoin(
            Conversation,
            and_(
                Conversation.channel == channel,
                Conversation.chat_id == bindparam("chat_id"),
                Conversation.user_id == user_id,
            ),
        )
        .options(joinedload(Official.role_links))
    )


async def arrival(
    session: AsyncSession, channel: ChatChannel, chat_id: str, user_id: str, reply_key: str
) -> Arrival:
    """The three facts at once: one row, whichever of them exist (outer joins from a
    one-row table)."""
    values = {"channel": channel, "user_id": user_id, "chat_id": chat_id, "reply_key": reply_key}
    answered_id, official, conversation = (await session.execute(_query(), values)).unique().one()
    return Arrival(answered=answered_id is not None, official=official, conversation=conversation)
