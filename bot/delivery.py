"""The one place that sends queued messages: drains the outbox through each channel's sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.flood import SharedRateLimiter
from bot.health import SENT, TOO_MANY
from bot.pacing import Limiter, RateLimiter
from models.accounts import ChatChannel, mark_unreachable
from models.attachments import File, attachments
from models.claims import claim_due, claimed_replies, record_outcome, release, unclaim
from models.clock import Clock
from models.db import write_gate
from models.outbox import OutboxMessage, Priority, decode_buttons

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A send's record tried again after these pauses (about 30 s in all, within the claim's
# minute): SQLite's busy timeout is 5 s, and a loaded machine can hold its lock longer.
RECORD_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
# A push its chat's own limits hold back longer than this (a group's minute: 20 a minute)
# waits in the outbox until then: in the batch it would hold every other chat's back.
DEFER_AFTER_SECONDS = 3.0


class RetryLater(Exception):
    """The channel asked us to wait (429), or the network failed: try again later."""

    def __init__(self, seconds: float | None, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class Unreachable(Exception):
    """The person blocked the bot or the chat is gone: stop trying that chat."""


class ChannelDown(Exception):
    """A channel cannot be reached now (network, 5xx, 429): bring it up again later."""


class ChannelRefused(Exception):
    """A channel says no for good (a wrong token, a forbidden account): disable it."""


class ChannelSender(Protocol):
    """What a channel does with one outbox row; `language` is the recipient's, for whatever
    the channel adds around our text (Zalo's typed-command footer, a file's note)."""

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[tuple[str, str]]],
        edit_message_id: str | None,
        language: str,
    ) -> str: ...

    async def send_file(self, chat_id: str, file: File, language: str) -> str: ...


@dataclass(frozen=True)
class Work:
    """One claimed outbox row, detached from its session, with its file if it has one."""

    message_id: int
    channel: ChatChannel
    chat_id: str
    text: str
    buttons: list[list[tuple[str, str]]]
    edit_message_id: str | None
    language: str
    attempts: int
    file: File | None
    reply: bool


async def _work(session: AsyncSession, messages: Sequence[OutboxMessage | Row[Any]]) -> list[Work]:
    """Claimed rows as work: whole outbox rows (a claim) or their columns (`claimed_replies`)."""
    files = await attachments(session, {m.attachment_id for m in messages})
    return [
        Work(
            m.id,
            m.channel,
            m.chat_id,
            m.text,
            decode_buttons(m.buttons),
            m.edit_message_id,
            m.language,
            m.attempts,
            replace(files[m.attachment_id], caption=m.text) if m.attachment_id else None,
            m.priority == Priority.REPLY,
        )
        for m in messages
    ]


Outcome = tuple[str, str, timedelta | None]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** max(attempts, 0)))


class OutboxSender:
    """Claims due rows, most urgent first, sends them, and records every attempt."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        senders: dict[ChatChannel, ChannelSender],
        *,
        batch: int = 25,
        idle_seconds: float = 0.5,
        limiter: Limiter | None = None,
        limiters: dict[ChatChannel, Limiter] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders = dict(senders)
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.wake = asyncio.Event()
        self.limiter: Limiter = limiter or RateLimiter()
        # Several processes on one PostgreSQL share one flood budget, kept in the database.
        self.shared = sessions.kw["bind"].dialect.name == "postgresql"
        self.limiters = {c: self._budget(c, lim) for c, lim in (limiters or {}).items()}
        self.gate = write_gate(sessions.kw["bind"])
        self._stopping = False
        self._busy = asyncio.Event()  # the last claim came full: more is waiting

    def serve(self, channel: ChatChannel, sender: ChannelSender, limiter: Limiter) -> None:
        """The channel is up: its rows may go."""
        self.senders[channel] = sender
        self.limiters[channel] = self._budget(channel, limiter)
        self.wake.set()

    def _budget(self, channel: ChatChannel, limiter: Limiter) -> Limiter:
        """The channel's limits, shared with the other processes when there can be some."""
        if not self.shared or isinstance(limiter, SharedRateLimiter) or not limiter.limits.places:
            return limiter
        return SharedRateLimiter(self.sessions, channel.value, limiter.limits)

    def drop(self, channel: ChatChannel) -> None:
        """The channel is down or disabled: its rows wait in the outbox meanwhile."""
        self.senders.pop(channel, None)

    async def drain_once(self) -> int:
        """Send what is due now, a batch at a time; returns how many were sent.

        The batch's chats are served concurrently, each chat's messages in order, each when
        the flood limits allow, and each is marked sent on its own the moment the channel
        accepts it: a crash repeats at most the messages in flight, and loses none.
        """
        if not self.senders:  # no channel is up yet: everything waits
            return 0
        async with self.gate.bulk(), self.sessions() as session, session.begin():
            messages = await claim_due(session, self.clock.now(), self.batch, list(self.senders))
            work = await _work(session, messages)
        if len(work) < self.batch:
            self._busy.clear()
        else:
            self._busy.set()
        if not work:
            return 0
        chats: dict[tuple[ChatChannel, str], list[Work]] = {}
        for item in work:  # claimed most urgent first, so each chat's list is in order
            chats.setdefault((item.channel, item.chat_id), []).append(item)
        accepted: asyncio.Queue[tuple[Work, Outcome] | int] = asyncio.Queue()

        async def send_in_order(items: list[Work]) -> None:
            """A chat's messages one after the other; after one that did not go, the rest
            go back untried, to follow it."""
            for index, item in enumerate(items):
                result = self._held_back(item) or await self._deliver(item)
                accepted.put_nowait((item, result))
                if result[0] != "sent":
                    if rest := items[index + 1 :]:
                        await self._release(rest)
                        accepted.put_nowait(len(rest))
                    return

        sending = asyncio.gather(*(send_in_order(items) for items in chats.values()))
        sent = settled = 0
        while settled < len(work):
            # Record each result as soon as it comes; those that come while a record is
            # being written go together in the next one, rather than a commit per message.
            done: list[tuple[Work, Outcome]] = []
            entry = await accepted.get()
            while True:
                if isinstance(entry, int):
                    settled += entry
                else:
                    done.append(entry)
                if accepted.empty():
                    break
                entry = accepted.get_nowait()
            if done:
                await self._record([item for item, _ in done], [result for _, result in done])
            settled += len(done)
            sent += sum(1 for _, (outcome, _, _) in done if outcome == "sent")
        await sending
        return sent

    def _held_back(self, item: Work) -> Outcome | None:
        """A push its chat may not have for more than a few seconds goes back to the outbox
        until then (not a try: its chat's next ones keep waiting behind it)."""
        limiter = self.limiters.get(item.channel, self.limiter)
        wait = limiter.due_in(f"{item.channel.value}:{item.chat_id}")
        if item.reply or wait <= DEFER_AFTER_SECONDS:
            return None
        return "wait", f"the chat's limit: {wait:.1f} s to wait", timedelta(seconds=wait)

    async def send_now(self, message_ids: list[int]) -> None:
        """Send the replies a command just wrote (claimed with the change they report), in
        order; one that fails goes back to the outbox and is retried like any other row,
        and the replies after it in that chat wait for it."""
        async with self.sessions() as session:  # reads only: neither the gate nor a commit
            replies, held = await claimed_replies(session, message_ids)
            work = await _work(session, replies)
        if held:
            async with self.gate.urgent(), self.sessions() as session, session.begin():
                await unclaim(session, held)
            self.wake.set()
        for index, item in enumerate(work):
            if item.channel not in self.senders:  # not up here: the outbox keeps it
                result: Outcome = ("retry", "the channel is not up", timedelta(0))
            else:
                result = await self._deliver(item)
            await self._record([item], [result])
            if result[0] != "sent":
                await self._release(work[index + 1 :])
                self.wake.set()
                return

    async def _release(self, work: list[Work]) -> None:
        """Hand claimed rows back untried: they go after the one that failed, in order."""
        if work:
            async with self.gate.urgent(), self.sessions() as session, session.begin():
                await release(session, [item.message_id for item in work])

    async def _record(self, work: list[Work], results: list[Outcome]) -> None:
        """Write how each send went. The sends have happened: a record lost to a moment's lock
        or a dropped connection would leave the rows claimed, and send them again once the
        claim lapses, so the write is tried again for about half a minute first."""
        delays = iter(RECORD_RETRY_DELAYS)
        while True:
            try:
                await self._record_once(work, results)
            except DBAPIError as error:
                if (delay := next(delays, None)) is None:
                    raise
                log.warning("recording %d sends failed, trying again: %s", len(work), error)
                await asyncio.sleep(delay)
                continue
            break
        for item, (outcome, _, _) in zip(work, results, strict=True):
            if outcome == "sent":
                SENT.labels(item.channel.value, "reply" if item.reply else "push").inc()

    async def _record_once(self, work: list[Work], results: list[Outcome]) -> None:
        now = self.clock.now()
        # A reply's record goes first, like the command it answers; bulk lets commands go first.
        gate = self.gate.urgent() if any(item.reply for item in work) else self.gate.bulk()
        async with gate, self._recording(results) as database:
            for item, (outcome, detail, retry) in zip(work, results, strict=True):
                counted = outcome != "wait"
                retry_at = (
                    now + retry
                    if retry is not None and (not counted or item.attempts + 1 < MAX_ATTEMPTS)
                    else None
                )
                if outcome == "retry" and retry_at is None:
                    outcome = "failed"
                await record_outcome(
                    database, item.message_id, now, outcome, detail, retry_at=retry_at
                )
                if outcome == "unreachable":
                    assert isinstance(database, AsyncSession)
                    await mark_unreachable(database, item.channel, item.chat_id, now)

    @contextlib.asynccontextmanager
    async def _recording(
        self, results: list[Outcome]
    ) -> AsyncIterator[AsyncSession | AsyncConnection]:
        """The records' transaction: on a plain connection, half a session's cost per reply;
        in a session where a chat account is marked unreachable with them."""
        if any(outcome == "unreachable" for outcome, _, _ in results):
            async with self.sessions() as session, session.begin():
                yield session
        else:
            async with self.sessions.kw["bind"].begin() as connection:
                yield connection

    async def _deliver(self, item: Work) -> Outcome:
        """(outcome, detail, retry after): sent with the channel's id, or why not."""
        channel = item.channel
        limiter = self.limiters.get(channel, self.limiter)
        key = f"{channel.value}:{item.chat_id}"
        await limiter.wait(key, reply=item.reply)
        sender = self.senders[channel]
        try:
            if item.file is not None:
                external = await sender.send_file(item.chat_id, item.file, item.language)
            else:
                external = await sender.send(
                    item.chat_id, item.text, item.buttons, item.edit_message_id, item.language
                )
        except RetryLater as error:
            if error.seconds:  # a 429 is not the message's failure: it does not count a try
                TOO_MANY.labels(channel.value).inc()
                limiter.pause(error.seconds)
                return "wait", str(error), timedelta(seconds=error.seconds)
            return "retry", str(error), backoff(item.attempts)
        except Unreachable as error:
            return "unreachable", str(error), None
        except Exception as error:
            log.exception("sending outbox message %s failed", item.message_id)
            return "retry", repr(error), backoff(item.attempts)
        finally:
            limiter.done(key)
        return "sent", external, None

    async def drain(self) -> int:
        """Send everything due now, then return (for `dondoc tick`)."""
        totals = await asyncio.gather(self._drain_lane(), self._drain_lane())
        return sum(totals)

    async def _drain_lane(self) -> int:
        total = 0
        while sent := await self.drain_once():
            total += sent
        return total

    async def run(self) -> None:
        """Drain until stopped; sleep briefly when nothing is due, or until woken. While
        batches come full a second lane claims the next one as this one is sent, so the
        channel's limit, not the claim, the record and the batch's slowest chat, sets the pace."""
        overlap = asyncio.create_task(self._overlap(), name="outbox-overlap")
        try:
            while not self._stopping:
                sent = await self._drain_logged()
                if not sent and not self._stopping:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), self.idle_seconds)
        finally:
            if not self._stopping:  # cancelled, as by a crash: the other lane goes too
                overlap.cancel()
            self._busy.set()
            with contextlib.suppress(asyncio.CancelledError):
                await overlap

    async def _overlap(self) -> None:
        """The second lane: drains only while claims come full, and idles without polling."""
        while not self._stopping:
            await self._busy.wait()
            if not self._stopping and not await self._drain_logged():
                self._busy.clear()

    async def _drain_logged(self) -> int:
        try:
            return await self.drain_once()
        except Exception:
            log.exception("outbox drain failed")
            return 0

    def stop(self) -> None:
        """Finish the batch in flight and its record, then leave `run`."""
        self._stopping = True
        self.wake.set()
        self._busy.set()
