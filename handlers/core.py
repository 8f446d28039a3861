"""The core's message types and the request a handler receives: no chat platform in sight."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.limits import Limits
from locales import Translator
from messages.reply import Reply
from models.accounts import ChatChannel
from models.attachments import File
from models.calendar import WorkingCalendar, next_working_moment
from models.clock import local_date
from models.conversations import ask
from models.nagging import Nagging
from models.notices import Message, Notifier, Outgoing
from models.organization import Official
from models.outbox import Priority
from models.permissions import Viewer
from models.scoring import Formula
from models.status import StatusWindow
from models.task_changes import Actor
from models.tasks import Channel

MAX_NOTE = 1000


@dataclass(frozen=True)
class SentFile:
    """A file a person sent: its name, and its bytes unless the channel would not hand over a
    file that large."""

    name: str
    data: bytes | None
    size: int


@dataclass(frozen=True)
class Incoming:
    """One message or button press, whichever channel it came from."""

    channel: ChatChannel
    chat_id: str
    user_id: str
    update_id: str
    text: str | None = None
    button: str | None = None
    message_id: str | None = None  # the bot's message a button was pressed on
    is_group: bool = False
    language: str | None = None  # the chat client's language, for people not yet linked
    opened: bool = False  # not a message: the person opened a direct chat with the bot
    file: SentFile | None = None  # a document sent to the bot (a notice to read)

    def __repr__(self) -> str:
        """For the logs: which update, chat, person and command, never what was written
        (a `/start` carries a link code)."""
        return (
            f"<{self.channel.value} update {self.update_id} chat {self.chat_id} "
            f"user {self.user_id} {self.command_name}>"
        )

    @property
    def command_name(self) -> str:
        """`/start` of `/start ABC…`; `text` for a message that is no command."""
        text = (self.button or self.text or "").strip()
        if self.file is not None:
            return "file"
        if not text.startswith("/"):
            return "text" if text else "no text"
        head = text[1:].split(maxsplit=1)[0].split("@", 1)[0] if len(text) > 1 else ""
        return "/" + "".join(c for c in head if c.isascii() and c.isalnum())[:32]


Later = Callable[[AsyncSession], Awaitable[list["Reply | File"]]]
"""Work a command leaves for after its reply, in its own session: a report that takes
seconds to build must not hold the write lock or the person's chat meanwhile."""


@dataclass(frozen=True)
class CoreSettings:
    due_soon_days: int = 3
    upcoming_days: int = 7
    # How far ahead an extension may reach, counted from today (DONDOC_EXTENSION_HORIZON_DAYS).
    extension_horizon_days: int = 730
    nagging: Nagging = field(default_factory=Nagging)  # silence, risk, explanations
    work_start: time = time(7, 30)  # messages to officials wait for working hours
    work_end: time = time(17, 0)
    # The published scoring formula (DONDOC_SCORING_FILE) for /xephang and the reports.
    formula: Formula = field(default_factory=Formula.load)
    # (chat account id, official id) → (signed dashboard link, when it expires); None when
    # the web server is not configured.
    dashboard_link: Callable[[int, int], tuple[str, datetime]] | None = None


@dataclass
class Request:
    """Everything one handler call needs: who asks, what, when, and the open session."""

    session: AsyncSession
    incoming: Incoming
    official: Official | None
    viewer: Viewer | None
    t: Translator
    now: datetime
    calendar: WorkingCalendar
    settings: CoreSettings
    command: str = ""
    args: str = ""
    from_button: bool = False
    asked: bool = False  # the handler asked a question and waits for the answer
    later: list[Later] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)  # the core's, shared by every request

    @property
    def today(self) -> date:
        return local_date(self.now)

    @property
    def window(self) -> StatusWindow:
        return StatusWindow.at(self.today, self.calendar, self.settings.due_soon_days)

    @property
    def actor(self) -> Actor:
        return Actor(self.official, Channel(self.incoming.channel.value), self.now)

    @property
    def me(self) -> Viewer:
        """The linked official; handlers that need one are only reached when there is one."""
        assert self.viewer is not None
        return self.viewer

    @property
    def for_officials(self) -> datetime:
        """Now in office hours, else the next working morning."""
        return next_working_moment(
            self.now, self.calendar, self.settings.work_start, self.settings.work_end
        )

    async def ask(self, command: str, args: str) -> None:
        """Wait for the rest of `command args …` in the person's next message."""
        incoming = self.incoming
        self.asked = True
        await ask(
            self.session,
            incoming.channel,
            incoming.chat_id,
            incoming.user_id,
            flow=command,
            step="args",
            values={"args": args},
            now=self.now,
        )

    async def notify(
        self,
        recipients: Iterable[Official],
        key: str,
        build: Callable[[Translator], Reply],
        priority: int = Priority.ALERT,
        not_before: datetime | None = None,
    ) -> int:
        """Queue a message to each recipient's linked chats, in each one's own language."""

        def message(t: Translator) -> Message:
            reply = build(t)
            return Message(reply.text, reply.button_rows)

        people = {o.id: o for o in recipients}
        items = [Outgoing(f"{key}:to {o.id}", o, message) for o in people.values()]
        return await Notifier(self.session, self.now).send(
            items, priority=priority, not_before=not_before
        )


Handler = Callable[[Request], Awaitable[list[Reply]]]
