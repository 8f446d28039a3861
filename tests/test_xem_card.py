"""`/xem`'s card, read in fewer statements (the task with its series and deadline changes in
one): the same text, byte for byte, as when each part was read on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert

from models.clock import FixedClock
from models.contributions import Contribution
from models.deadlines import ChangeState, DeadlineChange
from models.tasks import task_coordinators
from tests import harness
from tests.city import City
from tests.conftest import NOW

# The card as the reads one part each (`deadline_history`, `series_of`) wrote it.
CARD = (
    "📌 Nhiệm vụ #4107: Hoàn thiện hồ sơ dự án công viên Trung Tâm\n"
    "Theo Thông báo 105/TB-UBND ngày 03/10/2026: Kết luận của Chủ tịch UBND thành phố tại cuộc họp giao ban\n"
    "Chủ trì: Quận Trung Tâm — lãnh đạo phụ trách đ/c Hoàng Văn Nam, chuyên viên đ/c Vũ Thu Trang\n"
    "Phối hợp: Sở Tư pháp, Sở Xây dựng\n"
    "Giao ngày 05/10/2026 · hạn 10/12/2026\n"
    "Đã gia hạn: 10/11/2026 → 10/12/2026\n"
    "Đề nghị gia hạn đến 31/12/2026 đang chờ Tổ công tác quyết định\n"
    "Tình trạng: đang thực hiện, 40% — trong hạn\n"
    "Đơn vị phối hợp đã báo cáo:\n"
    "• Sở Tư pháp, 20/11/2026 (60%): Đang thẩm định\n"
    "• Sở Xây dựng, 19/11/2026: Đã góp ý thiết kế\n"
    "Cập nhật gần đây:\n"
    "• 09:00 05/10/2026 đ/c Trần Văn Tổ: duyệt gia hạn: 10/11/2026 → 10/12/2026\n"
    "• 09:00 25/11/2026 đ/c Vũ Thu Trang: trạng thái: chưa thực hiện → đang thực hiện\n"
    "• 09:00 25/11/2026 đ/c Vũ Thu Trang: tiến độ: 0% → 40% (Đang hoàn thiện hồ sơ)"
)


@pytest.fixture
async def chat(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running)


async def test_the_card_with_a_trail_deadline_changes_and_coordinators_is_unchanged(
    chat, sessions, city: City
) -> None:
    async with sessions() as session:
        for code in ("STP", "SXD"):
            await session.execute(
                insert(task_coordinators).values(task_id=4107, unit_id=city.units[code].id)
            )
        session.add_all(
            [
                Contribution(
                    task_id=4107,
                    unit_id=city.units[code].id,
                    at=datetime(2026, 11, day, tzinfo=UTC),
                    percent=percent,
                    content=content,
                )
                for code, day, percent, content in (
                    ("STP", 18, 20, "Đã nhận hồ sơ"),
                    ("SXD", 19, None, "Đã góp ý thiết kế"),
                    ("STP", 20, 60, "Đang thẩm định"),
                )
            ]
            + [
                DeadlineChange(
                    task_id=4107,
                    old_deadline=date(2026, 12, 10),
                    new_deadline=date(2026, 12, 31),
                    reason="Chờ vốn",
                    state=ChangeState.PENDING,
                    requested_by_id=city.officials["Q1-CV"].id,
                    requested_at=datetime(2026, 11, 21, tzinfo=UTC),
                )
            ]
        )
        await session.commit()
    await chat.link("Q1-CV")
    await chat.send("Q1-CV", "/tiendo 4107 40 Đang hoàn thiện hồ sơ")
    [card] = await chat.send("Q1-CV", "/xem 4107")
    assert card == CARD
