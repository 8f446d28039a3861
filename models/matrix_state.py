"""What the Matrix bot keeps between runs: its device and access token, and where sync stopped.

One row per bot account. A password login happens once; later starts reuse the device, so
the homeserver does not collect a device per restart. The sync token is written after the
events of a batch were handled, so a message that came while the bot was stopped is
answered when it starts again, and (with the reply keys) none is answered twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class MatrixState(Base):
    __tablename__ = "matrix_state"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    device_id: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str | None] = mapped_column(Text)
    next_batch: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Login:
    device_id: str
    access_token: str | None  # None: log in again, on the same device


async def _row(session: AsyncSession, user_id: str) -> MatrixState:
    row = await session.get(MatrixState, user_id)
    if row is None:
        row = MatrixState(user_id=user_id)
        session.add(row)
    return row


async def stored_login(session: AsyncSession, user_id: str) -> Login | None:
    row = await session.get(MatrixState, user_id)
    if row is None or not row.device_id:
        return None
    return Login(row.device_id, row.access_token)


async def keep_login(session: AsyncSession, user_id: str, login: Login) -> None:
    row = await _row(session, user_id)
    row.device_id, row.access_token = login.device_id, login.access_token


async def sync_token(session: AsyncSession, user_id: str) -> str | None:
    return await session.scalar(
        select(MatrixState.next_batch).where(MatrixState.user_id == user_id)
    )


async def keep_sync_token(session: AsyncSession, user_id: str, next_batch: str) -> None:
    row = await _row(session, user_id)
    row.next_batch = next_batch
