"""The loopback chat sandbox of `dondoc demo` and the end-to-end tests; nothing leaves the machine.

It serves the part of the Telegram and Zalo Bot APIs the bot uses, so the real adapters run
against it unchanged, and a web chat page where a person chats as any official of the city.
Only the demo, the tests and the benches import it: `from bot.sandbox import Sandbox, Failure`;
`Faults` and `FloodLimits` make its Bot APIs misbehave as Telegram can (off by default).
"""

from bot.sandbox.bot_api import Failure
from bot.sandbox.server import Sandbox
from bot.sandbox.traffic import Faults, FloodLimits

__all__ = ["Failure", "Faults", "FloodLimits", "Sandbox"]
