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

from models.coordination import (
    Slot,
    chat_answered,
    open_budget,
    pause_sending,
    paused_for,
    reserve_sends,
)

log = logging.getLogger(__name__)

PUSH_AHEAD = 0.25  # how far ahead a push may book: what a reply may wait behind
REPLY_AHEAD = 3600.0  # a reply books whatever is booked already
LATE = 0.05  # a slot woken up to later than this is given up and booked again
CHAT_MARGIN = 0.25  # spacing added per chat: two processes' sends to one chat, each late a little


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
        # Sends waiting for a slot (replies under True, pushes under False), each kind
        # booked together by one task at a time.
        self._waiting: dict[bool, list[tuple[str, float, asyncio.Future[Slot]]]] = {
            True: [],
            False: [],
        }
        self._booking: dict[bool, asyncio.Task[None]] = {}
        self._pauses: set[asyncio.Task[None]] = set()
        # A chat's spacing counts from when its last send was answered (the API saw it no
        # later than that): kept here for this process's next send, and in the database.
        self._answered: dict[str, float] = {}
        self._opened = False
        self._paused_here = 0.0  # a 429 this process was answered
        self._recording: dict[str, asyncio.Task[None]] = {}

    def pause(self, seconds: float) -> None:
        self._paused_here = max(self._paused_here, time.monotonic() + seconds)
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
            slot = await self._book_together(chat_id, spacing, reply)
            due = time.monotonic() + slot.wait
            await asyncio.sleep(slot.wait)
            if slot.granted and time.monotonic() - due < LATE:
                # A 429 answered to another send meanwhile stops this one too, booked or not.
                if not (paused := await self._paused()):
                    return
                await asyncio.sleep(paused)
            # Woken too late (a busy machine): sent now, it would arrive bunched with the
            # slots after it. Book again; the slot missed is a send lost, not a 429 earned.

    async def _book_together(self, chat_id: str, spacing: float, reply: bool) -> Slot:
        """A slot booked with the other sends of its kind waiting in this process now: one
        statement for them all, so the schedule's row is held briefly and rarely. Replies
        book the next slots whatever pushes have booked; pushes at most PUSH_AHEAD ahead."""
        waiting = asyncio.get_running_loop().create_future()
        self._waiting[reply].append((chat_id, spacing, waiting))
        booking = self._booking.get(reply)
        if booking is None or booking.done():
            self._booking[reply] = asyncio.create_task(self._book_round(reply))
        return await waiting

    async def _book_round(self, reply: bool) -> None:
        queue = self._waiting[reply]
        while queue:
            batch, seen = [], set()
            for item in queue:
                if item[0] not in seen:  # one message per chat per statement
                    seen.add(item[0])
                    batch.append(item)
            queue[:] = [item for item in queue if item not in batch]
            try:
                await self._open()
                async with self.sessions() as session, session.begin():
                    slots = await reserve_sends(
                        session,
                        self.channel,
                        [(chat, spacing) for chat, spacing, _ in batch],
                        interval=self.interval,
                        ahead=REPLY_AHEAD if reply else PUSH_AHEAD,
                    )
            except Exception as error:  # the database is away: nothing can be recorded either
                log.warning("%s: cannot book send slots (%s); waiting", self.channel, error)
                slots = {}
            full = [s for s in slots.values() if not s.granted and not s.chat_busy]
            for chat, spacing, waiting in batch:
                slot = slots.get(chat, Slot(False, 1.0, chat_busy=True))
                if not slot.granted and not slot.chat_busy:
                    queue.append((chat, spacing, waiting))  # in the next round
                elif not waiting.done():
                    waiting.set_result(slot)
            if full:  # the schedule is full for now: ask again when it has room
                await asyncio.sleep(min(s.wait for s in full))

    async def _paused(self) -> float:
        if time.monotonic() < self._paused_here:
            return self._paused_here - time.monotonic()
        try:
            async with self.sessions() as session:
                return await paused_for(session, self.channel)
        except Exception:
            return 0.0

    async def _open(self) -> None:
        if not self._opened:
            async with self.sessions() as session, session.begin():
                await open_budget(session, self.channel)
            self._opened = True
