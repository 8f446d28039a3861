"""The sender's pace: a channel's flood limits kept by one process (`RateLimiter`); on
PostgreSQL with several processes `bot/flood.py` shares one budget through the database."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class RateLimiter:
    """Telegram's flood limits: so many messages a second overall, one a second per chat, and
    `per_group_minute` a minute in a group (a chat whose id is negative; 0: no such limit).

    Bulk sending keeps below the overall limit (default 25 of Telegram's 30); a reply to a
    command goes at once (only its chat's last second, a 429 or a group's minute hold it
    back) and takes the next slot from bulk. A chat's spacing counts from when its last send was answered (`done`),
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
        self._left: deque[float] = deque()  # when the sends of the last second left
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 is about the whole bot: nobody sends until it has passed."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        """Until `chat_id` may be sent to; call `done` when the send was answered."""
        while True:
            now = time.monotonic()
            # Telegram's second per chat holds for a reply too; a quiet chat's goes at once.
            start = max(
                now, self.paused_until, self._group_slot(chat_id), self._chats.get(chat_id, 0.0)
            )
            if not reply:  # the person is waiting for a reply: it goes before bulk
                start = max(start, self._next)
            # A reply still counts against the overall limit: bulk sending moves up a slot.
            self._next = max(self._next, start) + self.interval
            self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), start + self.per_chat_seconds)
            if len(self._chats) > 10_000:
                self._chats = {c: t for c, t in self._chats.items() if t > now}
            if start > now:
                await asyncio.sleep(start - now)
            if self.paused_until > time.monotonic():
                continue  # a 429 came while waiting: wait for it to pass, then a new slot
            # Woken late (the process was busy), slots reserved meanwhile would all go at
            # once: bulk also keeps to the limit over the last second of real sends.
            late = 0.0 if reply else self._second_full()
            if late <= 0:
                break
            await asyncio.sleep(late)
        self._flying[chat_id] = self._flying.get(chat_id, 0) + 1
        if self.interval:
            self._left.append(time.monotonic())

    def _second_full(self) -> float:
        """How long until the sends of the last second leave room for one more (0: now)."""
        if not self.interval:
            return 0.0
        now = time.monotonic()
        while self._left and self._left[0] <= now - 1.0:
            self._left.popleft()
        if len(self._left) < round(1.0 / self.interval):
            return 0.0
        return self._left[0] + 1.0 - now

    def done(self, chat_id: str) -> None:
        """The send to `chat_id` was answered (or failed): its chat's spacing counts from now."""
        now = time.monotonic()
        flying = self._flying.get(chat_id, 1) - 1
        if flying > 0:
            self._flying[chat_id] = flying
        else:
            self._flying.pop(chat_id, None)
        self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), now + self.per_chat_seconds)
        if self.per_group_minute and is_group(chat_id):
            sent = self._groups.setdefault(chat_id, deque())
            sent.append(now)
            while len(sent) > self.per_group_minute:
                sent.popleft()
            if len(self._groups) > 10_000:
                self._groups = {g: d for g, d in self._groups.items() if d[-1] > now - 60}

    def _group_slot(self, chat_id: str) -> float:
        """When a group may have one more: its last `per_group_minute` answered sends and those
        on their way (each seen by the API no later than answered) must span a minute."""
        if not self.per_group_minute or not is_group(chat_id):
            return 0.0
        sent = self._groups.get(chat_id)
        need = self.per_group_minute - self._flying.get(chat_id, 0)
        if need <= 0:  # a minute's worth on their way at once: wait that minute out
            return time.monotonic() + 60.0
        if sent is None or len(sent) < need:
            return 0.0
        return sent[-need] + 60.0


def is_group(chat_id: str) -> bool:
    """A limiter's key is `channel:chat`; Telegram's groups and channels have negative ids."""
    return chat_id.rpartition(":")[2].startswith("-")
