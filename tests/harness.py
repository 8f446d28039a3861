"""End-to-end harness: the real PTB Application over real HTTP to the loopback sandbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.runtime import Running, start_bot
from bot.sandbox import Sandbox
from models import Official, OutboxMessage, OutboxState
from models.accounts import issue_link_code
from models.clock import FixedClock

TOKEN = "123456:TEST"
ZALO_TOKEN = "zalo-test-token"
USER_BASE = 500


@dataclass
class Bot:
    sandbox: Sandbox
    running: Running
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    ids: dict[str, int]
    settings: Settings  # as the bot runs: its channels pointed at the sandbox

    def user(self, code: str) -> int:
        return USER_BASE + self.ids[code]

    async def link(self, code: str, language: str = "vi") -> str:
        async with self.sessions() as session, session.begin():
            official = await session.scalar(select(Official).where(Official.code == code))
            link_code = await issue_link_code(session, official, self.clock.now())
        return (await self.send(code, f"/start {link_code}", language=language))[-1]

    async def settle(self) -> None:
        """Wait until the outbox sender has delivered everything queued so far."""
        await self.running.core.idle()
        for _ in range(250):
            async with self.sessions() as session:
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]))
                )
            if not waiting:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("the outbox did not drain")

    async def send(
        self,
        code: str,
        text: str | None,
        *,
        group: int | None = None,
        language: str = "vi",
        sticker: bool = False,
        expect: int = 1,
    ) -> list[str]:
        """What the person writes; returns the texts of the bot's new messages in that chat."""
        chat = group or self.user(code)
        await self.settle()
        before = len(self.sandbox.bot_messages(chat))
        await self.sandbox.say(
            self.user(code),
            text,
            chat_id=chat,
            group=group is not None,
            language=language,
            sticker=sticker,
        )
        await self.sandbox.wait_for_bot_messages(chat, before + expect)
        await self.settle()  # every part of a long reply, not just the first
        return [m.get("text", "") for m in self.sandbox.bot_messages(chat)[before:]]

    def last(self, code: str) -> dict[str, Any]:
        return self.sandbox.bot_messages(self.user(code))[-1]

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    async def press(
        self, code: str, message: dict[str, Any], label: str, *, expect: int = 1
    ) -> list[str]:
        """Tap a button; returns the new messages, or the edited one when the list was paged."""
        chat = self.user(code)
        await self.settle()
        before = len(self.sandbox.bot_messages(chat))
        text_before = message.get("text")
        await self.sandbox.press(chat, chat, message["message_id"], self.buttons(message)[label])
        for _ in range(250):
            messages = self.sandbox.bot_messages(chat)
            if expect and len(messages) >= before + expect:
                return [m.get("text", "") for m in messages[before:]]
            edited = next(m for m in messages if m["message_id"] == message["message_id"])
            if expect == 0 and edited.get("text") != text_before:
                return [edited["text"]]
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no answer to the button {label!r}")

    async def inbox(self, code: str, count: int) -> list[str]:
        """Wait until the person has `count` messages from the bot (notifications included)."""
        messages = await self.sandbox.wait_for_bot_messages(self.user(code), count)
        return [m.get("text", "") for m in messages]


@dataclass
class ZaloBot(Bot):
    """The same person-facing interface over Zalo: no buttons, the commands are typed."""

    def user(self, code: str) -> str:  # type: ignore[override]
        return f"zu{USER_BASE + self.ids[code]}"

    async def send(
        self,
        code: str,
        text: str | None,
        *,
        group: int | None = None,
        language: str = "vi",
        sticker: bool = False,
        expect: int = 1,
    ) -> list[str]:
        chat = str(group) if group else self.user(code)
        await self.settle()
        before = len(self.sandbox.zalo_bot_messages(chat))
        await self.sandbox.zalo_say(
            self.user(code), text, group=str(group) if group else None, sticker=sticker
        )
        await self.sandbox.wait_for_zalo_messages(chat, before + expect)
        await self.settle()
        return [m["text"] for m in self.sandbox.zalo_bot_messages(chat)[before:]]

    def last(self, code: str) -> dict[str, Any]:
        return self.sandbox.zalo_bot_messages(self.user(code))[-1]

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        """The typed equivalents listed under the message: `• Hoàn thành: /xong 4102`."""
        lines = message["text"].split("\n")
        marker = next(
            (i for i, line in enumerate(lines) if line in ("Trả lời nhanh:", "Reply with:")), None
        )
        if marker is None:
            return {}
        return dict(
            line[2:].rsplit(": ", 1) for line in lines[marker + 1 :] if line.startswith("• ")
        )

    async def press(
        self, code: str, message: dict[str, Any], label: str, *, expect: int = 1
    ) -> list[str]:
        return await self.send(code, self.buttons(message)[label], expect=max(expect, 1))

    async def inbox(self, code: str, count: int) -> list[str]:
        messages = await self.sandbox.wait_for_zalo_messages(self.user(code), count)
        return [m["text"] for m in messages]


async def start(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings | None = None,
    channel: str = "telegram",
    *,
    only: bool = False,
    first_retry: float = 1.0,
) -> Bot:
    """The bot against a fresh sandbox, both channels configured (`only`: just `channel`)."""
    sandbox = Sandbox(token=TOKEN, zalo_token=ZALO_TOKEN)
    await sandbox.start()
    settings = replace(
        settings or Settings(),
        telegram_token=TOKEN,
        telegram_api_url=sandbox.url,
        zalo_token=ZALO_TOKEN,
        zalo_api_url=f"{sandbox.url}/zalo",
    )
    if only:
        settings = replace(
            settings,
            **({"zalo_token": ""} if channel == "telegram" else {"telegram_token": ""}),
        )
    running = await start_bot(settings, sessions, clock, idle_seconds=0.05, first_retry=first_retry)
    await running.ready()
    async with sessions() as session:
        ids = dict((await session.execute(select(Official.code, Official.id))).tuples().all())
    kind = ZaloBot if channel == "zalo" else Bot
    return kind(sandbox, running, sessions, clock, ids, settings)


async def stop(bot: Bot) -> None:
    await bot.running.stop()
    await bot.sandbox.stop()
