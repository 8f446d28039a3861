"""Telegram's webhook, answered only once the update is safe.

An update is answered 200 after its change and its replies are committed; then the replies
are sent. A process killed before that answers nothing, so the balancer (or Telegram) gives
the update to another process, and the update id in the reply's key makes a second
delivery harmless. Any number of processes may serve the same URL behind a balancer.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import TelegramError
from tornado.httpserver import HTTPServer
from tornado.routing import PathMatches, Rule
from tornado.web import Application, RequestHandler

from handlers.router import Core, NotRecorded

if TYPE_CHECKING:
    from bot.telegram import TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
# Updates handled at once by one process; the others wait their turn without holding a
# database connection (the balancer spreads Telegram's 40 connections over the processes).
AT_ONCE = 8


class TelegramWebhook(RequestHandler):
    def initialize(
        self, channel: TelegramChannel, core: Core, secret: str, turns: asyncio.Semaphore
    ) -> None:
        self.channel, self.core, self.secret, self.turns = channel, core, secret, turns

    def check_xsrf_cookie(self) -> None:
        return None

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not self.secret or not hmac.compare_digest(given, self.secret.encode()):
            self.set_status(403)
            self.finish({"ok": False})
            return
        bot = self.channel.application.bot
        try:
            data: Any = json.loads(self.request.body)
            update = Update.de_json(data, bot)
        except (ValueError, TypeError, KeyError, RecursionError):
            self.set_status(400)
            self.finish({"ok": False})
            return
        from bot.telegram import incoming_of  # the adapter's one reading of an update

        incoming = incoming_of(update)
        if incoming is None:
            self.finish({"ok": True})
            return
        if update.callback_query is not None:
            try:  # stops the button's spinner; the answer itself comes through the outbox
                await update.callback_query.answer()
            except TelegramError as error:
                log.warning("could not acknowledge a button press: %s", error)
        try:
            async with self.turns:
                replies = await self.core.record(incoming)
        except NotRecorded:  # nothing committed: let Telegram (or the balancer) try again
            self.set_status(503)
            self.finish({"ok": False})
            return
        self.finish({"ok": True})
        await self.core.send(replies)


def webhook_server(
    channel: TelegramChannel, core: Core, path: str, secret: str, extra: list[Rule]
) -> HTTPServer:
    """The webhook route and whatever else the listener serves (/healthz, /metrics)."""
    rules = [
        Rule(
            PathMatches(path),
            TelegramWebhook,
            {
                "channel": channel,
                "core": core,
                "secret": secret,
                "turns": asyncio.Semaphore(AT_ONCE),
            },
        ),
        *extra,
    ]
    return HTTPServer(Application(rules, log_function=_log_failures), max_body_size=MAX_BODY)


def _log_failures(handler: RequestHandler) -> None:
    if handler.get_status() >= 500:
        log.warning("telegram webhook: %s %s", handler.get_status(), handler.request.uri)
