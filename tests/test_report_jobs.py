"""The periodic reports: built whole in the rendering worker, the same messages as a build in
the bot would give, and no worker left behind when the build fails or hangs."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs import reports as report_jobs
from jobs.cadence import Cadence
from jobs.context import JobContext
from jobs.rendering import RenderingFailed
from jobs.report_worker import ReportOrder, monthly_title
from locales import translator
from messages.reports import summary_text
from models import reports as report_models
from models.accounts import ChatAccount, ChatChannel
from models.attachments import Attachment
from models.calendar import WorkingCalendar
from models.notices import Notice, Notifier
from models.outbox import OutboxMessage
from models.reports import Period, build_report
from tests.city import City
from tests.conftest import NOW


def fails_in_the_worker(order: ReportOrder) -> None:
    raise LookupError("no such unit")


def hangs_in_the_worker(order: ReportOrder) -> None:
    time.sleep(60)


def rendering_workers() -> list[int]:
    """This process's children running the rendering worker, waited for or not."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"jobs.rendering" in command:
            pids.append(int(entry))
    return pids


@pytest.fixture
async def linked(sessions, city: City) -> City:
    async with sessions() as session, session.begin():
        for code in ("CT", "TCT"):
            session.add(
                ChatAccount(
                    channel=ChatChannel.TELEGRAM,
                    external_user_id=code,
                    chat_id=code,
                    official_id=city.officials[code].id,
                    linked_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
    return city


async def _monthly(sessions) -> int:
    async with sessions() as session:
        context = JobContext(session, NOW, WorkingCalendar(), Cadence(), Notifier(session, NOW))
        sent = await report_jobs.send_monthly_report(context)
        await session.commit()
    return sent


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_monthly_report_is_built_outside_the_bots_process(
    sessions, linked: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_here(*args, **kwargs):
        raise AssertionError("the report was built in the bot's process")

    monkeypatch.setattr(report_models, "build_report", not_here)
    assert await _monthly(sessions) > 0
    assert rendering_workers() == []


async def test_the_monthly_reports_message_is_the_summary_a_build_in_the_bot_would_write(
    sessions, linked: City
) -> None:
    assert await _monthly(sessions) > 0
    async with sessions() as session:
        report = await build_report(
            session,
            Period.MONTHLY,
            date(2026, 10, 31),
            WorkingCalendar(),
            due_soon_days=Cadence().due_soon_days,
            past=True,
        )
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.key))).all()
    t = translator("vi")
    expected = summary_text(t, report, monthly_title(report.end, t))
    texts = [r.text for r in rows if r.attachment_id is None]
    assert texts == [expected, expected]  # the city leader and the task force's head
    files = [r.attachment_id for r in rows if r.attachment_id is not None]
    assert len(files) == 4 and len(set(files)) == 2  # the chart and the workbook, stored once


async def test_a_report_that_fails_in_the_worker_sends_nothing_and_leaves_no_worker(
    sessions, linked: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_jobs, "build", fails_in_the_worker)
    with pytest.raises(RenderingFailed, match="LookupError: no such unit") as failed:
        await _monthly(sessions)
    assert failed.value.kind == "LookupError"
    assert rendering_workers() == []
    assert await _count(sessions, OutboxMessage) == 0
    assert await _count(sessions, Attachment) == 0
    assert await _count(sessions, Notice) == 0
    monkeypatch.undo()
    assert await _monthly(sessions) > 0  # the next sweep sends it


async def test_a_report_that_hangs_is_killed_after_its_timeout_and_leaves_no_worker(
    sessions, linked: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_jobs, "build", hangs_in_the_worker)
    monkeypatch.setattr(report_jobs, "REPORT_TIMEOUT", 0.5)
    began = time.monotonic()
    with pytest.raises(RenderingFailed, match=r"more than 0\.5 s"):
        await _monthly(sessions)
    assert time.monotonic() - began < 30
    assert rendering_workers() == []
    assert await _count(sessions, OutboxMessage) == 0
