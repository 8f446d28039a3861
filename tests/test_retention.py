"""Prune deletes what retention no longer keeps, and never the history or the ledger."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from models import (
    Attachment,
    DeadlineChange,
    DeliveryAttempt,
    LinkCode,
    Notice,
    OutboxMessage,
    OutboxState,
    TaskEvent,
    Urging,
)
from models.accounts import ChatChannel
from models.attachments import FileKind
from models.deadlines import ChangeState
from models.report_store import StoredReport
from models.retention import Retention, prune
from models.tasks import Channel
from tests.city import City
from tests.conftest import NOW

DAY = timedelta(days=1)
FOREVER = (TaskEvent, DeadlineChange, Notice, Urging)


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _old_city(sessions, city: City) -> dict[str, int]:
    """A year of rows of every kind: which must go and which must stay, by name."""
    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        for name, age in (
            ("file sent long ago", 120),
            ("file waiting", 200),
            ("file linked lately", 45),
            ("file carried by a kept message", 60),
            ("file never sent", 40),
            ("file new", 5),
        ):
            row = Attachment(
                key=name,
                kind=FileKind.DOCUMENT,
                filename="a.xlsx",
                content=b"x" * 100,
                created_at=NOW - age * DAY,
            )
            session.add(row)
            await session.flush()
            ids[name] = row.id

        def message(name: str, state: OutboxState, age: int, file: str | None = None) -> None:
            session.add(
                OutboxMessage(
                    key=name,
                    channel=ChatChannel.TELEGRAM,
                    chat_id="900",
                    text=name,
                    state=state,
                    attachment_id=ids[file] if file else None,
                    created_at=NOW - age * DAY,
                    not_before=NOW - age * DAY,
                    sent_at=NOW - age * DAY if state == OutboxState.SENT else None,
                )
            )

        for n in range(7):  # more than a batch, to walk several
            message(f"sent long ago {n}", OutboxState.SENT, 100 + n, "file sent long ago")
        message("sent lately", OutboxState.SENT, 10, "file linked lately")
        message("sent 60 days ago", OutboxState.SENT, 60, "file carried by a kept message")
        message("pending for ages", OutboxState.PENDING, 200, "file waiting")
        message("sending for ages", OutboxState.SENDING, 150)
        message("failed long ago", OutboxState.FAILED, 150)
        await session.flush()
        for row in await session.scalars(select(OutboxMessage)):
            ids[row.key] = row.id
            for outcome in ("retry", "sent"):
                session.add(DeliveryAttempt(outbox_id=row.id, at=row.created_at, outcome=outcome))

        official = city.officials["SXD-CV"].id
        for name, used, revoked, expires in (
            ("code used long ago", 40, None, 33),
            ("code used lately", 5, None, -2),
            ("code revoked long ago", None, 40, 33),
            ("code expired long ago", None, None, 35),
            ("code waiting", None, None, -5),
        ):
            code = LinkCode(
                official_id=official,
                code_hash=name,
                created_at=NOW - 60 * DAY,
                expires_at=NOW - expires * DAY,
                used_at=NOW - used * DAY if used is not None else None,
                revoked_at=NOW - revoked * DAY if revoked is not None else None,
            )
            session.add(code)
            await session.flush()
            ids[name] = code.id

        old = NOW - 400 * DAY
        session.add(Notice(key="remind:task 4102:old", created_at=old))
        session.add(
            Urging(task_id=4103, deadline=date(2025, 1, 1), unit_id=3, week="2025-W40", at=old)
        )
        session.add(
            TaskEvent(task_id=4103, at=old, channel=Channel.SYSTEM, action="created", field=None)
        )
        session.add(
            DeadlineChange(
                task_id=4103,
                new_deadline=date(2025, 2, 1),
                reason="cũ",
                state=ChangeState.APPROVED,
                requested_at=old,
            )
        )
    return ids


async def _ids(sessions, model) -> set[int]:
    async with sessions() as session:
        return set((await session.scalars(select(model.id))).all())


async def test_prune_removes_what_retention_no_longer_keeps(sessions, city: City) -> None:
    ids = await _old_city(sessions, city)
    forever = {model: await _count(sessions, model) for model in FOREVER}

    pruned = await prune(sessions, NOW, Retention(), batch=2)

    assert (pruned.outbox, pruned.attempts, pruned.attachments, pruned.link_codes) == (7, 14, 3, 3)
    outbox = await _ids(sessions, OutboxMessage)
    assert not {ids[f"sent long ago {n}"] for n in range(7)} & outbox
    kept = ("sent lately", "sent 60 days ago", "pending for ages", "sending for ages")
    assert {ids[name] for name in (*kept, "failed long ago")} == outbox
    assert await _count(sessions, DeliveryAttempt) == 2 * len(outbox)
    files = await _ids(sessions, Attachment)
    assert files == {ids["file waiting"], ids["file linked lately"], ids["file new"]}
    async with sessions() as session:
        # The message keeps its own time; it only forgets the file it carried.
        kept_message = await session.get(OutboxMessage, ids["sent 60 days ago"])
        assert kept_message is not None and kept_message.attachment_id is None
    codes = await _ids(sessions, LinkCode)
    assert codes == {ids["code used lately"], ids["code waiting"]}
    for model, count in forever.items():
        assert await _count(sessions, model) == count, model.__name__


async def test_pruning_again_deletes_nothing_new(sessions, city: City) -> None:
    await _old_city(sessions, city)
    await prune(sessions, NOW, Retention())
    again = await prune(sessions, NOW, Retention())
    assert again.total == 0


async def test_zero_days_keeps_that_kind_forever(sessions, city: City) -> None:
    await _old_city(sessions, city)
    pruned = await prune(sessions, NOW, Retention(sent_days=0, attachment_days=0, link_code_days=0))
    assert pruned.total == 0


async def test_a_kept_report_goes_with_its_files_time(sessions, city: City) -> None:
    """A kept report older than the files' retention would point at files pruned with it."""
    async with sessions() as session, session.begin():
        for key, days in (("old", 31), ("new", 2)):
            session.add(
                StoredReport(
                    key=key,
                    version=1,
                    built_at=NOW - timedelta(days=days),
                    summary=key,
                    chart_id=1,
                    workbook_id=2,
                )
            )
    pruned = await prune(sessions, NOW, Retention())
    async with sessions() as session:
        assert set((await session.scalars(select(StoredReport.key))).all()) == {"new"}
    assert pruned.reports == 1
