"""The core's front door: an incoming message in, recorded replies out.

Finds the linked official, reads the command (or the answer to a pending question), runs
its handler in one transaction, and records every reply in the outbox before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import accounts, proposals
from handlers.commands import ALIASES, COMMANDS
from handlers.core import CoreSettings, Incoming, Later, Request
from handlers.limits import Limits
from locales import Translator, translator
from messages.reply import Reply
from models.accounts import official_for_chat
from models.arrivals import arrival
from models.attachments import File, store
from models.calendar import WorkingCalendar, load_calendar
from models.clock import Clock
from models.conversations import Conversation, close, still_open
from models.db import is_transient_conflict, write_gate
from models.outbox import Envelope, enqueue
from models.permissions import unit_parents, viewer_for

log = logging.getLogger(__name__)

# name → (handler, needs a linked account)
REFERENCE_TTL_SECONDS = 300
# A command's transaction lost to another's locks is done again, this many times more, after
# a pause of up to CONFLICT_PAUSE_SECONDS times the attempt (random: two transactions that
# collided must not meet again at the same moment).
CONFLICT_RETRIES = 3
CONFLICT_PAUSE_SECONDS = 0.05


def reply_key(incoming: Incoming, index: int) -> str:
    return f"reply:{incoming.channel.value}:update {incoming.update_id}:{index}"


def _sorry(t: Translator) -> Reply:
    """What the person reads when the failure is ours and the change was rolled back."""
    return Reply(
        t._(
            "Sorry, something went wrong on our side and nothing was changed. Please try "
            "again in a few minutes."
        )
    )


def parse_command(text: str) -> tuple[str, str] | None:
    """`/xong@dondoc_bot 4102 Đã xong` → (`xong`, `4102 Đã xong`); None for plain text."""
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    head, newline, rest = head.partition("\n")
    if newline:
        args = f"{rest} {args}".strip()
    name = head.split("@", 1)[0].lower()
    return ALIASES.get(name, name), args.strip()


class NotRecorded(Exception):
    """An update neither answered nor apologised for: nothing of it was committed."""


class _AnsweredElsewhere(Exception):
    """The same update was just answered by another process: roll this one back."""


SendNow = Callable[[list[int]], Awaitable[None]]
"""Sends replies just written (their outbox ids) through their channel's sender."""


class Core:
    """Platform-neutral: every channel adapter calls `handle` and sends nothing itself."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: CoreSettings,
        send_now: SendNow | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.gate = write_gate(sessions.kw["bind"])
        self._calendar: WorkingCalendar | None = None
        self._calendar_loaded = 0.0
        self._parents: dict[int, int | None] | None = None
        self._parents_loaded = 0.0
        self._background: set[asyncio.Task[None]] = set()
        self.limits = Limits()
        # None: the replies stay claimed in the outbox (tests of the core alone, benchmarks).
        self.send_now = send_now

    async def warm(self) -> None:
        """Pay ahead, in a worker thread, what the first command would pay on the loop: the
        public holidays' tables (the library imports every country's, about 0.2 s)."""
        await asyncio.to_thread(WorkingCalendar)

    async def calendar(self, session: AsyncSession) -> WorkingCalendar:
        """Overrides change a few times a year; reading them per message would be waste."""
        if (
            self._calendar is None
            or time.monotonic() - self._calendar_loaded > REFERENCE_TTL_SECONDS
        ):
            self._calendar = await load_calendar(session)
            self._calendar_loaded = time.monotonic()
        return self._calendar

    async def unit_parents(self, session: AsyncSession) -> dict[int, int | None]:
        """The unit tree changes with an import, rarely; kept like the calendar."""
        if self._parents is None or time.monotonic() - self._parents_loaded > REFERENCE_TTL_SECONDS:
            self._parents = await unit_parents(session)
            self._parents_loaded = time.monotonic()
        return self._parents

    async def handle(self, incoming: Incoming) -> list[int]:
        """Answer one message: the change and its replies are committed together, then the
        replies are sent at once; returns their outbox ids."""
        try:
            replies = await self.record(incoming)
        except NotRecorded:
            return []
        await self.send(replies)
        return replies

    async def record(self, incoming: Incoming) -> list[int]:
        """Make the change and write its replies, committed together (or the apology for
        our failure); returns the replies' outbox ids, [] for an update answered before.
        Raises NotRecorded when nothing could be committed (the database is away): the
        update must be delivered again."""
        try:
            return await self._handle(incoming)
        except Exception:
            log.exception("failed to handle %s", incoming)
            return await self._apologise(incoming)

    async def send(self, replies: list[int]) -> None:
        """Send replies just recorded, through their channel's sender."""
        if replies and self.send_now is not None:
            try:
                await self.send_now(replies)
            except Exception:  # recorded and claimed: the outbox sends them after the timeout
                log.exception("sending the replies %s failed", replies)

    async def _handle(self, incoming: Incoming) -> list[int]:
        """`_handle_once`, again when it lost to another transaction's locks (a deadlock with
        an import or another process). Safe to repeat: nothing of the failed attempt was
        committed, its replies included, so the next reads the update as unanswered and
        makes the change and writes the replies, under the same keys, once."""
        attempt = 0
        while True:
            try:
                return await self._handle_once(incoming)
            except _AnsweredElsewhere:
                return []
            except DBAPIError as error:
                attempt += 1
                if attempt > CONFLICT_RETRIES or not is_transient_conflict(error):
                    raise
                log.warning("%s lost to another transaction, trying again: %s", incoming, error)
                await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE_SECONDS * attempt))

    async def _handle_once(self, incoming: Incoming) -> list[int]:
        async with self.gate.urgent(), self.sessions() as session, session.begin():
            now = self.clock.now()
            came = await arrival(
                session,
                incoming.channel,
                incoming.chat_id,
                incoming.user_id,
                reply_key(incoming, 0),
            )
            if came.answered:
                # The same update came twice (a webhook retry, a repeated poll): answered already,
                # and its change made; doing it again would record a blocker twice.
                return []
            official = came.official
            request = Request(
                session=session,
                incoming=incoming,
                official=official,
                viewer=viewer_for(official, await self.unit_parents(session)) if official else None,
                t=translator(official.language if official else incoming.language),
                now=now,
                calendar=await self.calendar(session),
                settings=self.settings,
                limits=self.limits,
            )
            ids = []
            for index, reply in enumerate(await self._dispatch(request, came.conversation)):
                outbox_id = await enqueue(session, _envelope(request, index, reply), now)
                if outbox_id is None:
                    # The same update came twice at the same moment (a balancer's retry):
                    # the other has committed its change; this one's must not be kept.
                    raise _AnsweredElsewhere
                ids.append(outbox_id)
        for work in request.later:
            self._start_later(incoming, official.id if official else None, request.t, work)
        return ids

    async def _apologise(self, incoming: Incoming) -> list[int]:
        """Our failure, the change rolled back: say so, through the outbox like any reply."""
        try:
            async with self.gate.urgent(), self.sessions() as session, session.begin():
                official = await official_for_chat(session, incoming.channel, incoming.user_id)
                t = translator(official.language if official else incoming.language)
                envelope = Envelope(
                    key=reply_key(incoming, 0),
                    channel=incoming.channel,
                    chat_id=incoming.chat_id,
                    text=_sorry(t).text,
                    language=t.language,
                    official_id=official.id if official else None,
                    reply=True,
                )
                outbox_id = await enqueue(session, envelope, self.clock.now())
        except Exception as error:  # the database itself may be what failed: nothing to write to
            log.exception("could not queue the apology for %s", incoming)
            raise NotRecorded(str(incoming)) from error
        return [outbox_id] if outbox_id is not None else []

    async def _dispatch(self, req: Request, pending: Conversation | None) -> list[Reply]:
        """`pending`: the question waiting in this chat, as read with the rest on arrival."""
        t, incoming = req.t, req.incoming
        if incoming.opened:
            return await accounts.opened(req)
        if incoming.file is not None:
            return await self._file(req, pending)
        text = (incoming.button or incoming.text or "").strip()
        if not text:
            return [
                Reply(t._("The bot reads text messages only. Send /trogiup to see the commands."))
            ]
        parsed = parse_command(text)
        continuing = False
        if parsed is None:
            conversation = await still_open(req.session, pending, req.now)
            if conversation is None:
                return [
                    Reply(
                        t._(
                            "I did not understand that. Send /viec to see your tasks or "
                            "/trogiup for the commands."
                        )
                    )
                ]
            parsed = (conversation.flow, f"{conversation.values['args']} {text}".strip())
            continuing = True
        name, args = parsed
        if name not in COMMANDS:
            return [
                Reply(
                    t._(
                        "There is no command /{name}. Send /trogiup to see the commands.",
                        name=name[:32],
                    )
                )
            ]
        if name != "huy" and not continuing:
            # A new command replaces any question still waiting for an answer.
            await close(req.session, pending)
        handler, needs_link = COMMANDS[name]
        if req.official is not None and not req.official.active and not (name == "start" and args):
            return [
                Reply(
                    t._(
                        "Your account is no longer active in the register, so the bot does not "
                        "serve it. If this is a mistake, please contact the Office of the "
                        "People's Committee."
                    ),
                    refused=True,
                )
            ]
        if needs_link and req.official is None:
            return [
                Reply(
                    t._(
                        "This account is not linked yet. Ask the Office of the People's Committee for "
                        "a link code, then send: /start <code>"
                    )
                )
            ]
        req.command, req.args, req.from_button = name, args, incoming.button is not None
        replies = await handler(req)
        if continuing and not req.asked and not all(r.refused for r in replies):
            # Answered: the question is closed. A correctable mistake keeps it open.
            await close(req.session, pending)
        return replies

    async def _file(self, req: Request, pending: Conversation | None) -> list[Reply]:
        """A document sent to the bot: a notice for the task force to read into tasks."""
        t = req.t
        if req.official is None or not req.official.active:
            return [
                Reply(
                    t._(
                        "This account is not linked yet. Ask the Office of the People's Committee for "
                        "a link code, then send: /start <code>"
                    )
                )
            ]
        await close(req.session, pending)
        req.command = "file"
        return await proposals.received(req)

    def _start_later(
        self, incoming: Incoming, official_id: int | None, t: Translator, work: Later
    ) -> None:
        task = asyncio.create_task(self._later(incoming, official_id, t, work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _later(
        self, incoming: Incoming, official_id: int | None, t: Translator, work: Later
    ) -> None:
        """Run a command's slow part and send what it made, as replies in the same chat."""
        try:
            async with self.sessions() as session:
                outputs = await work(session)
        except Exception:
            log.exception("the slow part of %s failed", incoming)
            outputs = [_sorry(t)]
        now = self.clock.now()
        ids = []
        async with self.gate.urgent(), self.sessions() as session, session.begin():
            for index, output in enumerate(outputs):
                key = f"{reply_key(incoming, 0)}:later {index}"
                if isinstance(output, File):  # the caption goes with the stored file
                    text, buttons = output.caption, []
                    attachment_id: int | None = output.id
                    if attachment_id is None:  # not stored yet (a kept report's files are)
                        attachment_id = await store(session, key, output, now)
                else:
                    text, buttons, attachment_id = output.text, output.button_rows, None
                envelope = Envelope(
                    key=key,
                    channel=incoming.channel,
                    chat_id=incoming.chat_id,
                    text=text,
                    buttons=buttons,
                    language=t.language,
                    official_id=official_id,
                    reply=True,
                    attachment_id=attachment_id,
                )
                if (outbox_id := await enqueue(session, envelope, now)) is not None:
                    ids.append(outbox_id)
        if ids and self.send_now is not None:
            await self.send_now(ids)

    async def idle(self) -> None:
        """Wait for the slow parts still running (tests, and a clean shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _envelope(request: Request, index: int, reply: Reply) -> Envelope:
    incoming = request.incoming
    return Envelope(
        key=reply_key(incoming, index),
        channel=incoming.channel,
        chat_id=incoming.chat_id,
        text=reply.text,
        buttons=reply.button_rows,
        language=request.t.language,
        official_id=request.official.id if request.official else None,
        reply=True,
        edit_message_id=incoming.message_id if reply.edit else None,
    )
