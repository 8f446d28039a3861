"""A small hand-built city whose every number can be worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Document, DocumentKind, Official, Role, Task, TaskStatus, Unit, UnitKind
from models.task_changes import Actor, approve_deadline
from models.tasks import Channel

CREATED = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)


@dataclass
class City:
    units: dict[str, Unit]
    officials: dict[str, Official]
    tasks: dict[int, Task]


async def build_city(session: AsyncSession) -> City:
    units = {
        code: Unit(code=code, name=name, kind=kind)
        for code, name, kind in (
            ("UBND", "Ủy ban nhân dân thành phố", UnitKind.OFFICE),
            ("VP", "Văn phòng UBND thành phố", UnitKind.OFFICE),
            ("SXD", "Sở Xây dựng", UnitKind.DEPARTMENT),
            ("STP", "Sở Tư pháp", UnitKind.DEPARTMENT),
            ("Q1", "Quận Trung Tâm", UnitKind.DISTRICT),
        )
    }
    session.add_all(units.values())
    await session.flush()
    people = (
        ("CT", "Nguyễn Văn Chủ", "Chủ tịch UBND thành phố", "UBND", {Role.CITY_LEADER}),
        ("TCT", "Trần Văn Tổ", "Tổ trưởng Tổ công tác", "VP", {Role.TASK_FORCE, Role.LEADER}),
        ("SXD-LD", "Đặng Thanh Oanh", "Giám đốc", "SXD", {Role.LEADER}),
        ("SXD-CV", "Bùi Minh Hà", "Chuyên viên", "SXD", {Role.SPECIALIST}),
        ("STP-LD", "Lê Thị Hạnh", "Giám đốc", "STP", {Role.LEADER}),
        ("STP-CV", "Phạm Quang Huy", "Chuyên viên", "STP", {Role.SPECIALIST}),
        ("Q1-LD", "Hoàng Văn Nam", "Chủ tịch UBND quận", "Q1", {Role.LEADER}),
        ("Q1-CV", "Vũ Thu Trang", "Chuyên viên", "Q1", {Role.SPECIALIST}),
    )
    officials = {}
    for code, name, position, unit, roles in people:
        official = Official(code=code, full_name=name, position=position, unit_id=units[unit].id)
        official.set_roles(frozenset(roles))
        officials[code] = official
    session.add_all(officials.values())
    document = Document(
        number="105/TB-UBND",
        issued_on=date(2026, 10, 3),
        kind=DocumentKind.NOTICE,
        signer="Nguyễn Văn Chủ",
        summary="Kết luận của Chủ tịch UBND thành phố tại cuộc họp giao ban",
    )
    session.add(document)
    await session.flush()

    def task(id: int, unit: str, content: str, deadline: date | None, **extra: object) -> Task:
        prefix = unit
        return Task(
            id=id,
            document_id=document.id,
            content=content,
            lead_unit_id=units[unit].id,
            leader_id=officials[f"{prefix}-LD"].id,
            specialist_id=officials[f"{prefix}-CV"].id,
            assigned_date=date(2026, 10, 5),
            original_deadline=deadline,
            deadline=deadline,
            created_at=CREATED,
            updated_at=CREATED,
            **extra,
        )

    tasks = {
        t.id: t
        for t in (
            task(
                4101,
                "SXD",
                "Rà soát hồ sơ giải phóng mặt bằng dự án vành đai 2",
                date(2026, 12, 28),
            ),
            task(
                4102,
                "SXD",
                "Tham mưu kế hoạch cải cách hành chính 2027",
                date(2026, 11, 27),
                status=TaskStatus.IN_PROGRESS,
                progress=60,
            ),
            task(4103, "SXD", "Kiểm tra, xử lý vi phạm trật tự xây dựng", date(2026, 11, 20)),
            task(
                4104,
                "STP",
                "Rà soát văn bản quy phạm pháp luật",
                date(2026, 11, 16),
                status=TaskStatus.DONE,
                progress=100,
                completed_date=date(2026, 11, 10),
            ),
            task(
                4105,
                "STP",
                "Báo cáo công tác phổ biến pháp luật",
                date(2026, 11, 18),
                status=TaskStatus.DONE,
                progress=100,
                completed_date=date(2026, 11, 20),
            ),
            task(
                4106,
                "Q1",
                "Quản lý vỉa hè, lòng đường",
                None,
                status=TaskStatus.IN_PROGRESS,
                progress=30,
            ),
            task(4107, "Q1", "Hoàn thiện hồ sơ dự án công viên Trung Tâm", date(2026, 11, 10)),
        )
    }
    session.add_all(tasks.values())
    await session.flush()
    approve_deadline(
        session,
        tasks[4107],
        Actor(officials["TCT"], Channel.CLI, CREATED),
        date(2026, 12, 10),
        "Chờ ý kiến thẩm định của Sở Tài chính",
    )
    await session.flush()
    return City(units, officials, tasks)
