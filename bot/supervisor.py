"""Keeps each channel up: brings it up with retries, and never lets one channel's trouble
stop the others or the process.

A channel that cannot be reached (network down, 5xx, 429) is retried with exponential backoff
and jitter, forever; one that refuses us for good (a wrong token) is disabled with one log
line. The outbox sender serves a channel only while it is up, so its messages wait rather
than fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from enum import StrEnum

from bot.backoff import FIRST_RETRY_SECONDS, retry_delay
from bot.channels import Channel
from bot.delivery import ChannelDown, ChannelRefused, OutboxSender
from handlers.router import Core

log = logging.getLogger("dondoc.channels")


class State(StrEnum):
    STARTING = "starting"
    UP = "up"
    FOLLOWING = "following"  # sends; the leader process polls for this channel's updates
    RETRYING = "retrying"
    DISABLED = "disabled"


class ChannelKeeper:
    """One channel's way up: open, start, and on trouble wait and try again."""

    def __init__(
        self,
        channel: Channel,
        core: Core,
        sender: OutboxSender,
        on_disabled: Callable[[], None],
        first_retry: float = FIRST_RETRY_SECONDS,
        receive_when: asyncio.Event | None = None,
    ) -> None:
        self.channel = channel
        # Several processes: a polling channel receives in the leader only, once it leads.
        self.receive_when = receive_when
        self.receiving = False
        self.core = core
        self.sender = sender
        self.on_disabled = on_disabled
        self.first_retry = first_retry
        self.state = State.STARTING
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.channel.name.value

    def begin(self) -> None:
        self._task = asyncio.create_task(self._bring_up(), name=f"{self.name}-up")

    async def _bring_up(self) -> None:
        failures = 0
        while True:
            try:
                await self.channel.open()
                self.sender.serve(self.channel.name, self.channel.sender, self.channel.limiter)
                if self.channel.polls and self.receive_when is not None:
                    if not self.receive_when.is_set():
                        self.state = State.FOLLOWING
                        log.info("%s: up to send; the leader receives", self.name)
                    await self.receive_when.wait()
                await self.channel.start(self.core)
                self.receiving = self.channel.polls
            except ChannelRefused as error:
                self.state = State.DISABLED
                self.sender.drop(self.channel.name)
                log.error("%s: disabled: %s", self.name, error)
                with contextlib.suppress(Exception):
                    await self.channel.stop()
                self.on_disabled()
                return
            except Exception as error:  # ChannelDown, or a surprise: either way, try again
                if not isinstance(error, ChannelDown):
                    log.exception("%s: failed to start", self.name)
                failures += 1
                delay = retry_delay(failures, self.first_retry)
                self.state = State.RETRYING
                self.sender.drop(self.channel.name)
                log.warning(
                    "%s: cannot be reached (%s); retrying in %.0f s", self.name, error, delay
                )
                with contextlib.suppress(Exception):
                    await self.channel.stop()
                await asyncio.sleep(delay)
                continue
            self.state = State.UP
            log.info("%s: up", self.name)
            return

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sender.drop(self.channel.name)
        await self.channel.stop()
