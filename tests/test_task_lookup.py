"""A task as the commands that change it read it: the same parts as the card's read, or,
for `/xong` and `/tiendo`, only the parts they touch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import InvalidRequestError

from models.arrivals import _query as arrival_query
from models.contributions import Contribution, latest_by_unit
from models.organization import Role
from models.task_lookup import (
    _card_query,
    _query,
    _slim_query,
    _trail_query,
    card_trail,
    task_to_change,
    task_to_report,
    task_to_show,
)
from models.task_queries import deadline_history, get_task, recent_events
from models.tasks import Channel, TaskEvent, task_coordinators
from tests.city import City


async def _with_coordinator(session, city: City) -> None:
    await session.execute(
        insert(task_coordinators).values(task_id=4101, unit_id=city.units["STP"].id)
    )
    await session.commit()
    session.expunge_all()  # read back from the database, not this session's copies


async def test_a_change_reads_what_the_card_reads(sessions, city: City) -> None:
    async with sessions() as session:
        await _with_coordinator(session, city)
        card = await get_task(session, 4101)
    async with sessions() as session:
        task = await task_to_change(session, 4101)
        assert task is not None and card is not None
        assert task.lead_unit.code == card.lead_unit.code == "SXD"
        assert task.document is not None and task.document.number == card.document.number
        assert task.leader is not None and Role.LEADER in task.leader.roles
        assert task.specialist is not None and Role.SPECIALIST in task.specialist.roles
        assert [u.code for u in task.coordinating_units] == ["STP"]


async def test_done_and_progress_read_the_units_but_not_the_people(session, city: City) -> None:
    await _with_coordinator(session, city)
    task = await task_to_report(session, 4101)
    assert task is not None
    assert task.lead_unit.code == "SXD" and [u.code for u in task.coordinating_units] == ["STP"]
    assert (task.leader_id, task.specialist_id) == (
        city.officials["SXD-LD"].id,
        city.officials["SXD-CV"].id,
    )
    with pytest.raises(InvalidRequestError):  # not loaded: touching them is a bug, not a query
        _ = task.leader


@pytest.mark.parametrize("task_id", [0, -1, 2**31, 999_999])
async def test_no_such_task(session, city: City, task_id: int) -> None:
    assert await task_to_change(session, task_id) is None
    assert await task_to_report(session, task_id) is None


def test_the_statements_are_built_once() -> None:
    """Built per call, a statement cost more Python than its execution: SQLAlchemy keeps
    a statement object's cache key, so the same object must come back."""
    assert _query() is _query() and _slim_query() is _slim_query()
    assert _card_query() is _card_query() and _trail_query() is _trail_query()
    assert arrival_query() is arrival_query()


async def test_the_card_reads_its_deadline_changes_with_the_task(sessions, city: City) -> None:
    async with sessions() as session:
        history = [(c.id, c.new_deadline) for c in await deadline_history(session, 4107)]
    async with sessions() as session:
        task = await task_to_show(session, 4107)
        assert task is not None and task.series is None
        assert [(c.id, c.new_deadline) for c in task.deadline_changes] == history != []
        assert Role.LEADER in task.leader.roles and task.lead_unit.code == "Q1"


async def test_the_trail_is_the_last_events_and_each_units_last_report(
    sessions, city: City
) -> None:
    """More events than the card shows, and two reports from one unit: the same as
    `recent_events` and `latest_by_unit`, read one statement each."""
    async with sessions() as session:
        at = datetime(2026, 11, 20, tzinfo=UTC)
        session.add_all(
            [
                TaskEvent(
                    task_id=4101,
                    at=at,
                    actor_id=city.officials["SXD-CV"].id,
                    channel=Channel.CLI,
                    action="note",
                    note=f"ghi chú {n}",
                )
                for n in range(7)
            ]
            + [TaskEvent(task_id=4102, at=at, channel=Channel.CLI, action="note")]
            + [
                Contribution(task_id=4101, unit_id=city.units[code].id, at=at, content=text)
                for code, text in (("STP", "một"), ("Q1", "hai"), ("STP", "ba"))
            ]
        )
        await session.commit()
    async with sessions() as session:
        events = [
            (e.id, e.actor.full_name if e.actor else None)
            for e in await recent_events(session, 4101)
        ]
        reports = [(name, c.id) for name, c in await latest_by_unit(session, 4101)]
    async with sessions() as session:
        found, latest = await card_trail(session, 4101)
        assert [(e.id, e.actor.full_name if e.actor else None) for e in found] == events
        assert len(events) == 5 and [(name, c.id) for name, c in latest] == reports
        assert [c.content for _, c in latest] == ["hai", "ba"]
        assert await card_trail(session, 999_999) == ([], [])
