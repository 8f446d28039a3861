"""The fake Telegram Bot API: the methods python-telegram-bot calls, and people who write and tap.

It answers as Telegram does (the same refusals for an empty, too long or unchanged message),
so the real PTB Application runs against it unchanged.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from bot.sandbox.bot_api import Failure, FakeBotApi, as_json

BOT_ID = 7000000001
BOT_USERNAME = "dondoc_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Đôn Đốc", "username": BOT_USERNAME}
STICKER = {
    "file_id": "sticker",
    "file_unique_id": "s",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}
MAX_TEXT = 4096


class FakeTelegram(FakeBotApi):
    secret_header = "X-Telegram-Bot-Api-Secret-Token"
    chat_name = "chat"
    not_found = "Not Found: method not found"
    sends = frozenset({"sendmessage", "senddocument", "sendphoto"})

    def __init__(self, token: str, send_delay: float = 0.0) -> None:
        super().__init__(token)
        self.send_delay = send_delay  # seconds a sendMessage takes to answer, after it is delivered
        self.commands: dict[str, list[dict[str, str]]] = {}  # the command menu, by language
        self.files: dict[str, bytes] = {}  # uploads, by their file_id
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.methods |= {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "answercallbackquery": self._true,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._true,
            "logout": self._true,
        }

    # ------------------------------------------------------------ people's side

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
        chat = _chat(chat_id or user_id, "group" if group else "private")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": _user(user_id, language),
        }
        if sticker:
            message["sticker"] = dict(STICKER)
        elif text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.record(str(chat["id"]), message)
        return await self.push_update({"message": message})

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A person taps a button under one of the bot's messages."""
        original = next(
            m for m in self.messages.get(str(chat_id), []) if m["message_id"] == message_id
        )
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": _user(user_id),
            "chat_instance": str(chat_id),
            "data": data,
            "message": {k: v for k, v in original.items() if k != "outgoing"},
        }
        return await self.push_update({"callback_query": query})

    async def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **body}
        await self.deliver(update)
        return update

    def file_of(self, message: dict[str, Any]) -> bytes:
        """The bytes of the document or photo a message carries (for tests and the page)."""
        attached = message.get("document") or (message.get("photo") or [{}])[-1]
        return self.files[attached["file_id"]]

    # ------------------------------------------------------------ the bot's side

    async def _get_me(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        async with self._new_update:
            # Asking from an offset confirms every update before it, as on Telegram.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            await self.wait_for_update(float(params.get("timeout") or 0))
            return self.updates[:limit]

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any] | Failure:
        text = str(params.get("text", ""))
        if not text.strip():
            return Failure(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return Failure(400, "Bad Request: message is too long")
        message = await self._sent(params, text=text)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        return message

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._sent(
            params, caption=params.get("caption", ""), document=self._keep(params)
        )

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        kept = self._keep(params)
        del kept["file_name"]
        return await self._sent(
            params, caption=params.get("caption", ""), photo=[{**kept, "width": 1, "height": 1}]
        )

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | Failure:
        chat_id, message_id = str(params["chat_id"]), int(params["message_id"])
        markup = as_json(params.get("reply_markup") or "null")
        for message in self.bot_messages(chat_id):
            if message["message_id"] != message_id:
                continue
            if message.get("text") == params["text"] and message.get("reply_markup") == markup:
                return Failure(400, "Bad Request: message is not modified")
            message["text"] = params["text"]
            message["edited"] = True
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            await self.changed()
            return {k: v for k, v in message.items() if k not in ("outgoing", "edited")}
        return Failure(400, "Bad Request: message to edit not found")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands[str(params.get("language_code") or "")] = as_json(params["commands"])
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(str(params.get("language_code") or ""), [])

    async def _get_webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _true(self, _: dict[str, Any]) -> bool:
        return True

    async def _sent(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        """Keep a message the bot sends to `chat_id`; the Message Telegram answers with."""
        chat_id = str(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(int(chat_id), "group" if chat_id.startswith("-") else "private"),
            "from": dict(BOT_USER),
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = as_json(params["reply_markup"])
        await self.record_sent(chat_id, message)
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


def _user(user_id: int, language: str = "vi") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"User {user_id}",
        "language_code": language,
    }


def _chat(chat_id: int, kind: str) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": kind}
    if kind == "private":
        chat["first_name"] = f"User {chat_id}"
    else:
        chat["title"] = f"Group {chat_id}"
    return chat
