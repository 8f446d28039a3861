"""Kept reports: `/baocao` answers from the kept summary, chart and workbook while nothing
they were built from has changed, and builds them anew as soon as anything has; the monthly
job's files answer the ask for that month. Never stale (the SPEC's rule)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, text, update

from jobs import reports as report_jobs
from jobs.cadence import Cadence
from jobs.context import JobContext
from jobs.reports import send_monthly_report
from messages import kept_reports, report_build
from models.attachments import Attachment
from models.calendar import CalendarOverride, WorkingCalendar
from models.clock import FixedClock
from models.contributions import Contribution
from models.explanations import Explanation, ExplanationState
from models.notices import Notice, Notifier
from models.report_store import ReportAsk, StoredReport, data_version, keep_report
from models.scoring import Formula
from models.tasks import Task, TaskStatus
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def bot(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running)


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _workbook_total(content: bytes) -> list[object]:
    return [c.value for c in load_workbook(BytesIO(content))["Tổng hợp"][5]][1:7]


async def test_the_same_ask_is_answered_from_the_kept_report_until_a_task_changes(
    bot, city: City
) -> None:
    await bot.link("TCT")
    first = await bot.send("TCT", "/baocao thang", expect=4)
    assert first[1].split("\n")[-1] == "Số liệu tính đến 09:00 25/11/2026."
    stored = await _count(bot.sessions, Attachment)
    book = bot.sandbox.file_of(bot.sandbox.bot_messages(bot.user("TCT"))[-1])

    again = await bot.send("TCT", "/baocao thang", expect=4)
    assert again[1] == first[1]  # the same figures, taken at the same moment
    assert await _count(bot.sessions, Attachment) == stored  # nothing built or stored again
    photo, document = bot.sandbox.bot_messages(bot.user("TCT"))[-2:]
    assert photo["caption"] == "Báo cáo tháng: từ 01/11/2026 đến 25/11/2026"
    assert document["document"]["file_name"] == "bao-cao-monthly-toan-thanh-pho-2026-11-25.xlsx"
    assert bot.sandbox.file_of(document) == book

    # The overdue task is done: the next ask is built again, with the new numbers.
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Task)
            .where(Task.id == 4103)
            .values(status=TaskStatus.DONE, progress=100, completed_date=date(2026, 11, 25))
        )
    after = await bot.send("TCT", "/baocao thang", expect=4)
    assert after[1].split("\n")[2] != first[1].split("\n")[2]
    assert await _count(bot.sessions, Attachment) == stored + 2
    changed = bot.sandbox.file_of(bot.sandbox.bot_messages(bot.user("TCT"))[-1])
    assert _workbook_total(changed) != _workbook_total(book)
    assert after[1].split("\n")[2].startswith("Tổng: 7 · 1 · 2 · 4 · 0")  # done late now
    assert _workbook_total(changed) == ["Tổng", 7, 1, 2, 4, 0]


async def test_a_change_committed_during_the_build_is_not_hidden_by_the_kept_report(
    bot, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version is read before the build: a change made while it runs makes the kept
    report old at once, though the build did not see the change."""
    real = report_build.build_report

    async def build_while_a_task_changes(*args, **kwargs):
        async with bot.sessions() as other, other.begin():
            await other.execute(update(Task).where(Task.id == 4102).values(progress=77))
        return await real(*args, **kwargs)

    await bot.link("TCT")
    monkeypatch.setattr(report_build, "build_report", build_while_a_task_changes)
    await bot.send("TCT", "/baocao thang", expect=4)
    monkeypatch.setattr(report_build, "build_report", real)
    stored = await _count(bot.sessions, Attachment)
    await bot.send("TCT", "/baocao thang", expect=4)
    assert await _count(bot.sessions, Attachment) == stored + 2  # built again


async def test_the_monthly_job_s_files_answer_the_ask_for_that_month(bot, city: City) -> None:
    await bot.link("TCT")
    async with bot.sessions() as session:
        context = JobContext(session, NOW, WorkingCalendar(), Cadence(), Notifier(session, NOW))
        assert await send_monthly_report(context) > 0
        await session.commit()
    async with bot.sessions() as session:
        kept = (await session.scalars(select(StoredReport))).one()
        workbook = await session.get(Attachment, kept.workbook_id)
        assert workbook is not None and workbook.filename.endswith("2026-10-31.xlsx")
        job_book = workbook.content
    stored = await _count(bot.sessions, Attachment)
    texts = await bot.send("TCT", "/baocao thang 10/2026", expect=4)
    assert texts[1].split("\n")[0] == "📊 Báo cáo tháng: từ 01/10/2026 đến 31/10/2026"
    assert texts[1].split("\n")[-1] == "Số liệu tính đến 09:00 25/11/2026."
    assert await _count(bot.sessions, Attachment) == stored
    document = bot.sandbox.bot_messages(bot.user("TCT"))[-1]
    assert bot.sandbox.file_of(document) == job_book


async def test_every_change_to_what_a_report_reads_moves_the_version(session, city: City) -> None:
    task = city.tasks[4102]
    session.add_all(
        [
            CalendarOverride(day=date(2026, 12, 5), working=True, note="làm bù"),
            Contribution(
                task_id=task.id,
                unit_id=city.units["STP"].id,
                at=datetime(2026, 11, 20, tzinfo=UTC),
                percent=30,
                content="Đã góp ý",
            ),
            Explanation(
                task_id=task.id,
                deadline=date(2026, 11, 1),
                requested_at=datetime(2026, 11, 10, tzinfo=UTC),
                due_date=date(2026, 11, 20),
                state=ExplanationState.REQUESTED,
            ),
        ]
    )
    await session.flush()
    keys = {
        "tasks": "id",
        "task_events": "id",
        "units": "id",
        "officials": "id",
        "documents": "id",
        "explanations": "id",
        "contributions": "id",
        "calendar_overrides": "day",
    }
    for table, key in keys.items():
        before = await data_version(session)
        await session.execute(text(f"UPDATE {table} SET {key} = {key}"))
        assert await data_version(session) > before, table
    before = await data_version(session)
    await session.execute(text("DELETE FROM calendar_overrides"))
    assert await data_version(session) > before


def test_another_setting_or_language_is_another_ask() -> None:
    formula = Formula.load()
    ask = ReportAsk("monthly", date(2026, 10, 31), None, True, "vi", 3, "rules", formula)
    same = ReportAsk("monthly", date(2026, 10, 31), None, True, "vi", 3, "rules", formula)
    assert ask.key == same.key
    others = [
        ReportAsk("monthly", date(2026, 10, 31), None, True, "en", 3, "rules", formula),
        ReportAsk("monthly", date(2026, 10, 31), None, True, "vi", 5, "rules", formula),
        ReportAsk("monthly", date(2026, 10, 31), 7, True, "vi", 3, "rules", formula),
        ReportAsk("monthly", date(2026, 10, 31), None, False, "vi", 3, "rules", formula),
        ReportAsk("monthly", date(2026, 10, 31), None, True, "vi", 3, "other", formula),
        ReportAsk(
            "monthly",
            date(2026, 10, 31),
            None,
            True,
            "vi",
            3,
            "rules",
            Formula.of({"version": formula.version, "start": 90}),
        ),
    ]
    assert len({o.key for o in others} | {ask.key}) == len(others) + 1


async def test_a_rerun_of_the_monthly_job_after_a_change_keeps_the_files_of_its_version(
    bot, city: City
) -> None:
    """The job's catch-up run, a notice still unsent and a task changed since the first run:
    the kept report's workbook is the one built at the kept version, not the first run's."""
    await bot.link("TCT")

    async def run_job() -> StoredReport:
        async with bot.sessions() as session:
            context = JobContext(session, NOW, WorkingCalendar(), Cadence(), Notifier(session, NOW))
            await send_monthly_report(context)
            await session.commit()
        async with bot.sessions() as session:
            return (await session.scalars(select(StoredReport))).one()

    first = await run_job()
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Task)
            .where(Task.id == 4103)
            .values(status=TaskStatus.DONE, progress=100, completed_date=date(2026, 10, 30))
        )
        unsent = await session.scalar(
            select(Notice.key).where(Notice.key.like("report:monthly:2026-10:to %")).limit(1)
        )
        await session.execute(delete(Notice).where(Notice.key == unsent))
    again = await run_job()

    async with bot.sessions() as session:
        assert again.version == await data_version(session) != first.version
        old = await session.get(Attachment, first.workbook_id)
        new = await session.get(Attachment, again.workbook_id)
        assert old is not None and new is not None
        assert _workbook_total(new.content) != _workbook_total(old.content)


def _ask(language: str = "vi") -> ReportAsk:
    return ReportAsk("monthly", date(2026, 10, 31), None, True, language, 3, "r", Formula.load())


async def _keep(session, ask: ReportAsk, version: int) -> None:
    await keep_report(session, ask, version, NOW, f"v{version}", 1, 2)


async def test_keeping_a_newer_version_drops_the_older_kept_reports(sessions, city: City) -> None:
    async with sessions() as session, session.begin():
        await _keep(session, _ask("vi"), 1)
        await _keep(session, _ask("en"), 2)
        await _keep(session, _ask("en"), 1)  # built before, kept after: the newer stays
    async with sessions() as session:
        kept = (await session.scalars(select(StoredReport))).all()
        assert [(k.key, k.version, k.summary) for k in kept] == [(_ask("en").key, 2, "v2")]


async def test_two_keeping_the_same_ask_at_once_both_succeed(sessions, city: City) -> None:
    """Two processes (or the monthly job and a `/baocao`) keep the same ask in overlapping
    transactions: the second waits for the first and replaces its row."""
    async with sessions() as first, sessions() as second:
        if (await first.connection()).dialect.name != "postgresql":
            pytest.skip("SQLite has one writer: the transactions cannot overlap")
        await _keep(first, _ask(), 5)

        async def keep_too() -> None:
            await _keep(second, _ask(), 5)
            await second.commit()

        waiting = asyncio.create_task(keep_too())
        await asyncio.sleep(0.3)
        await first.commit()
        await asyncio.wait_for(waiting, 10)
    assert await _count(sessions, StoredReport) == 1


async def test_the_report_is_sent_though_keeping_it_fails(
    bot, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args, **kwargs):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(kept_reports, "keep_report", refuse)
    await bot.link("TCT")
    texts = await bot.send("TCT", "/baocao thang", expect=4)
    assert texts[1].startswith("📊 Báo cáo tháng")
    assert await _count(bot.sessions, StoredReport) == 0


async def test_the_monthly_report_is_sent_though_keeping_it_fails(
    bot, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args, **kwargs):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(report_jobs, "keep_report", refuse)
    await bot.link("TCT")
    async with bot.sessions() as session:
        context = JobContext(session, NOW, WorkingCalendar(), Cadence(), Notifier(session, NOW))
        assert await send_monthly_report(context) > 0
        await session.commit()
    assert await _count(bot.sessions, StoredReport) == 0
