"""The loopback chat sandbox of `dondoc demo` and the end-to-end tests; nothing leaves the machine.

It serves the part of the Telegram and Zalo Bot APIs the bot uses, so the real adapters run
against it unchanged, and a web chat page where a person chats as any official of the city.
Only the demo and the tests import it: `from bot.sandbox import Sandbox, Failure`.
"""

from bot.sandbox.bot_api import Failure
from bot.sandbox.server import Sandbox

__all__ = ["Failure", "Sandbox"]
