"""What each process says about itself on its webhook listener: `/healthz` for the load
balancer and monitoring (database reachable, channels, leader or not, outbox backlog and its
oldest message's age), `/metrics` in Prometheus' format (prometheus_client)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tornado.routing import PathMatches, Rule
from tornado.web import RequestHandler

from models.clock import Clock
from models.coordination import Backlog, outbox_backlog

REGISTRY = CollectorRegistry()
UPDATES = Counter(
    "dondoc_updates_handled", "Updates handled (their change and reply committed)",
    ["channel"], registry=REGISTRY,
)  # fmt: skip
SENT = Counter(
    "dondoc_messages_sent", "Messages the channel accepted", ["channel", "kind"], registry=REGISTRY
)
TOO_MANY = Counter(
    "dondoc_429", "429 answers (flood limits) from a channel", ["channel"], registry=REGISTRY
)
JOBS = Histogram(
    "dondoc_job_duration_seconds", "How long each scheduled job took", ["job"], registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900),
)  # fmt: skip
BACKLOG = Gauge("dondoc_outbox_backlog", "Messages due and not yet sent", registry=REGISTRY)
OLDEST = Gauge(
    "dondoc_outbox_oldest_pending_seconds", "Age of the oldest message due", registry=REGISTRY
)
LEADER = Gauge("dondoc_leader", "1 when this process leads (jobs, polling)", registry=REGISTRY)


@dataclass
class Status:
    """What the endpoints read: filled in by the runtime as it starts."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    leading: Callable[[], bool] = lambda: False
    channels: Callable[[], dict[str, str]] = field(default=dict)

    async def backlog(self) -> Backlog:
        async with self.sessions() as session:
            return await outbox_backlog(session, self.clock.now())


class _Healthz(RequestHandler):
    def initialize(self, status: Status) -> None:
        self.status = status

    async def get(self) -> None:
        started = time.perf_counter()
        body: dict[str, object] = {
            "leader": self.status.leading(),
            "channels": self.status.channels(),
        }
        try:
            backlog = await self.status.backlog()
        except Exception as error:  # the balancer takes this process out while it lasts
            body |= {"ok": False, "database": False, "error": type(error).__name__}
            self.set_status(503)
            self.finish(body)
            return
        oldest = (
            max(0.0, (self.status.clock.now() - backlog.oldest).total_seconds())
            if backlog.oldest
            else 0.0
        )
        body |= {
            "ok": True,
            "database": True,
            "database_ms": round((time.perf_counter() - started) * 1000, 1),
            "outbox_backlog": backlog.pending,
            "oldest_pending_seconds": round(oldest, 1),
        }
        self.finish(body)


class _Metrics(RequestHandler):
    def initialize(self, status: Status) -> None:
        self.status = status

    async def get(self) -> None:
        LEADER.set(1 if self.status.leading() else 0)
        try:
            backlog = await self.status.backlog()
            BACKLOG.set(backlog.pending)
            oldest = self.status.clock.now() - backlog.oldest if backlog.oldest else None
            OLDEST.set(max(0.0, oldest.total_seconds()) if oldest else 0.0)
        except Exception:  # the counters still tell what this process did
            pass
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))


def status_routes(status: Status) -> list[Rule]:
    return [
        Rule(PathMatches(r"/healthz"), _Healthz, {"status": status}),
        Rule(PathMatches(r"/metrics"), _Metrics, {"status": status}),
    ]
