"""The Zalo adapter: the Zalo Bot Platform API over httpx, around the same platform-neutral core.

Zalo resembles Telegram's Bot API but has no keyboards: every button is shown as the command
to type. getUpdates long-polls one update at a time and answers 408 when there is none;
messages are limited to 2,000 characters; a webhook's secret comes in X-Bot-Api-Secret-Token.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.delivery import (
    ChannelDown,
    ChannelRefused,
    ChannelSender,
    RetryLater,
    Unreachable,
)
from bot.files import VALID_DAYS, FileLinks
from bot.pacing import RateLimiter
from bot.typed_commands import with_typed_commands
from bot.webhook import After, serve_webhook
from handlers.core import Incoming
from handlers.router import Core
from locales import translator
from messages.reply import split_text
from models.accounts import ChatChannel
from models.attachments import File, FileKind

log = logging.getLogger(__name__)

ZALO_API_URL = "https://bot-api.zaloplatforms.com"
MAX_TEXT = 2000
POLL_SECONDS = 30
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloError(Exception):
    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=POLL_SECONDS + 10))


class ZaloClient:
    """The few methods the bot uses, all non-blocking."""

    def __init__(
        self, token: str, api_url: str = "", http: httpx.AsyncClient | None = None
    ) -> None:
        self.base = f"{(api_url or ZALO_API_URL).rstrip('/')}/bot{token}"
        self.http = http or _http_client()

    async def call(self, method: str, **params: Any) -> Any:
        if self.http.is_closed:  # closed by a stop before the channel was brought up again
            self.http = _http_client()
        try:
            response = await self.http.post(f"{self.base}/{method}", json=params)
        except httpx.HTTPError as error:
            raise ZaloError(0, f"network: {error!r}") from error
        try:
            body = response.json()
        except json.JSONDecodeError:
            body = {
                "ok": False,
                "error_code": response.status_code,
                "description": response.text[:200],
            }
        if response.status_code == 200 and body.get("ok"):
            return body.get("result")
        code = int(body.get("error_code") or response.status_code)
        retry = (body.get("parameters") or {}).get("retry_after")
        raise ZaloError(code, str(body.get("description") or ""), float(retry) if retry else None)

    async def next_update(self, timeout: int = POLL_SECONDS) -> dict[str, Any] | None:
        """One update, or None when the long poll ends with 408 (nothing new)."""
        try:
            result = await self.call("getUpdates", timeout=str(timeout))
        except ZaloError as error:
            if error.code == 408:
                return None
            raise
        if isinstance(result, list):  # tolerate a list, though Zalo sends one update
            return result[0] if result else None
        return result or None

    async def close(self) -> None:
        await self.http.aclose()


class NotAnUpdate(ValueError):
    """Valid JSON that is not the object Zalo sends."""


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NotAnUpdate(f"{name} is not an object")
    return value


def incoming_from(update: Any) -> Incoming | None:
    """A Zalo update as the core's `Incoming`; images and stickers carry no text; None for an
    event that is no message. Raises `NotAnUpdate` for JSON of another shape."""
    if not isinstance(update, dict):
        raise NotAnUpdate("the update is not an object")
    message = _object(update.get("message"), "message")
    sender = _object(message.get("from"), "message.from")
    chat = _object(message.get("chat"), "message.chat")
    if not sender.get("id") or not chat.get("id"):
        return None
    event = str(update.get("event_name") or "")
    text = message.get("text") if event == "message.text.received" else None
    chat_id = str(chat["id"])
    # Zalo may deliver an update twice: the event, the chat and the message id name it
    # (a message id is unique within its chat only). Without an id, the update's own
    # content does, so a repeat is still dropped and other updates are not.
    message_id = message.get("message_id")
    if message_id is None or message_id == "":
        content = json.dumps(update, sort_keys=True, ensure_ascii=False, default=str)
        message_id = "sha256-" + hashlib.sha256(content.encode()).hexdigest()[:32]
    return Incoming(
        channel=ChatChannel.ZALO,
        chat_id=chat_id,
        user_id=str(sender["id"]),
        update_id=f"{event}:{chat_id}:{message_id}"[:120],
        text=text if isinstance(text, str) else None,
        is_group=str(chat.get("chat_type", "")).upper() == "GROUP",
        language="vi",
    )


def describe(update: Any) -> str:
    """An update for the logs: its event and message id, never its text."""
    if not isinstance(update, dict):
        return f"<{type(update).__name__}>"
    message = update.get("message")
    message_id = message.get("message_id") if isinstance(message, dict) else None
    return f"<{str(update.get('event_name'))[:40]} {str(message_id)[:40]}>"


def render(text: str, buttons: list[list[tuple[str, str]]], language: str) -> list[str]:
    """The text with each button as the command to type, cut to Zalo's limit at line ends."""
    return split_text(with_typed_commands(text, buttons, language), MAX_TEXT)


async def send_text(
    client: ZaloClient,
    chat_id: str,
    text: str,
    buttons: list[list[tuple[str, str]]],
    language: str,
) -> str:
    message_id = ""
    for part in render(text, buttons, language):
        result = await client.call("sendMessage", chat_id=chat_id, text=part)
        message_id = str((result or {}).get("message_id", ""))
    return message_id


class ZaloSender(ChannelSender):
    """Outbox rows to Zalo, with its errors turned into the sender's retry decisions."""

    def __init__(self, client: ZaloClient, links: FileLinks | None = None) -> None:
        self.client = client
        self.links = links

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[tuple[str, str]]],
        edit_message_id: str | None,
        language: str,
    ) -> str:
        # Zalo cannot edit a message: a new page is a new message.
        with _outcomes():
            return await send_text(self.client, chat_id, text, buttons, language)

    async def send_file(self, chat_id: str, file: File, language: str) -> str:
        """Zalo's bot takes no uploads: a photo goes by its link, any other file as a link."""
        t = translator(language)
        if self.links is None or file.id is None:
            note = t._(
                "📎 {filename}: Zalo cannot carry this file; it is sent on Telegram, and the "
                "task force can give you a copy.",
                filename=file.filename,
            )
            text = f"{file.caption}\n{note}".strip()
            with _outcomes():
                return await send_text(self.client, chat_id, text, [], language)
        url = self.links.url(file.id, file.filename)
        with _outcomes():
            if file.kind is FileKind.PHOTO:
                result = await self.client.call(
                    "sendPhoto", chat_id=chat_id, photo=url, caption=file.caption[:MAX_TEXT]
                )
                return str((result or {}).get("message_id", ""))
            link = t._(
                "📎 {filename} (valid for {days} days): {url}",
                filename=file.filename,
                days=VALID_DAYS,
                url=url,
            )
            text = f"{file.caption}\n{link}".strip()
            return await send_text(self.client, chat_id, text, [], language)


@contextmanager
def _outcomes() -> Iterator[None]:
    """Zalo's errors as the outbox sender's decisions: wait, give up on the chat, or retry."""
    try:
        yield
    except ZaloError as error:
        if error.code == 429:
            raise RetryLater(error.retry_after, str(error)) from error
        if error.code == 0 or error.code >= 500:
            raise RetryLater(None, str(error)) from error
        if error.code == 403 or "not found" in error.description.lower():
            raise Unreachable(str(error)) from error
        raise


async def answer(core: Core, update: Any) -> None:
    """Run one update through the core, which sends its replies through the outbox."""
    try:
        incoming = incoming_from(update)
    except NotAnUpdate:
        log.warning("zalo: ignored an update of another shape: %s", describe(update))
        return
    if incoming is not None:
        await core.handle(incoming)


@dataclass
class ZaloPolling:
    core: Core
    client: ZaloClient
    timeout: int = POLL_SECONDS
    failing: bool = False

    async def run(self) -> None:
        """Long-poll forever; a 408 means nothing new. When Zalo cannot be reached, wait
        longer and longer (up to a minute) and say so once, not on every try."""
        failures = 0
        while True:
            try:
                update = await self.client.next_update(self.timeout)
            except ZaloError as error:
                failures += 1
                if not self.failing:
                    log.warning("zalo: cannot fetch updates (%s); retrying", error)
                    self.failing = True
                await asyncio.sleep(min(60.0, 2.0 ** min(failures, 6)))
                continue
            if self.failing:
                log.info("zalo: receiving again")
                self.failing, failures = False, 0
            if update is not None:
                try:
                    await answer(self.core, update)
                except Exception:
                    log.exception("Zalo update %s failed", describe(update))


class ZaloChannel:
    """Zalo as the runtime sees every channel: open to send, start to receive, stop."""

    name = ChatChannel.ZALO

    def __init__(self, settings: Settings, links: FileLinks | None) -> None:
        self.settings = settings
        self.client = ZaloClient(settings.zalo_token, settings.zalo_api_url)
        self.sender = ZaloSender(self.client, links)
        self.limiter = RateLimiter(
            settings.zalo_send_per_second, settings.zalo_send_per_chat_seconds
        )
        self.polls = not settings.zalo_webhook_url
        self.status_routes: list[Any] = []  # /healthz and /metrics, served beside the webhook
        self._polling: asyncio.Task[None] | None = None
        self._webhook: HTTPServer | None = None

    async def open(self) -> None:
        """Ask who the bot is (getMe): the token is checked here."""
        with _starting("getMe"):
            await self.client.call("getMe")

    async def start(self, core: Core) -> None:
        """Receive updates: serve the webhook and register it, or long-poll."""
        settings = self.settings
        if settings.zalo_webhook_url:
            if not settings.zalo_webhook_secret:
                raise ChannelRefused(
                    "DONDOC_ZALO_WEBHOOK_URL needs DONDOC_ZALO_WEBHOOK_SECRET: without it "
                    "anyone could post updates"
                )
            path = urlsplit(settings.zalo_webhook_url).path or "/"
            secret = settings.zalo_webhook_secret
            # A replayed update is answered once: the core keys its replies by the update.
            self._webhook = serve_webhook(
                "zalo",
                settings.zalo_webhook_listen,
                path,
                secret,
                SECRET_HEADER,
                incoming_from,
                functools.partial(_record, core),
                self.status_routes,
            )
            with _starting("setWebhook"):
                await self.client.call(
                    "setWebhook", url=settings.zalo_webhook_url, secret_token=secret
                )
        else:
            with _starting("deleteWebhook"):
                await self.client.call("deleteWebhook")
            self._polling = asyncio.create_task(
                ZaloPolling(core, self.client).run(), name="zalo-polling"
            )

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        if self._webhook is not None:
            self._webhook.stop()
            self._webhook = None
        await self.client.close()


async def _record(core: Core, incoming: Incoming) -> After:
    """A webhook's update, committed with its replies; the replies go after the 200."""
    replies = await core.record(incoming)
    return functools.partial(core.send, replies)


@contextmanager
def _starting(step: str) -> Iterator[None]:
    """Start-up errors as the supervisor's decisions: a refused token disables Zalo,
    anything else (network, 5xx, 429) is tried again later."""
    try:
        yield
    except ZaloError as error:
        if error.code in (401, 403):
            raise ChannelRefused(f"{step}: the token was refused ({error})") from error
        raise ChannelDown(f"{step}: {error}") from error
