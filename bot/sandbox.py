"""The loopback chat sandbox: a small Bot API server on 127.0.0.1 and a web chat page.

It speaks the part of the Telegram Bot API the bot uses, so the real python-telegram-bot
Application runs against it unchanged: `dondoc demo` lets a person chat as any official of
the sample city, and the end-to-end tests drive the bot through it. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from locales import Translator, translator

BOT_ID = 7000000001
BOT_USERNAME = "dondoc_bot"

# The sandbox's web page asks the host application for people and link codes.
People = Callable[[], Awaitable[list[dict[str, Any]]]]
LinkCodeFor = Callable[[str], Awaitable[str | None]]


@dataclass
class Failure:
    """An error the next call of a method answers with: for testing retries."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class Sandbox:
    token: str
    host: str = "127.0.0.1"
    port: int = 0
    people: People | None = None
    link_code_for: LinkCodeFor | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    send_delay: float = 0.0  # seconds a sendMessage takes to answer, after it is delivered
    zalo_token: str = ""  # when set, the Zalo Bot API is served too, under /zalo
    zalo_updates: list[dict[str, Any]] = field(default_factory=list)
    zalo_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    zalo_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    zalo_webhook_url: str = ""
    zalo_webhook_secret: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # uploads, by their file_id

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Condition()
        self._new_message = asyncio.Condition()
        self._server: HTTPServer | None = None
        self._closing = False

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        sockets = bind_sockets(self.port, self.host)
        self.port = sockets[0].getsockname()[1]
        app = Application(
            [
                (r"/bot([^/]+)/(\w+)", _ApiHandler, {"sandbox": self}),
                (r"/zalo/bot([^/]+)/(\w+)", _ZaloApiHandler, {"sandbox": self}),
                (r"/sandbox/(\w+)", _PageApiHandler, {"sandbox": self}),
                (r"/", _PageHandler),
            ]
        )
        self._server = HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        async with self._new_update:
            self._closing = True
            self._new_update.notify_all()  # let pending long polls answer before closing
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------ people's side

    def _user(self, user_id: int, name: str = "", language: str = "vi") -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": name or f"User {user_id}",
            "language_code": language,
        }

    def _chat(self, chat_id: int, kind: str) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = f"User {chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        return chat

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
        """A person writes to the bot (in a private chat unless `group`)."""
        chat = self._chat(chat_id or user_id, "group" if group else "private")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, language=language),
        }
        if sticker:
            message["sticker"] = {
                "file_id": "sticker",
                "file_unique_id": "s",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        elif text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._record(str(chat["id"]), {**message, "outgoing": False})
        return await self.push_update({"message": message})

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A person taps a button under one of the bot's messages."""
        original = next(
            m for m in self.messages.get(str(chat_id), []) if m["message_id"] == message_id
        )
        message = {k: v for k, v in original.items() if k != "outgoing"}
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": self._user(user_id),
            "chat_instance": str(chat_id),
            "data": data,
            "message": message,
        }
        return await self.push_update({"callback_query": query})

    async def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **body}
        if self.webhook_url:
            await self.post_webhook(update, self.webhook_secret)
        else:
            async with self._new_update:
                self.updates.append(update)
                self._new_update.notify_all()
        return update

    async def post_webhook(self, update: dict[str, Any], secret: str) -> int:
        """Deliver an update the way Telegram does; returns the HTTP status the bot answered."""
        return await _post(self.webhook_url, "X-Telegram-Bot-Api-Secret-Token", secret, update)

    def bot_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(str(chat_id), []) if m["outgoing"]]

    async def wait_for_bot_messages(
        self, chat_id: int | str, count: int, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Block until the chat holds at least `count` messages from the bot."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._new_message:
            while len(self.bot_messages(chat_id)) < count:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(
                        f"chat {chat_id}: {len(self.bot_messages(chat_id))} "
                        f"bot messages, expected {count}"
                    )
                try:
                    await asyncio.wait_for(self._new_message.wait(), remaining)
                except TimeoutError:
                    continue
        return self.bot_messages(chat_id)

    # ------------------------------------------------------------ Zalo

    async def zalo_say(
        self, user_id: str, text: str | None, *, group: str | None = None, sticker: bool = False
    ) -> dict[str, Any]:
        """A person writes to the Zalo bot; returns the update, which may be pushed again."""
        chat = group or user_id
        message: dict[str, Any] = {
            "message_id": f"z{next(self._message_ids)}",
            "from": {"id": user_id, "name": f"User {user_id}"},
            "chat": {"id": chat, "chat_type": "GROUP" if group else "PRIVATE"},
            "date": int(time.time() * 1000),
        }
        event = "message.sticker.received" if sticker or text is None else "message.text.received"
        if event == "message.text.received":
            message["text"] = text
        else:
            message["sticker"] = "sticker"
        self.zalo_messages.setdefault(chat, []).append({**message, "outgoing": False})
        update = {"event_name": event, "message": message}
        await self.zalo_push(update)
        return update

    async def zalo_push(self, update: dict[str, Any]) -> int:
        """Deliver an update to the bot: by its webhook if one is set, else to getUpdates."""
        if self.zalo_webhook_url:
            return await self.post_zalo_webhook(update, self.zalo_webhook_secret)
        async with self._new_update:
            self.zalo_updates.append(update)
            self._new_update.notify_all()
        return 200

    async def post_zalo_webhook(self, update: dict[str, Any], secret: str) -> int:
        return await _post(self.zalo_webhook_url, "X-Bot-Api-Secret-Token", secret, update)

    def zalo_bot_messages(self, chat_id: str) -> list[dict[str, Any]]:
        return [m for m in self.zalo_messages.get(chat_id, []) if m["outgoing"]]

    async def wait_for_zalo_messages(
        self, chat_id: str, count: int, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._new_message:
            while len(self.zalo_bot_messages(chat_id)) < count:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(
                        f"Zalo chat {chat_id}: {len(self.zalo_bot_messages(chat_id))}"
                        f" bot messages, expected {count}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_message.wait(), remaining)
        return self.zalo_bot_messages(chat_id)

    async def zalo_call(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if not self.zalo_token or token != self.zalo_token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        self.zalo_calls.append((method, params))
        if self.failures.get(f"zalo:{method}"):
            failure = self.failures[f"zalo:{method}"].pop(0)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": "zalo-bot", "name": "Đôn Đốc"}}
        if method == "getUpdates":
            timeout = float(params.get("timeout") or 0)
            async with self._new_update:
                if not self.zalo_updates and timeout and not self._closing:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._new_update.wait(), timeout)
                if not self.zalo_updates:
                    return 408, {"ok": False, "error_code": 408, "description": "Request timeout"}
                return 200, {"ok": True, "result": self.zalo_updates.pop(0)}
        if method in ("sendMessage", "sendPhoto"):
            chat = str(params.get("chat_id", ""))
            text = str(params.get("text") or params.get("caption") or "")
            if method == "sendMessage" and not text.strip():
                return 400, {"ok": False, "error_code": 400, "description": "text is empty"}
            if len(text) > 2000:
                return 400, {"ok": False, "error_code": 400, "description": "text is too long"}
            message = {
                "message_id": f"z{next(self._message_ids)}",
                "date": int(time.time() * 1000),
                "chat": {"id": chat},
                "text": text,
            }
            if method == "sendPhoto":
                message["photo"] = str(params.get("photo", ""))
            async with self._new_message:
                self.zalo_messages.setdefault(chat, []).append({**message, "outgoing": True})
                self._new_message.notify_all()
            return 200, {"ok": True, "result": message}
        if method == "sendChatAction":
            return 200, {"ok": True, "result": True}
        if method == "setWebhook":
            self.zalo_webhook_url = str(params["url"])
            self.zalo_webhook_secret = str(params.get("secret_token") or "")
            return 200, {"ok": True, "result": True}
        if method == "deleteWebhook":
            self.zalo_webhook_url = self.zalo_webhook_secret = ""
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            return 200, {"ok": True, "result": {"url": self.zalo_webhook_url}}
        return 404, {"ok": False, "error_code": 404, "description": "method not found"}

    def fail_next(self, method: str, failure: Failure) -> None:
        self.failures.setdefault(method, []).append(failure)

    def _record(self, chat_id: str, message: dict[str, Any]) -> None:
        self.messages.setdefault(chat_id, []).append(message)

    # ------------------------------------------------------------ the bot's side

    async def call(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        self.calls.append((method, params))
        if self.failures.get(method):
            failure = self.failures[method].pop(0)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return 404, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        result = await handler(params)
        if isinstance(result, tuple):
            return result
        return 200, {"ok": True, "result": result}

    async def _m_getme(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Đôn Đốc",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._new_update:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
            return self.updates[:limit]

    async def _bot_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = str(params["chat_id"])
        kind = "private" if not chat_id.startswith("-") else "group"
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(int(chat_id), kind),
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Đôn Đốc",
                "username": BOT_USERNAME,
            },
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = _json(params["reply_markup"])
        async with self._new_message:
            self._record(chat_id, {**message, "outgoing": True})
            self._new_message.notify_all()
        return message

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
        if len(text) > 4096:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message is too long",
            }
        message = await self._bot_message(params, text=text)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        return message

    def _keep(self, params: dict[str, Any]) -> dict[str, Any]:
        """Keep an uploaded file, as Telegram does, and describe it by a new file_id."""
        content: bytes = params.get("_content", b"")
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = content
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": params.get("_filename", "file"),
            "file_size": len(content),
        }

    async def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._bot_message(
            params, caption=params.get("caption", ""), document=self._keep(params)
        )

    async def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        kept = self._keep(params)
        del kept["file_name"]
        return await self._bot_message(
            params, caption=params.get("caption", ""), photo=[{**kept, "width": 1, "height": 1}]
        )

    def file_of(self, message: dict[str, Any]) -> bytes:
        """The bytes of the document or photo a message carries (for tests and the page)."""
        attached = message.get("document") or (message.get("photo") or [{}])[-1]
        return self.files[attached["file_id"]]

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = str(params["chat_id"]), int(params["message_id"])
        for message in self.messages.get(chat_id, []):
            if message["message_id"] == message_id and message["outgoing"]:
                if message.get("text") == params["text"] and message.get("reply_markup") == _json(
                    params.get("reply_markup") or "null"
                ):
                    return 400, {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message is not modified",
                    }
                async with self._new_message:
                    message["text"] = params["text"]
                    message["edited"] = True
                    if params.get("reply_markup"):
                        message["reply_markup"] = _json(params["reply_markup"])
                    else:
                        message.pop("reply_markup", None)
                    self._new_message.notify_all()
                return {k: v for k, v in message.items() if k not in ("outgoing", "edited")}
        return 400, {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to edit not found",
        }

    async def _m_answercallbackquery(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        self.commands[str(params.get("language_code") or "")] = _json(params["commands"])
        return True

    async def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(str(params.get("language_code") or ""), [])

    async def _m_deletewebhook(self, _: dict[str, Any]) -> bool:
        self.webhook_url = self.webhook_secret = ""
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params["url"])
        self.webhook_secret = str(params.get("secret_token") or "")
        return True

    async def _m_getwebhookinfo(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _m_close(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_logout(self, _: dict[str, Any]) -> bool:
        return True


async def _post(url: str, header: str, secret: str, update: dict[str, Any]) -> int:
    """POST an update to a bot's webhook with its secret header; the status it answered."""
    request = HTTPRequest(
        url,
        method="POST",
        body=json.dumps(update),
        headers={"Content-Type": "application/json", header: secret},
    )
    return (await AsyncHTTPClient().fetch(request, raise_error=False)).code


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _ApiHandler(RequestHandler):
    def initialize(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def check_xsrf_cookie(self) -> None:  # an API, not a form
        return None

    async def _serve(self, token: str, method: str) -> None:
        params: dict[str, Any] = {k: self.get_argument(k) for k in self.request.arguments}
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and self.request.body:
            params.update(json.loads(self.request.body))
        for files in self.request.files.values():
            params["_filename"], params["_content"] = files[0].filename, files[0].body
        status, body = await self.sandbox.call(token, method, params)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    async def get(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._serve(token, method)


class _ZaloApiHandler(RequestHandler):
    def initialize(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def check_xsrf_cookie(self) -> None:
        return None

    async def post(self, token: str, method: str) -> None:
        params: dict[str, Any] = {k: self.get_argument(k) for k in self.request.arguments}
        if self.request.body and self.request.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            params.update(json.loads(self.request.body))
        status, body = await self.sandbox.zalo_call(token, method, params)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))


class _PageApiHandler(RequestHandler):
    """What the web chat page calls: people, link, say, press, chat."""

    def initialize(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def get(self, action: str) -> None:
        sandbox = self.sandbox
        if action == "people":
            people = await sandbox.people() if sandbox.people else []
            self.finish({"people": people})
        elif action == "file":
            content = sandbox.files.get(self.get_argument("file_id"))
            if content is None:
                self.send_error(404)
                return
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", "attachment")
            self.finish(content)
        elif action == "chat":
            chat = self.get_argument("chat_id")
            if self.get_argument("channel", "telegram") == "zalo":
                self.finish({"messages": sandbox.zalo_messages.get(f"z{chat}", [])})
            else:
                self.finish({"messages": sandbox.messages.get(chat, [])})
        else:
            self.send_error(404)

    async def post(self, action: str) -> None:
        body = json.loads(self.request.body or b"{}")
        sandbox = self.sandbox
        user_id = int(body.get("user_id", 0))
        on_zalo = body.get("channel") == "zalo"
        if action == "say" and on_zalo:
            await sandbox.zalo_say(f"z{user_id}", str(body.get("text", "")))
            self.finish({"ok": True})
        elif action == "say":
            await sandbox.say(
                user_id, str(body.get("text", "")), language=body.get("language", "vi")
            )
            self.finish({"ok": True})
        elif action == "press":
            await sandbox.press(user_id, user_id, int(body["message_id"]), str(body["data"]))
            self.finish({"ok": True})
        elif action == "link" and sandbox.link_code_for is not None:
            code = await sandbox.link_code_for(str(body.get("official_code", "")))
            if code is None:
                self.set_status(404)
                self.finish({"ok": False})
                return
            if on_zalo:
                await sandbox.zalo_say(f"z{user_id}", f"/start {code}")
            else:
                await sandbox.say(user_id, f"/start {code}")
            self.finish({"ok": True})
        else:
            self.send_error(404)


def page_labels(t: Translator) -> dict[str, str]:
    return {
        "title": t._("Đôn Đốc — chat sandbox"),
        "filter": t._("Find an official…"),
        "pick": t._("Pick an official on the left to chat as them"),
        "link": t._("Link this account"),
        "send": t._("Send"),
        "placeholder": t._("Type a message, e.g. /viec"),
        "channel": t._("Channel"),
    }


class _PageHandler(RequestHandler):
    def get(self) -> None:
        t = translator(self.get_argument("lang", "vi"))
        page = resources.files("bot").joinpath("sandbox.html").read_text(encoding="utf-8")
        labels = json.dumps(page_labels(t), ensure_ascii=False)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page.replace("__LABELS__", labels))
