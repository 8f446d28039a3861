"""The sender's pace: a channel's flood limits and the one rule that keeps them (`Limits`),
the interface the sender asks them through (`Limiter`), and their store in one process
(`RateLimiter`); on PostgreSQL with several processes `bot/flood.py` keeps the same rule
in the database."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    """A channel's flood limits: `per_second` messages in any second overall, one each
    `per_chat_seconds` per chat, and `per_group_minute` a minute in a group (a chat whose id
    is negative; 0: none). 0 lifts a limit.

    The rule both stores keep: a send holds one of `places` from when it leaves until
    `window` after it was answered, and its chat may be written to again `spacing` after
    that answer. The API saw the send somewhere in between, so however late the process or
    the network, no second the API counts can hold more than `per_second`. That is why the
    default can be Telegram's own 30 and never earn a 429; it costs the round trip (a send
    answered in 20 ms leaves room for 30 in 1.02 s). Places are handed out `interval`
    apart, a reply to a command before any push waiting for one.
    """

    per_second: float = 30.0
    per_chat_seconds: float = 1.0
    per_group_minute: int = 0

    @property
    def places(self) -> int:
        """Sends that may be on their way or answered within `window`: 30 for 30 a second,
        one for 0.25 a second (in a window of 4 s)."""
        return max(1, int(self.per_second)) if self.per_second > 0 else 0

    @property
    def window(self) -> float:
        return self.places / self.per_second if self.per_second > 0 else 0.0

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second if self.per_second > 0 else 0.0

    def place_free_at(self, answered: float) -> float:
        """When a send's place may be taken again: `window` after its answer."""
        return answered + self.window

    def spacing(self, chat_id: str, *, minute_as_spacing: bool = False) -> float:
        """How long after its send's answer a chat may be written to again. A group's minute
        is kept apart (the last `per_group_minute` sends span a minute) where the store can
        remember them; `minute_as_spacing` spreads it evenly instead (60 / per minute)."""
        if minute_as_spacing and self.per_group_minute and is_group(chat_id):
            return max(self.per_chat_seconds, 60.0 / self.per_group_minute)
        return self.per_chat_seconds


class Limiter(Protocol):
    """What the sender asks of a channel's limits, whichever store keeps them: `wait` until
    a send to `chat_id` (`channel:chat`) may leave, `done` when it was answered or failed,
    `pause` every send for a 429's `retry_after`."""

    limits: Limits

    async def wait(self, chat_id: str, *, reply: bool = False) -> None: ...

    def done(self, chat_id: str) -> None: ...

    def pause(self, seconds: float) -> None: ...

    def due_in(self, chat_id: str) -> float:
        """Seconds the chat's own limits (its spacing, its group's minute) still hold it
        back, as far as this store knows: a long one is better waited out in the outbox."""
        ...


class RateLimiter:
    """`Limits` kept by one process, in memory: the places in the second as futures handed
    out in turn, each chat's next send and each group's last minute of answers.

    A reply to a command takes the next free place before any bulk send waiting for one;
    it keeps the chat's second and the group's minute like every send.
    """

    def __init__(
        self, per_second: float = 30.0, per_chat_seconds: float = 1.0, per_group_minute: int = 0
    ) -> None:
        self.limits = Limits(per_second, per_chat_seconds, per_group_minute)
        self.interval = self.limits.interval
        self.places = self.limits.places
        self._chats: dict[str, float] = {}  # when a chat may have its next send
        self._groups: dict[str, deque[float]] = {}  # a group's sends answered in the last minute
        self._flying: dict[str, int] = {}  # a chat's sends waiting for a place or on their way
        self._holding = 0  # places taken by sends on their way
        self._freed: deque[float] = deque()  # when the places of answered sends come free
        self._queues: dict[bool, deque[asyncio.Future[None]]] = {True: deque(), False: deque()}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # Places are handed out a 1/per_second apart, not 30 at once when a second frees
        # them: a burst would leave a reply waiting for the next second.
        self._next_place = 0.0
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """A 429 is about the whole bot: nobody sends until it has passed."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def wait(self, chat_id: str, *, reply: bool = False) -> None:
        """Until `chat_id` may be sent to; call `done` when the send was answered."""
        while True:  # the chat's second and the group's minute: nobody else's business
            now = time.monotonic()
            if self._flying.get(chat_id):  # another send to the chat is ahead: after it
                await asyncio.sleep(0.05)
                continue
            start = max(self._chats.get(chat_id, 0.0), self._group_slot(chat_id))
            if start <= now:
                break
            await asyncio.sleep(start - now)
        self._flying[chat_id] = 1
        try:
            while True:
                if (pause := self.paused_until - time.monotonic()) > 0:
                    await asyncio.sleep(pause)
                await self._place(reply)
                if self.paused_until <= time.monotonic():
                    return
                self._give_back()  # a 429 came while waiting: wait for it to pass, then a place
        except BaseException:
            self._flying.pop(chat_id, None)
            raise

    async def _place(self, reply: bool) -> None:
        """A place in the second, replies served first, each kind in the order it asked."""
        if not self.places:
            return
        place = asyncio.get_running_loop().create_future()
        self._queues[reply].append(place)
        self._hand_out()
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._give_back()  # given just as it was cancelled: someone else's now
            raise

    def _give_back(self) -> None:
        if self.places:
            self._holding -= 1
            self._hand_out()

    def _hand_out(self) -> None:
        """Give the free places to the first in line, a reply before any bulk send, one an
        interval after the other; wake again when the next one is due or comes free (a send
        on its way frees one with its answer)."""
        now = time.monotonic()
        while self._freed and self._freed[0] <= now:
            self._freed.popleft()
        wake: float | None = None
        for reply in (True, False):
            queue = self._queues[reply]
            while queue and self._holding + len(self._freed) < self.places:
                if now < self._next_place:
                    wake = self._next_place
                    break
                place = queue.popleft()
                if not place.done():
                    self._holding += 1
                    self._next_place = max(self._next_place, now - self.interval) + self.interval
                    place.set_result(None)
        if not (self._queues[True] or self._queues[False]):
            return
        if self._freed:
            wake = self._freed[0] if wake is None else min(wake, self._freed[0])
        if wake is not None and (self._timer is None or wake < self._timer_at):
            if self._timer is not None:
                self._timer.cancel()
            loop = asyncio.get_running_loop()
            self._timer_at = wake
            self._timer = loop.call_at(loop.time() + max(0.0, wake - now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._hand_out()

    def done(self, chat_id: str) -> None:
        """The send to `chat_id` was answered (or failed): its chat's second, its group's
        minute and its place in the overall second count from now."""
        now = time.monotonic()
        self._flying.pop(chat_id, None)
        self._chats[chat_id] = max(
            self._chats.get(chat_id, 0.0), now + self.limits.spacing(chat_id)
        )
        if len(self._chats) > 10_000:
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        if self.places:
            self._holding -= 1
            self._freed.append(self.limits.place_free_at(now))
            self._hand_out()
        if (per_minute := self.limits.per_group_minute) and is_group(chat_id):
            sent = self._groups.setdefault(chat_id, deque())
            sent.append(now)
            while len(sent) > per_minute:
                sent.popleft()
            if len(self._groups) > 10_000:
                self._groups = {g: d for g, d in self._groups.items() if d[-1] > now - 60}

    def due_in(self, chat_id: str) -> float:
        start = max(self._chats.get(chat_id, 0.0), self._group_slot(chat_id))
        return max(0.0, start - time.monotonic())

    def _group_slot(self, chat_id: str) -> float:
        """When a group may have one more: its last `per_group_minute` answered sends must
        span a minute (one to it on its way holds the next back anyway)."""
        per_minute = self.limits.per_group_minute
        if not per_minute or not is_group(chat_id):
            return 0.0
        sent = self._groups.get(chat_id)
        if sent is None or len(sent) < per_minute:
            return 0.0
        return sent[-per_minute] + 60.0


def is_group(chat_id: str) -> bool:
    """A limiter's key is `channel:chat`; Telegram's groups and channels have negative ids."""
    return chat_id.rpartition(":")[2].startswith("-")
