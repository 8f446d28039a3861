"""Who receives what: the task force, city leaders, a unit's leaders; officials as columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.notices import Person, Recipient
from models.organization import Official, OfficialRole, Role, Unit
from models.permissions import Deciders, is_decider

P = TypeVar("P", bound=Person)

_COLUMNS = (
    Official.id,
    Official.full_name,
    Official.unit_id,
    Official.language,
    Official.notify_channel,
    Official.position,
)


async def recipients(session: AsyncSession, ids: list[int]) -> dict[int, Recipient]:
    """These officials as a notice needs them, by id, 500 to a query."""
    found: dict[int, Recipient] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(*_COLUMNS).where(Official.id.in_(ids[start : start + 500]))
        )
        found.update((row[0], Recipient(*row)) for row in rows.tuples())
    return found


async def with_role(
    session: AsyncSession, role: Role, unit_ids: Iterable[int] | None = None
) -> list[Official]:
    query = (
        select(Official)
        .join(OfficialRole, OfficialRole.official_id == Official.id)
        .where(OfficialRole.role == role, Official.active.is_(True))
        .order_by(Official.id)
    )
    if unit_ids is not None:
        query = query.where(Official.unit_id.in_(list(unit_ids)))
    return list((await session.scalars(query)).unique().all())


async def role_holders(
    session: AsyncSession, role: Role, unit_ids: Iterable[int] | None = None
) -> list[Recipient]:
    """`with_role` as columns: the same officials, in the same order, without ORM objects."""
    query = (
        select(*_COLUMNS)
        .join(OfficialRole, OfficialRole.official_id == Official.id)
        .where(OfficialRole.role == role, Official.active.is_(True))
        .order_by(Official.id)
    )
    if unit_ids is not None:
        query = query.where(Official.unit_id.in_(list(unit_ids)))
    found: dict[int, Recipient] = {}
    for row in (await session.execute(query)).tuples():
        found.setdefault(row[0], Recipient(*row))
    return list(found.values())


def distinct(people: Iterable[P | None]) -> list[P]:
    seen: dict[int, P] = {}
    for person in people:
        if person is not None:
            seen.setdefault(person.id, person)
    return list(seen.values())


def head_of(people: list[P]) -> P | None:
    """The head among a unit's leaders (or the task force): a title that is not a deputy's."""
    heads = [o for o in people if not o.position.lower().startswith(("phó", "deputy"))]
    return (heads or people or [None])[0]


async def letter_sender(session: AsyncSession) -> tuple[str, Official | None]:
    """Who writes every letter: the city leaders' body, and the head of the task force."""
    city_leaders = await with_role(session, Role.CITY_LEADER)
    top = await session.get(Unit, city_leaders[0].unit_id) if city_leaders else None
    return (top.name if top else ""), head_of(await with_role(session, Role.TASK_FORCE))


async def extension_deciders(
    session: AsyncSession, deciders: Deciders, requester: Official | None
) -> list[Official]:
    """Who is asked to decide an extension request: never the one who asked."""
    role = Role.CITY_LEADER if deciders is Deciders.CITY_LEADER else Role.TASK_FORCE
    people = await with_role(session, role)
    asker = requester.id if requester else None
    return [o for o in people if o.id != asker and is_decider(o, deciders)]
