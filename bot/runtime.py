"""Running the bot: the configured channels, the outbox sender, the web server, the jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tornado.httpserver import HTTPServer

from bot.backoff import FIRST_RETRY_SECONDS
from bot.channels import configured_channels, file_links, outbox_sender
from bot.config import Settings
from bot.delivery import ChannelDown, ChannelRefused, OutboxSender
from bot.supervisor import ChannelKeeper, State
from bot.web import start_web_server
from handlers.core import CoreSettings
from handlers.router import Core
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models.clock import Clock
from models.db import session_factory

log = logging.getLogger(__name__)

STOP_SECONDS = 3.0


@dataclass
class Running:
    core: Core
    sender: OutboxSender
    sender_task: asyncio.Task[None]
    keepers: list[ChannelKeeper]
    scheduler: AsyncIOScheduler | None = None
    web: HTTPServer | None = None
    # Set when every configured channel has been disabled: nothing is left to serve.
    all_disabled: asyncio.Event = field(default_factory=asyncio.Event)

    async def ready(self, timeout: float = 30.0) -> None:
        """Wait until every channel is up or disabled (tests; the process never waits)."""
        async with asyncio.timeout(timeout):
            while any(k.state not in (State.UP, State.DISABLED) for k in self.keepers):
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop receiving, let the batch in flight be sent and recorded (a few seconds at
        most; past that it is abandoned and the outbox takes it over), then close."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        await self.core.idle()
        self.sender.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self.sender_task), STOP_SECONDS)
        except TimeoutError:
            self.sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender_task
        for keeper in self.keepers:
            await keeper.stop()
        if self.web is not None:
            self.web.stop()


async def start_bot(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    poll_interval: float = 0.0,
    idle_seconds: float = 0.5,
    cadence: Cadence | None = None,
    first_retry: float = FIRST_RETRY_SECONDS,
) -> Running:
    """Start the outbox sender, the web server and the jobs, and bring every configured
    channel up in the background: one that is down is retried while the others serve."""
    links = file_links(settings, clock)
    sender = outbox_sender(sessions, clock, [], idle_seconds=idle_seconds)
    core = Core(
        sessions,
        clock,
        CoreSettings(
            due_soon_days=settings.due_soon_days,
            extension_horizon_days=settings.extension_horizon_days,
            nagging=settings.nagging,
            work_start=settings.work_start,
            work_end=settings.work_end,
        ),
        sender.send_now,
    )
    all_disabled = asyncio.Event()
    keepers: list[ChannelKeeper] = []

    def disabled() -> None:
        if all(k.state is State.DISABLED for k in keepers):
            all_disabled.set()

    channels = configured_channels(
        settings, links, poll_interval=poll_interval, first_retry=first_retry, sessions=sessions
    )
    for channel in channels:
        keepers.append(ChannelKeeper(channel, core, sender, disabled, first_retry))
    for keeper in keepers:
        keeper.begin()
    web = await start_web_server(links, sessions, settings.files_listen) if links else None
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    scheduler = None
    if cadence is not None:
        scheduler = schedule_jobs(sessions, clock, cadence, sender)
        scheduler.start()
    return Running(core, sender, task, keepers, scheduler, web, all_disabled)


def schedule_jobs(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, cadence: Cadence, sender: OutboxSender
) -> AsyncIOScheduler:
    """A handful of fixed jobs; each asks the database what is due. Never a job per task."""

    async def sweep() -> None:
        counts = await run_due(sessions, clock.now(), cadence)
        if any(counts.values()):
            sender.wake.set()

    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    options: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    scheduler.add_job(sweep, IntervalTrigger(minutes=5), id="sweep", **options)
    # The weekly and periodic moments, so they go out on the minute rather than up to 5 later.
    for at in sorted({cadence.work_start, cadence.digest_at, cadence.urging_at, cadence.report_at}):
        trigger = CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute)
        scheduler.add_job(sweep, trigger, id=f"at {at}", **options)
    return scheduler


async def serve_forever(engine: AsyncEngine, settings: Settings, clock: Clock) -> bool:
    """Run until SIGINT or SIGTERM (True), or until every channel is disabled (False)."""
    sessions = session_factory(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = await start_bot(
        settings, sessions, clock, cadence=settings.cadence if settings.scheduler else None
    )
    try:
        ended = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(running.all_disabled.wait())
        await asyncio.wait({ended, failed}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (ended, failed):
            waiting.cancel()
        return not running.all_disabled.is_set()
    finally:
        await running.stop()


async def deliver_due(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    """Send what the outbox holds that is due now, without the bot running (`dondoc tick`):
    the same channels, file links and sender as `dondoc run`."""
    channels = configured_channels(settings, file_links(settings, clock), sessions=sessions)
    opened = []
    try:
        for channel in channels:
            try:
                await channel.open()
            except (ChannelDown, ChannelRefused) as error:  # its messages wait for the next tick
                log.warning("%s: not sending this time: %s", channel.name.value, error)
                continue
            opened.append(channel)
        return await outbox_sender(sessions, clock, opened).drain()
    finally:
        for channel in channels:
            await channel.stop()
