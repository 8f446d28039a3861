"""Running the bot: the configured channels, the outbox sender, the web server, the jobs."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.backoff import FIRST_RETRY_SECONDS
from bot.channels import configured_channels, dashboard_board, file_links, outbox_sender
from bot.config import Settings
from bot.delivery import ChannelDown, ChannelRefused, OutboxSender
from bot.health import JOBS, UPDATES, Status, status_routes
from bot.leader import Leadership, claim_sqlite_file
from bot.supervisor import ChannelKeeper, State
from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from jobs.cadence import Cadence
from locales import TIMEZONE
from models.clock import Clock
from models.db import session_factory

if TYPE_CHECKING:  # the dashboard draws charts (matplotlib): loaded only when it is served
    from tornado.httpserver import HTTPServer

    from bot.dashboard import Board

log = logging.getLogger(__name__)

STOP_SECONDS = 3.0
# A new leader's first sweep, this long after it came to lead: the people who wrote while the
# bot was down are answered first (a sweep's Python shares the loop), then it catches up.
FIRST_SWEEP_SECONDS = 5.0


async def import_off_loop(name: str) -> ModuleType:
    """A heavy module (the jobs with python-docx; every country's holidays) imported in a
    worker thread: the loop keeps answering meanwhile, and at start-up the import overlaps
    the channels' first round trips instead of delaying the first answer."""
    return await asyncio.to_thread(importlib.import_module, name)


@dataclass
class Running:
    core: Core
    sender: OutboxSender
    sender_task: asyncio.Task[None]
    keepers: list[ChannelKeeper]
    leadership: Leadership
    web: HTTPServer | None = None
    board: Board | None = None  # the dashboard, served by `web`
    # Set when every configured channel has been disabled: nothing is left to serve.
    all_disabled: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a leader that was polling lost its lock: it stops, to come back as a follower.
    lost_lead: asyncio.Event = field(default_factory=asyncio.Event)
    jobs: Jobs | None = None
    warming: asyncio.Task[None] | None = None  # the core's first-command costs, paid ahead

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self.jobs.scheduler if self.jobs is not None else None

    async def ready(self, timeout: float = 30.0) -> None:
        """Wait until every channel is up or disabled (tests; the process never waits)."""
        async with asyncio.timeout(timeout):
            while any(
                k.state not in (State.UP, State.FOLLOWING, State.DISABLED) for k in self.keepers
            ):
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop receiving, let the batch in flight be sent and recorded (a few seconds at
        most; past that it is abandoned and the outbox takes it over), then close."""
        if self.jobs is not None:
            await self.jobs.stop()
        if self.warming is not None:
            with contextlib.suppress(Exception):
                await self.warming
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
        await self.leadership.stop()
        if self.web is not None:
            self.web.stop()
        if self.board is not None:
            await self.board.close()


class Jobs:
    """The scheduler, run by the leader only: started when this process comes to lead
    (with a sweep a few seconds later: the dead leader's half-done sweep is finished, not
    repeated), stopped when it stops leading."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        cadence: Cadence,
        sender: OutboxSender,
        sweep_seconds: float,
        first_sweep_seconds: float = FIRST_SWEEP_SECONDS,
    ) -> None:
        self.sessions, self.clock, self.cadence, self.sender = sessions, clock, cadence, sender
        self.sweep_seconds = sweep_seconds
        self.first_sweep_seconds = first_sweep_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self.sweeps: set[asyncio.Task[dict[str, int]]] = set()

    async def start(self) -> None:
        if self.scheduler is None:
            self.scheduler = schedule_jobs(
                self.sessions,
                self.clock,
                self.cadence,
                self.sender,
                self.sweep_seconds,
                self.sweeps,
                self.first_sweep_seconds,
            )
            self.scheduler.start()

    async def stop(self) -> None:
        """No new sweep; the one running is cut short (the next leader's finishes it)."""
        if self.scheduler is not None:
            self.scheduler.pause()
        for task in list(self.sweeps):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        while self.sweeps:  # the scheduler's own task sees its sweep end, and returns
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    async def lost(self) -> None:
        await self.stop()


async def start_bot(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    poll_interval: float = 0.0,
    idle_seconds: float = 0.5,
    cadence: Cadence | None = None,
    first_retry: float = FIRST_RETRY_SECONDS,
    lead: bool = True,
    sweep_seconds: float = 300.0,
    first_sweep_seconds: float = FIRST_SWEEP_SECONDS,
) -> Running:
    """Start the outbox sender, the web server and the jobs, and bring every configured
    channel up in the background: one that is down is retried while the others serve.

    With several processes on one PostgreSQL, the jobs and the polling receivers run in the
    leader only (`lead=False`: this process never leads); every process sends, and answers
    the webhooks it is given."""
    links = file_links(settings, clock)
    board = dashboard_board(settings, sessions, clock) if links else None
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
            formula=settings.formula,
            dashboard_link=board.links.url if board else None,
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
    leadership = Leadership(sessions.kw["bind"], candidate=lead)
    lost_lead = asyncio.Event()
    jobs = (
        Jobs(sessions, clock, cadence, sender, sweep_seconds, first_sweep_seconds)
        if cadence is not None
        else None
    )
    if jobs is not None:
        leadership.when_leading(jobs.start)
        leadership.when_lost(jobs.lost)

    async def lost() -> None:
        if any(k.receiving for k in keepers):
            log.error("leader: stopping, to come back as a follower (another process polls now)")
            lost_lead.set()

    leadership.when_lost(lost)
    status = Status(
        sessions,
        clock,
        leading=lambda: leadership.leading,
        channels=lambda: {k.name: k.state.value for k in keepers},
    )
    record = core.record

    async def counted(incoming: Incoming) -> list[int]:
        replies = await record(incoming)
        UPDATES.labels(incoming.channel.value).inc()
        return replies

    core.record = counted  # type: ignore[method-assign]
    for channel in channels:
        if hasattr(channel, "status_routes"):  # a webhook listener serves /healthz, /metrics
            channel.status_routes = status_routes(status)
        receive_when = leadership.became if leadership.shared else None
        keepers.append(ChannelKeeper(channel, core, sender, disabled, first_retry, receive_when))
    warming = asyncio.create_task(core.warm(), name="core-warm")  # while the channels connect
    await leadership.start()
    for keeper in keepers:
        keeper.begin()
    web = None
    if links:
        from bot.web import start_web_server  # the dashboard and its pages: only when served

        web = await start_web_server(links, sessions, settings.files_listen, board)
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    return Running(
        core,
        sender,
        task,
        keepers,
        leadership,
        web=web,
        board=board,
        all_disabled=all_disabled,
        lost_lead=lost_lead,
        jobs=jobs,
        warming=warming,
    )


def schedule_jobs(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    cadence: Cadence,
    sender: OutboxSender,
    sweep_seconds: float = 300.0,
    sweeps: set[asyncio.Task[dict[str, int]]] | None = None,
    first_sweep_seconds: float = FIRST_SWEEP_SECONDS,
) -> AsyncIOScheduler:
    """A handful of fixed jobs; each asks the database what is due. Never a job per task.
    The first sweep runs `first_sweep_seconds` after the start."""

    running = sweeps if sweeps is not None else set()

    async def sweep() -> None:
        # Its own task, which a stop may cancel: what it queued stays, the next sweep
        # (here or in the next leader) finishes the rest.
        durations: dict[str, float] = {}
        moment = clock.now()

        async def due() -> dict[str, int]:
            # The jobs (and python-docx) load here, not at start: `dondoc run` answers first.
            jobs = await import_off_loop("jobs.run")
            return await jobs.run_due(sessions, moment, cadence, durations)

        task = asyncio.create_task(due())
        running.add(task)
        try:
            await asyncio.wait({task})
            await asyncio.sleep(0)
        finally:
            running.discard(task)
        if task.cancelled():
            log.info("sweep cut short by the stop; the next sweep finishes it")
            return
        counts = task.result()
        for name, seconds in durations.items():
            JOBS.labels(name).observe(seconds)
        if any(counts.values()):
            sender.wake.set()

    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    options: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    scheduler.add_job(
        sweep,
        IntervalTrigger(seconds=sweep_seconds),
        id="sweep",
        next_run_time=datetime.now(TIMEZONE) + timedelta(seconds=first_sweep_seconds),
        **options,
    )
    # The weekly and periodic moments, so they go out on the minute rather than up to 5 later.
    for at in sorted({cadence.work_start, cadence.digest_at, cadence.urging_at, cadence.report_at}):
        trigger = CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute)
        scheduler.add_job(sweep, trigger, id=f"at {at}", **options)
    return scheduler


async def serve_forever(
    engine: AsyncEngine, settings: Settings, clock: Clock, *, claimed: object = None
) -> bool:
    """Run until SIGINT or SIGTERM (True), or until every channel is disabled, or a polling
    leader lost its lock (False). On SQLite the file is this process's (`claimed`, held by
    `dondoc run`; the demo claims it here)."""
    sessions = session_factory(engine)
    held = claimed or claim_sqlite_file(engine)  # noqa: F841 (kept until the process ends)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = await start_bot(
        settings,
        sessions,
        clock,
        cadence=settings.cadence if settings.scheduler else None,
        lead=settings.scheduler,
        sweep_seconds=settings.sweep_seconds,
    )
    try:
        waits = {
            asyncio.create_task(stop.wait()),
            asyncio.create_task(running.all_disabled.wait()),
            asyncio.create_task(running.lost_lead.wait()),
        }
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        return not (running.all_disabled.is_set() or running.lost_lead.is_set())
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
