"""Chat accounts linked to officials, and the one-time codes that link them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_column
from models.organization import Official

LINK_CODE_VALIDITY = timedelta(days=7)
# No 0/O, 1/I/L: codes are read aloud over the phone and typed by hand.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# 16 characters of 31: ~79 bits, beyond any search even of a stolen database; read and
# typed in groups of four (dashes and spaces are ignored).
_CODE_LENGTH = 16


class ChatChannel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    MATRIX = "matrix"


EVERY_CHANNEL = "all"


def chosen_channels(notify_channel: str) -> frozenset[ChatChannel] | None:
    """The channels an official asked reminders and alerts on (`/kenh`), None for all."""
    names = {n for n in notify_channel.split(",") if n}
    if not names or EVERY_CHANNEL in names:
        return None
    return frozenset(ChatChannel(n) for n in names if n in ChatChannel.__members__.values())


def notify_channel_of(channels: frozenset[ChatChannel] | None) -> str:
    """How `chosen_channels` is stored: `all`, or the names in a fixed order."""
    if channels is None or set(channels) == set(ChatChannel):
        return EVERY_CHANNEL
    return ",".join(c.value for c in ChatChannel if c in channels)


class ChatAccount(Base):
    __tablename__ = "chat_accounts"
    __table_args__ = (
        UniqueConstraint("channel", "external_user_id", name="uq_chat_accounts_channel_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[ChatChannel] = mapped_column(enum_column(ChatChannel, "chat_channel"))
    # Up to 255: a Matrix user id or room id is that long at most (Telegram's and Zalo's are short).
    external_user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str] = mapped_column(String(255))
    official_id: Mapped[int] = mapped_column(ForeignKey("officials.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    official: Mapped[Official] = relationship(lazy="raise")


class LinkCode(Base):
    """A one-time code; only its hash is stored, so a database dump links nobody."""

    __tablename__ = "link_codes"
    __table_args__ = (Index("ix_link_codes_official", "official_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("officials.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def normalize_code(code: str) -> str:
    """Codes are matched case-insensitively, ignoring spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _new_code() -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _hash(code: str) -> str:
    # Unsalted SHA-256 is enough for a random code of ~79 bits: no table or search of that
    # space is feasible offline, and every code is unique, so a salt would add nothing.
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


async def issue_link_code(session: AsyncSession, official: Official, now: datetime) -> str:
    """A fresh code for the official; any code issued before and not used stops working."""
    return (await issue_link_codes(session, [official], now))[official.id]


async def issue_link_codes(
    session: AsyncSession, officials: list[Official], now: datetime
) -> dict[int, str]:
    """Fresh codes for officials (one, a unit's sheet, a whole city's), in a few statements
    rather than two per person; their earlier codes not yet used stop working."""
    ids = [o.id for o in officials]
    for start in range(0, len(ids), 500):
        await session.execute(
            update(LinkCode)
            .where(
                LinkCode.official_id.in_(ids[start : start + 500]),
                LinkCode.used_at.is_(None),
                LinkCode.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    codes = {o.id: _new_code() for o in officials}
    session.add_all(
        LinkCode(
            official_id=official_id,
            code_hash=_hash(code),
            created_at=now,
            expires_at=now + LINK_CODE_VALIDITY,
        )
        for official_id, code in codes.items()
    )
    await session.flush()
    return codes


@dataclass(frozen=True)
class Linked:
    official: Official
    account: ChatAccount


def _usable(now: datetime) -> tuple:
    return (
        LinkCode.used_at.is_(None),
        LinkCode.revoked_at.is_(None),
        LinkCode.expires_at > now,
        LinkCode.official_id.in_(select(Official.id).where(Official.active.is_(True))),
    )


async def redeem_link_code(
    session: AsyncSession,
    code: str,
    *,
    channel: ChatChannel,
    external_user_id: str,
    chat_id: str,
    now: datetime,
) -> Linked | None:
    """Link the chat account to the code's official; None for a wrong, used, revoked or
    expired code, or one of a deactivated official.

    The code is taken by one conditional UPDATE (`… WHERE used_at IS NULL`): of two chats
    redeeming it at once, in one process or two, on SQLite or PostgreSQL, one wins."""
    if not normalize_code(code):
        return None
    taken = await session.execute(
        update(LinkCode)
        .where(LinkCode.code_hash == _hash(code), *_usable(now))
        .values(used_at=now)
        .returning(LinkCode.official_id)
        .execution_options(synchronize_session=False)
    )
    official_id = taken.scalar_one_or_none()
    if official_id is None:
        return None
    official = await session.get_one(Official, official_id)
    account = await session.scalar(
        select(ChatAccount).where(
            ChatAccount.channel == channel, ChatAccount.external_user_id == external_user_id
        )
    )
    return await _link(session, official, account, channel, external_user_id, chat_id, now)


async def _link(
    session: AsyncSession,
    official: Official,
    account: ChatAccount | None,
    channel: ChatChannel,
    external_user_id: str,
    chat_id: str,
    now: datetime,
) -> Linked:
    if account is None:
        account = ChatAccount(channel=channel, external_user_id=external_user_id)
        session.add(account)
    account.chat_id = chat_id
    account.official_id = official.id
    account.linked_at = now
    account.unreachable_since = None
    await session.flush()
    return Linked(official=official, account=account)


async def revoke_link_code(session: AsyncSession, code: str, now: datetime) -> bool:
    """Stop a code from working (it was shown in a group); True if it was still usable."""
    if not normalize_code(code):
        return False
    revoked = await session.execute(
        update(LinkCode)
        .where(
            LinkCode.code_hash == _hash(code),
            LinkCode.used_at.is_(None),
            LinkCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(revoked.rowcount)


async def unlink(
    session: AsyncSession,
    official_ids: list[int],
    *,
    channel: ChatChannel | None = None,
    chat_id: str | None = None,
    external_user_id: str | None = None,
) -> int:
    """Remove chat accounts of these officials (all, or the one named by channel and chat
    or user) and, when all go, their unused codes; returns the accounts removed."""
    query = delete(ChatAccount).where(ChatAccount.official_id.in_(official_ids))
    if channel is not None:
        query = query.where(ChatAccount.channel == channel)
    if chat_id is not None:
        query = query.where(ChatAccount.chat_id == chat_id)
    if external_user_id is not None:
        query = query.where(ChatAccount.external_user_id == external_user_id)
    removed = await session.execute(query.execution_options(synchronize_session=False))
    if channel is None and chat_id is None and external_user_id is None:
        await session.execute(
            delete(LinkCode)
            .where(LinkCode.official_id.in_(official_ids), LinkCode.used_at.is_(None))
            .execution_options(synchronize_session=False)
        )
    return removed.rowcount or 0


async def link_named_account(
    session: AsyncSession, channel: ChatChannel, external_user_id: str, chat_id: str, now: datetime
) -> Linked | None:
    """The first chat of an account the officials' file names (its `matrix_id` column),
    linked without a code; None if nobody (or more than one official) is named so, or the
    account is linked already."""
    if channel is not ChatChannel.MATRIX:
        return None
    named = (
        await session.scalars(
            select(Official)
            .where(Official.matrix_id == external_user_id, Official.active.is_(True))
            .limit(2)
        )
    ).all()
    if len(named) != 1:
        return None
    linked = await session.scalar(
        select(ChatAccount.id).where(
            ChatAccount.channel == channel, ChatAccount.external_user_id == external_user_id
        )
    )
    if linked is not None:
        return None
    return await _link(session, named[0], None, channel, external_user_id, chat_id, now)


async def official_for_chat(
    session: AsyncSession, channel: ChatChannel, external_user_id: str
) -> Official | None:
    """The official linked to this chat user, with their roles: who is asking."""
    found = await session.scalars(
        select(ChatAccount)
        .where(ChatAccount.channel == channel, ChatAccount.external_user_id == external_user_id)
        .options(joinedload(ChatAccount.official).joinedload(Official.role_links))
    )
    account = found.unique().first()
    return account.official if account else None


async def mark_unreachable(
    session: AsyncSession, channel: ChatChannel, chat_id: str, now: datetime
) -> None:
    """The person blocked the bot or the chat is gone: nothing more goes there."""
    await session.execute(
        update(ChatAccount)
        .where(ChatAccount.channel == channel, ChatAccount.chat_id == chat_id)
        .values(unreachable_since=now)
    )


async def linked_channels(session: AsyncSession, official_id: int) -> set[ChatChannel]:
    """The channels on which this official has linked a chat account."""
    found = await session.scalars(
        select(ChatAccount.channel).where(ChatAccount.official_id == official_id)
    )
    return set(found.all())


async def ever_linked(session: AsyncSession, official_ids: list[int]) -> set[int]:
    """Which of these officials have linked a chat account (and may have blocked the bot since)."""
    found = await session.scalars(
        select(ChatAccount.official_id).where(ChatAccount.official_id.in_(official_ids))
    )
    return set(found.all())
