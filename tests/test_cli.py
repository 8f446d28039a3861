"""The `dondoc` command line, in-process, against each backend: clear messages, never a traceback."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from models.accounts import ChatChannel, redeem_link_code
from models.db import create_engine, session_factory
from tests.conftest import NOW
from tests.files import (
    OFFICIAL_HEADER,
    OFFICIALS,
    TASK_HEADER,
    TASKS,
    UNIT_HEADER,
    UNITS,
    write_csv,
)


@pytest.fixture
def register(dondoc, tmp_path: Path) -> Path:
    assert dondoc("import", "units", str(write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS)))[0] == 0
    assert (
        dondoc(
            "import", "officials", str(write_csv(tmp_path / "o.csv", OFFICIAL_HEADER, OFFICIALS))
        )[0]
        == 0
    )
    return tmp_path


def test_db_upgrade_is_idempotent(dondoc) -> None:
    for _ in range(2):
        code, out, _ = dondoc("db", "upgrade")
        assert code == 0 and "đã được cập nhật" in out


def test_fresh_database_must_be_upgraded_first(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert main(["overdue"]) == 2
    assert "dondoc db upgrade" in capsys.readouterr().err


def test_import_reports_every_bad_row_and_exits_nonzero(dondoc, register: Path) -> None:
    rows = [
        TASKS[0],
        [*TASKS[1][:7], "", *TASKS[1][8:]],
        [*TASKS[2][:12], "31/02/2026", *TASKS[2][13:]],
    ]
    code, _, err = dondoc("import", "tasks", str(write_csv(register / "t.csv", TASK_HEADER, rows)))
    assert code == 1
    assert "Dòng 3: nhiệm vụ chưa có đơn vị chủ trì" in err
    assert "Dòng 4: '31/02/2026' ở cột 'deadline' không phải là ngày hợp lệ" in err
    assert "Chưa nhập dữ liệu nào: 2 dòng có lỗi" in err
    assert dondoc("export", "tasks", str(register / "x.csv"))[1].startswith("Đã xuất 0 nhiệm vụ")


def test_dry_run_then_import_then_reimport(dondoc, register: Path) -> None:
    path = str(write_csv(register / "t.csv", TASK_HEADER, TASKS))
    assert (
        "Đã kiểm tra, chưa ghi gì vào hệ thống: 4 mới"
        in dondoc("import", "tasks", path, "--dry-run")[1]
    )
    assert "Đã nhập nhiệm vụ: 4 mới, 0 cập nhật, 0 không đổi." in dondoc("import", "tasks", path)[1]
    assert "0 mới, 0 cập nhật, 4 không đổi." in dondoc("import", "tasks", path)[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("import", "tasks", "/nonexistent/t.csv"), "không tìm thấy tệp"),
        (("import", "tasks", "tasks.pdf"), "chỉ đọc được tệp .csv và .xlsx"),
        (("export", "tasks", "tasks.txt"), "chỉ ghi được tệp .csv và .xlsx"),
        (("export", "tasks", "x.csv", "--at", "tuần sau"), "không phải thời điểm hợp lệ"),
        (("link", "KHONGCO"), "Không có cán bộ nào mang mã 'KHONGCO'"),
    ],
)
def test_bad_input_gets_a_clear_message(dondoc, register: Path, argv, message: str) -> None:
    code, _, err = dondoc(*argv)
    assert code == 2 and message in err


def test_broken_excel_file_is_refused(dondoc, register: Path) -> None:
    path = register / "t.xlsx"
    path.write_text("this is not a workbook")
    code, _, err = dondoc("import", "tasks", str(path))
    assert code == 2 and "không đọc được tệp Excel" in err


def test_link_prints_a_code_to_send_to_the_bot(dondoc, register: Path) -> None:
    code, out, _ = dondoc("link", "SXD-CV")
    assert code == 0
    assert "Mã liên kết của đồng chí Bùi Minh Hà (SXD-CV):" in out
    assert "/start " in out and "02/12/2026" in out


def test_link_shows_how_to_link_from_element_when_matrix_is_configured(
    dondoc, register: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DONDOC_MATRIX_HOMESERVER", "https://matrix.thanhpho.gov.vn")
    monkeypatch.setenv("DONDOC_MATRIX_USER", "@dondoc:thanhpho.gov.vn")
    monkeypatch.setenv("DONDOC_MATRIX_TOKEN", "syt_x")
    for name in ("DONDOC_TELEGRAM_TOKEN", "DONDOC_ZALO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code, out, _ = dondoc("link", "SXD-CV")
    link_code = out.split(": ", 1)[1].split()[0]
    steps = out.split("Cách liên kết:\n", 1)[1].splitlines()
    assert code == 0 and steps == [
        f"  • Element (Matrix): mở cuộc trò chuyện với @dondoc:thanhpho.gov.vn và gửi "
        f"/start {link_code} (nếu Element báo không có lệnh này, gửi //start {link_code})"
    ]
    sheet = register / "ma.xlsx"
    assert dondoc("link", "--unit", "SXD", "-o", str(sheet))[0] == 0
    how = next(load_workbook(sheet).active.iter_rows(min_row=2, values_only=True))[-1]
    assert how.startswith("Element (Matrix): mở cuộc trò chuyện với @dondoc:thanhpho.gov.vn")
    assert "Telegram" not in how


def test_english_when_configured(dondoc, register: Path, monkeypatch) -> None:
    monkeypatch.setenv("DONDOC_LANGUAGE", "en")
    assert "Link code for Bùi Minh Hà" in dondoc("link", "SXD-CV")[1]


def test_unreachable_database_is_explained(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    assert main(["db", "upgrade"]) == 2
    assert "Không sử dụng được cơ sở dữ liệu" in capsys.readouterr().err


def test_demo_loads_the_sample_city_and_prints_the_overdue_summary(dondoc) -> None:
    code, out, _ = dondoc("demo", "--no-chat")
    assert code == 0
    assert "Đã nhập nhiệm vụ: 1.500 mới" in out
    assert "Tình hình quá hạn, thứ Tư, 25/11/2026:" in out
    # every unit with overdue tasks, worst first, adding up to the total of the first line
    header = re.search(r"25/11/2026: ([\d.]+) nhiệm vụ quá hạn tại ([\d.]+) đơn vị", out)
    assert header
    found = re.findall(r"\): ([\d.]+) nhiệm vụ, lâu nhất quá hạn", out)
    counts = [int(n.replace(".", "")) for n in found]
    assert counts == sorted(counts, reverse=True) and counts
    assert (sum(counts), len(counts)) == tuple(int(g.replace(".", "")) for g in header.groups())
    code, again, _ = dondoc("demo", "--no-chat")
    assert "1.500 không đổi" in again


def test_link_writes_a_sheet_of_fresh_codes_for_a_unit_or_the_city(
    dondoc, register: Path, database_url: str
) -> None:
    old = dondoc("link", "SXD-LD")[1].split(": ")[1].split()[0]
    sheet = register / "ma-sxd.xlsx"
    code, out, _ = dondoc("link", "--unit", "SXD", "-o", str(sheet))
    assert code == 0 and out.startswith(f"Đã ghi {sheet}: 1 mã, hiệu lực đến 09:00 02/12/2026")
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    assert rows[0] == (
        "Đơn vị",
        "Mã cán bộ",
        "Họ và tên",
        "Chức vụ",
        "Mã liên kết",
        "Hiệu lực đến",
        "Cách liên kết",
    )
    [(unit, official, name, position, link_code, _, how)] = rows[1:]
    assert (unit, official, name, position) == (
        "Sở Xây dựng",
        "SXD-LD",
        "Đặng Thanh Oanh",
        "Giám đốc",
    )
    assert f"/start {link_code}" in how
    assert (
        asyncio.run(_redeem(database_url, old)) is None
    )  # the code printed before no longer works
    assert asyncio.run(_redeem(database_url, link_code)) == "SXD-LD"

    every = register / "ma-ca-thanh-pho.csv"
    assert dondoc("link", "--all", "-o", str(every))[0] == 0
    assert len(every.read_text(encoding="utf-8-sig").strip().splitlines()) == 1 + len(OFFICIALS)


def test_link_says_what_to_name(dondoc, register: Path) -> None:
    code, _, err = dondoc("link")
    assert code == 2 and "--unit" in err and "--all" in err
    code, _, err = dondoc("link", "--unit", "KHONGCO")
    assert code == 2 and "KHONGCO" in err


async def _redeem(database_url: str, code: str) -> str | None:
    """Redeem a code as the bot would, on this test's database (in its own event loop)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            linked = await redeem_link_code(
                session,
                code,
                channel=ChatChannel.TELEGRAM,
                external_user_id=f"u{code}",
                chat_id=f"u{code}",
                now=NOW,
            )
            return linked.official.code if linked else None
    finally:
        await engine.dispose()
