"""What a fake Bot API does to the bot's sends when asked: Telegram's flood limits, and faults.

Both are off unless a test or a bench turns them on, so the demo and the tests see a fake
that accepts every send at once.

Flood limits (Telegram's published ones): 30 messages a second overall, one a second in a
chat, 20 a minute in a group (a chat whose id is negative). A send over a limit is answered
429 with the `retry_after` that would have kept it within, and counted as *our pacing's*
429: the sender should never earn one. So is a send that comes while an earlier 429's
`retry_after` has not passed (after a short grace for the sends already on their way).

Faults, each with a probability per send: 429 with `retry_after`, 500, a connection reset
before the message is accepted, and a response lost after it was accepted (the message is
kept; the connection drops before the answer, so the bot cannot know it went).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass

# A refusal: HTTP status, description, retry_after (the fake API answers it as a Failure).
Refusal = tuple[int, str, int | None]


class Dropped(Exception):
    """Answer nothing: the connection is reset (the message may or may not have been kept)."""


@dataclass(frozen=True)
class Faults:
    """How often a send fails, and how."""

    too_many: float = 0.0  # 429 with retry_after
    server_error: float = 0.0  # 500
    lost: float = 0.0  # accepted and kept, then the connection drops before the answer
    reset: float = 0.0  # the connection resets before the message is accepted
    retry_after: int = 1
    seed: int | None = None


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's limits; `jitter` forgives arrivals a little early (the network's variance)."""

    per_second: int = 30
    per_chat_seconds: float = 1.0
    per_group_minute: int = 20
    jitter: float = 0.05
    grace: float = 0.2  # sends already on their way when a 429 was answered


# What the counters are called: pacing_* are 429s our sender earned; the rest were injected.
PACING = ("pacing_overall", "pacing_chat", "pacing_group", "pacing_retry_after")


class Traffic:
    """Applies the limits and faults to one fake API's sends, and counts what it did."""

    def __init__(self, faults: Faults | None = None, limits: FloodLimits | None = None) -> None:
        self.faults = faults
        self.limits = limits
        self.counts: Counter[str] = Counter()
        self.late: list[float] = []  # how long after a 429 each send that ignored it came
        self.times: list[float] = []  # when each send was accepted, under limits (a bench's rate)
        self.first_to: dict[str, float] = {}  # when a chat's first send was accepted, likewise
        self._random = random.Random(faults.seed if faults else None)
        self._sent: deque[float] = deque()  # accepted sends in the last second
        self._chats: dict[str, float] = {}  # a chat's last accepted send
        self._groups: dict[str, deque[float]] = {}  # a group's sends in the last minute
        self._blocked_until = 0.0  # the last 429's retry_after
        self._blocked_from = 0.0

    @property
    def active(self) -> bool:
        return self.faults is not None or self.limits is not None

    @property
    def pacing_429s(self) -> int:
        return sum(self.counts[name] for name in PACING)

    def admit(self, chat_id: str) -> Refusal | None:
        """Before a send is handled: a 429 for going too fast, or an injected fault, or None.

        Raises `Dropped` for a connection reset (nothing kept)."""
        now = time.monotonic()
        if self.limits is not None:
            refusal = self._pace(chat_id, now)
            if refusal is not None:
                return refusal
        faults = self.faults
        if faults is None:
            return None
        roll = self._random.random()
        if roll < faults.too_many:
            self.counts["injected_429"] += 1
            return self._too_many(faults.retry_after, now)
        roll -= faults.too_many
        if roll < faults.server_error:
            self.counts["injected_500"] += 1
            return 500, "Internal Server Error", None
        roll -= faults.server_error
        if roll < faults.reset:
            self.counts["reset"] += 1
            raise Dropped
        return None

    def accepted(self, chat_id: str) -> None:
        """A send was kept. Raises `Dropped` when its answer is to be lost."""
        self.counts["accepted"] += 1
        if self.limits is not None:
            now = time.monotonic()
            self.times.append(now)
            self.first_to.setdefault(chat_id, now)
            self._sent.append(now)
            self._chats[chat_id] = now
            if chat_id.startswith("-"):
                self._groups.setdefault(chat_id, deque()).append(now)
        if self.faults is not None and self._random.random() < self.faults.lost:
            self.counts["lost"] += 1
            raise Dropped

    def _pace(self, chat_id: str, now: float) -> Refusal | None:
        limits = self.limits
        assert limits is not None
        if self._blocked_from + limits.grace <= now < self._blocked_until - limits.jitter:
            self.counts["pacing_retry_after"] += 1
            self.late.append(now - self._blocked_from)
            return self._too_many(self._blocked_until - now, now)
        window = 1.0 - limits.jitter
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        if len(self._sent) >= limits.per_second:
            self.counts["pacing_overall"] += 1
            return self._too_many(self._sent[0] + window - now, now)
        last = self._chats.get(chat_id)
        if last is not None and now - last < limits.per_chat_seconds - limits.jitter:
            self.counts["pacing_chat"] += 1
            return self._too_many(last + limits.per_chat_seconds - now, now)
        group = self._groups.get(chat_id)
        if group is not None:
            minute = 60.0 - limits.jitter
            while group and group[0] <= now - minute:
                group.popleft()
            if len(group) >= limits.per_group_minute:
                self.counts["pacing_group"] += 1
                return self._too_many(group[0] + minute - now, now)
        return None

    def _too_many(self, seconds: float, now: float) -> Refusal:
        retry_after = max(1, math.ceil(seconds))
        self._blocked_from = now
        self._blocked_until = max(self._blocked_until, now + retry_after)
        return 429, f"Too Many Requests: retry after {retry_after}", retry_after
