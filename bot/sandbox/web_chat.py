"""The web chat page of `dondoc demo`: a person picks an official and chats as them.

The page (web_chat.html) calls `/sandbox/<action>` to list people, link one, write, tap a button
and read the chat; it speaks for the person through the fake Telegram and Zalo APIs.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from tornado.web import RequestHandler, URLSpec

from bot.sandbox.telegram_api import FakeTelegram
from bot.sandbox.zalo_api import FakeZalo
from locales import Translator, translator

# The page asks the host application for the people to chat as and their link codes.
People = Callable[[], Awaitable[list[dict[str, Any]]]]
LinkCodeFor = Callable[[str], Awaitable[str | None]]


@dataclass
class WebChat:
    """What the page works with: the two fakes it speaks through, and the host's people."""

    telegram: FakeTelegram
    zalo: FakeZalo
    people: People | None = None
    link_code_for: LinkCodeFor | None = None
    # Given to the page in its HTML: another site's page cannot read it, so cannot post.
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def routes(self) -> list[URLSpec]:
        return [
            URLSpec(r"/sandbox/(\w+)", WebChatApiHandler, {"chat": self}),
            URLSpec(r"/", WebChatPageHandler, {"chat": self}),
        ]

    async def say(self, user_id: int, text: str, *, on_zalo: bool, language: str = "vi") -> None:
        # The page numbers a person once; on Zalo their id is the same number, prefixed.
        if on_zalo:
            await self.zalo.say(f"z{user_id}", text)
        else:
            await self.telegram.say(user_id, text, language=language)

    def messages(self, chat_id: str, *, on_zalo: bool) -> list[dict[str, Any]]:
        if on_zalo:
            return self.zalo.messages.get(f"z{chat_id}", [])
        return self.telegram.messages.get(chat_id, [])


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


class WebChatPageHandler(RequestHandler):
    def initialize(self, chat: WebChat) -> None:
        self.chat = chat

    def get(self) -> None:
        t = translator(self.get_argument("lang", "vi"))
        page = resources.files(__package__).joinpath("web_chat.html").read_text(encoding="utf-8")
        labels = json.dumps(page_labels(t), ensure_ascii=False)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        page = page.replace("__TOKEN__", json.dumps(self.chat.token))
        self.finish(page.replace("__LABELS__", labels))


class WebChatApiHandler(RequestHandler):
    """What the page calls: GET people, file, chat; POST say, press, link."""

    def initialize(self, chat: WebChat) -> None:
        self.chat = chat

    async def get(self, action: str) -> None:
        if action == "people":
            people = await self.chat.people() if self.chat.people else []
            self.finish({"people": people})
        elif action == "file":
            content = self.chat.telegram.files.get(self.get_argument("file_id"))
            if content is None:
                self.send_error(404)
                return
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", "attachment")
            self.finish(content)
        elif action == "chat":
            on_zalo = self.get_argument("channel", "telegram") == "zalo"
            self.finish(
                {"messages": self.chat.messages(self.get_argument("chat_id"), on_zalo=on_zalo)}
            )
        else:
            self.send_error(404)

    def _same_origin(self) -> bool:
        """A JSON request from our own page: its token, or an Origin (or Referer) naming
        this host. A form or `text/plain` post from another site is neither."""
        headers = self.request.headers
        if headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            return False
        token = headers.get("X-Sandbox-Token", "")
        if token and hmac.compare_digest(token.encode(), self.chat.token.encode()):
            return True
        source = headers.get("Origin") or headers.get("Referer") or ""
        return bool(source) and urlsplit(source).netloc == self.request.host

    async def post(self, action: str) -> None:
        if not self._same_origin():
            self.set_status(403)
            self.finish({"ok": False, "error": "a same-origin JSON request is required"})
            return
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.set_status(400)
            self.finish({"ok": False})
            return
        user_id = int(body.get("user_id", 0))
        on_zalo = body.get("channel") == "zalo"
        if action == "say":
            text = str(body.get("text", ""))
            await self.chat.say(user_id, text, on_zalo=on_zalo, language=body.get("language", "vi"))
            self.finish({"ok": True})
        elif action == "press":
            await self.chat.telegram.press(
                user_id, user_id, int(body["message_id"]), str(body["data"])
            )
            self.finish({"ok": True})
        elif action == "link" and self.chat.link_code_for is not None:
            code = await self.chat.link_code_for(str(body.get("official_code", "")))
            if code is None:
                self.set_status(404)
                self.finish({"ok": False})
                return
            await self.chat.say(user_id, f"/start {code}", on_zalo=on_zalo)
            self.finish({"ok": True})
        else:
            self.send_error(404)
