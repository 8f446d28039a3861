"""End-to-end harness: the real bot over real HTTP, as a person in their chat app sees it.

Telegram and Zalo are the loopback fakes in bot/sandbox/; Matrix is a real Synapse
(tests/synapse.py). Each channel's harness has the same person-facing interface: `link`,
`send`, `press`, `inbox`, `last`, `buttons`, `settle`, `user`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.constants import MessageLimit

from bot import zalo
from bot.config import Settings
from bot.matrix import MAX_TEXT as MATRIX_MAX_TEXT
from bot.runtime import Running, start_bot
from bot.sandbox import Sandbox
from models import Official, OutboxMessage, OutboxState
from models.accounts import ChatChannel, issue_link_code
from models.clock import FixedClock
from tests.synapse import Account, Homeserver, Person

TOKEN = "123456:TEST"
ZALO_TOKEN = "zalo-test-token"
USER_BASE = 500


@dataclass
class Harness:
    """What every channel's harness shares: the running bot and the database."""

    running: Running
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    ids: dict[str, int]
    settings: Settings  # as the bot runs: its channels pointed at the fakes or the homeserver

    channel: ClassVar[ChatChannel]
    max_text: ClassVar[int]  # the longest message the channel takes

    async def send(self, code: str, text: str | None, **options: Any) -> list[str]:
        raise NotImplementedError

    async def link(self, code: str, language: str = "vi") -> str:
        async with self.sessions() as session, session.begin():
            official = await session.scalar(select(Official).where(Official.code == code))
            link_code = await issue_link_code(session, official, self.clock.now())
        return (await self.send(code, f"/start {link_code}", language=language))[-1]

    async def settle(self) -> None:
        """Wait until the outbox sender has delivered everything queued so far (a generous
        bound: each chat's messages go a second apart, counted from the last answer)."""
        await self.running.core.idle()
        for _ in range(1500):
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

    async def close(self) -> None:
        await self.running.stop()


def typed_buttons(text: str) -> dict[str, str]:
    """The typed equivalents listed under a message (Zalo, Matrix): `• Hoàn thành: /xong 4102`."""
    lines = text.split("\n")
    marker = next(
        (i for i, line in enumerate(lines) if line in ("Trả lời nhanh:", "Reply with:")), None
    )
    if marker is None:
        return {}
    return dict(line[2:].rsplit(": ", 1) for line in lines[marker + 1 :] if line.startswith("• "))


@dataclass
class Bot(Harness):
    """Telegram, through the loopback fake Bot API."""

    sandbox: Sandbox = field(kw_only=True)

    channel: ClassVar[ChatChannel] = ChatChannel.TELEGRAM
    max_text: ClassVar[int] = MessageLimit.MAX_TEXT_LENGTH

    def user(self, code: str) -> int:
        return USER_BASE + self.ids[code]

    async def send(  # type: ignore[override]
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
        for _ in range(750):  # 15 s, as the sandbox waits for messages
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

    async def close(self) -> None:
        await self.running.stop()
        await self.sandbox.stop()


@dataclass
class ZaloBot(Bot):
    """The same person-facing interface over Zalo: no buttons, the commands are typed."""

    channel: ClassVar[ChatChannel] = ChatChannel.ZALO
    max_text: ClassVar[int] = zalo.MAX_TEXT

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
        return typed_buttons(message["text"])

    async def press(
        self, code: str, message: dict[str, Any], label: str, *, expect: int = 1
    ) -> list[str]:
        return await self.send(code, self.buttons(message)[label], expect=max(expect, 1))

    async def inbox(self, code: str, count: int) -> list[str]:
        messages = await self.sandbox.wait_for_zalo_messages(self.user(code), count)
        return [m["text"] for m in messages]


@dataclass
class MatrixBot(Harness):
    """The same interface over Matrix: a real Synapse, each official a user of their own
    writing in a direct chat with the bot; buttons are typed commands, as on Zalo."""

    homeserver: Homeserver = field(kw_only=True)
    account: Account = field(kw_only=True)  # the bot's
    people: dict[str, Person] = field(default_factory=dict, kw_only=True)
    rooms: dict[str | int, str] = field(default_factory=dict, kw_only=True)
    members: set[tuple[str, int]] = field(default_factory=set, kw_only=True)
    # What each person last read from the bot: `last` is synchronous, as on the fakes.
    read: dict[str, list[dict[str, Any]]] = field(default_factory=dict, kw_only=True)

    channel: ClassVar[ChatChannel] = ChatChannel.MATRIX
    max_text: ClassVar[int] = MATRIX_MAX_TEXT

    def person(self, code: str) -> Person:
        if code not in self.people:
            account = self.homeserver.user(code.lower().replace("-", ""))
            self.people[code] = Person(self.homeserver, account)
        return self.people[code]

    def user(self, code: str) -> str:  # type: ignore[override]
        return self.person(code).user_id

    async def room(self, code: str, group: int | None = None) -> str:
        """The person's direct chat with the bot, or the group room, made on first use."""
        person, bot = self.person(code), self.account.user_id
        if group is None:
            if code not in self.rooms:
                self.rooms[code] = await person.start_chat(bot)
            return self.rooms[code]
        if group not in self.rooms:
            # Someone else's room, so that it is a group whoever of the test writes in it.
            self.rooms[group] = await self.person(f"host{group}").create_group(bot)
        if (code, group) not in self.members:
            await person.join(self.rooms[group])
            self.members.add((code, group))
        return self.rooms[group]

    async def send(  # type: ignore[override]
        self,
        code: str,
        text: str | None,
        *,
        group: int | None = None,
        language: str = "vi",  # a Matrix client sends no language: the bot's default
        sticker: bool = False,
        expect: int = 1,
    ) -> list[str]:
        person, room = self.person(code), await self.room(code, group)
        await self.settle()
        before = len(await person.from_bot(room, self.account.user_id))
        if sticker:
            await person.sticker(room)
        else:
            assert text is not None
            await person.say(room, text)
        await person.wait_from_bot(room, self.account.user_id, before + expect)
        await self.settle()  # every part of a long reply, not just the first
        found = await self._read(code, room)
        return [str(c["body"]) for c in found[before:]]

    async def _read(self, code: str, room: str) -> list[dict[str, Any]]:
        found = await self.person(code).from_bot(room, self.account.user_id)
        self.read[code] = [{**c, "text": c["body"]} for c in found]
        return found

    def last(self, code: str) -> dict[str, Any]:
        return self.read[code][-1]

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        return typed_buttons(message["text"])

    async def press(
        self, code: str, message: dict[str, Any], label: str, *, expect: int = 1
    ) -> list[str]:
        return await self.send(code, self.buttons(message)[label], expect=max(expect, 1))

    async def inbox(self, code: str, count: int) -> list[str]:
        room = await self.room(code)
        await self.person(code).wait_from_bot(room, self.account.user_id, count)
        return [str(c["body"]) for c in await self._read(code, room)]

    async def close(self) -> None:
        await self.running.stop()
        for person in self.people.values():
            await person.close()


async def start_matrix(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    homeserver: Homeserver,
    settings: Settings | None = None,
) -> MatrixBot:
    """The bot with Matrix only, as a fresh account on the session's homeserver."""
    account = homeserver.register("dondoc")
    settings = replace(
        settings or Settings(),
        matrix_homeserver=homeserver.url,
        matrix_user=account.user_id,
        matrix_password=account.password,
        matrix_send_per_second=0,
        matrix_send_per_chat_seconds=0.1,  # one room's messages in order, quickly
    )
    running = await start_bot(settings, sessions, clock, idle_seconds=0.05)
    await running.ready()
    return MatrixBot(
        running,
        sessions,
        clock,
        await _official_ids(sessions),
        settings,
        homeserver=homeserver,
        account=account,
    )


async def start(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings | None = None,
    channel: str = "telegram",
    *,
    only: bool = False,
    first_retry: float = 1.0,
    homeserver: Homeserver | None = None,
) -> Harness:
    """The bot against a fresh sandbox, both channels configured (`only`: just `channel`);
    for "matrix", against `homeserver` with Matrix only."""
    if channel == "matrix":
        assert homeserver is not None
        return await start_matrix(sessions, clock, homeserver, settings)
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
    kind = ZaloBot if channel == "zalo" else Bot
    return kind(running, sessions, clock, await _official_ids(sessions), settings, sandbox=sandbox)


async def _official_ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return dict((await session.execute(select(Official.code, Official.id))).tuples().all())


async def stop(bot: Harness) -> None:
    await bot.close()
