"""The core alone, without a channel: a person writes, the replies are read from the outbox.

Faster than the end-to-end harness, for the many small refusals the security tests check.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from models import Official, OutboxMessage
from models.accounts import ChatChannel, issue_link_code
from models.clock import FixedClock
from tests.conftest import NOW

_updates = itertools.count(1)


@dataclass
class CoreChat:
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    settings: CoreSettings = field(default_factory=CoreSettings)
    channel: ChatChannel = ChatChannel.TELEGRAM

    def __post_init__(self) -> None:
        self.core = Core(self.sessions, self.clock, self.settings)

    async def say(
        self, user: str, text: str, *, group: str | None = None, button: bool = False
    ) -> list[str]:
        incoming = Incoming(
            self.channel,
            chat_id=group or user,
            user_id=user,
            update_id=f"test {next(_updates)}",
            text=None if button else text,
            button=text if button else None,
            is_group=group is not None,
        )
        ids = await self.core.handle(incoming)
        await self.core.idle()
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.id)
            )
            return list(rows.all())

    async def code_for(self, official_code: str) -> str:
        async with self.sessions() as session, session.begin():
            official = await session.scalar(select(Official).where(Official.code == official_code))
            return await issue_link_code(session, official, self.clock.now())

    async def link(self, official_code: str, user: str | None = None) -> str:
        """Link the chat user (by default named after the official) and return that user."""
        user = user or f"u-{official_code}"
        [reply] = await self.say(user, f"/start {await self.code_for(official_code)}")
        assert reply.startswith(("Xin chào", "Hello")), reply
        return user
