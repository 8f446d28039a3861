"""A notice sent as a Matrix file (m.file) is read like a Telegram document, on a real Synapse."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Document, Task
from tests.synapse import SERVER_NAME
from tests.test_matrix import matrix  # noqa: F401  (the fixture: the bot on a real Synapse)
from tests.test_proposals_chat import notice_docx


async def _send_file(matrix, code: str, name: str, content: bytes) -> list[str]:  # noqa: F811
    person, room = matrix.person(code), matrix.rooms[code]
    before = len(await matrix.received(code))
    upload = await person.http.post(
        f"{matrix.hs.url}/_matrix/media/v3/upload",
        params={"filename": name},
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    upload.raise_for_status()
    mxc = upload.json()["content_uri"]
    assert mxc.startswith(f"mxc://{SERVER_NAME}/")
    await person.send(
        room,
        "m.room.message",
        {"msgtype": "m.file", "body": name, "url": mxc, "info": {"size": len(content)}},
    )
    found = await person.wait_from_bot(room, matrix.bot.user_id, before + 1)
    await matrix.settle()
    return [str(c["body"]) for c in found[before:]]


async def test_a_notice_sent_as_a_matrix_file_is_proposed_then_assigned(matrix) -> None:  # noqa: F811
    await matrix.link("TCT")
    [proposal] = await _send_file(matrix, "TCT", "tb520.docx", notice_docx())
    assert proposal.startswith("📄 Thông báo 520/TB-UBND ngày 20/11/2026: 3 nhiệm vụ đề xuất")
    await matrix.send("TCT", "/sua 2 hanchot 31/12/2026")
    [done] = await matrix.send("TCT", "/giao")
    assert done.startswith("✅ Đã đăng ký 3 nhiệm vụ theo Thông báo 520/TB-UBND")
    async with matrix.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Task)
            .join(Document, Task.document_id == Document.id)
            .where(Document.number == "520/TB-UBND")
        )
    assert count == 3
