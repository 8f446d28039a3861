"""A fan-out's rows written by `INSERT … SELECT` over JSON hold what each envelope says."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from locales import TIMEZONE
from models.accounts import ChatChannel
from models.notices import Notice
from models.outbox import Envelope, OutboxMessage, Priority, enqueue_many, record_notices

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=TIMEZONE)


async def test_a_fan_out_writes_each_envelope_as_it_says_and_skips_keys_queued(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(hours=15)
    envelopes = [
        Envelope(
            "a",
            ChatChannel.TELEGRAM,
            "100",
            'Chào 🔴 "đồng chí"\nhai dòng',
            [[("✅ Xong", "/xong 7")]],
            "vi",
            priority=Priority.BULK,
            not_before=later,
        ),
        Envelope("b", ChatChannel.ZALO, "z-200", "Hello", [], "en", priority=Priority.ALERT),
        Envelope(
            "c", ChatChannel.TELEGRAM, "300", "reply", [], "vi", reply=True, edit_message_id="42"
        ),
    ]
    async with sessions() as session, session.begin():
        await enqueue_many(session, envelopes, NOW)
        await enqueue_many(session, [Envelope("a", ChatChannel.TELEGRAM, "999", "again")], NOW)
        await record_notices(session, ["n:1", "n:2", "n:1"], NOW)
        await record_notices(session, ["n:2", "n:3"], NOW + timedelta(days=1))
    async with sessions() as session:
        rows = {r.key: r for r in await session.scalars(select(OutboxMessage))}
        notices = {n.key: n.created_at for n in await session.scalars(select(Notice))}
    assert sorted(rows) == ["a", "b", "c"]
    for envelope in envelopes:
        expected = envelope.row(NOW)
        row = rows[envelope.key]
        got = {name: getattr(row, name) for name in expected}
        assert got == expected
    assert notices == {"n:1": NOW, "n:2": NOW, "n:3": NOW + timedelta(days=1)}
