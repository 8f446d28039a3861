"""The authorization matrix: every command × every role × the task's relation to the
person's unit (its lead unit, another unit, a unit that only coordinates it).

The expected answer of each cell is written out below from the README's command table and
SPEC.md — never computed by models/permissions.py, so that a wrong rule there fails here.
An allowed command must make its change (or give its answer); a refused one must say so in
Vietnamese and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from models import DeadlineChange, Explanation, Official, Role, Task, TaskEvent, Unit
from models.tasks import task_coordinators
from tests.city import CREATED, City
from tests.core_chat import CoreChat

ROLES = ("specialist", "leader", "task_force", "city_leader", "unlinked")
RELATIONS = ("own", "other", "coordinating")

# Who plays each role, and the unit they work in.
PERSON = {
    "specialist": "SXD-CV",
    "leader": "SXD-LD",
    "task_force": "TF",  # a task-force member who is not its head
    "city_leader": "CT",
    "unlinked": None,
}
UNIT = {
    "specialist": "SXD",
    "leader": "SXD",
    "task_force": "VP",
    "city_leader": "UBND",
    "unlinked": "SXD",
}
# The task each relation is tried on: one the person's unit leads, one led by Quận Trung Tâm.
OWN_TASK = {"SXD": 4101, "VP": 4108, "UBND": 4109}
OTHER_TASK = 4107  # Q1, due 10/12/2026; in "coordinating" the person's unit coordinates it
# The specialist of each lead unit asks for the extension that /duyet and /tuchoi decide.
ASKER = {4101: "SXD-CV", 4107: "Q1-CV", 4108: "VP-CV", 4109: "UBND-CV"}

Y, N = True, False

# command → role → (own, other, coordinating): allowed?
# README: /xem — who may see N (a coordinating unit sees; task force and city leaders all).
# /xong /tiendo /vuongmac /giahan — lead unit, task force. /duyet /tuchoi — task force.
# /quahan /baocao /nguyco — task force, city leaders (all); unit leaders (own unit).
EXPECTED: dict[str, dict[str, tuple[bool, bool, bool]]] = {
    "xem": {
        "specialist": (Y, N, Y),
        "leader": (Y, N, Y),
        "task_force": (Y, Y, Y),
        "city_leader": (Y, Y, Y),
        "unlinked": (N, N, N),
    },
    **{
        command: {
            "specialist": (Y, N, N),
            "leader": (Y, N, N),
            "task_force": (Y, Y, Y),
            "city_leader": (N, N, N),  # SPEC: city leaders have read-only views
            "unlinked": (N, N, N),
        }
        for command in ("xong", "tiendo", "vuongmac", "giahan")
    },
    **{
        command: {
            "specialist": (N, N, N),
            "leader": (N, N, N),
            "task_force": (Y, Y, Y),
            "city_leader": (N, N, N),  # a unit's request goes to the task force
            "unlinked": (N, N, N),
        }
        for command in ("duyet", "tuchoi")
    },
    **{
        command: {
            "specialist": (N, N, N),
            "leader": (Y, N, N),
            "task_force": (Y, Y, Y),
            "city_leader": (Y, Y, Y),
            "unlinked": (N, N, N),
        }
        for command in ("quahan", "baocao", "nguyco")
    },
    # README: /phoihop — officials of a coordinating unit of N (the lead unit uses /tiendo;
    # city leaders' views are read-only). /chuyen — the task force (SPEC: only it reassigns).
    "phoihop": {
        "specialist": (N, N, Y),
        "leader": (N, N, Y),
        "task_force": (N, N, Y),  # the office itself coordinating: its officials speak for it
        "city_leader": (N, N, N),
        "unlinked": (N, N, N),
    },
    "chuyen": {
        "specialist": (N, N, N),
        "leader": (N, N, N),
        "task_force": (Y, Y, Y),
        "city_leader": (N, N, N),
        "unlinked": (N, N, N),
    },
    # README: /giaitrinh N — the task force asks a late task's lead unit to explain (SPEC:
    # "asked by the task force"); /giaitrinh N lý do — the lead unit's leaders answer it
    # (not its specialists, not a unit that only coordinates, not the task force for them;
    # city leaders' views are read-only). Tried on a task long overdue, and the answer on
    # one the task force (its head) asked about.
    "giaitrinh": {
        "specialist": (N, N, N),
        "leader": (N, N, N),
        "task_force": (Y, Y, Y),
        "city_leader": (N, N, N),
        "unlinked": (N, N, N),
    },
    "giaitrinh-lydo": {
        "specialist": (N, N, N),
        "leader": (Y, N, N),
        "task_force": (N, N, N),
        "city_leader": (N, N, N),
        "unlinked": (N, N, N),
    },
}
# README: task force, leaders; SPEC: city leaders have the read-only views.
STATS = {"specialist": N, "leader": Y, "task_force": Y, "city_leader": Y, "unlinked": N}

NOT_LINKED = "Tài khoản này chưa được liên kết."


@dataclass
class Case:
    command: str
    role: str
    relation: str
    allowed: bool

    @property
    def task(self) -> int:
        return OWN_TASK[UNIT[self.role]] if self.relation == "own" else OTHER_TASK

    @property
    def unit_code(self) -> str:
        return UNIT[self.role] if self.relation == "own" else "Q1"

    def text(self) -> str:
        n = self.task
        return {
            "xem": f"/xem {n}",
            "xong": f"/xong {n} Đã hoàn thành",
            "tiendo": f"/tiendo {n} 55 Đang triển khai",
            "vuongmac": f"/vuongmac {n} Chưa có kinh phí",
            "giahan": f"/giahan {n} 15/01/2027 Chờ thẩm định",
            "duyet": f"/duyet {n}",
            "tuchoi": f"/tuchoi {n} Không đủ căn cứ",
            "quahan": f"/quahan {self.unit_code}",
            "baocao": f"/baocao thang 11/2026 {self.unit_code}",
            "nguyco": f"/nguyco {self.unit_code}",
            "phoihop": f"/phoihop {n} 40 Đã gửi ý kiến",
            "chuyen": f"/chuyen {n} STP",
            "giaitrinh": f"/giaitrinh {n}",
            "giaitrinh-lydo": f"/giaitrinh {n} Chờ bố trí vốn",
        }[self.command]


CASES = [
    Case(command, role, relation, EXPECTED[command][role][i])
    for command in EXPECTED
    for role in ROLES
    for i, relation in enumerate(RELATIONS)
]


async def snapshot(sessions) -> tuple:
    """Every row a task command could write: tasks, their events, their deadline changes,
    the explanations asked of them."""
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
        events = (
            await session.execute(
                select(TaskEvent.task_id, TaskEvent.action, TaskEvent.new_value).order_by(
                    TaskEvent.id
                )
            )
        ).all()
        changes = (
            await session.execute(
                select(
                    DeadlineChange.task_id,
                    DeadlineChange.new_deadline,
                    DeadlineChange.state,
                    DeadlineChange.decided_by_id,
                ).order_by(DeadlineChange.id)
            )
        ).all()
        explanations = (
            await session.execute(
                select(Explanation.task_id, Explanation.state, Explanation.reason).order_by(
                    Explanation.id
                )
            )
        ).all()
    return tuple(tasks), tuple(events), tuple(changes), tuple(explanations)


async def add_to_city(sessions, city: City) -> None:
    """A plain task-force member, specialists for the office and the committee, and a task
    each of those two units leads, so that every role has an "own unit" task."""
    async with sessions() as session, session.begin():
        units = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
        people = {
            "TF": ("Ngô Văn Tổ Viên", "VP", {Role.TASK_FORCE}),
            "VP-CV": ("Đỗ Thị Văn", "VP", {Role.SPECIALIST}),
            "UBND-CV": ("Lý Văn Ủy", "UBND", {Role.SPECIALIST}),
        }
        added = {}
        for code, (name, unit, roles) in people.items():
            official = Official(
                code=code, full_name=name, position="Chuyên viên", unit_id=units[unit]
            )
            official.set_roles(frozenset(roles))
            added[code] = official
        session.add_all(added.values())
        await session.flush()
        document_id = city.tasks[4101].document_id
        for task_id, unit, leader, specialist in (
            (4108, "VP", "TCT", "VP-CV"),
            (4109, "UBND", "CT", "UBND-CV"),
        ):
            session.add(
                Task(
                    id=task_id,
                    document_id=document_id,
                    content=f"Nhiệm vụ do {unit} chủ trì",
                    lead_unit_id=units[unit],
                    leader_id=city.officials[leader].id,
                    specialist_id=added[specialist].id,
                    assigned_date=date(2026, 10, 5),
                    original_deadline=date(2026, 12, 20),
                    deadline=date(2026, 12, 20),
                    created_at=CREATED,
                    updated_at=CREATED,
                )
            )


async def coordinate(sessions, unit_code: str, task_id: int) -> None:
    async with sessions() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit_code))
        await session.execute(task_coordinators.insert().values(task_id=task_id, unit_id=unit_id))


async def make_long_overdue(sessions, task_id: int) -> None:
    """Due on 1/10/2026: by 25/11 far more working days late than an explanation needs."""
    async with sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        task.deadline = task.original_deadline = date(2026, 10, 1)


async def count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.fixture
async def chat(sessions, city: City) -> CoreChat:
    await add_to_city(sessions, city)
    return CoreChat(sessions)


def refusal_for(case: Case) -> tuple[str, ...]:
    """The Vietnamese refusals a refused cell may give (the reason depends on the cell)."""
    n = case.task
    if case.role == "unlinked":
        return (NOT_LINKED,)
    return {
        "xem": (f"Không có nhiệm vụ #{n} trong các nhiệm vụ đồng chí được xem.",),
        "xong": (
            f"Không có nhiệm vụ #{n} trong các nhiệm vụ đồng chí được xem.",
            f"Không thể cập nhật nhiệm vụ #{n}",
            f"Lãnh đạo UBND thành phố chỉ xem trên bot: nhiệm vụ #{n}",
        ),
        "duyet": ("Chỉ Tổ công tác", f"Đề nghị gia hạn nhiệm vụ #{n} do Tổ công tác quyết định."),
        "quahan": ("Danh sách theo đơn vị", "Đồng chí chỉ được xem danh sách của đơn vị mình."),
        "nguyco": ("Danh sách theo đơn vị", "Đồng chí chỉ được xem danh sách của đơn vị mình."),
        "baocao": ("Báo cáo dành cho", "Đồng chí chỉ được xem báo cáo của đơn vị mình."),
        "phoihop": (
            f"Không có nhiệm vụ #{n} trong các nhiệm vụ đồng chí được xem.",
            f"Nhiệm vụ #{n} do",
            f"Đơn vị của đồng chí không phối hợp thực hiện nhiệm vụ #{n}",
        ),
        "chuyen": ("Chỉ Tổ công tác mới chuyển nhiệm vụ",),
        "giaitrinh": (
            f"Không có nhiệm vụ #{n} trong các nhiệm vụ đồng chí được xem.",
            "Chỉ Tổ công tác đề nghị giải trình",
            f"Tổ công tác chưa đề nghị giải trình nhiệm vụ #{n}",  # its leader: no reason
        ),
        "giaitrinh-lydo": (
            f"Không có nhiệm vụ #{n} trong các nhiệm vụ đồng chí được xem.",
            "Chỉ Tổ công tác đề nghị giải trình",
            f"Nhiệm vụ #{n} đã được đề nghị giải trình ngày",  # the task force asks, again
        ),
    }.get(
        {"tiendo": "xong", "vuongmac": "xong", "giahan": "xong", "tuchoi": "duyet"}.get(
            case.command, case.command
        ),
        (),
    )


async def check_allowed(chat: CoreChat, case: Case, replies: list[str], before, after) -> None:
    n = case.task
    tasks_before = {row.id: row for row in before[0]}
    tasks_after = {row.id: row for row in after[0]}
    first = replies[0]
    if case.command == "xem":
        assert first.startswith(f"📌 Nhiệm vụ #{n}"), first
        assert after == before
    elif case.command == "xong":
        assert first.startswith(f"✅ Đã ghi nhận hoàn thành nhiệm vụ #{n}"), first
        assert tasks_after[n].status == "done" and tasks_after[n].completed_date is not None
    elif case.command == "tiendo":
        assert tasks_after[n].progress == 55 and tasks_after[n].status == "in_progress", first
    elif case.command == "vuongmac":
        assert len(after[1]) == len(before[1]) + 1 and after[1][-1].task_id == n, first
        assert tasks_after == tasks_before
    elif case.command == "giahan":
        assert len(after[2]) == len(before[2]) + 1, first
        assert after[2][-1].task_id == n and after[2][-1].state == "pending"
        assert tasks_after[n].deadline == tasks_before[n].deadline  # only asked, not moved
    elif case.command == "duyet":
        assert tasks_after[n].deadline == date(2027, 1, 15), first
        assert after[2][-1].state == "approved"
    elif case.command == "tuchoi":
        assert after[2][-1].state == "rejected", first
        assert tasks_after[n].deadline == tasks_before[n].deadline
    elif case.command == "quahan":
        assert first.startswith(("🔴 Quá hạn", "✅ Không có nhiệm vụ quá hạn")), first
        assert after == before
    elif case.command == "nguyco":
        assert first.startswith(("⚠️ Nguy cơ chậm", "✅ Không có nhiệm vụ nào có nguy cơ")), first
        assert after == before
    elif case.command == "phoihop":
        assert first.startswith("Đã ghi nhận phần phối hợp"), first
        assert after[1][-1].task_id == n and after[1][-1].action == "contribution"
        assert tasks_after == tasks_before
    elif case.command == "chuyen":
        assert first.startswith(f"Nhiệm vụ #{n} nay do Sở Tư pháp chủ trì"), first
        assert len(after[1]) > len(before[1]) and after[1][-1].task_id == n
    elif case.command == "giaitrinh":
        assert first.startswith("📝 Đã đề nghị") and f"giải trình nhiệm vụ #{n};" in first
        assert after[3] == (*before[3], (n, "requested", "")), first
        assert after[1][-1][:2] == (n, "explanation_requested")
        assert after[0] == before[0] and after[2] == before[2]
    elif case.command == "giaitrinh-lydo":
        assert first.startswith("📝"), first
        assert after[3] == ((n, "answered", "Chờ bố trí vốn"),), first
        assert after[1][-1][:2] == (n, "explanation_answered")
        assert after[0] == before[0] and after[2] == before[2]
    elif case.command == "baocao":
        assert first.startswith("⏳ Đang lập báo cáo tháng"), replies
        assert after[0] == before[0] and after[1] == before[1] and after[2] == before[2]


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{c.command}-{c.role}-{c.relation}-{'allow' if c.allowed else 'refuse'}" for c in CASES],
)
async def test_matrix(chat: CoreChat, case: Case) -> None:
    if case.relation == "coordinating":
        await coordinate(chat.sessions, UNIT[case.role], OTHER_TASK)
    if case.command.startswith("giaitrinh"):
        await make_long_overdue(chat.sessions, case.task)
    if case.command == "giaitrinh-lydo":
        [asked] = await chat.say(await chat.link("TCT"), f"/giaitrinh {case.task}")
        assert asked.startswith("📝"), asked
    if case.command in ("duyet", "tuchoi"):
        asker = await chat.link(ASKER[case.task])
        [asked] = await chat.say(asker, f"/giahan {case.task} 15/01/2027 Chờ thẩm định")
        assert asked.startswith("Đã gửi"), asked
    person = PERSON[case.role]
    user = await chat.link(person, f"me-{person}") if person else "stranger"
    before = await snapshot(chat.sessions)
    replies = await chat.say(user, case.text())
    after = await snapshot(chat.sessions)
    assert replies, "no answer"
    assert not any("gặp sự cố" in r for r in replies), replies
    if case.allowed:
        await check_allowed(chat, case, replies, before, after)
    else:
        assert after == before, replies
        assert replies[0].startswith(refusal_for(case)), replies


@pytest.mark.parametrize("role", ROLES)
async def test_linked_commands(chat: CoreChat, role: str) -> None:
    """/viec, /sapden, /thongke: no task argument, so only the role decides."""
    person = PERSON[role]
    user = await chat.link(person, f"me-{person}") if person else "stranger"
    before = await snapshot(chat.sessions)
    for text, allowed in (("/viec", Y), ("/sapden", Y), ("/thongke", STATS[role])):
        replies = await chat.say(user, text)
        assert replies and not any("gặp sự cố" in r for r in replies), replies
        if role == "unlinked":
            assert replies[0].startswith(NOT_LINKED), replies
        elif not allowed:
            assert replies[0].startswith("Danh sách theo đơn vị"), (text, replies)
        else:
            assert not replies[0].startswith((NOT_LINKED, "Danh sách theo đơn vị")), replies
    assert await snapshot(chat.sessions) == before


@pytest.mark.parametrize(
    ("asker", "deciders", "refused", "n"),
    [
        # a task-force member's request: its head decides; neither the asker nor a city leader
        ("TF", "TCT", ("TF", "CT", "SXD-LD"), 4101),
        # the head's own request: a city leader decides; no task-force member
        ("TCT", "CT", ("TCT", "TF", "SXD-LD"), 4101),
        # the same on a task the head is the leader of (his office leads it): the card's
        # loading once left him without roles, and any member approved
        ("TCT", "CT", ("TCT", "TF"), 4108),
        # a unit's request: the task force (any member) decides; not a city leader
        ("SXD-CV", "TF", ("SXD-CV", "SXD-LD", "CT"), 4101),
    ],
)
async def test_nobody_decides_their_own_extension(
    chat: CoreChat, asker: str, deciders: str, refused: tuple[str, ...], n: int
) -> None:
    users = {code: await chat.link(code) for code in {asker, deciders, *refused}}
    [asked] = await chat.say(users[asker], f"/giahan {n} 15/01/2027 Chờ thẩm định")
    assert asked.startswith("Đã gửi"), asked
    before = await snapshot(chat.sessions)
    for code in refused:
        for text in (f"/duyet {n}", f"/tuchoi {n} Không đồng ý"):
            [reply] = await chat.say(users[code], text)
            assert reply.startswith(
                ("Chỉ Tổ công tác", f"Đề nghị gia hạn nhiệm vụ #{n} do", "Không ai tự duyệt")
            ), (code, reply)
    assert await snapshot(chat.sessions) == before
    await chat.say(users[deciders], f"/duyet {n}")
    after = await snapshot(chat.sessions)
    assert {row.id: row for row in after[0]}[n].deadline == date(2027, 1, 15)
    assert after[2][-1].state == "approved"
