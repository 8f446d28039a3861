"""Notices: one thing the system tells people (a reminder, an alert, a digest), sent once.

A notice has a key that names it (`remind:task 123:deadline 2026-11-30:T-3`). Its ledger row
is written with its outbox rows, in one transaction, so a job that runs again — after a
restart, a second `tick` at the same moment, or on another process — finds it and sends
nothing twice. The outbox rows carry the same key plus the recipient and chat.

A `…:done` row says that every notice under a key is queued — all recipients of a task's
alert, or a whole weekly job — so a later sweep passes it over in one look-up instead of
building the messages again to find their keys taken. It is written only after them: a job
interrupted half-way has none, and the next sweep finishes it, the keys keeping it from
repeating what was queued.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    exists,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from locales import Translator, translator
from models.accounts import ChatAccount, ChatChannel, chosen_channels
from models.base import Base, UTCDateTime
from models.db import write_gate
from models.organization import Official
from models.outbox import Envelope, enqueue_many, pieces, record_notices

Buttons = list[list[tuple[str, str]]]
# Messages built between two turns of the event loop while a job queues: a few milliseconds.
BUILDS_PER_BREATH = 8


class Notice(Base):
    __tablename__ = "notices"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def done(key: str) -> str:
    return f"{key}:done"


def task_notice(kind: str, task_id: int, deadline: date, detail: str = "") -> str:
    """The key of a task's notice of `kind` under its deadline: `overdue:task 7:deadline …`."""
    return f"{kind}:task {task_id}:deadline {deadline.isoformat()}" + (
        f":{detail}" if detail else ""
    )


def task_notice_not_done(
    kind: str, task_id: ColumnElement, deadline: ColumnElement, detail: ColumnElement | None = None
) -> ColumnElement[bool]:
    """SQL: no `done` row for this task's notice — `task_notice` spelt in SQL, for the jobs'
    queries to pass over what a sweep has finished (dates are ISO text on both databases)."""
    key = literal(f"{kind}:task ") + cast(task_id, String) + ":deadline " + cast(deadline, String)
    if detail is not None:
        key = key + ":" + detail
    return ~exists().where(Notice.key == key + ":done")


@dataclass(frozen=True)
class Message:
    text: str
    buttons: Buttons
    # Stored attachments sent after the text, each with its caption: (attachment id, caption).
    files: tuple[tuple[int, str], ...] = ()


async def already_sent(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these notices exist already: one query per 500 keys, for sweeps."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update((await session.scalars(select(Notice.key).where(Notice.key.in_(chunk)))).all())
    return found


class Chat(NamedTuple):
    """A chat a notice can go to, read as columns (no ORM object per account)."""

    channel: ChatChannel
    chat_id: str


async def reachable_accounts(
    session: AsyncSession, official_ids: Iterable[int]
) -> dict[int, list[Chat]]:
    ids = list(set(official_ids))
    accounts: dict[int, list[Chat]] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(ChatAccount.official_id, ChatAccount.channel, ChatAccount.chat_id).where(
                ChatAccount.official_id.in_(ids[start : start + 500]),
                ChatAccount.unreachable_since.is_(None),
            )
        )
        for official_id, channel, chat_id in rows.tuples():
            accounts.setdefault(official_id, []).append(Chat(channel, chat_id))
    return accounts


@dataclass(frozen=True, slots=True)
class Recipient:
    """An official as a notice needs them, read as columns: the jobs that write to
    thousands build no ORM object per person."""

    id: int
    full_name: str
    unit_id: int
    language: str
    notify_channel: str
    position: str = ""


Person = Official | Recipient


@dataclass(frozen=True)
class Outgoing:
    """One notice for one recipient, built in the recipient's own language."""

    key: str
    official: Person
    build: Callable[[Translator], Message]


@dataclass(frozen=True)
class Grouped:
    """One notice that joins the others to the same recipient from the same sweep: alone, it
    goes as its own message (`single`, with the task's buttons); with others, as one line
    (`line`) of one message that lists them worst first (lowest `rank`)."""

    key: str
    official: Person
    single: Callable[[Translator], Message]
    line: Callable[[Translator], str]
    rank: tuple[object, ...]


@dataclass(frozen=True)
class Group:
    """How a grouped message reads: its head for `n` notices, and the footer naming the
    command that lists them all (`hidden`: how many lines were left out)."""

    kind: str
    head: Callable[[Translator, int], str]
    footer: Callable[[Translator, int], str]
    listed: int = 20


class Notifier:
    """Writes notices with their outbox rows.

    With `commit_every`, a job commits after each so many notices: a fan-out to 30,000
    officials then never holds SQLite's single write lock for more than a moment, and an
    interrupted job resumes where it stopped, the keys telling what was already queued.
    """

    def __init__(
        self, session: AsyncSession, now: datetime, commit_every: int | None = None
    ) -> None:
        self.session = session
        self.now = now
        self.commit_every = commit_every
        self.unreachable: dict[int, Person] = {}

    async def record(self, keys: Sequence[str]) -> None:
        """Mark notices as given without sending anything under their own key (with
        `commit_every`, committed at once inside the write gate, like every chunk)."""
        if not self.commit_every:
            await self._record(keys)
            return
        async with write_gate(self.session.bind).bulk():
            await self._record(keys)
            await self.session.commit()

    async def _record(self, keys: Sequence[str]) -> None:
        await record_notices(self.session, keys, self.now)

    async def mark_done(self, keys: Sequence[str]) -> None:
        """Every notice under these keys is queued (call after `send`): later sweeps skip them."""
        rows = [done(key) for key in keys]
        for start in range(0, len(rows), 500):  # one short write per statement's worth
            if not self.commit_every:
                await self._record(rows[start : start + 500])
                continue
            async with write_gate(self.session.bind).bulk():
                await self._record(rows[start : start + 500])
                await self.session.commit()

    async def send(
        self,
        items: Sequence[Outgoing],
        *,
        priority: int,
        not_before: datetime | None = None,
    ) -> int:
        """Queue each item not sent before; returns how many outbox rows were added."""
        size = self.commit_every or len(items) or 1
        queued = 0
        # One message per builder and language for the whole call, not per chunk: a unit's
        # letter to its thirty people spans chunks. `items` keeps every builder alive, so
        # its id stays its own.
        built: dict[tuple[int, str], Message] = {}
        for start in range(0, len(items), size):
            queued += await self._send(items[start : start + size], priority, not_before, built)
            if self.commit_every:
                await asyncio.sleep(0)  # building messages is Python work: let commands in
        return queued

    async def _send(
        self,
        items: Sequence[Outgoing],
        priority: int,
        not_before: datetime | None,
        built: dict[tuple[int, str], Message] | None = None,
    ) -> int:
        """One chunk: its messages built before the write, which (with `commit_every`) takes
        the write gate only to insert and commit: a command waits for rows being written,
        never for texts being built."""
        if not items:
            return 0
        fresh_keys = set(items_keys := [i.key for i in items]) - await already_sent(
            self.session, items_keys
        )
        fresh = [i for i in items if i.key in fresh_keys]
        if not fresh:
            return 0
        accounts = await reachable_accounts(self.session, (i.official.id for i in fresh))
        parts: list[tuple[list[str], list[Envelope]]] = []
        # One message per builder and language: a unit's letter goes to fifty people, an alert
        # to the whole task force.
        built = {} if built is None else built
        made = 0
        for item in fresh:
            cache_key = (id(item.build), item.official.language)
            if (message := built.get(cache_key)) is None:
                message = built[cache_key] = item.build(translator(item.official.language))
                made += 1
                if self.commit_every and made % BUILDS_PER_BREATH == 0:
                    await asyncio.sleep(0)  # a digest is a millisecond: let commands in
            parts.append(
                (
                    [item.key],
                    self._envelopes(
                        item.key, item.official, message, accounts, priority, not_before
                    ),
                )
            )
        await self._write(parts)
        return sum(len(envelopes) for _, envelopes in parts)

    def _envelopes(
        self,
        key: str,
        official: Person,
        message: Message,
        accounts: dict[int, list[Chat]],
        priority: int,
        not_before: datetime | None,
    ) -> list[Envelope]:
        """The outbox rows of one message to one official: each chosen chat, text then files."""
        linked = accounts.get(official.id, [])
        wanted = chosen_channels(official.notify_channel or "")
        # The chosen channels, or whatever is linked if none of those is.
        chats = [a for a in linked if wanted is None or a.channel in wanted] or linked
        if not chats:
            self.unreachable[official.id] = official
            return []
        parts = [("", message.text, message.buttons, None)] + [
            (f":file {n}", caption, [], attachment_id)
            for n, (attachment_id, caption) in enumerate(message.files, start=1)
        ]
        return [
            Envelope(
                key=f"{key}{suffix}:{account.channel.value} {account.chat_id}",
                channel=account.channel,
                chat_id=account.chat_id,
                text=text,
                buttons=buttons,
                language=official.language,
                official_id=official.id,
                priority=priority,
                attachment_id=attachment_id,
                not_before=not_before,
            )
            for account in chats
            for suffix, text, buttons, attachment_id in parts
        ]

    async def send_grouped(
        self,
        items: Sequence[Grouped],
        group: Group,
        *,
        priority: int,
        not_before: datetime | None = None,
    ) -> int:
        """Queue one message per recipient for the notices not given before: the task's own
        message when there is one, else one list, worst first, capped at `group.listed` lines
        with the command that shows the rest. Every notice a message stands for is recorded
        in the same transaction as its outbox rows, so a re-run or a resumed sweep sends
        nothing again; a channel cuts a long list at line ends under its own limit. With
        `commit_every`, commits once that many notices are written. Returns the rows added."""
        given = await already_sent(self.session, [i.key for i in items])
        by_person: dict[int, list[Grouped]] = {}
        for item in items:
            if item.key not in given:
                by_person.setdefault(item.official.id, []).append(item)
        accounts = await reachable_accounts(self.session, by_person)
        queued = pending = 0
        parts: list[tuple[list[str], list[Envelope]]] = []
        for person_items in by_person.values():
            message, key = self._group_message(person_items, group)
            envelopes = self._envelopes(
                key, person_items[0].official, message, accounts, priority, not_before
            )
            parts.append(([i.key for i in person_items], envelopes))
            queued += len(envelopes)
            pending += len(person_items)
            if self.commit_every and pending >= self.commit_every:
                await self._write(parts)
                parts, pending = [], 0
                await asyncio.sleep(0)  # building messages is Python work: let commands in
        await self._write(parts)
        return queued

    async def _write(self, parts: list[tuple[list[str], list[Envelope]]]) -> None:
        """Notices and the outbox rows that carry them: in the caller's transaction, or (with
        `commit_every`) in writes of a few hundred kilobytes of text, each committed inside
        the write gate, so that a command waits for one such write at most."""
        if not parts:
            return
        if not self.commit_every:
            await self._insert(
                [k for keys, _ in parts for k in keys], [e for _, es in parts for e in es]
            )
            return
        for keys, envelopes in pieces(parts):
            async with write_gate(self.session.bind).bulk():
                await self._insert(keys, envelopes)
                await self.session.commit()

    async def _insert(self, keys: list[str], envelopes: list[Envelope]) -> None:
        """The notices and the outbox rows that carry them, in the caller's transaction."""
        await record_notices(self.session, keys, self.now)
        await enqueue_many(self.session, envelopes, self.now)

    def _group_message(self, items: list[Grouped], group: Group) -> tuple[Message, str]:
        """One recipient's message and its outbox key: the task's own when it is alone."""
        official = items[0].official
        t = translator(official.language)
        if len(items) == 1:
            return items[0].single(t), items[0].key
        ranked = sorted(items, key=lambda i: i.rank)
        shown = ranked[: group.listed]
        lines = [group.head(t, len(items)), *(i.line(t) for i in shown)]
        lines.append(group.footer(t, len(items) - len(shown)))
        digest = hashlib.sha1("\n".join(sorted(i.key for i in items)).encode()).hexdigest()[:16]
        return Message("\n".join(lines), []), f"{group.kind}:group {digest}:to {official.id}"
