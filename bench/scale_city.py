"""A city for the scale tests and benches: officials each with a linked Telegram chat and two
open tasks (one overdue, one due in 40 days), so Monday's digest goes to every one of them;
and the Telegram updates they send."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import insert, text

from locales import TIMEZONE
from models import Base, ChatAccount, Official, OfficialRole, Task, Unit

MONDAY = datetime(2026, 11, 23, 8, 5, tzinfo=TIMEZONE)  # the week's digests are due
UNITS = 10


async def build_city(engine, people: int) -> None:  # type: ignore[no-untyped-def]
    """Empty the database and put the city in (officials 1..people, chats 10001…)."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    now = MONDAY
    today = MONDAY.date()
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await connection.execute(
            insert(Unit),
            [
                {"id": u, "code": f"U{u}", "name": f"Đơn vị {u}", "kind": "department"}
                for u in range(1, UNITS + 1)
            ],
        )
        officials = range(1, people + 1)
        await connection.execute(
            insert(Official),
            [
                {
                    "id": o,
                    "code": f"CB{o}",
                    "full_name": f"Cán bộ {o}",
                    "position": "Chuyên viên",
                    "unit_id": 1 + o % UNITS,
                    "phone": "",
                    "email": "",
                    "language": "vi",
                    "active": True,
                }
                for o in officials
            ],
        )
        await connection.execute(
            insert(OfficialRole), [{"official_id": o, "role": "specialist"} for o in officials]
        )
        await connection.execute(
            insert(ChatAccount),
            [
                {
                    "channel": "telegram",
                    "external_user_id": str(10_000 + o),
                    "chat_id": str(10_000 + o),
                    "official_id": o,
                    "linked_at": now,
                }
                for o in officials
            ],
        )
        tasks = []
        for o in officials:
            for n, deadline in enumerate((today - timedelta(days=30), today + timedelta(days=40))):
                tasks.append(
                    {
                        "id": 2 * o + n,
                        "content": f"Nhiệm vụ {2 * o + n}",
                        "lead_unit_id": 1 + o % UNITS,
                        "leader_id": None,
                        "specialist_id": o,
                        "assigned_date": date(2026, 9, 1),
                        "original_deadline": deadline,
                        "deadline": deadline,
                        "status": "in_progress",
                        "progress": 10,
                        "result": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        await connection.execute(insert(Task), tasks)


def update(update_id: int, person: int, text: str) -> dict:  # type: ignore[type-arg]
    chat = 10_000 + person
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": f"User {chat}"},
        "from": {"id": chat, "is_bot": False, "first_name": f"User {chat}", "language_code": "vi"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def commands(person: int) -> list[str]:
    overdue, later = 2 * person, 2 * person + 1
    return ["/viec", f"/xong {overdue} Đã xong", f"/tiendo {later} 50 Đang làm", "/sapden"]
