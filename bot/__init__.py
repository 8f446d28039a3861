"""Application wiring: configuration, the command line and the chat channel adapters."""

import os

# python-telegram-bot 22 announces time spans as timedelta in its next major version; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
