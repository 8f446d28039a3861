"""Reports kept with the data version they were built at: `/baocao` sends a kept one again
instead of building it anew, but only while nothing it was built from has changed.

The data version is the sum of `data_versions`, bumped by migration 0023's triggers in the
same transaction as every change to the tables a report reads. It is read before a report
is built (in the same snapshot on SQLite): a change committed meanwhile makes the kept
version differ at the next ask, so a kept report is never stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, Integer, String, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.db import dialect_insert
from models.scoring import Formula


class DataVersion(Base):
    """One of the counters the triggers bump (one on SQLite, up to 16 on PostgreSQL)."""

    __tablename__ = "data_versions"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)


class StoredReport(Base):
    """A report's summary and files as built at `version`, under the key of what was asked."""

    __tablename__ = "stored_reports"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    chart_id: Mapped[int] = mapped_column(Integer)
    workbook_id: Mapped[int] = mapped_column(Integer)


async def data_version(session: AsyncSession) -> int:
    """The count of changes to what a report reads, as this session's snapshot sees it."""
    return int(await session.scalar(select(func.coalesce(func.sum(DataVersion.n), 0))) or 0)


@dataclass(frozen=True)
class ReportAsk:
    """What a report is built from besides the data: the period, the unit, the language and
    the settings that change its numbers."""

    kind: str
    end: date
    unit_id: int | None
    past: bool
    language: str
    due_soon_days: int
    rules: str  # the nagging rules (silence, risk), as their repr
    formula: Formula

    @property
    def key(self) -> str:
        # The formula's whole content, not only its version: an operator may forget to bump it.
        settings = repr((self.due_soon_days, self.rules, self.formula)).encode()
        fingerprint = hashlib.sha256(settings).hexdigest()[:16]
        unit = "all" if self.unit_id is None else str(self.unit_id)
        moment = "past" if self.past else "today"
        return f"{self.kind}:{self.end.isoformat()}:{unit}:{moment}:{self.language}:{fingerprint}"


async def fresh_report(session: AsyncSession, ask: ReportAsk) -> StoredReport | None:
    """The kept report for this ask, if nothing it was built from has changed since."""
    kept = await session.get(StoredReport, ask.key)
    if kept is None or kept.version != await data_version(session):
        return None
    return kept


async def keep_report(
    session: AsyncSession,
    ask: ReportAsk,
    version: int,
    built_at: datetime,
    summary: str,
    chart_id: int,
    workbook_id: int,
) -> None:
    """Keep (replace) the report for this ask, built from the data at `version`. The caller
    commits; the files are stored attachments already.

    An upsert, so two keeping the same ask at once (two processes, the monthly job and a
    `/baocao`) do not collide; the one built at the newer version stays. Reports kept at an
    older version go: nothing can match them again (the version only grows)."""
    await session.execute(delete(StoredReport).where(StoredReport.version < version))
    row = {
        "key": ask.key,
        "version": version,
        "built_at": built_at,
        "summary": summary,
        "chart_id": chart_id,
        "workbook_id": workbook_id,
    }
    insert = (await dialect_insert(session, StoredReport)).values(row)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={name: insert.excluded[name] for name in row if name != "key"},
            where=StoredReport.version <= insert.excluded.version,
        )
    )
