"""Who may see and change what: one check per action, plain functions over loaded facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.organization import Official, Role, Unit
from models.tasks import Task

OVERSIGHT = frozenset({Role.TASK_FORCE, Role.CITY_LEADER, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """An official with the chain of their unit and its parents, loaded once per request."""

    official: Official
    unit_chain: tuple[int, ...]

    @property
    def roles(self) -> frozenset[Role]:
        return self.official.roles

    @property
    def unit_id(self) -> int:
        return self.official.unit_id

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & OVERSIGHT)

    @property
    def is_task_force(self) -> bool:
        return Role.TASK_FORCE in self.roles

    @property
    def is_unit_leader(self) -> bool:
        return Role.LEADER in self.roles


async def unit_parents(session: AsyncSession) -> dict[int, int | None]:
    """Every unit's parent: a thousand rows at most, read once and kept by the caller."""
    return dict((await session.execute(select(Unit.id, Unit.parent_id))).tuples().all())


def viewer_for(official: Official, parents: dict[int, int | None]) -> Viewer:
    chain: list[int] = []
    unit_id: int | None = official.unit_id
    while unit_id is not None and unit_id not in chain:
        chain.append(unit_id)
        unit_id = parents.get(unit_id)
    return Viewer(official, tuple(chain))


def in_lead_unit(viewer: Viewer, task: Task) -> bool:
    """The official works in the lead unit or in one of its sub-units."""
    return task.lead_unit_id in viewer.unit_chain


def may_view(viewer: Viewer, task: Task) -> bool:
    """The task force and city leaders see all; others the tasks their unit leads or coordinates."""
    if viewer.sees_everything or in_lead_unit(viewer, task):
        return True
    if viewer.official.id in (task.leader_id, task.specialist_id):
        return True
    return any(unit.id in viewer.unit_chain for unit in task.coordinating_units)


def may_update(viewer: Viewer, task: Task) -> bool:
    """Officials of the lead unit and the task force; never a coordinating unit. A city
    leader has read-only views (SPEC), even of what their own office leads, unless the
    register also makes them a leader or specialist there."""
    if viewer.is_task_force:
        return True
    if Role.CITY_LEADER in viewer.roles and not viewer.roles & {Role.LEADER, Role.SPECIALIST}:
        return False
    return in_lead_unit(viewer, task)


class Deciders(StrEnum):
    """Who decides an extension request: never the one who asked."""

    TASK_FORCE = "task_force"
    HEAD_OF_TASK_FORCE = "head_of_task_force"
    CITY_LEADER = "city_leader"


def is_head_of_task_force(official: Official) -> bool:
    """The head of the task force: a task-force member who is also a leader in the register."""
    return {Role.TASK_FORCE, Role.LEADER} <= official.roles


def deciders_of(requester: Official | None) -> Deciders:
    """Separation of duties: a unit's request goes to the task force, a task-force
    member's to its head, the head's to a city leader."""
    if requester is None or not requester.has_role(Role.TASK_FORCE):
        return Deciders.TASK_FORCE
    if is_head_of_task_force(requester):
        return Deciders.CITY_LEADER
    return Deciders.HEAD_OF_TASK_FORCE


def is_decider(official: Official, deciders: Deciders) -> bool:
    if deciders is Deciders.TASK_FORCE:
        return official.has_role(Role.TASK_FORCE)
    if deciders is Deciders.HEAD_OF_TASK_FORCE:
        return is_head_of_task_force(official)
    return official.has_role(Role.CITY_LEADER)


def may_decide_extension(viewer: Viewer, requester: Official | None) -> bool:
    """Nobody approves (or refuses) their own request."""
    if requester is not None and requester.id == viewer.official.id:
        return False
    return is_decider(viewer.official, deciders_of(requester))


def may_decide_extensions(viewer: Viewer) -> bool:
    """Some extension requests may reach this person: the task force, city leaders."""
    return viewer.is_task_force or Role.CITY_LEADER in viewer.roles


def may_see_unit_lists(viewer: Viewer) -> bool:
    """Overdue lists and statistics: oversight roles for all units, leaders for their own."""
    return viewer.sees_everything or viewer.is_unit_leader


def may_ask_explanation(viewer: Viewer) -> bool:
    """/giaitrinh N as a request: the task force asks a late task's lead unit to explain."""
    return viewer.is_task_force


def may_answer_explanation(viewer: Viewer, task: Task) -> bool:
    """/giaitrinh N lý do: a leader of the lead unit (or of a unit above it) answers."""
    return viewer.is_unit_leader and in_lead_unit(viewer, task)


def may_reassign(viewer: Viewer) -> bool:
    """`/chuyen`: only the task force hands a task to another unit (SPEC: never the lead
    unit by itself), and the history keeps both."""
    return viewer.is_task_force


def may_end_series(viewer: Viewer) -> bool:
    """`/dungdinhky`: the task force ends a recurring duty."""
    return viewer.is_task_force


def may_contribute(viewer: Viewer, task: Task) -> bool:
    """`/phoihop`: an official of one of the task's coordinating units (a city leader's views
    stay read-only); the lead unit reports with /tiendo instead."""
    if Role.CITY_LEADER in viewer.roles and not viewer.roles & {Role.LEADER, Role.SPECIALIST}:
        return False
    return any(unit.id in viewer.unit_chain for unit in task.coordinating_units)


class BoardScope(StrEnum):
    """What a ranking or the dashboard shows someone: the whole city, or their own unit."""

    CITY = "city"
    UNIT = "unit"


def board_scope(viewer: Viewer) -> BoardScope | None:
    """/xephang and /bangdieukhien: the task force and city leaders see the city, a unit
    leader their unit; a specialist (or anyone else) neither."""
    if viewer.is_task_force or Role.CITY_LEADER in viewer.roles:
        return BoardScope.CITY
    if viewer.is_unit_leader:
        return BoardScope.UNIT
    return None


def may_assign_from_notice(viewer: Viewer) -> bool:
    """Reading a signed notice into tasks and creating them (/giao) is the task force's work."""
    return viewer.is_task_force
