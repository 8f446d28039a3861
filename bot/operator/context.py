"""What every `dondoc` command receives, and the few helpers they share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from locales import Translator
from models.calendar import load_calendar
from models.clock import Clock, local_date, parse_moment
from models.organization import Unit
from models.status import StatusWindow
from models.task_queries import unit_by_code


class CliError(Exception):
    """A user mistake: printed as it is, exit status 2, never a traceback."""


def parse_at(value: str | None, clock: Clock, t: Translator) -> datetime:
    """`--at` as a moment, or now when it is not given."""
    if not value:
        return clock.now()
    try:
        return parse_moment(value)
    except ValueError:
        raise CliError(
            t._(
                "'{value}' is not a moment; write it as 2026-11-24 or 2026-11-24T08:00", value=value
            )
        ) from None


@dataclass(frozen=True)
class Context:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    t: Translator
    clock: Clock

    async def window(self, session: AsyncSession, moment: datetime) -> StatusWindow:
        calendar = await load_calendar(session)
        today = local_date(moment)
        past = today < local_date(self.clock.now())
        return StatusWindow.at(today, calendar, self.settings.due_soon_days, past=past)


async def unit_named(ctx: Context, session: AsyncSession, code: str) -> Unit:
    """The unit with this code, or the error that says there is none."""
    unit = await unit_by_code(session, code)
    if unit is None:
        raise CliError(ctx.t._("There is no unit with the code '{code}'.", code=code))
    return unit
