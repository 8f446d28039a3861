"""The fake Zalo Bot API: the methods our Zalo adapter calls, and people who write to the bot.

As on Zalo, getUpdates hands out one update at a time and answers 408 when none came in time.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.sandbox.bot_api import Failure, FakeBotApi

MAX_TEXT = 2000


class FakeZalo(FakeBotApi):
    secret_header = "X-Bot-Api-Secret-Token"
    chat_name = "Zalo chat"
    sends = frozenset({"sendmessage", "sendphoto"})

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self._message_ids = itertools.count(1)
        self.methods |= {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendchataction": self._true,
            "getwebhookinfo": self._get_webhook_info,
        }

    # ------------------------------------------------------------ people's side

    async def say(
        self, user_id: str, text: str | None, *, group: str | None = None, sticker: bool = False
    ) -> dict[str, Any]:
        """A person writes to the bot; returns the update, which may be pushed again."""
        chat = group or user_id
        message: dict[str, Any] = {
            "message_id": self._next_id(),
            "from": {"id": user_id, "name": f"User {user_id}"},
            "chat": {"id": chat, "chat_type": "GROUP" if group else "PRIVATE"},
            "date": int(time.time() * 1000),
        }
        if sticker or text is None:
            event = "message.sticker.received"
            message["sticker"] = "sticker"
        else:
            event = "message.text.received"
            message["text"] = text
        self.record(chat, message)
        update = {"event_name": event, "message": message}
        await self.deliver(update)
        return update

    # ------------------------------------------------------------ the bot's side

    async def _get_me(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"id": "zalo-bot", "name": "Đôn Đốc"}

    async def _get_updates(self, params: dict[str, Any]) -> dict[str, Any] | Failure:
        async with self._new_update:
            await self.wait_for_update(float(params.get("timeout") or 0))
            if not self.updates:
                return Failure(408, "Request timeout")
            return self.updates.pop(0)

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any] | Failure:
        if not str(params.get("text") or "").strip():
            return Failure(400, "text is empty")
        return await self._sent(params)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any] | Failure:
        return await self._sent(params, photo=str(params.get("photo", "")))

    async def _sent(self, params: dict[str, Any], **content: Any) -> dict[str, Any] | Failure:
        """Keep a message (or a photo's caption) the bot sends; the message Zalo answers with."""
        chat = str(params.get("chat_id", ""))
        text = str(params.get("text") or params.get("caption") or "")
        if len(text) > MAX_TEXT:
            return Failure(400, "text is too long")
        message = {
            "message_id": self._next_id(),
            "date": int(time.time() * 1000),
            "chat": {"id": chat},
            "text": text,
            **content,
        }
        await self.record_sent(chat, message)
        return message

    async def _get_webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url}

    async def _true(self, _: dict[str, Any]) -> bool:
        return True

    def _next_id(self) -> str:
        return f"z{next(self._message_ids)}"
