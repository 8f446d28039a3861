"""The sandbox server: the fake Telegram and Zalo Bot APIs and the web chat, on one loopback port."""

from __future__ import annotations

import logging
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.log import access_log
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler, URLSpec

from bot.sandbox.bot_api import BotApiHandler, Failure, FileHandler
from bot.sandbox.telegram_api import FakeTelegram
from bot.sandbox.traffic import Faults, FloodLimits, Traffic
from bot.sandbox.web_chat import LinkCodeFor, People, WebChat
from bot.sandbox.zalo_api import FakeZalo


class Sandbox:
    """Serves `telegram` under /bot<token>/, `zalo` under /zalo/bot<token>/ and the web chat at /.

    The Zalo API answers only when `zalo_token` is set. The methods below the server's own
    are the names the tests, the bench and the demo drive the two fakes by.
    """

    def __init__(
        self,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        people: People | None = None,
        link_code_for: LinkCodeFor | None = None,
        *,
        zalo_token: str = "",
        send_delay: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.telegram = FakeTelegram(token, send_delay)
        self.zalo = FakeZalo(zalo_token)
        self.web_chat = WebChat(self.telegram, self.zalo, people, link_code_for)
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        sockets = bind_sockets(self.port, self.host)
        self.port = sockets[0].getsockname()[1]
        app = Application(
            [
                URLSpec(r"/bot([^/]+)/(\w+)", BotApiHandler, {"api": self.telegram}),
                URLSpec(r"/file/bot([^/]+)/(.+)", FileHandler, {"api": self.telegram}),
                URLSpec(r"/zalo/bot([^/]+)/(\w+)", BotApiHandler, {"api": self.zalo}),
                *self.web_chat.routes(),
            ],
            log_function=log_request,
        )
        self._server = HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        await self.telegram.close()
        await self.zalo.close()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fail_next(self, method: str, failure: Failure) -> None:
        """Answer the next call of `method` (`zalo:method` for Zalo's) with `failure`."""
        api, _, name = method.rpartition(":")
        (self.zalo if api == "zalo" else self.telegram).fail_next(name, failure)

    def misbehave(self, faults: Faults | None = None, limits: FloodLimits | None = None) -> None:
        """From now on the Telegram API enforces `limits` and injects `faults` on sends."""
        self.telegram.misbehave(faults, limits)

    @property
    def traffic(self) -> Traffic:
        """What the Telegram API's limits and faults did: `counts`, `pacing_429s`."""
        return self.telegram.traffic

    # ------------------------------------------------------------ Telegram

    async def say(
        self,
        user_id: int,
        text: str | None,
        *,
        chat_id: int | None = None,
        group: bool = False,
        language: str = "vi",
        sticker: bool = False,
    ) -> dict[str, Any]:
        return await self.telegram.say(
            user_id, text, chat_id=chat_id, group=group, language=language, sticker=sticker
        )

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        return await self.telegram.press(user_id, chat_id, message_id, data)

    async def post_webhook(self, update: dict[str, Any], secret: str) -> int:
        return await self.telegram.post_webhook(update, secret)

    async def send_file(
        self, user_id: int, filename: str, content: bytes, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A person sends a document to the bot on Telegram."""
        return await self.telegram.send_file(user_id, filename, content, chat_id=chat_id)

    def bot_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        return self.telegram.bot_messages(chat_id)

    async def wait_for_bot_messages(
        self, chat_id: int | str, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        return await self.telegram.wait_for_bot_messages(chat_id, count, timeout)

    def file_of(self, message: dict[str, Any]) -> bytes:
        return self.telegram.file_of(message)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self.telegram.calls

    @property
    def commands(self) -> dict[str, list[dict[str, str]]]:
        return self.telegram.commands

    @property
    def webhook_url(self) -> str:
        return self.telegram.webhook_url

    @property
    def webhook_secret(self) -> str:
        return self.telegram.webhook_secret

    @property
    def send_delay(self) -> float:
        return self.telegram.send_delay

    @send_delay.setter
    def send_delay(self, seconds: float) -> None:
        self.telegram.send_delay = seconds

    # ------------------------------------------------------------ Zalo

    async def zalo_say(
        self, user_id: str, text: str | None, *, group: str | None = None, sticker: bool = False
    ) -> dict[str, Any]:
        return await self.zalo.say(user_id, text, group=group, sticker=sticker)

    async def zalo_push(self, update: dict[str, Any]) -> int:
        return await self.zalo.deliver(update)

    async def post_zalo_webhook(self, update: dict[str, Any], secret: str) -> int:
        return await self.zalo.post_webhook(update, secret)

    def zalo_bot_messages(self, chat_id: str) -> list[dict[str, Any]]:
        return self.zalo.bot_messages(chat_id)

    async def wait_for_zalo_messages(
        self, chat_id: str, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        return await self.zalo.wait_for_bot_messages(chat_id, count, timeout)

    @property
    def zalo_calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self.zalo.calls

    @property
    def zalo_webhook_url(self) -> str:
        return self.zalo.webhook_url


def log_request(handler: RequestHandler) -> None:
    """Tornado's access log without the routine requests, which would bury the demo's console.

    The bots long-poll every few seconds and Zalo answers an empty poll with 408, so success
    and 408 go to debug; other refusals stay warnings and server errors errors, as in Tornado.
    """
    status = handler.get_status()
    if status < 400 or status == 408:
        level = logging.DEBUG
    elif status < 500:
        level = logging.WARNING
    else:
        level = logging.ERROR
    request = handler.request
    access_log.log(
        level,
        "%d %s %s (%s) %.2fms",
        status,
        request.method,
        request.uri,
        request.remote_ip,
        1000.0 * request.request_time(),
    )
