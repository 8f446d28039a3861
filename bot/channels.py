"""The channels a deployment has configured, each with the same small lifecycle.

`open` readies a channel to send, `start` makes it receive and hand updates to the core,
`stop` ends both. `run`, `demo`, `tick` and the tests all take their channels, file links
and outbox sender from here, so a message leaves the same way whoever queued it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backoff import FIRST_RETRY_SECONDS
from bot.config import Settings
from bot.delivery import ChannelSender, OutboxSender
from bot.files import FileLinks
from bot.pacing import Limiter
from bot.telegram import TelegramChannel
from bot.zalo import ZaloChannel
from handlers.router import Core
from models.accounts import ChatChannel
from models.clock import Clock

if TYPE_CHECKING:  # the dashboard draws charts (matplotlib): loaded only when it is served
    from bot.dashboard import Board


class Channel(Protocol):
    """`open` readies sending (log in, learn who the bot is); `start` begins receiving
    (polling, a webhook, a sync loop) and hands each update to `core.handle`; `stop` ends
    both and closes connections. `open` and `start` raise ChannelDown or ChannelRefused
    for what the runtime should retry or give up on; `stop` is safe to call at any point."""

    name: ChatChannel
    sender: ChannelSender
    limiter: Limiter
    # Receives by asking (long polling, a sync loop), not by a webhook: with several
    # processes only the leader may, or each update would be fetched twice.
    polls: bool

    async def open(self) -> None: ...

    async def start(self, core: Core) -> None: ...

    async def stop(self) -> None: ...


class ConfigError(ValueError):
    """A setting that cannot work as given; the message names the variable."""


def file_links(settings: Settings, clock: Clock) -> FileLinks | None:
    """Signed links to attachments, when the web server's public URL is configured."""
    if not settings.files_url:
        return None
    if not settings.files_secret:
        raise ConfigError("DONDOC_FILES_URL needs DONDOC_FILES_SECRET to sign the links")
    return FileLinks(settings.files_url, settings.files_secret, clock)


def dashboard_board(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> Board:
    """The read-only dashboard, beside the file links on the same web server."""
    from bot.dashboard import Board
    from bot.dashboard_links import DashboardLinks, dashboard_base

    links = DashboardLinks(dashboard_base(settings.files_url), settings.files_secret, clock)
    return Board(links, sessions, clock, settings.formula, settings.due_soon_days, settings.nagging)


def configured_channels(
    settings: Settings,
    links: FileLinks | None,
    *,
    poll_interval: float = 0.0,
    first_retry: float = FIRST_RETRY_SECONDS,
    sessions: async_sessionmaker[AsyncSession],
) -> list[Channel]:
    """Every channel whose settings are present, in a fixed order. Matrix keeps its login
    and sync position in the database, so it needs `sessions`."""
    channels: list[Channel] = []
    if settings.telegram_token:
        channels.append(
            TelegramChannel(settings, poll_interval=poll_interval, first_retry=first_retry)
        )
    if settings.zalo_token:
        channels.append(ZaloChannel(settings, links))
    if settings.matrix:
        # Imported here: a deployment without Matrix does not load its client library.
        from bot.matrix import MatrixChannel

        channels.append(MatrixChannel(settings, sessions))
    return channels


def outbox_sender(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    channels: list[Channel],
    *,
    idle_seconds: float = 0.5,
) -> OutboxSender:
    """The one sender: each channel's rows through that channel, at that channel's limits."""
    return OutboxSender(
        sessions,
        clock,
        {c.name: c.sender for c in channels},
        idle_seconds=idle_seconds,
        limiters={c.name: c.limiter for c in channels},
    )
