"""One flood budget for the bot however many processes send: the channel's limits (so many
messages a second overall, one a second per chat, fewer to a group) kept in the database.

Each send books the next slot of the channel's one schedule (models/coordination.py) and
waits for it. A reply to a command books the next slot whatever is booked; pushes book at
most a quarter of a second ahead, so a person waits behind a few pushes at most, never
behind a fan-out. A 429 moves every process's schedule past its `retry_after`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.coordination import Slot, chat_answered, pause_sending, reserve_send

log = logging.getLogger(__name__)

PUSH_AHEAD = 0.25  # how far ahead a push may book: what a reply may wait behind
CHAT_MARGIN = 0.05  # spacing added per chat, for the network's jitter between two sends


class SharedRateLimiter:
    """The RateLimiter's interface (`wait`, `pause`) over the database's schedule."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: str,
        per_second: float,
        per_chat_seconds: float,
        *,
        group_seconds: float = 0.0,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat_seconds = per_chat_seconds + CHAT_MARGIN if per_chat_seconds > 0 else 0.0
        self.group_seconds = group_seconds + CHAT_MARGIN if group_seconds > 0 else 0.0
        self._push_turn = asyncio.Lock()  # one push of this process books at a time
        self._pauses: set[asyncio.Task[None]] = set()
        # A chat's spacing counts from when its last send was answered (the API saw it no
        # later than that): kept here for this process's next send, and in the database.
        self._answered: dict[str, float] = {}
        self._recording: dict[str, asyncio.Task[None]] = {}

    def pause(self, seconds: float) -> None:
        task = asyncio.create_task(self._pause(seconds))
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    async def _pause(self, seconds: float) -> None:
        try:
            async with self.sessions() as session, session.begin():
                await pause_sending(session, self.channel, seconds)
        except Exception:
            log.exception("%s: could not share a 429's pause", self.channel)

    def _spacing(self, chat_id: str) -> float:
        if self.group_seconds and chat_id.rpartition(":")[2].startswith("-"):
            return max(self.per_chat_seconds, self.group_seconds)
        return self.per_chat_seconds

    def done(self, chat_id: str) -> None:
        """The send to `chat_id` was answered: the chat's next send counts from now."""
        now = time.monotonic()
        self._answered[chat_id] = now
        if len(self._answered) > 10_000:
            self._answered = {c: t for c, t in self._answered.items() if t > now - 60}
        if self._spacing(chat_id):
            task = asyncio.create_task(self._record_answer(chat_id))
            self._recording[chat_id] = task
            task.add_done_callback(
                lambda t: (
                    self._recording.pop(chat_id, None)
                    if self._recording.get(chat_id) is t
                    else None
                )
            )

    async def _record_answer(self, chat_id: str) -> None:
        try:
            async with self.sessions() as session, session.begin():
                await chat_answered(session, self.channel, chat_id, self._spacing(chat_id))
        except Exception:
            log.exception("%s: could not record a chat's last send", self.channel)

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        """Until this message's slot: `chat_id` is `channel:chat`, as the sender names it."""
        spacing = self._spacing(chat_id)
        if (recording := self._recording.get(chat_id)) is not None:
            await recording
        if (answered := self._answered.get(chat_id)) is not None:
            await asyncio.sleep(answered + spacing - time.monotonic())
        while True:
            if reply:
                slot = await self._book(chat_id, spacing, None)
            else:
                async with self._push_turn:
                    slot = await self._book(chat_id, spacing, PUSH_AHEAD)
                    if not slot.granted and not slot.chat_busy:
                        # The schedule is full for now: so it is for this process's other
                        # pushes, which wait behind this one rather than ask again.
                        await asyncio.sleep(slot.wait)
                        continue
            await asyncio.sleep(slot.wait)
            if slot.granted:
                return

    async def _book(self, chat_id: str, spacing: float, ahead: float | None) -> Slot:
        try:
            async with self.sessions() as session, session.begin():
                return await reserve_send(
                    session,
                    self.channel,
                    chat_id,
                    interval=self.interval,
                    chat_interval=spacing,
                    ahead=ahead,
                )
        except Exception as error:  # the database is away: nothing can be recorded either
            log.warning("%s: cannot book a send slot (%s); waiting", self.channel, error)
            return Slot(False, 1.0, chat_busy=True)
