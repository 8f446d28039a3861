"""One flood budget for the bot however many processes send: the channel's limits (so many
messages a second overall, one a second per chat, fewer to a group) kept in the database.

The rule is `bot.pacing.Limits`'s, as in one process: a send holds one of the channel's
tokens (`places`) from its slot until `window` after it was answered, and a chat may be
written to again its spacing after its last send was answered. Any N + 1 sends the API saw
within a second would then have held N + 1 tokens at one moment, which cannot be: no
margin to guess, however late a process wakes or however long the way to the API takes
(models/coordination.py keeps the tokens). A group's minute is spread evenly here (one
each 60 / per minute seconds): the database keeps one next time per chat.

Slots follow the channel's one schedule, evenly spaced. A reply to a command books the next
free slot whatever is booked; pushes book at most a quarter of a second ahead, so a person
waits behind a few pushes at most, never behind a fan-out. A 429 moves every process's
schedule past its `retry_after`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.pacing import Limits
from models.coordination import (
    Slot,
    open_budget,
    pause_sending,
    reserve_sends,
    sends_answered,
)

log = logging.getLogger(__name__)

PUSH_AHEAD = 0.25  # how far ahead a push may book: what a reply may wait behind


class SharedRateLimiter:
    """`Limits` kept in the database for every process: the `Limiter` interface (`wait`,
    `done`, `pause`) over the channel's budget."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], channel: str, limits: Limits
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.limits = limits
        # A reply books any token already answered, whatever pushes have booked.
        self.reply_ahead = 2 * limits.window
        # Sends waiting for a slot (replies under True, pushes under False), each kind
        # booked together by one task at a time.
        self._waiting: dict[bool, list[tuple[str, float, asyncio.Future[Slot]]]] = {
            True: [],
            False: [],
        }
        self._booking: dict[bool, asyncio.Task[None]] = {}
        self._pauses: set[asyncio.Task[None]] = set()
        # The token each send holds, by the task sending it (`done` is called in that task).
        self._held: dict[tuple[str, asyncio.Task[object] | None], int] = {}
        # Answers to record (token, chat), recorded together by one task at a time; a chat's
        # next send here waits for its record.
        self._answers: list[tuple[int, str, float, float]] = []
        self._recording: asyncio.Task[None] | None = None
        self._recorded: dict[str, asyncio.Future[None]] = {}
        # A chat's spacing counts from when its last send was answered: kept here too, for
        # this process's next send to it.
        self._answered: dict[str, float] = {}
        self._opened = False
        # Until when a 429 stops every send (monotonic): one this process was answered, or
        # another process's, as the last booking read it.
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
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
        return self.limits.spacing(chat_id, minute_as_spacing=True)

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        """Until this message's slot: `chat_id` is `channel:chat`, as the sender names it.
        A reply to a chat written to less than its spacing ago waits for it, like any send:
        Telegram's one a second per chat holds for replies too."""
        spacing = self._spacing(chat_id)
        if (recorded := self._recorded.get(chat_id)) is not None:
            await asyncio.shield(recorded)
        if (answered := self._answered.get(chat_id)) is not None:
            await asyncio.sleep(answered + spacing - time.monotonic())
        while True:
            slot = await self._book_together(chat_id, spacing, reply)
            if slot.token is None:  # the chat was busy: book again when it may not be
                await asyncio.sleep(slot.wait)
                continue
            try:
                await asyncio.sleep(slot.wait)
            except asyncio.CancelledError:  # never sent: the token goes back
                self._answer(slot.token, chat_id, spacing=0.0)
                raise
            if not (paused := self._paused_until - time.monotonic()) > 0:
                self._held[(chat_id, asyncio.current_task())] = slot.token
                return
            # A 429 answered to another send meanwhile stops this one too: its token goes
            # back (nothing was sent) and it books again once the pause has passed.
            self._answer(slot.token, chat_id, spacing=0.0)
            await asyncio.sleep(paused)

    def due_in(self, chat_id: str) -> float:
        """Only what this process answered: another's send is at most a spacing ahead."""
        if (answered := self._answered.get(chat_id)) is None:
            return 0.0
        return max(0.0, answered + self._spacing(chat_id) - time.monotonic())

    def done(self, chat_id: str) -> None:
        """The send to `chat_id` was answered (or failed): its token is free a window from
        now, and the chat its spacing from now."""
        token = self._held.pop((chat_id, asyncio.current_task()), None)
        if token is None:
            return
        now = time.monotonic()
        self._answered[chat_id] = now
        if len(self._answered) > 10_000:
            self._answered = {c: t for c, t in self._answered.items() if t > now - 60}
        self._answer(token, chat_id, self._spacing(chat_id))

    def _answer(self, token: int, chat_id: str, spacing: float) -> None:
        self._answers.append((token, chat_id, spacing, time.monotonic()))
        if chat_id not in self._recorded:
            self._recorded[chat_id] = asyncio.get_running_loop().create_future()
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_answers())

    async def _record_answers(self) -> None:
        """Record the answers that came meanwhile, in one statement each round."""
        while self._answers:
            batch, self._answers = self._answers, []
            while True:
                try:
                    async with self.sessions() as session, session.begin():
                        now = time.monotonic()
                        answers = [(t, chat, s, now - at) for t, chat, s, at in batch]
                        await sends_answered(session, self.channel, answers, self.limits.window)
                    break
                except Exception as error:  # the tokens stay held until they are recorded
                    log.warning("%s: cannot record sends answered (%s)", self.channel, error)
                    await asyncio.sleep(1.0)
            for _, chat, _, _ in batch:
                if (recorded := self._recorded.pop(chat, None)) is not None:
                    recorded.set_result(None)

    async def _book_together(self, chat_id: str, spacing: float, reply: bool) -> Slot:
        """A slot booked with the other sends of its kind waiting in this process now: one
        statement for them all, so the schedule's row is held briefly and rarely. Replies
        book the next free slots whatever pushes have booked; pushes at most PUSH_AHEAD
        ahead."""
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
                    slots, paused = await reserve_sends(
                        session,
                        self.channel,
                        [(chat, spacing) for chat, spacing, _ in batch],
                        interval=self.limits.interval,
                        tokens=self.limits.places,
                        window=self.limits.window,
                        ahead=self.reply_ahead if reply else PUSH_AHEAD,
                    )
                self._paused_until = max(self._paused_until, time.monotonic() + paused)
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
                elif slot.token is not None:  # its sender is gone (cancelled): free it
                    self._answer(slot.token, chat, spacing=0.0)
            if full:  # no token or slot free for now: ask again when there may be
                await asyncio.sleep(min(s.wait for s in full))

    async def _open(self) -> None:
        if not self._opened:
            async with self.sessions() as session, session.begin():
                await open_budget(session, self.channel, self.limits.places)
            self._opened = True
