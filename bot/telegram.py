"""The Telegram adapter: python-telegram-bot's Application around the platform-neutral core."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.delivery import ChannelSender, RetryLater, Unreachable
from handlers.core import Incoming
from handlers.router import Core, Delivery
from locales import Translator, translator
from messages.reply import split_text
from models.accounts import ChatChannel
from models.attachments import File, FileKind

log = logging.getLogger(__name__)


def menu(t: Translator) -> list[BotCommand]:
    """The command menu Telegram shows beside the text box."""
    return [
        BotCommand("viec", t._("My open tasks")),
        BotCommand("xem", t._("Show a task: /xem 4102")),
        BotCommand("xong", t._("Report a task done: /xong 4102 result")),
        BotCommand("tiendo", t._("Update progress: /tiendo 4102 60")),
        BotCommand("vuongmac", t._("Report a difficulty")),
        BotCommand("giahan", t._("Ask for an extension")),
        BotCommand("sapden", t._("Tasks due soon")),
        BotCommand("quahan", t._("Overdue tasks by unit")),
        BotCommand("thongke", t._("This month's figures")),
        BotCommand("baocao", t._("Report with chart and workbook")),
        BotCommand("duyet", t._("Approve an extension")),
        BotCommand("tuchoi", t._("Refuse an extension")),
        BotCommand("ngonngu", t._("Language: vi or en")),
        BotCommand("trogiup", t._("Help")),
        BotCommand("huy", t._("Cancel a question")),
    ]


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


def _incoming(update: Update) -> Incoming | None:
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


async def _on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    incoming = _incoming(update)
    if incoming is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    core: Core = context.application.bot_data["core"]
    deliveries: list[Delivery] = await core.handle(incoming)
    for delivery in deliveries:
        edit = incoming.message_id if delivery.reply.edit else None
        external = await send_text(
            context.bot,
            incoming.chat_id,
            delivery.reply.text,
            _markup(delivery.reply.button_rows),
            edit,
        )
        await core.delivered(delivery.outbox_id, external)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update; tell the person politely, if there is one to tell."""
    log.error("update %s caused an error", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        t = translator(user.language_code if user else None)
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                t._("Sorry, something went wrong on our side. Please try again in a few minutes."),
            )
        except Exception:  # the channel itself may be what failed
            log.warning("could not apologise to chat %s", update.effective_chat.id)


async def register_commands(application: Application) -> None:
    """The command menu, in Vietnamese by default and in English for English clients."""
    await application.bot.set_my_commands(menu(translator("vi")), scope=BotCommandScopeDefault())
    await application.bot.set_my_commands(
        menu(translator("en")), scope=BotCommandScopeDefault(), language_code="en"
    )


def build_application(
    token: str, core: Core, *, api_url: str | None = None, updater: bool = True
) -> Application:
    builder = ApplicationBuilder().token(token).post_init(register_commands)
    if api_url:
        base = api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if not updater:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["core"] = core
    application.add_handler(CallbackQueryHandler(_on_update))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, _on_update))
    application.add_error_handler(_on_error)
    return application


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
    ) -> str:
        with _outcomes():
            return await send_text(self.bot, chat_id, text, _markup(buttons), edit_message_id)

    async def send_file(self, chat_id: str, file: File) -> str:
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
