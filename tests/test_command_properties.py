"""Generated chat input against the core: commands and their aliases with random arguments
(unicode, digits of other scripts, huge numbers, impossible dates, nothing, whitespace),
typed or pressed as buttons, by every role and a stranger, in private and group chats, on
every channel.

For every input: no exception reaches the core's apology, at least one reply is written,
and nothing changes unless a command that changes things was sent by someone allowed to
make that change (the rules written out here from the README, as in test_authorization).

CI runs DONDOC_HYPOTHESIS_EXAMPLES inputs (200 by default); the issue's figure is 10,000.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from handlers.commands import ALIASES, COMMANDS
from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from models import DeadlineChange, Official, OutboxMessage, Task, TaskEvent, TaskStatus
from models.accounts import ChatChannel, issue_link_code
from models.clock import FixedClock
from models.db import create_engine, session_factory
from tests.city import build_city
from tests.conftest import NOW
from tests.test_authorization import add_to_city

EXAMPLES = int(os.environ.get("DONDOC_HYPOTHESIS_EXAMPLES", "200"))
APOLOGIES = ("gặp sự cố", "something went wrong on our side")

# Who each person is (unit, roles), written out from tests/city.py and add_to_city.
PEOPLE = {
    "SXD-CV": ("SXD", {"specialist"}),
    "SXD-LD": ("SXD", {"leader"}),
    "STP-LD": ("STP", {"leader"}),
    "Q1-CV": ("Q1", {"specialist"}),
    "TF": ("VP", {"task_force"}),
    "TCT": ("VP", {"task_force", "leader"}),  # the head of the task force
    "CT": ("UBND", {"city_leader"}),
}
LEAD_UNIT = {
    4101: "SXD",
    4102: "SXD",
    4103: "SXD",
    4104: "STP",
    4105: "STP",
    4106: "Q1",
    4107: "Q1",
    4108: "VP",
    4109: "UBND",
}
CHANGERS = {"xong", "tiendo", "vuongmac", "giahan", "duyet", "tuchoi", "giaitrinh"}


def may_change(code: str, task_id: int) -> bool:
    """README: the lead unit and the task force; SPEC: city leaders only read."""
    unit, roles = PEOPLE[code]
    if "task_force" in roles:
        return True
    if roles == {"city_leader"}:
        return False
    return LEAD_UNIT[task_id] == unit


def may_decide(code: str, requester: str | None) -> bool:
    """A unit's request: the task force; a member's: its head; the head's: a city leader.
    Never the requester."""
    if code == requester:
        return False
    roles = PEOPLE[code][1]
    requester_roles = PEOPLE[requester][1] if requester in PEOPLE else set()
    if "task_force" not in requester_roles:
        return "task_force" in roles
    if "leader" not in requester_roles:
        return {"task_force", "leader"} <= roles
    return "city_leader" in roles


# ------------------------------------------------------------------ generated input

other_digits = st.text(
    alphabet=st.characters(categories=["Nd", "No", "Nl"], exclude_characters="0123456789"),
    min_size=1,
    max_size=4,
)
words = st.one_of(
    st.sampled_from([str(n) for n in LEAD_UNIT] + ["0", "-1", "99999", "4101.5", "4,101"]),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.integers(min_value=-5, max_value=200).map(str),
    st.builds(
        "{:02d}/{:02d}/{:04d}".format,
        st.integers(0, 40),
        st.integers(0, 14),
        st.sampled_from([1, 999, 1999, 2000, 2026, 2027, 2028, 2100, 2101, 9999]),
    ),
    st.sampled_from(["01/01/0001", "31/12/9999", "29/02/2027", "15/01/2027", "11/2026", "4/2026"]),
    st.sampled_from(["SXD", "STP", "Q1", "VP", "UBND", "ZZZ", "tuan", "2tuan", "thang", "quy"]),
    st.sampled_from(["vi", "en", "zalo", "telegram", "matrix", "tatca", "xx"]),
    other_digits,
    st.text(max_size=12),
    st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u200b", "=HYPERLINK(1)", "x" * 1200]),
)
names = st.sampled_from([*sorted(set(COMMANDS) | set(ALIASES)), "khongco", "XONG", "Tiendo"])
commands = st.builds(
    lambda name, bot, sep, args: f"/{name}{bot}{sep}{' '.join(args)}",
    names,
    st.sampled_from(["", "", "", "@dondoc_bot"]),
    st.sampled_from([" ", " ", "\n", "  "]),
    st.lists(words, max_size=4),
)
task_ids = st.sampled_from(list(LEAD_UNIT))
reasons = st.one_of(st.sampled_from(["Đã xong", "Chờ kinh phí", ""]), st.text(max_size=20))
well_formed = st.one_of(
    st.builds("/xong {} {}".format, task_ids, reasons),
    st.builds("/done {}".format, task_ids),
    st.builds("/tiendo {} {}".format, task_ids, st.integers(-1, 101)),
    st.builds("/vuongmac {} {}".format, task_ids, reasons),
    st.builds(
        "/giahan {} {:02d}/{:02d}/{} {}".format,
        task_ids,
        st.integers(1, 31),
        st.integers(1, 12),
        st.sampled_from([2026, 2027, 2028, 2029]),
        reasons,
    ),
    st.builds("/duyet {}".format, task_ids),
    st.builds("/approve {}".format, task_ids),
    st.builds("/tuchoi {} {}".format, task_ids, reasons),
    st.builds("/xem {}".format, task_ids),
    st.sampled_from(
        ["/quahan", "/baocao", "/baocao thang SXD", "/thongke", "/viec 2", "/sapden 3"]
    ),
    task_ids.map(str),  # the answer to a question for a missing part
)
texts = st.one_of(
    *[well_formed] * 6,
    commands,
    commands,
    st.text(max_size=40),
    st.sampled_from(["", " ", "\n\t", "/", "//", "/ xong", "4101", "xacnhan không", "/start"]),
)
inputs = st.tuples(
    st.sampled_from([*PEOPLE, None]),  # None: a stranger, not linked
    st.sampled_from(list(ChatChannel)),
    st.booleans(),  # in a group
    st.booleans(),  # a button press
    texts,
)


# ------------------------------------------------------------------ the run

_updates = itertools.count(1)


async def snapshot(sessions) -> tuple:
    async with sessions() as session:
        tasks = (
            await session.execute(
                select(
                    Task.id,
                    Task.status,
                    Task.progress,
                    Task.deadline,
                    Task.completed_date,
                    Task.result,
                ).order_by(Task.id)
            )
        ).all()
        events = (await session.execute(select(TaskEvent.id, TaskEvent.task_id))).all()
        changes = (
            await session.execute(
                select(
                    DeadlineChange.id,
                    DeadlineChange.task_id,
                    DeadlineChange.state,
                    DeadlineChange.requested_by_id,
                    DeadlineChange.decided_by_id,
                ).order_by(DeadlineChange.id)
            )
        ).all()
    return {row.id: tuple(row) for row in tasks}, set(events), {row.id: row for row in changes}


class Run:
    """One database, the city, every person linked on every channel."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def start(self) -> None:
        self.engine = create_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        async with self.sessions() as session:
            city = await build_city(session)
            await session.commit()
        await add_to_city(self.sessions, city)
        self.core = Core(self.sessions, FixedClock(NOW), CoreSettings())
        async with self.sessions() as session:
            self.codes = {o.id: o.code for o in (await session.scalars(select(Official))).all()}
        for code in PEOPLE:
            for channel in ChatChannel:
                async with self.sessions() as session, session.begin():
                    official = await session.scalar(select(Official).where(Official.code == code))
                    link = await issue_link_code(session, official, NOW)
                [reply] = await self.say(channel, self.user(code), f"/start {link}", False, False)
                assert reply.startswith("Xin chào"), reply

    @staticmethod
    def user(code: str | None) -> str:
        return f"u-{code}" if code else "stranger"

    async def say(
        self, channel: ChatChannel, user: str, text: str, group: bool, button: bool
    ) -> list[str]:
        incoming = Incoming(
            channel,
            chat_id="group-1" if group else user,
            user_id=user,
            update_id=f"prop {next(_updates)}",
            text=None if button else text,
            button=text if button else None,
            is_group=group,
        )
        ids = await self.core.handle(incoming)
        await self.core.idle()
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.id)
            )
            return list(rows.all())

    async def check(self, case: tuple) -> None:
        code, channel, group, button, text = case
        before = await snapshot(self.sessions)
        replies = await self.say(channel, self.user(code), text, group, button)
        after = await snapshot(self.sessions)
        assert replies, f"no answer to {case!r}"
        assert not any(a in r for r in replies for a in APOLOGIES), (case, replies)
        if after == before:
            return
        # Something changed: it must be a changing command (or the answer to its question)
        # sent by a linked person allowed to make exactly this change.
        assert code is not None, (case, replies)
        stripped = (text or "").strip()
        if stripped.startswith("/"):
            name = stripped[1:].split(maxsplit=1)[0].split("@")[0].lower() if stripped[1:] else ""
            assert ALIASES.get(name, name) in CHANGERS, (case, replies)
        tasks_before, events_before, changes_before = before
        tasks_after, events_after, changes_after = after
        decided = set()
        for change_id, row in changes_after.items():
            old = changes_before.get(change_id)
            if old is None:  # a new request
                assert may_change(code, row.task_id), (case, replies)
                assert self.codes.get(row.requested_by_id) == code, (case, row)
            elif old != row:  # a decision
                requester = self.codes.get(row.requested_by_id)
                assert may_decide(code, requester), (case, replies, requester)
                assert self.codes.get(row.decided_by_id) == code
                decided.add(row.task_id)
        touched = {t for t in tasks_after if tasks_after[t] != tasks_before[t]}
        touched |= {task_id for _, task_id in events_after - events_before}
        for task_id in touched - decided:
            assert may_change(code, task_id), (case, replies, task_id)
        await self.reopen()

    async def reopen(self) -> None:
        """Done tasks refuse most changes; reopen them so that later inputs still can."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Task)
                .where(Task.status == TaskStatus.DONE)
                .values(status=TaskStatus.IN_PROGRESS, progress=50, completed_date=None)
            )


def test_every_input_is_answered_and_changes_only_what_it_may(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    run = Run(database_url)
    loop.run_until_complete(run.start())
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(inputs)
    def check(case: tuple) -> None:
        loop.run_until_complete(run.check(case))

    try:
        check()
    finally:
        loop.run_until_complete(run.engine.dispose())
        loop.close()
    print(f"{EXAMPLES} generated inputs in {time.monotonic() - started:.1f} s")
