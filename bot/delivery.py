"""The one place that sends queued messages: drains the outbox through each channel's sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flood import SharedRateLimiter
from bot.health import SENT, TOO_MANY
from models.accounts import ChatChannel, mark_unreachable
from models.attachments import File, attachments
from models.clock import Clock
from models.db import write_gate
from models.outbox import (
    OutboxMessage,
    Priority,
    claim_due,
    claimed_replies,
    record_outcome,
    release,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


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


async def _work(session: AsyncSession, messages: list[OutboxMessage]) -> list[Work]:
    files = await attachments(session, {m.attachment_id for m in messages})
    return [
        Work(
            m.id,
            m.channel,
            m.chat_id,
            m.text,
            m.button_rows,
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


class RateLimiter:
    """Telegram's flood limits: so many messages a second overall, one a second per chat, and
    `per_group_minute` a minute in a group (a chat whose id is negative; 0: no such limit).

    Bulk sending keeps below the overall limit (default 25 of Telegram's 30); a reply to a
    command goes at once (only a 429 or a group's minute holds it back) and takes the next
    slot from bulk. A chat's spacing counts from when its last send was answered (`done`),
    not when it started: the API saw it no later than that, however slow the way there.
    """

    def __init__(
        self, per_second: float = 25.0, per_chat_seconds: float = 1.0, per_group_minute: int = 0
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat_seconds = per_chat_seconds
        self.per_group_minute = per_group_minute
        self._next = 0.0
        self._chats: dict[str, float] = {}
        self._groups: dict[str, deque[float]] = {}  # a group's sends answered in the last minute
        self._flying: dict[str, int] = {}  # a chat's sends on their way
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 is about the whole bot: nobody sends until it has passed."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        """Until `chat_id` may be sent to; call `done` when the send was answered."""
        while True:
            now = time.monotonic()
            start = max(now, self.paused_until, self._group_slot(chat_id))
            if not reply:  # the person is waiting for a reply: it goes before bulk
                start = max(start, self._next, self._chats.get(chat_id, 0.0))
            # A reply still counts against the overall limit: bulk sending moves up a slot.
            self._next = max(self._next, start) + self.interval
            self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), start + self.per_chat_seconds)
            if len(self._chats) > 10_000:
                self._chats = {c: t for c, t in self._chats.items() if t > now}
            if start > now:
                await asyncio.sleep(start - now)
            if self.paused_until <= time.monotonic():
                break  # else a 429 came while waiting: wait for it to pass, then a new slot
        self._flying[chat_id] = self._flying.get(chat_id, 0) + 1

    def done(self, chat_id: str) -> None:
        """The send to `chat_id` was answered (or failed): its chat's spacing counts from now."""
        now = time.monotonic()
        flying = self._flying.get(chat_id, 1) - 1
        if flying > 0:
            self._flying[chat_id] = flying
        else:
            self._flying.pop(chat_id, None)
        self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), now + self.per_chat_seconds)
        if self.per_group_minute and _is_group(chat_id):
            sent = self._groups.setdefault(chat_id, deque())
            sent.append(now)
            while len(sent) > self.per_group_minute:
                sent.popleft()
            if len(self._groups) > 10_000:
                self._groups = {g: d for g, d in self._groups.items() if d[-1] > now - 60}

    def _group_slot(self, chat_id: str) -> float:
        """When a group may have one more: its last `per_group_minute` answered sends and those
        on their way (each seen by the API no later than answered) must span a minute."""
        if not self.per_group_minute or not _is_group(chat_id):
            return 0.0
        sent = self._groups.get(chat_id)
        need = self.per_group_minute - self._flying.get(chat_id, 0)
        if need <= 0:
            return math.inf  # cannot happen while a chat's sends go one at a time
        if sent is None or len(sent) < need:
            return 0.0
        return sent[-need] + 60.0


def _is_group(chat_id: str) -> bool:
    """A limiter's key is `channel:chat`; Telegram's groups and channels have negative ids."""
    return chat_id.rpartition(":")[2].startswith("-")


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
        limiter: RateLimiter | None = None,
        limiters: dict[ChatChannel, RateLimiter] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders = dict(senders)
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.wake = asyncio.Event()
        self.limiter = limiter or RateLimiter()
        # Several processes on one PostgreSQL share one flood budget, kept in the database.
        self.shared = sessions.kw["bind"].dialect.name == "postgresql"
        self.limiters = {c: self._budget(c, lim) for c, lim in (limiters or {}).items()}
        self.gate = write_gate(sessions.kw["bind"])
        self._stopping = False

    def serve(self, channel: ChatChannel, sender: ChannelSender, limiter: RateLimiter) -> None:
        """The channel is up: its rows may go."""
        self.senders[channel] = sender
        self.limiters[channel] = self._budget(channel, limiter)
        self.wake.set()

    def _budget(self, channel: ChatChannel, limiter: RateLimiter) -> RateLimiter:
        """The channel's limits, shared with the other processes when there can be some."""
        if not self.shared or isinstance(limiter, SharedRateLimiter) or not limiter.interval:
            return limiter
        shared = SharedRateLimiter(
            self.sessions,
            channel.value,
            1.0 / limiter.interval,
            limiter.per_chat_seconds,
            group_seconds=60.0 / limiter.per_group_minute if limiter.per_group_minute else 0.0,
        )
        return shared  # type: ignore[return-value]

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
                result = await self._deliver(item)
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

    async def send_now(self, message_ids: list[int]) -> None:
        """Send the replies a command just wrote (claimed with the change they report), in
        order; one that fails goes back to the outbox and is retried like any other row,
        and the replies after it in that chat wait for it."""
        async with self.gate.urgent(), self.sessions() as session, session.begin():
            replies = await claimed_replies(session, message_ids, self.clock.now())
            work = await _work(session, replies)
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
        now = self.clock.now()
        # A reply's record goes first, like the command it answers; bulk lets commands go first.
        gate = self.gate.urgent() if any(item.reply for item in work) else self.gate.bulk()
        async with gate, self.sessions() as session, session.begin():
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
                    session, item.message_id, now, outcome, detail, retry_at=retry_at
                )
                if outcome == "sent":
                    SENT.labels(item.channel.value, "reply" if item.reply else "push").inc()
                if outcome == "unreachable":
                    await mark_unreachable(session, item.channel, item.chat_id, now)

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
        total = 0
        while sent := await self.drain_once():
            total += sent
        return total

    async def run(self) -> None:
        """Drain until stopped; sleep briefly when nothing is due, or until woken."""
        while not self._stopping:
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
                sent = 0
            if not sent and not self._stopping:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_seconds)

    def stop(self) -> None:
        """Finish the batch in flight and its record, then leave `run`."""
        self._stopping = True
        self.wake.set()
