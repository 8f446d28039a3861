"""What the fake Telegram and Zalo Bot APIs share: chats, queued updates, scripted failures, HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.web import RequestHandler

from bot.sandbox.traffic import Dropped, Faults, FloodLimits, Traffic

# A Bot API method: the call's parameters in, its result or a refusal out.
Method = Callable[[dict[str, Any]], Awaitable[Any]]
Answer = tuple[int, dict[str, Any]]  # HTTP status and JSON body


@dataclass
class Failure:
    """An error a call is answered with: a refusal the real API gives, or one scripted by a test."""

    status: int
    description: str
    retry_after: int | None = None

    def answer(self) -> Answer:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return self.status, body


class FakeBotApi:
    """One bot's fake API: the chats as both sides see them, and the updates waiting for the bot.

    Subclasses fill `methods`; a method returns its result, or a `Failure` to refuse the call.
    Every message of a chat is kept under its chat id, flagged `outgoing` when the bot sent it.
    """

    secret_header: ClassVar[str]  # the header a webhook delivery carries the secret in
    chat_name: ClassVar[str]  # how a timeout names a chat
    not_found: ClassVar[str] = "method not found"
    sends: ClassVar[frozenset[str]] = frozenset()  # the methods flood limits and faults apply to

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self.methods: dict[str, Method] = {
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
        }
        self._failures: dict[str, list[Failure]] = {}
        self.traffic = Traffic()  # no limits, no faults: every send accepted at once
        self._new_update = asyncio.Condition()
        self._new_message = asyncio.Condition()
        self._closing = False

    async def close(self) -> None:
        async with self._new_update:
            self._closing = True
            self._new_update.notify_all()  # let pending long polls answer before the server closes

    # ------------------------------------------------------------ the bot's side

    async def call(self, token: str, method: str, params: dict[str, Any]) -> Answer:
        if not self.token or token != self.token:
            return Failure(401, "Unauthorized").answer()
        self.calls.append((method, params))
        if self._failures.get(method):
            return self._failures[method].pop(0).answer()
        implementation = self.methods.get(method.lower())
        if implementation is None:
            return Failure(404, self.not_found).answer()
        send = self.traffic.active and method.lower() in self.sends and "chat_id" in params
        if send and (refusal := self.traffic.admit(str(params["chat_id"]))) is not None:
            return Failure(*refusal).answer()  # raises Dropped for a connection reset
        result = await implementation(params)
        if isinstance(result, Failure):
            return result.answer()
        if send:
            self.traffic.accepted(str(params["chat_id"]))  # raises Dropped for a lost answer
        return 200, {"ok": True, "result": result}

    def fail_next(self, method: str, failure: Failure) -> None:
        self._failures.setdefault(method, []).append(failure)

    def misbehave(self, faults: Faults | None = None, limits: FloodLimits | None = None) -> None:
        """Enforce flood limits and inject faults on sends from now on (None: not that)."""
        self.traffic = Traffic(faults, limits)

    async def wait_for_update(self, timeout: float) -> None:
        """A long poll: wait up to `timeout` s for an update. Call it holding `_new_update`."""
        if not self.updates and timeout and not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params["url"])
        self.webhook_secret = str(params.get("secret_token") or "")
        return True

    async def _delete_webhook(self, _: dict[str, Any]) -> bool:
        self.webhook_url = self.webhook_secret = ""
        return True

    # ------------------------------------------------------------ people's side

    async def deliver(self, update: dict[str, Any]) -> int:
        """Hand an update to the bot: by its webhook if one is set, else to getUpdates."""
        if self.webhook_url:
            return await self.post_webhook(update, self.webhook_secret)
        async with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()
        return 200

    async def post_webhook(self, update: dict[str, Any], secret: str) -> int:
        """POST an update to the bot's webhook with `secret`; the HTTP status the bot answered."""
        request = HTTPRequest(
            self.webhook_url,
            method="POST",
            body=json.dumps(update),
            headers={"Content-Type": "application/json", self.secret_header: secret},
        )
        return (await AsyncHTTPClient().fetch(request, raise_error=False)).code

    def record(self, chat_id: str, message: dict[str, Any]) -> None:
        """Keep a message a person wrote."""
        self.messages.setdefault(chat_id, []).append({**message, "outgoing": False})

    async def record_sent(self, chat_id: str, message: dict[str, Any]) -> None:
        """Keep a message the bot sent, and wake whoever waits for it."""
        async with self._new_message:
            self.messages.setdefault(chat_id, []).append({**message, "outgoing": True})
            self._new_message.notify_all()

    async def changed(self) -> None:
        """Wake whoever waits for the bot's messages after one was edited in place."""
        async with self._new_message:
            self._new_message.notify_all()

    def bot_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(str(chat_id), []) if m["outgoing"]]

    async def wait_for_bot_messages(
        self, chat_id: int | str, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Block until the chat holds at least `count` messages from the bot."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._new_message:
            while len(self.bot_messages(chat_id)) < count:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{self.chat_name} {chat_id}: {len(self.bot_messages(chat_id))} "
                        f"bot messages, expected {count}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_message.wait(), remaining)
        return self.bot_messages(chat_id)


def as_json(value: Any) -> Any:
    """A parameter that may arrive JSON-encoded in a form field (reply_markup, commands)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class BotApiHandler(RequestHandler):
    """`/bot<token>/<method>`: query, form, JSON and multipart parameters, as the real APIs take."""

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    def check_xsrf_cookie(self) -> None:  # an API, not a form
        return None

    async def get(self, token: str, method: str) -> None:
        await self._answer(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._answer(token, method)

    async def _answer(self, token: str, method: str) -> None:
        params: dict[str, Any] = {k: self.get_argument(k) for k in self.request.arguments}
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and self.request.body:
            params.update(json.loads(self.request.body))
        for files in self.request.files.values():
            params["_filename"], params["_content"] = files[0].filename, files[0].body
        try:
            status, body = await self.api.call(token, method, params)
        except Dropped:
            self._reset()
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    def _reset(self) -> None:
        """Drop the connection without an answer, as a reset (RST) rather than a clean close."""
        stream = self.request.connection.stream  # type: ignore[union-attr]
        with contextlib.suppress(OSError):
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream.close()
        self._finished = True  # nothing more is written on it


class FileHandler(RequestHandler):
    """`/file/bot<token>/<file_path>`: a file a person sent, as getFile named it."""

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    async def get(self, token: str, file_path: str) -> None:
        files: dict[str, bytes] = getattr(self.api, "files", {})
        name = file_path.rsplit("/", 1)[-1]
        if token != self.api.token or name not in files:
            self.set_status(404)
            self.finish()
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(files[name])
