"""The Telegram adapter: python-telegram-bot's Application around the platform-neutral core."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from tornado.httpserver import HTTPServer
from tornado.routing import Rule

from bot.backoff import FIRST_RETRY_SECONDS, retry_delay
from bot.config import Settings
from bot.delivery import (
    ChannelDown,
    ChannelRefused,
    ChannelSender,
    RetryLater,
    Unreachable,
)
from bot.pacing import RateLimiter
from bot.telegram_menu import register_commands
from bot.webhook import After, serve_webhook
from handlers.core import Incoming, SentFile
from handlers.router import Core
from messages.reply import split_text
from models.accounts import ChatChannel
from models.attachments import File, FileKind
from paperwork.extract.reading import MAX_BYTES as MAX_FILE_BYTES

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def send_text(
    bot: Bot,
    chat_id: str | int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    edit_message_id: str | None = None,
) -> str:
    """Send (or edit) a message, cut at line ends to Telegram's limit; returns the last id."""
    if edit_message_id is not None:
        try:
            message = await bot.edit_message_text(
                text[: MessageLimit.MAX_TEXT_LENGTH],
                chat_id=chat_id,
                message_id=int(edit_message_id),
                reply_markup=markup,
            )
            return str(getattr(message, "message_id", edit_message_id))
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return edit_message_id
            raise
    parts = split_text(text, MessageLimit.MAX_TEXT_LENGTH)
    message_id = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = await bot.send_message(chat_id, part, reply_markup=markup if last else None)
        message_id = str(message.message_id)
    return message_id


def incoming_of(update: Update) -> Incoming | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    query = update.callback_query
    message = update.effective_message
    return Incoming(
        channel=ChatChannel.TELEGRAM,
        chat_id=str(chat.id),
        user_id=str(user.id),
        update_id=str(update.update_id),
        text=None if query else (message.text if message else None),
        button=query.data if query else None,
        message_id=str(query.message.message_id) if query and query.message else None,
        is_group=chat.type != chat.PRIVATE,
        language=user.language_code,
    )


async def _with_file(incoming: Incoming, update: Update) -> Incoming:
    """A document sent to the bot, fetched (getFile, then the download) for the core to read."""
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None:
        return incoming
    name, size = document.file_name or "file", document.file_size or 0
    data: bytes | None = None
    if size <= MAX_FILE_BYTES:
        try:
            data = bytes(await (await document.get_file()).download_as_bytearray())
        except TelegramError as error:
            log.warning("could not fetch a document of update %s: %s", update.update_id, error)
    return replace(incoming, file=SentFile(name, data, size))


async def _on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = incoming_of(update)
    if incoming is None:
        return
    incoming = await _with_file(incoming, update)
    if update.callback_query is not None:
        try:  # stops the button's spinner; the answer itself comes through the outbox
            await update.callback_query.answer()
        except TelegramError as error:
            log.warning("could not acknowledge a button press: %s", error)
    context.application.bot_data["channel"].received()
    core: Core = context.application.bot_data["core"]
    await core.handle(incoming)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update's id. The core answers its own failures through the outbox; what
    fails here is the channel itself, and a message sent around the outbox would be a lie
    about what happened."""
    # The update's id only: its text may be a link code.
    update_id = getattr(update, "update_id", None)
    log.error("update %s caused an error", update_id, exc_info=context.error)


def build_application(token: str, *, api_url: str | None = None) -> Application:
    builder = ApplicationBuilder().token(token)
    if api_url:
        base = api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.add_handler(CallbackQueryHandler(_on_update))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, _on_update))
    application.add_error_handler(_on_error)
    return application


class TelegramChannel:
    """Telegram as the runtime sees every channel: open to send, start to receive, stop."""

    name = ChatChannel.TELEGRAM

    def __init__(
        self,
        settings: Settings,
        *,
        poll_interval: float = 0.0,
        first_retry: float = FIRST_RETRY_SECONDS,
    ) -> None:
        self.settings = settings
        self.poll_interval = poll_interval
        self.first_retry = first_retry
        self.application = build_application(
            settings.telegram_token, api_url=settings.telegram_api_url or None
        )
        self.sender = TelegramSender(self.application.bot)
        self.limiter = RateLimiter(
            settings.send_per_second,
            settings.send_per_chat_seconds,
            settings.send_per_group_minute,
        )
        self.polls = not settings.webhook_url
        self._menu: asyncio.Task[None] | None = None
        self._polling_failed = False
        self._webhook: HTTPServer | None = None
        self.status_routes: list[Rule] = []  # /healthz and /metrics, served beside the webhook
        # Webhook updates handled at once by this process; the others wait their turn without
        # holding a database connection (the balancer spreads Telegram's connections).
        self._turns = asyncio.Semaphore(8)

    async def open(self) -> None:
        """Learn who the bot is (getMe): the token is checked here."""
        with _starting("getMe"):
            await self.application.initialize()

    async def start(self, core: Core) -> None:
        """Receive updates: by the webhook when one is configured, else by long polling."""
        settings, application = self.settings, self.application
        if settings.webhook_url and not settings.webhook_secret:
            raise ChannelRefused(
                "DONDOC_WEBHOOK_URL needs DONDOC_WEBHOOK_SECRET: without it anyone could "
                "post updates"
            )
        application.bot_data["core"] = core
        application.bot_data["channel"] = self
        if settings.webhook_url:
            # Our own webhook server, not PTB's: PTB answers 200 as soon as an update is
            # queued, and a process killed then would lose it. Ours answers once committed.
            self._webhook = serve_webhook(
                "telegram",
                settings.webhook_listen,
                urlsplit(settings.webhook_url).path,
                settings.webhook_secret,
                SECRET_HEADER,
                self._parse_update,
                self._record_update,
                self.status_routes,
            )
            with _starting("setWebhook"):
                # The same URL and secret from every process: setting it again changes nothing.
                await application.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=["message", "callback_query"],
                )
        else:
            with _starting("start"):
                await application.start()
            assert application.updater is not None
            with _starting("deleteWebhook"):
                await application.updater.start_polling(
                    poll_interval=self.poll_interval,
                    timeout=10,
                    error_callback=self._polling_error,
                )
        self._menu = asyncio.create_task(self._register_menu(), name="telegram-menu")

    async def _register_menu(self) -> None:
        """The command menu is a nicety: keep trying in the background, never fail for it."""
        failures = 0
        while True:
            try:
                await register_commands(self.application)
                return
            except TelegramError as error:
                failures += 1
                delay = retry_delay(failures, self.first_retry)
                log.warning("telegram: command menu not set (%s); retrying in %.0f s", error, delay)
                await asyncio.sleep(delay)

    def _parse_update(self, data: dict[str, Any]) -> Update | None:
        """A webhook's JSON object as PTB's Update (raises when it is not one)."""
        if not isinstance(data.get("update_id"), int):
            raise ValueError("no update_id")
        update = Update.de_json(data, self.application.bot)
        self.application.bot.insert_callback_data(update)
        return update

    async def _record_update(self, update: Update) -> After | None:
        """A webhook's update, committed with its replies; the replies go after the 200."""
        incoming = incoming_of(update)
        if incoming is None:
            return None
        incoming = await _with_file(incoming, update)
        if update.callback_query is not None:
            try:  # stops the button's spinner; the answer itself comes through the outbox
                await update.callback_query.answer()
            except TelegramError as error:
                log.warning("could not acknowledge a button press: %s", error)
        core: Core = self.application.bot_data["core"]
        async with self._turns:
            replies = await core.record(incoming)
        return functools.partial(core.send, replies)

    def _polling_error(self, error: TelegramError) -> None:
        """One line when polling starts failing, not a traceback per retry."""
        if not self._polling_failed:
            log.warning("telegram: cannot fetch updates (%s); retrying", error)
            self._polling_failed = True

    def received(self) -> None:
        if self._polling_failed:
            log.info("telegram: receiving again")
            self._polling_failed = False

    async def stop(self) -> None:
        application = self.application
        if self._menu is not None:
            self._menu.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._menu
        if self._webhook is not None:
            self._webhook.stop()
            self._webhook = None
        with contextlib.suppress(TelegramError, RuntimeError):
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()


@contextmanager
def _starting(step: str) -> Iterator[None]:
    """Start-up errors as the supervisor's decisions: a wrong token disables the channel,
    anything else (network, 5xx, 429) is tried again later."""
    try:
        yield
    except (InvalidToken, Forbidden) as error:
        raise ChannelRefused(f"{step}: the token was refused ({error})") from error
    except TelegramError as error:
        raise ChannelDown(f"{step}: {error}") from error


class TelegramSender(ChannelSender):
    """Sends outbox rows through the Bot API, translating its errors for the outbox sender."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[tuple[str, str]]],
        edit_message_id: str | None,
        language: str,
    ) -> str:
        # Button labels were written in the recipient's language with the text.
        with _outcomes():
            return await send_text(self.bot, chat_id, text, _markup(buttons), edit_message_id)

    async def send_file(self, chat_id: str, file: File, language: str) -> str:
        """The chart as a photo (shown inline), a workbook or letter as a document."""
        caption = file.caption[: MessageLimit.CAPTION_LENGTH] or None
        upload = InputFile(file.content, filename=file.filename)
        with _outcomes():
            if file.kind is FileKind.PHOTO:
                message = await self.bot.send_photo(chat_id, upload, caption=caption)
            else:
                message = await self.bot.send_document(chat_id, upload, caption=caption)
            return str(message.message_id)


@contextmanager
def _outcomes() -> Iterator[None]:
    """The Bot API's errors as the outbox sender's decisions: wait, give up on the chat, retry."""
    try:
        yield
    except RetryAfter as error:
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        raise RetryLater(seconds) from error
    except Forbidden as error:
        raise Unreachable(str(error)) from error
    except BadRequest as error:
        if "chat not found" in str(error).lower():
            raise Unreachable(str(error)) from error
        raise
    except NetworkError as error:
        raise RetryLater(None, str(error)) from error
