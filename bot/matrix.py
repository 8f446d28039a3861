"""The Matrix adapter: a bot account on the city's own homeserver (Synapse), through matrix-nio.

Matrix has no buttons for bots: every button is shown as the command to type, as on Zalo.
Every message is `m.text`, never `m.notice`: Element's default push rules keep notices
silent, and a reminder must ring the phone. Rooms are unencrypted (no E2EE here); the
receiver, which turns room messages into the core's `Incoming`, is in `bot/matrix_sync.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nio import AsyncClient, LoginResponse, WhoamiResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import (
    ChannelDown,
    ChannelRefused,
    ChannelSender,
    RetryLater,
    Unreachable,
)
from bot.matrix_client import NETWORK, MatrixError, checked, new_client
from bot.matrix_sync import MatrixReceiver
from bot.pacing import RateLimiter
from bot.typed_commands import with_typed_commands
from handlers.router import Core
from messages.reply import split_text
from models.accounts import ChatChannel
from models.attachments import File, FileKind
from models.db import write_gate
from models.matrix_state import Login, keep_login, stored_login

log = logging.getLogger(__name__)

# An event may hold 64 KiB; the HTML copy doubles the text and Vietnamese takes up to 3 bytes
# a character, so a message longer than this goes as several.
MAX_TEXT = 8000
DEVICE_NAME = "Đôn Đốc"
STOP_SECONDS = 3.0


def text_content(text: str) -> dict[str, str]:
    """A plain body for any client and notifications, and the same as HTML for Element."""
    return {
        "msgtype": "m.text",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": html.escape(text).replace("\n", "<br>"),
    }


@contextmanager
def _outcomes() -> Iterator[None]:
    """The homeserver's answers as the outbox sender's decisions: wait, give up on the room,
    or retry with backoff."""
    try:
        yield
    except MatrixError as error:
        if error.errcode == "M_LIMIT_EXCEEDED" or error.http_status == 429:
            raise RetryLater(error.retry_after, str(error)) from error
        if error.http_status >= 500 or error.http_status == 0:
            raise RetryLater(None, str(error)) from error
        if error.errcode in ("M_FORBIDDEN", "M_NOT_FOUND") or error.http_status in (403, 404):
            raise Unreachable(str(error)) from error  # the bot was kicked, or the room is gone
        raise
    except NETWORK as error:
        raise RetryLater(None, f"network: {error!r}") from error


class MatrixSender(ChannelSender):
    """Outbox rows to Matrix rooms: text as `m.text`, files through the media repository."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def _send(self, room_id: str, content: dict[str, Any]) -> str:
        response = checked(await self.client.room_send(room_id, "m.room.message", content))
        return str(response.event_id)

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[tuple[str, str]]],
        edit_message_id: str | None,
        language: str,
    ) -> str:
        # Paging sends the next page as a new message: the buttons are typed, so there is
        # no message a press came from to edit.
        event_id = ""
        with _outcomes():
            for part in split_text(with_typed_commands(text, buttons, language), MAX_TEXT):
                event_id = await self._send(chat_id, text_content(part))
        return event_id

    async def send_file(self, chat_id: str, file: File, language: str) -> str:
        """Uploaded to the media repository, then sent with the caption as its body (a
        client that knows no captions shows it as the file's name)."""
        content = file.content
        with _outcomes():
            uploaded, _ = await self.client.upload(
                lambda _limited, _timeouts: content,
                content_type=file.media_type,
                filename=file.filename,
                filesize=len(content),
            )
            caption = text_content(file.caption[:MAX_TEXT]) if file.caption else {}
            return await self._send(
                chat_id,
                {
                    **caption,
                    "msgtype": "m.image" if file.kind is FileKind.PHOTO else "m.file",
                    "body": file.caption[:MAX_TEXT] or file.filename,
                    "filename": file.filename,
                    "url": checked(uploaded).content_uri,
                    "info": {"mimetype": file.media_type, "size": len(content)},
                },
            )


class MatrixChannel:
    """Matrix as the runtime sees every channel: open to send, start to receive, stop."""

    name = ChatChannel.MATRIX

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.client = new_client(settings)
        self.sender = MatrixSender(self.client)
        self.limiter = RateLimiter(
            settings.matrix_send_per_second, settings.matrix_send_per_chat_seconds
        )
        self.polls = True  # the sync loop
        self._receiver: MatrixReceiver | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Log in (once; then the stored device and token) or take the configured token,
        and make sure the homeserver knows the bot as DONDOC_MATRIX_USER."""
        user = self.settings.matrix_user
        try:
            who = await self._log_in()
        except MatrixError as error:
            if error.refused:
                raise ChannelRefused(f"Matrix refused {user}: {error}") from error
            raise ChannelDown(f"Matrix: {error}") from error
        except NETWORK as error:
            raise ChannelDown(f"Matrix homeserver unreachable: {error!r}") from error
        if who.user_id != user:
            raise ChannelRefused(f"the Matrix token belongs to {who.user_id}, not {user}")
        log.info("Matrix: logged in as %s (device %s)", who.user_id, who.device_id)

    async def _log_in(self) -> WhoamiResponse:
        settings, client = self.settings, self.client
        user = settings.matrix_user
        if settings.matrix_token:
            client.restore_login(user, "", settings.matrix_token)
            who: WhoamiResponse = checked(await client.whoami())
            client.device_id = who.device_id or ""
            return who
        async with self.sessions() as session:
            stored = await stored_login(session, user)
        if stored is not None and stored.access_token:
            client.restore_login(user, stored.device_id, stored.access_token)
            try:
                return checked(await client.whoami())
            except MatrixError as error:
                if not error.bad_token:
                    raise
                log.warning("Matrix: the stored token no longer works; logging in again")
        # Asking for the stored device id keeps one device across logins.
        client.device_id = stored.device_id if stored is not None else ""
        response: LoginResponse = checked(
            await client.login(settings.matrix_password, device_name=DEVICE_NAME)
        )
        gate = write_gate(self.sessions.kw["bind"])  # one writer at a time on SQLite
        async with gate.urgent(), self.sessions() as session, session.begin():
            await keep_login(session, user, Login(response.device_id, response.access_token))
        return checked(await client.whoami())

    async def start(self, core: Core) -> None:
        """Run the sync loop: join invitations, answer messages, resume where it stopped."""
        self._receiver = MatrixReceiver(self.client, self.settings, self.sessions, core)
        self._task = asyncio.create_task(self._receiver.run(), name="matrix-sync")

    async def stop(self) -> None:
        """Let the batch in hand be answered and recorded (a reply cut off between being
        sent and being marked sent would go out again), then end the long poll."""
        if self._task is not None and self._receiver is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._receiver.idle.wait(), STOP_SECONDS)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.close()
