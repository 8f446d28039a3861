"""The read-only dashboard on the product's one web server (`bot/web.py`).

Every page needs a valid signed link (`bot/dashboard_links.py`) whose chat account is still
linked to an active official allowed to see it; every answer is a GET that reads. The city
view is served from a snapshot of the ranking rebuilt in the background once it is older
than `REFRESH_SECONDS` (the page says when it was taken), so a reader never waits for the
city's million tasks to be counted; the trend charts are drawn once a day per unit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tornado.routing import PathMatches, Rule
from tornado.web import RequestHandler

from bot.dashboard_links import DashboardLinks, Refused
from handlers.ranking import period_label
from locales import Translator, translator
from models.calendar import load_calendar
from models.clock import Clock, local_date
from models.dashboard import link_holder, task_with_history, unit_by_id, unit_tasks, weekly_trend
from models.defaults import Nagging
from models.nagging import quiet_before, risk_by_unit, silent_by_unit
from models.organization import Official
from models.permissions import BoardScope, board_scope, unit_parents, viewer_for
from models.reports import Period, period_bounds
from models.scores import Scope, unit_ranking
from models.scoring import Formula, Ranked
from models.status import StatusWindow, task_status
from paperwork.dashboard_page import SORTS, CityQuery, city_page, refused_page
from paperwork.dashboard_unit import task_page, unit_page

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60.0
PERIODS = {"thang": Period.MONTHLY, "quy": Period.QUARTERLY}


@dataclass(frozen=True)
class Snapshot:
    rows: list[Ranked]
    by_unit: dict[int, Ranked]
    as_of: datetime
    period: Period
    start: date
    not_updated: dict[str, int]  # unit code → open tasks silent DONDOC_STALE_DAYS working days
    at_risk: dict[str, int]  # unit code → open tasks at risk of being late ("nguy cơ chậm")


class Board:
    """The dashboard's reads, with the city snapshot and the day's charts kept in memory."""

    def __init__(
        self,
        links: DashboardLinks,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        formula: Formula,
        due_soon_days: int,
        nagging: Nagging | None = None,
    ) -> None:
        self.links, self.sessions, self.clock = links, sessions, clock
        self.formula, self.due_soon_days = formula, due_soon_days
        self.nagging = nagging or Nagging()
        self._snapshots: dict[Period, tuple[float, Snapshot]] = {}
        self._building: dict[Period, asyncio.Task[Snapshot]] = {}
        self._charts: dict[tuple[int | None, date, str], bytes] = {}
        self._warming: asyncio.Task[bytes] | None = None

    async def window(self, session: AsyncSession) -> StatusWindow:
        calendar = await load_calendar(session)
        return StatusWindow.at(local_date(self.clock.now()), calendar, self.due_soon_days)

    async def _build(self, period: Period) -> Snapshot:
        started = time.perf_counter()
        now = self.clock.now()
        async with self.sessions() as session:
            calendar = await load_calendar(session)
            window = StatusWindow.at(local_date(now), calendar, self.due_soon_days)
            start, _ = period_bounds(period, window.today)
            rows = await unit_ranking(session, Scope(window, start, self.formula, calendar))
            rules = self.nagging
            silent = {}
            if rules.stale_days > 0:
                before = quiet_before(window.today, calendar, rules.stale_days)
                silent = await silent_by_unit(session, window, before)
            risky = await risk_by_unit(session, window, calendar, rules)
        self._snapshots[period] = (
            time.monotonic(),
            snapshot := Snapshot(rows, {r.key: r for r in rows}, now, period, start, silent, risky),
        )
        log.info(
            "dashboard: %s ranking of %d units in %.2f s",
            period.value,
            len(rows),
            time.perf_counter() - started,
        )
        return snapshot

    def _start_build(self, period: Period) -> asyncio.Task[Snapshot]:
        task = self._building.get(period)
        if task is None or task.done():
            task = asyncio.create_task(self._build(period))
            task.add_done_callback(_log_failure)
            self._building[period] = task
        return task

    async def close(self) -> None:
        """Stop the snapshots and charts still being built (the server is stopping)."""
        waiting = [t for t in (*self._building.values(), self._warming) if t and not t.done()]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def city(self, period: Period) -> Snapshot:
        """The latest snapshot; a stale one is served while a fresh one is built."""
        kept = self._snapshots.get(period)
        if kept is None:
            snapshot = await asyncio.shield(self._start_build(period))
            if self._warming is None:  # the city's chart, which the page asks for next
                self._warming = asyncio.create_task(self.chart(None, translator("vi")))
                self._warming.add_done_callback(_log_failure)
            return snapshot
        built, snapshot = kept
        if time.monotonic() - built > REFRESH_SECONDS or local_date(snapshot.as_of) != local_date(
            self.clock.now()
        ):
            self._start_build(period)
        return snapshot

    async def chart(self, unit_id: int | None, t: Translator) -> bytes:
        """Drawn once a day per unit (and language): the past weeks do not change."""
        title = t._("On-time rate and overdue tasks per week, last 6 months")
        today = local_date(self.clock.now())
        key = (unit_id, today, t.language)
        if key not in self._charts:
            async with self.sessions() as session:
                weeks = await weekly_trend(session, today, unit_id=unit_id)
            if len(self._charts) > 2_000:
                self._charts.clear()
            from paperwork.trend_chart import trend_svg  # matplotlib: at the first chart drawn

            self._charts[key] = await asyncio.to_thread(trend_svg, weeks, t, title)
        return self._charts[key]


def _log_failure(task: asyncio.Task[object]) -> None:
    """A snapshot or chart built in the background failed: the stale one is still served."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("dashboard: building in the background failed", exc_info=error)


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link is the key: it must not leak to anyone
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


class _Page(RequestHandler):
    """Checks the link on every request; the pages below only read."""

    board: Board
    holder: Official
    scope: BoardScope
    t: Translator
    home: str
    expires: datetime

    def initialize(self, board: Board) -> None:
        self.board = board

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def refuse(self, reason: Refused, status: int = 403) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(refused_page(translator("vi"), reason.value))

    async def admitted(self, token: str) -> bool:
        checked = self.board.links.check(token)
        if isinstance(checked, Refused):
            self.refuse(checked)
            return False
        async with self.board.sessions() as session:
            holder = await link_holder(session, checked.account_id, checked.official_id)
            scope = None
            if holder is not None:
                scope = board_scope(viewer_for(holder, await unit_parents(session)))
        if holder is None:
            self.refuse(Refused.REVOKED)
            return False
        if scope is None:
            self.refuse(Refused.NOT_ALLOWED)
            return False
        self.holder, self.scope, self.t = holder, scope, translator(holder.language)
        self.home = f"{self.board.links.path}/{token}"
        self.expires = checked.expires
        return True

    def may_see_unit(self, unit_id: int) -> bool:
        return self.scope is BoardScope.CITY or unit_id == self.holder.unit_id

    def html(self, page: str) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


class _Home(_Page):
    async def get(self, token: str) -> None:
        if not await self.admitted(token):
            return
        if self.scope is BoardScope.UNIT:
            await _unit(self, self.holder.unit_id)
            return
        arg = self.get_argument
        period = arg("ky", "thang") if arg("ky", "thang") in PERIODS else "thang"
        sort = arg("sx", "rank") if arg("sx", "rank") in SORTS else "rank"
        colour = arg("mau", "") if arg("mau", "") in ("green", "yellow", "red") else ""
        query = CityQuery(period, sort, arg("chieu", "") == "giam", arg("q", "")[:60], colour)
        snapshot = await self.board.city(PERIODS[period])
        self.html(
            city_page(
                self.t,
                snapshot.rows,
                self.board.formula,
                query,
                home=self.home,
                nagged=(snapshot.not_updated, snapshot.at_risk),
                period=period_label(self.t, snapshot.period, snapshot.start),
                as_of=snapshot.as_of,
                expires=self.expires,
            )
        )


async def _unit(page: _Page, unit_id: int) -> None:
    board, t = page.board, page.t
    snapshot = await board.city(Period.MONTHLY)
    async with board.sessions() as session:
        unit = await unit_by_id(session, unit_id)
        if unit is None:
            page.send_error(404)
            return
        calendar = await load_calendar(session)
        window = StatusWindow.at(local_date(board.clock.now()), calendar, board.due_soon_days)
        tasks = await unit_tasks(
            session, unit_id, window, snapshot.start, calendar=calendar, rules=board.nagging
        )
    page.html(
        unit_page(
            t,
            snapshot.by_unit.get(unit_id),
            unit.name,
            tasks,
            board.formula,
            home=page.home,
            city=page.scope is BoardScope.CITY,
            period=period_label(t, snapshot.period, snapshot.start),
            units=len(snapshot.rows),
            expires=page.expires,
        )
    )


class _Unit(_Page):
    async def get(self, token: str, unit_id: str) -> None:
        if not await self.admitted(token):
            return
        if not self.may_see_unit(int(unit_id)):
            self.refuse(Refused.NOT_ALLOWED)
            return
        await _unit(self, int(unit_id))


class _Task(_Page):
    async def get(self, token: str, task_id: str) -> None:
        if not await self.admitted(token):
            return
        async with self.board.sessions() as session:
            task = await task_with_history(session, int(task_id))
            window = await self.board.window(session)
        if task is None:
            self.send_error(404)
            return
        if not self.may_see_unit(task.lead_unit_id):
            self.refuse(Refused.NOT_ALLOWED)
            return
        self.html(
            task_page(self.t, task, task_status(task, window), home=self.home, expires=self.expires)
        )


class _Chart(_Page):
    async def get(self, token: str, unit_id: str | None = None) -> None:
        if not await self.admitted(token):
            return
        unit = int(unit_id) if unit_id is not None else None
        if unit is None and self.scope is not BoardScope.CITY:
            unit = self.holder.unit_id
        if unit is not None and not self.may_see_unit(unit):
            self.refuse(Refused.NOT_ALLOWED)
            return
        self.set_header("Content-Type", "image/svg+xml")
        self.finish(await self.board.chart(unit, self.t))


def dashboard_routes(board: Board) -> list[Rule]:
    base = board.links.path
    token = r"([0-9a-f-]{1,90})"
    options = {"board": board}
    return [
        Rule(PathMatches(rf"{base}/{token}/?"), _Home, options),
        Rule(PathMatches(rf"{base}/{token}/chart\.svg"), _Chart, options),
        Rule(PathMatches(rf"{base}/{token}/u/(\d{{1,12}})"), _Unit, options),
        Rule(PathMatches(rf"{base}/{token}/u/(\d{{1,12}})/chart\.svg"), _Chart, options),
        Rule(PathMatches(rf"{base}/{token}/t/(\d{{1,12}})"), _Task, options),
        Rule(PathMatches(rf"{base}(/.*)?"), _Nothing, options),
    ]


class _Nothing(_Page):
    """Anything else under the dashboard's path: the same refusal, nothing to learn."""

    def get(self, *_: str) -> None:
        self.refuse(Refused.INVALID)
