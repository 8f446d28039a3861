"""The one place that sends queued messages: drains the outbox through each channel's sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.accounts import ChatAccount, ChatChannel
from models.attachments import File, attachments
from models.clock import Clock
from models.db import write_gate
from models.outbox import DeliveryAttempt, claim_due, mark_failed, mark_sent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class RetryLater(Exception):
    """The channel asked us to wait (429), or the network failed: try again later."""

    def __init__(self, seconds: float | None, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class Unreachable(Exception):
    """The person blocked the bot or the chat is gone: stop trying that chat."""


class ChannelSender(Protocol):
    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[tuple[str, str]]],
        edit_message_id: str | None,
    ) -> str: ...

    async def send_file(self, chat_id: str, file: File) -> str: ...


@dataclass(frozen=True)
class Work:
    """One claimed outbox row, detached from its session, with its file if it has one."""

    message_id: int
    channel: ChatChannel
    chat_id: str
    text: str
    buttons: list[list[tuple[str, str]]]
    edit_message_id: str | None
    attempts: int
    file: File | None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** max(attempts, 0)))


class RateLimiter:
    """Telegram's flood limits: so many messages a second overall, one a second per chat.

    Bulk sending keeps below the overall limit (default 25 of Telegram's 30) so that direct
    replies to commands, which do not pass through here, always find room.
    """

    def __init__(self, per_second: float = 25.0, per_chat_seconds: float = 1.0) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat_seconds = per_chat_seconds
        self._next = 0.0
        self._chats: dict[str, float] = {}
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 is about the whole bot: nobody sends until it has passed."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def wait(self, chat_id: str) -> None:
        now = time.monotonic()
        start = max(now, self._next, self.paused_until, self._chats.get(chat_id, 0.0))
        self._next = start + self.interval
        self._chats[chat_id] = start + self.per_chat_seconds
        if len(self._chats) > 10_000:
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        if start > now:
            await asyncio.sleep(start - now)


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
        self.senders = senders
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.wake = asyncio.Event()
        self.limiter = limiter or RateLimiter()
        self.limiters = limiters or {}
        self.gate = write_gate(sessions.kw["bind"])

    async def drain_once(self) -> int:
        """Send what is due now, a batch at a time; returns how many were sent.

        The batch goes out concurrently, each message when the flood limits allow, and the
        results are written in one transaction: a crash before it repeats at most this batch,
        the messages in flight, and loses none.
        """
        async with self.gate.bulk(), self.sessions() as session, session.begin():
            messages = await claim_due(session, self.clock.now(), self.batch)
            files = await attachments(session, {m.attachment_id for m in messages})
            work = [
                Work(
                    m.id,
                    m.channel,
                    m.chat_id,
                    m.text,
                    m.button_rows,
                    m.edit_message_id,
                    m.attempts,
                    replace(files[m.attachment_id], caption=m.text) if m.attachment_id else None,
                )
                for m in messages
                if m.channel in self.senders
            ]
        if not work:
            return 0
        results = await asyncio.gather(*(self._deliver(item) for item in work))
        now = self.clock.now()
        async with self.gate.bulk(), self.sessions() as session, session.begin():
            for item, (outcome, detail, retry) in zip(work, results, strict=True):
                message_id, attempts = item.message_id, item.attempts
                if outcome == "sent":
                    await mark_sent(session, message_id, now, detail)
                    session.add(DeliveryAttempt(outbox_id=message_id, at=now, outcome="sent"))
                    continue
                retry_at = (
                    now + retry if retry is not None and attempts + 1 < MAX_ATTEMPTS else None
                )
                if outcome == "retry" and retry_at is None:
                    outcome = "failed"
                await mark_failed(session, message_id, now, detail, retry_at=retry_at)
                session.add(
                    DeliveryAttempt(
                        outbox_id=message_id, at=now, outcome=outcome, detail=detail[:2000]
                    )
                )
                if outcome == "unreachable":
                    await session.execute(
                        update(ChatAccount)
                        .where(
                            ChatAccount.channel == item.channel, ChatAccount.chat_id == item.chat_id
                        )
                        .values(unreachable_since=now)
                    )
        return sum(1 for outcome, _, _ in results if outcome == "sent")

    async def _deliver(self, item: Work) -> tuple[str, str, timedelta | None]:
        """(outcome, detail, retry after): sent with the channel's id, or why not."""
        channel = item.channel
        limiter = self.limiters.get(channel, self.limiter)
        await limiter.wait(f"{channel.value}:{item.chat_id}")
        sender = self.senders[channel]
        try:
            if item.file is not None:
                external = await sender.send_file(item.chat_id, item.file)
            else:
                external = await sender.send(
                    item.chat_id, item.text, item.buttons, item.edit_message_id
                )
        except RetryLater as error:
            if error.seconds:
                limiter.pause(error.seconds)
            delay = timedelta(seconds=error.seconds) if error.seconds else backoff(item.attempts)
            return "retry", str(error), delay
        except Unreachable as error:
            return "unreachable", str(error), None
        except Exception as error:
            log.exception("sending outbox message %s failed", item.message_id)
            return "retry", repr(error), backoff(item.attempts)
        return "sent", external, None

    async def drain(self) -> int:
        """Send everything due now, then return (for `dondoc tick`)."""
        total = 0
        while sent := await self.drain_once():
            total += sent
        return total

    async def run(self) -> None:
        """Drain forever; sleep briefly when nothing is due, or until woken."""
        while True:
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
                sent = 0
            if not sent:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_seconds)
