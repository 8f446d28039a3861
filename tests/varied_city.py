"""A seeded city of a few hundred tasks with every case the weekly jobs word differently:
two languages, people on Zalo or unreachable, tasks without a leader or specialist, with and
without a source document, deputies and inactive leaders; and a fingerprint of every message
the jobs queue, to show a rewrite of a job sends the same rows."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Document, DocumentKind, Official, Role, Task, TaskStatus, Unit, UnitKind
from models.accounts import ChatAccount, ChatChannel
from models.attachments import Attachment
from models.notices import Notice
from models.outbox import OutboxMessage
from models.urgings import Urging

CREATED = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 23)


async def build_varied_city(
    session: AsyncSession, *, units: int = 8, tasks: int = 600, seed: int = 14
) -> None:
    rng = random.Random(seed)
    made = [
        Unit(code=f"D{u:02d}", name=f"Sở số {u}", kind=UnitKind.DEPARTMENT)
        for u in range(units + 1)
    ]
    session.add_all(made)
    await session.flush()
    top = made[0]
    people: list[Official] = []

    def person(code: str, unit: Unit, roles: set[Role], position: str) -> Official:
        official = Official(
            code=code,
            full_name=f"Cán bộ {code}",
            position=position,
            unit_id=unit.id,
            language=rng.choice(["vi", "vi", "vi", "en"]),
            notify_channel=rng.choice(["all", "all", "all", "zalo", "telegram"]),
            active=rng.random() > 0.05 or Role.CITY_LEADER in roles,
        )
        official.set_roles(frozenset(roles))
        people.append(official)
        return official

    person("CT", top, {Role.CITY_LEADER}, "Chủ tịch UBND thành phố")
    for n in range(3):
        person(f"TCT{n}", top, {Role.TASK_FORCE}, "Phó Tổ trưởng" if n else "Tổ trưởng")
    staff: dict[int, tuple[list[Official], list[Official]]] = {}
    for unit in made[1:]:
        leaders = [
            person(f"{unit.code}-LD{n}", unit, {Role.LEADER}, ("Phó Giám đốc", "Giám đốc")[n % 2])
            for n in range(rng.randint(1, 3))
        ]
        specialists = [
            person(f"{unit.code}-CV{n}", unit, {Role.SPECIALIST}, "Chuyên viên")
            for n in range(rng.randint(2, 6))
        ]
        staff[unit.id] = (leaders, specialists)
    session.add_all(people)
    await session.flush()
    for official in people:
        for channel in (ChatChannel.TELEGRAM, ChatChannel.ZALO):
            if rng.random() < (0.9 if channel is ChatChannel.TELEGRAM else 0.3):
                session.add(
                    ChatAccount(
                        channel=channel,
                        external_user_id=f"{channel.value}-{official.id}",
                        chat_id=f"{channel.value}-{official.id}",
                        official_id=official.id,
                        linked_at=CREATED,
                        unreachable_since=CREATED if rng.random() < 0.05 else None,
                    )
                )
    documents = [
        Document(
            number=f"{n}/TB-UBND",
            issued_on=date(2026, 9, 1) + timedelta(days=n),
            kind=rng.choice(list(DocumentKind)),
            signer="Cán bộ CT",
            summary="Kết luận giao ban",
        )
        for n in range(1, 6)
    ]
    session.add_all(documents)
    await session.flush()
    for number in range(1, tasks + 1):
        unit = rng.choice(made[1:])
        leaders, specialists = staff[unit.id]
        assigned = MONDAY - timedelta(days=rng.randint(5, 200))
        deadline = MONDAY + timedelta(days=rng.randint(-60, 25))
        if deadline <= assigned:
            assigned = deadline - timedelta(days=rng.randint(3, 30))
        done = rng.random() < 0.2
        status = TaskStatus.DONE if done else rng.choice(list(TaskStatus)[:2])
        session.add(
            Task(
                id=number,
                document_id=rng.choice(documents).id if rng.random() < 0.6 else None,
                content=f"Nhiệm vụ {number}: " + "rà soát, báo cáo " * rng.randint(1, 8),
                lead_unit_id=unit.id,
                leader_id=rng.choice(leaders).id if rng.random() < 0.85 else None,
                specialist_id=rng.choice(specialists).id if rng.random() < 0.9 else None,
                assigned_date=assigned,
                original_deadline=deadline,
                deadline=deadline,
                status=status,
                progress=100 if done else rng.choice([0, 10, 20, 50, 80]),
                completed_date=min(deadline, MONDAY) if done else None,
                created_at=CREATED,
                updated_at=CREATED,
            )
        )
    await session.flush()


def _letter_xml(content: bytes, filename: str) -> bytes:
    """A letter's text without the zip's own dates; other files (charts, workbooks) by name."""
    if not filename.endswith(".docx"):
        return b""
    with zipfile.ZipFile(io.BytesIO(content)) as docx:
        return docx.read("word/document.xml")


async def fingerprint(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[object]]:
    """Per kind of key: how many outbox rows and notices, and a hash of all they hold
    (key, chat, text, buttons, language, priority, when, and the letter's text)."""
    kinds: dict[str, list[str]] = {}
    async with sessions() as session:
        files = {
            a.id: (a.filename, hashlib.sha1(_letter_xml(a.content, a.filename)).hexdigest())
            for a in (await session.scalars(select(Attachment)))
        }
        for row in await session.scalars(select(OutboxMessage)):
            values = [
                row.key,
                row.channel.value,
                row.chat_id,
                row.official_id,
                row.priority,
                row.language,
                row.text,
                row.buttons,
                files.get(row.attachment_id) if row.attachment_id else None,
                row.state.value,
                row.not_before.isoformat(),
            ]
            kinds.setdefault("outbox " + row.key.split(":", 1)[0], []).append(json.dumps(values))
        for key in await session.scalars(select(Notice.key)):
            kinds.setdefault("notice " + key.split(":", 1)[0], []).append(key)
        for urging in await session.execute(
            select(Urging.task_id, Urging.deadline, Urging.unit_id, Urging.week)
        ):
            kinds.setdefault("urgings", []).append(str(tuple(urging)))
    return {
        kind: [len(rows), hashlib.sha1("\n".join(sorted(rows)).encode()).hexdigest()]
        for kind, rows in sorted(kinds.items())
    }
