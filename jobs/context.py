"""What every job receives: the session, the moment, the calendar and the notifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.cadence import Cadence
from models.attachments import File, store
from models.calendar import WorkingCalendar
from models.clock import local_date
from models.db import write_gate
from models.notices import Notifier, already_sent
from models.status import StatusWindow


@dataclass
class JobContext:
    session: AsyncSession
    now: datetime
    calendar: WorkingCalendar
    cadence: Cadence
    notifier: Notifier

    @property
    def today(self) -> date:
        return local_date(self.now)

    @property
    def window(self) -> StatusWindow:
        return StatusWindow.at(self.today, self.calendar, self.cadence.due_soon_days)

    @property
    def for_officials(self) -> datetime:
        """When a message to officials may go: now in working hours, else next morning."""
        return self.cadence.next_working_moment(self.now, self.calendar)

    async def all_sent(self, keys: list[str]) -> bool:
        """Every one of these notices is out: the job need not build its files again."""
        return not set(keys) - await already_sent(self.session, keys)

    async def store_files(
        self, key: str, made: dict[str, list[File]]
    ) -> dict[str, tuple[tuple[int, str], ...]]:
        """Files already made, by language, stored once each in a short write: as
        `Message.files` takes them."""
        files = {}
        for language, language_files in sorted(made.items()):
            async with write_gate(self.session.bind).bulk():
                files[language] = tuple(
                    [
                        (
                            await store(self.session, f"{key}:{language}:file {n}", f, self.now),
                            f.caption,
                        )
                        for n, f in enumerate(language_files, start=1)
                    ]
                )
                await self.session.commit()
        return files

    async def store_many(
        self, made: dict[str, dict[str, list[File]]]
    ) -> dict[str, dict[str, tuple[tuple[int, str], ...]]]:
        """The files of many notices (by key, then language), stored in one short write:
        a batch of fifty units' letters is one commit, not a hundred."""
        files: dict[str, dict[str, tuple[tuple[int, str], ...]]] = {}
        async with write_gate(self.session.bind).bulk():
            for key, by_language in made.items():
                files[key] = {
                    language: tuple(
                        [
                            (
                                await store(
                                    self.session, f"{key}:{language}:file {n}", f, self.now
                                ),
                                f.caption,
                            )
                            for n, f in enumerate(language_files, start=1)
                        ]
                    )
                    for language, language_files in sorted(by_language.items())
                }
            await self.session.commit()
        return files
