"""Telling officials what became theirs: one message per import or action and recipient,
listing their new tasks, under a key that names the action (a re-run sends nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from locales import Translator
from models.notices import Message, Notifier, Outgoing
from models.organization import Official
from models.outbox import Priority
from models.tasks import Task

Builder = Callable[[list[Task]], Callable[[Translator], Message]]


def newly_named(task: Task, before: tuple[int | None, int | None] | None) -> list[Official]:
    """The task's specialist and leader who were not named on it before (`before`: the
    (specialist id, leader id) it had; None for a new task), active officials only."""
    old = set(before or ())
    people = [task.specialist, task.leader]
    found: dict[int, Official] = {}
    for person in people:
        if person is not None and person.active and person.id not in old:
            found.setdefault(person.id, person)
    return list(found.values())


async def announce(
    notifier: Notifier,
    key: str,
    assignments: Iterable[tuple[Official, Task]],
    build: Builder,
    *,
    not_before: datetime | None,
) -> int:
    """One message per recipient listing their tasks of this action, `key:to N`."""
    people: dict[int, Official] = {}
    tasks: dict[int, list[Task]] = {}
    for official, task in assignments:
        people.setdefault(official.id, official)
        mine = tasks.setdefault(official.id, [])
        if task not in mine:
            mine.append(task)
    items = [
        Outgoing(f"{key}:to {official_id}", people[official_id], build(listed))
        for official_id, listed in tasks.items()
    ]
    return await notifier.send(items, priority=Priority.ALERT, not_before=not_before)
