"""Receiving on Matrix: the sync loop that joins invitations and hands room messages to the core.

The sync token is kept in the database and written after the events of a batch were handled:
a message sent while the bot was stopped is answered when it starts again, and one already
answered is skipped by its reply key (the event id) if a crash repeats the batch. Only one
process of a deployment may run this loop, as only one may long-poll Telegram or Zalo.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import httpx
from nio import AsyncClient, JoinedMembersResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.matrix_client import NETWORK, MatrixError, checked
from handlers.core import Incoming, SentFile
from handlers.router import Core
from locales import translator
from models.accounts import ChatChannel
from models.db import write_gate
from models.matrix_state import keep_sync_token, sync_token
from models.outbox import Envelope, enqueue
from paperwork.extract.reading import MAX_BYTES as MAX_FILE_BYTES

log = logging.getLogger(__name__)

POLL_MS = 30_000
RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0
# No presence, typing or account data: only rooms' timelines and state are read.
SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {
        "timeline": {"limit": 50},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
}


def _membership(event: dict[str, Any], user: str) -> str | None:
    """`user`'s membership as this event sets it, or None if it is not about them."""
    if event.get("type") != "m.room.member" or event.get("state_key") != user:
        return None
    return str((event.get("content") or {}).get("membership") or "")


def since_invited(events: list[dict[str, Any]], user: str) -> list[dict[str, Any]]:
    """The events of a room the bot has just joined that were written for it: those after it
    was invited (or after it joined, if the invitation is further back). What came before is
    the room's history, not addressed to the bot."""
    joins = [
        i
        for i, event in enumerate(events)
        if _membership(event, user) == "join"
        and ((event.get("unsigned") or {}).get("prev_content") or {}).get("membership") != "join"
    ]
    if not joins:
        return events
    cut = joins[-1]
    invites = [i for i in range(cut) if _membership(events[i], user) == "invite"]
    return events[(invites[-1] if invites else cut) + 1 :]


def direct_inviter(invite_state: list[Any], user: str) -> str | None:
    """Who invited `user` into a direct chat (Element's "Start chat" marks it `is_direct`),
    from an invited room's stripped state; None for a group room."""
    for event in invite_state:
        if (
            getattr(event, "state_key", None) == user
            and getattr(event, "membership", "") == "invite"
        ):
            return str(event.sender) if (event.content or {}).get("is_direct") else None
    return None


def command_text(content: dict[str, Any]) -> str:
    """What the person typed. A reply quotes the message it answers first (`> <@x> …`), and
    in Element a leading `//` sends a `/command` that Element itself does not know."""
    body = str(content.get("body") or "")
    if (content.get("m.relates_to") or {}).get("m.in_reply_to") and body.startswith("> "):
        body = body.split("\n\n", 1)[-1]
    body = body.strip()
    return body[1:] if body.startswith("//") else body


class MatrixReceiver:
    """Syncs forever: joins the rooms the bot is invited to, answers each room message once."""

    def __init__(
        self,
        client: AsyncClient,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        core: Core,
        *,
        poll_ms: int = POLL_MS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.client = client
        self.settings = settings
        self.user = settings.matrix_user
        self.sessions = sessions
        self.core = core
        self.poll_ms = poll_ms
        self.retry_seconds = retry_seconds
        self.members: dict[str, int] = {}  # room → joined members, until one joins or leaves
        self.invited: set[str] = set()  # invitations not yet accepted (a join failed)
        self.direct: dict[str, str] = {}  # invited room → who invited the bot to a direct chat
        self.idle = asyncio.Event()  # set while no batch is in hand: stopping then is safe
        self.idle.set()

    async def run(self) -> None:
        async with self.sessions() as session:
            since = await sync_token(session, self.user)
        wait = self.retry_seconds
        while True:
            try:
                since = await self.sync_once(since)
                wait = self.retry_seconds
            except (MatrixError, *NETWORK) as error:
                log.warning("Matrix sync failed (%s); retrying in %.0f s", error, wait)
            except Exception:  # a database hiccup, a bug: log it, and keep the bot receiving
                log.exception("Matrix sync batch failed; retrying in %.0f s", wait)
            else:
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_RETRY_SECONDS)

    async def sync_once(self, since: str | None) -> str:
        """One long poll and its events; returns the position to continue from, once kept."""
        response = checked(
            await self.client.sync(
                # The very first sync only learns where the rooms stand: quickly.
                timeout=self.poll_ms if since else 0,
                since=since,
                sync_filter=SYNC_FILTER,
            )
        )
        self.idle.clear()
        try:
            await self.handle(response, history=since is None)
            async with (
                write_gate(self.sessions.kw["bind"]).urgent(),
                self.sessions() as session,
                session.begin(),
            ):
                await keep_sync_token(session, self.user, response.next_batch)
        finally:
            self.idle.set()
        return str(response.next_batch)

    async def handle(self, response: Any, *, history: bool) -> None:
        """One sync batch: accept invitations, then answer each new message in order. On the
        bot's very first sync (`history`) the rooms' past messages are not answered."""
        self.invited.update(response.rooms.invite)
        for room_id, invite in response.rooms.invite.items():
            inviter = direct_inviter(invite.invite_state, self.user)
            if inviter is not None:
                self.direct[room_id] = inviter
        for room_id in sorted(self.invited):
            await self.join(room_id)
        for room_id, room in response.rooms.join.items():
            timeline = [event.source for event in room.timeline.events]
            state = [event.source for event in room.state]
            if any(e.get("type") == "m.room.member" for e in timeline + state):
                self.members.pop(room_id, None)
            if history:
                continue
            for event in since_invited(timeline, self.user):
                incoming = await self.incoming(room_id, event)
                if incoming is None:
                    continue
                try:
                    await self.core.handle(incoming)
                except Exception:  # the core answers its own failures; this is a last resort
                    log.exception("Matrix event %s in %s failed", event.get("event_id"), room_id)

    async def incoming(self, room_id: str, event: dict[str, Any]) -> Incoming | None:
        """A room message as the core's `Incoming`; the bot's own, notices (other bots) and
        edits are not commands. An image, a file or a sticker carries no text."""
        if event.get("type") not in ("m.room.message", "m.sticker"):
            return None
        if event.get("sender") == self.user:
            return None
        content = event.get("content") or {}
        msgtype = content.get("msgtype")
        relation = (content.get("m.relates_to") or {}).get("rel_type")
        if msgtype == "m.notice" or relation == "m.replace" or not event.get("event_id"):
            return None
        sent = None
        if msgtype == "m.file" and isinstance(content.get("url"), str):
            name = str(content.get("filename") or content.get("body") or "file")
            size = int((content.get("info") or {}).get("size") or 0)
            data = await self.media(content["url"]) if size <= MAX_FILE_BYTES else None
            sent = SentFile(name, data, size or len(data or b""))
        return Incoming(
            channel=ChatChannel.MATRIX,
            chat_id=room_id,
            user_id=str(event["sender"]),
            update_id=str(event["event_id"]),
            text=command_text(content) if msgtype in ("m.text", "m.emote") else None,
            is_group=await self.is_group(room_id),
            file=sent,
        )

    async def media(self, mxc: str) -> bytes | None:
        """A file a person sent (a notice to read), from the homeserver's media repository,
        with the bot's token (Synapse serves new media to authenticated clients only)."""
        server, _, media_id = mxc.removeprefix("mxc://").partition("/")
        url = (
            f"{self.client.homeserver}/_matrix/client/v1/media/download/"
            f"{quote(server)}/{quote(media_id)}"
        )
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                answer = await http.get(
                    url, headers={"Authorization": f"Bearer {self.client.access_token}"}
                )
            if answer.status_code == 200 and len(answer.content) <= MAX_FILE_BYTES:
                return answer.content
            log.warning("Matrix: the file %s could not be fetched (%s)", mxc, answer.status_code)
        except httpx.HTTPError as error:
            log.warning("Matrix: the file %s could not be fetched (%s)", mxc, error)
        return None

    async def is_group(self, room_id: str) -> bool:
        """More than the official and the bot in the room."""
        if room_id not in self.members:
            try:
                members: JoinedMembersResponse = checked(await self.client.joined_members(room_id))
            except (MatrixError, *NETWORK) as error:
                log.warning("Matrix: members of %s unknown (%s)", room_id, error)
                return False
            self.members[room_id] = len(members.members)
        return self.members[room_id] > 2

    async def join(self, room_id: str) -> None:
        """Accept an invitation; in an encrypted room, say that the bot cannot read it."""
        try:
            checked(await self.client.join(room_id))
        except (MatrixError, *NETWORK) as error:
            if isinstance(error, MatrixError) and 400 <= error.http_status < 500:
                log.warning("Matrix: cannot join %s (%s)", room_id, error)
                self.invited.discard(room_id)
                self.direct.pop(room_id, None)
            else:
                log.warning("Matrix: joining %s failed (%s); trying again", room_id, error)
            return
        self.invited.discard(room_id)
        log.info("Matrix: joined %s", room_id)
        inviter = self.direct.pop(room_id, None)
        encryption = await self.client.room_get_state_event(room_id, "m.room.encryption")
        if getattr(encryption, "content", None):
            await self.explain_encryption(room_id)
        elif inviter is not None:
            # An official the officials' file names by this account is linked and greeted.
            await self.core.handle(
                Incoming(
                    channel=ChatChannel.MATRIX,
                    chat_id=room_id,
                    user_id=inviter,
                    update_id=f"opened {room_id}",
                    opened=True,
                )
            )

    async def explain_encryption(self, room_id: str) -> None:
        """Once per room, through the outbox like every message the bot writes."""
        t = translator(self.settings.language)
        text = t._(
            "This chat is end-to-end encrypted, and Đôn Đốc cannot read encrypted messages, "
            "so it will not see your commands here. Please start an unencrypted chat with the "
            'bot: in Element, choose "New room", turn off "Enable end-to-end encryption", '
            "invite {bot}, then send /start followed by your link code.",
            bot=self.user,
        )
        envelope = Envelope(
            key=f"matrix:encrypted room {room_id}",
            channel=ChatChannel.MATRIX,
            chat_id=room_id,
            text=text,
            language=t.language,
            reply=True,
        )
        async with (
            write_gate(self.sessions.kw["bind"]).urgent(),
            self.sessions() as session,
            session.begin(),
        ):
            outbox_id = await enqueue(session, envelope, self.core.clock.now())
        if outbox_id is not None and self.core.send_now is not None:
            await self.core.send_now([outbox_id])
