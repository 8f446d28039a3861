"""A simulated stretch of days: ticks through the jobs and delivers to the loopback Bot API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.delivery import OutboxSender
from bot.pacing import RateLimiter
from bot.sandbox import Sandbox
from bot.telegram import TelegramSender
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models.accounts import ChatAccount, ChatChannel
from models.clock import FixedClock
from tests.city import City

TOKEN = "123456:JOBS"
# Before work, the start of work, the digest, the urging, the reports, midday, after work, night.
TICKS = tuple(
    time.fromisoformat(t)
    for t in ("06:00", "07:30", "08:00", "08:30", "09:00", "12:00", "17:30", "22:00")
)
CHAT_BASE = 900


@dataclass
class Received:
    at: datetime
    code: str
    text: str
    buttons: list[str]


@dataclass(frozen=True)
class Attachment:
    """A photo or document the bot uploaded: who got it, and its bytes."""

    at: datetime
    code: str
    method: str
    filename: str
    content: bytes
    caption: str


@dataclass
class Simulation:
    sessions: async_sessionmaker[AsyncSession]
    sandbox: Sandbox
    bot: Bot
    city: City
    cadence: Cadence = field(default_factory=Cadence)
    received: list[Received] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    _seen: int = 0
    _files_seen: int = 0

    def chat(self, code: str) -> str:
        return str(CHAT_BASE + self.city.officials[code].id)

    async def link(self, *codes: str) -> None:
        async with self.sessions() as session, session.begin():
            for code in codes:
                session.add(
                    ChatAccount(
                        channel=ChatChannel.TELEGRAM,
                        external_user_id=self.chat(code),
                        chat_id=self.chat(code),
                        official_id=self.city.officials[code].id,
                        linked_at=datetime(2026, 11, 1, tzinfo=TIMEZONE),
                    )
                )

    async def tick(self, moment: datetime) -> dict[str, int]:
        counts = await run_due(self.sessions, moment, self.cadence)
        sender = OutboxSender(
            self.sessions,
            FixedClock(moment),
            {ChatChannel.TELEGRAM: TelegramSender(self.bot)},
            limiter=RateLimiter(per_second=0, per_chat_seconds=0),
        )
        await sender.drain()
        codes = {self.chat(c): c for c in self.city.officials}
        calls = [c for c in self.sandbox.calls if c[0] == "sendMessage"]
        for _, params in calls[self._seen :]:
            markup = params.get("reply_markup")
            rows = json.loads(markup)["inline_keyboard"] if markup else []
            self.received.append(
                Received(
                    moment,
                    codes[str(params["chat_id"])],
                    params["text"],
                    [b["text"] for row in rows for b in row],
                )
            )
        self._seen = len(calls)
        uploads = [c for c in self.sandbox.calls if c[0] in ("sendPhoto", "sendDocument")]
        for method, params in uploads[self._files_seen :]:
            self.files.append(
                Attachment(
                    moment,
                    codes[str(params["chat_id"])],
                    method,
                    params["_filename"],
                    params["_content"],
                    params.get("caption", ""),
                )
            )
        self._files_seen = len(uploads)
        return counts

    async def run(self, start: date, end: date, times: tuple[time, ...] = TICKS) -> None:
        """Tick at the moments that matter each day, from `start` to `end` inclusive."""
        day = start
        while day <= end:
            for at in times:
                await self.tick(datetime.combine(day, at, tzinfo=TIMEZONE))
            day += timedelta(days=1)

    def log(self) -> list[tuple[str, str, str]]:
        """(when, who, first line) of everything received, for comparing with the plan."""
        return [
            (r.at.strftime("%a %d/%m %H:%M"), r.code, r.text.split("\n")[0]) for r in self.received
        ]
