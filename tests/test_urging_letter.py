"""The urging letter: the DOCX read back, paragraph by paragraph and cell by cell."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path
from zipfile import ZipFile

from docx import Document as open_docx
from sqlalchemy import func, select

from locales import translator
from models.calendar import WorkingCalendar
from models.status import StatusWindow
from models.tasks import Task
from models.urgings import Urging
from paperwork.letter_layout import lay_out, run_text
from paperwork.urging_letter import docx_bytes, letter_texts, portable, urging_letter
from tests.city import City
from tests.conftest import NOW

T = translator("vi")


def _text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def _cells(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


async def _letter(session, city: City, unit: str = "SXD", today: date = date(2026, 11, 25)):
    window = StatusWindow.at(today, WorkingCalendar(), 3)
    return await urging_letter(session, city.units[unit], window, WorkingCalendar())


async def test_the_letter_lists_the_units_overdue_tasks(session, city: City) -> None:
    session.add(
        Urging(
            task_id=4103,
            deadline=date(2026, 11, 20),
            unit_id=city.units["SXD"].id,
            week="2026-W47",
            at=NOW,
        )
    )
    await session.flush()
    letter = await _letter(session, city)
    assert [row.task_id for row in letter.tasks] == [4103]
    assert letter.reply_by == date(2026, 12, 2)  # five working days after Wed 25/11
    document = open_docx(BytesIO(docx_bytes(letter, T)))

    heading, tasks, footer = document.tables
    left, right = _cells(heading)[0]
    assert "ỦY BAN NHÂN DÂN THÀNH PHỐ" in left and "TỔ CÔNG TÁC" in left
    assert "Số: …/CV-TCT" in left and "V/v đôn đốc thực hiện nhiệm vụ quá hạn" in left
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right
    assert "Độc lập - Tự do - Hạnh phúc" in right
    assert "……, ngày 25 tháng 11 năm 2026" in right

    body = _text(document)
    assert "Kính gửi: Giám đốc Sở Xây dựng." in body
    assert "đến ngày 25/11/2026 Sở Xây dựng còn 1 nhiệm vụ quá hạn (lần đôn đốc thứ 1)" in body
    assert "báo cáo rõ lý do chậm muộn bằng văn bản trước ngày 02/12/2026" in body

    rows = _cells(tasks)
    assert rows[0] == [
        "STT",
        "Nội dung nhiệm vụ",
        "Văn bản giao",
        "Thời hạn",
        "Số ngày quá hạn",
        "Lãnh đạo phụ trách / chuyên viên",
        "Số lần đôn đốc",
    ]
    assert rows[1] == [
        "1",
        "#4103 Kiểm tra, xử lý vi phạm trật tự xây dựng",
        "Thông báo 105/TB-UBND ngày 03/10/2026",
        "20/11/2026",
        "5",
        "Đặng Thanh Oanh / Bùi Minh Hà",
        "1",
    ]
    recipients, signature = _cells(footer)[0]
    assert recipients.startswith("Nơi nhận:") and "- Như trên;" in recipients
    assert "TM. TỔ CÔNG TÁC" in signature and signature.endswith("Trần Văn Tổ")
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.left_margin.cm, 1) == 3.0


async def test_the_letter_in_english(session, city: City) -> None:
    document = open_docx(BytesIO(docx_bytes(await _letter(session, city), translator("en"))))
    assert "To: Giám đốc Sở Xây dựng." in _text(document)
    assert "SOCIALIST REPUBLIC OF VIETNAM" in _cells(document.tables[0])[0][1]


async def test_a_unit_without_overdue_tasks_has_an_empty_letter(session, city: City) -> None:
    assert (await _letter(session, city, "STP")).tasks == []


async def _urgings(database_url: str) -> int:
    from models.db import create_engine

    engine = create_engine(database_url)
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(Urging))
    await engine.dispose()
    return int(count or 0)


def test_dondoc_urge_writes_the_letter(dondoc, city: City, tmp_path: Path) -> None:
    path = tmp_path / "cv" / "sxd.docx"
    code, out, _ = dondoc("urge", "sxd", "-o", str(path))
    assert code == 0
    assert "Văn bản đôn đốc gửi Sở Xây dựng: 1 nhiệm vụ quá hạn" in out
    assert "hạn báo cáo lý do 02/12/2026" in out
    rows = _cells(open_docx(str(path)).tables[1])
    assert [row[0] for row in rows] == ["STT", "1"]


def test_dondoc_urge_refuses_what_it_cannot_do(
    dondoc, city: City, tmp_path: Path, database_url: str
) -> None:
    import asyncio

    code, _, err = dondoc("urge", "KHONGCO", "-o", str(tmp_path / "x.docx"))
    assert code == 2 and "Không có đơn vị mã 'KHONGCO'." in err
    code, out, _ = dondoc("urge", "STP", "-o", str(tmp_path / "stp.docx"))
    assert code == 0 and "không có nhiệm vụ quá hạn" in out
    assert not (tmp_path / "x.docx").exists() and not (tmp_path / "stp.docx").exists()
    assert asyncio.run(_urgings(database_url)) == 0  # writing a letter urges nothing itself


async def test_any_task_text_makes_a_valid_document(session, city: City) -> None:
    task = await session.get_one(Task, 4103)
    task.content = 'Kiểm tra <công trình> A & B\x0b "khẩn"'
    await session.flush()
    document = open_docx(BytesIO(docx_bytes(await _letter(session, city), T)))
    assert _cells(document.tables[1])[1][1] == '#4103 Kiểm tra <công trình> A & B "khẩn"'


def _parts(package: bytes) -> dict[str, bytes]:
    with ZipFile(BytesIO(package)) as parts:
        return {name: parts.read(name) for name in parts.namelist()}


async def test_the_filled_in_letter_is_what_python_docx_lays_out(session, city: City) -> None:
    letter = await _letter(session, city)
    for language in ("vi", "en"):
        t = translator(language)
        laid_out = BytesIO()
        lay_out(laid_out, *letter_texts(letter, t))
        assert _parts(docx_bytes(letter, t)) == _parts(laid_out.getvalue())


async def test_the_table_holds_one_row_per_overdue_task(session, city: City) -> None:
    """Every cell of the letter's table, read back, against the rows it was written from,
    for texts that XML must escape or cannot hold."""
    letter = await _letter(session, city)
    row = letter.tasks[0]
    odd = ["A & B <x> \"q\" 'a'", "  spaced  ", "line\r\nbreak\rend", "tab\there", "x\x0cy"]
    rows = [
        row._replace(task_id=row.task_id + n, content=content, leader_name=None)
        for n, content in enumerate(odd)
    ]
    letter = replace(letter, tasks=rows, counts={rows[2].task_id: 3})
    texts, expected = letter_texts(letter, T)
    assert len(expected) == len(odd) and expected[2][-1] == "3"
    table = _cells(open_docx(BytesIO(docx_bytes(letter, T))).tables[1])
    assert table[0] == list(texts.header)
    assert table[1:] == [
        [v.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "") for v in values]
        for values in expected
    ]
    assert table[5][1] == f"#{rows[4].task_id} xy"
    assert [r[5] for r in table[1:]] == ["Bùi Minh Hà"] * len(odd)


async def test_a_name_only_python_docx_can_write_is_laid_out_by_it(session, city: City) -> None:
    """A tab or a line break in a name is a run's tab or break, which the template's plain
    text cannot hold: such a letter is laid out by python-docx, with the same content."""
    letter = await _letter(session, city)
    letter = portable(letter)
    letter = replace(letter, unit=replace(letter.unit, name="Sở\tXây dựng"))
    laid_out = BytesIO()
    lay_out(laid_out, *letter_texts(letter, T))
    package = docx_bytes(letter, T)
    assert _parts(package)["word/document.xml"] == _parts(laid_out.getvalue())["word/document.xml"]
    assert "Sở\tXây dựng" in _text(open_docx(BytesIO(package)))


def test_a_text_goes_into_the_template_as_python_docx_writes_it() -> None:
    assert run_text("") == b""
    assert run_text("A & <B>") == b"<w:t>A &amp; &lt;B&gt;</w:t>"
    assert run_text(" lề ") == ' <w:t xml:space="preserve"> lề </w:t>'.strip().encode()
    assert run_text("a\tb") is None and run_text("a\nb") is None and run_text("a\x01") is None
