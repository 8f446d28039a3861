"""`dondoc extract`: a notice to JSON or to the import template; files it cannot read refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bench.extract import DATA
from bot.config import SAMPLE_DIR

NOTICE = DATA / "src" / "tb01.docx"


@pytest.fixture
def city(dondoc) -> None:
    assert dondoc("import", "units", str(SAMPLE_DIR / "units.csv"))[0] == 0


def test_extract_prints_the_document_and_its_tasks_as_json(dondoc, city) -> None:
    code, out, _ = dondoc("extract", str(NOTICE))
    assert code == 0
    result = json.loads(out)
    assert result["document"] == {
        "kind": "Thông báo",
        "number": "412/TB-UBND",
        "date": "2026-10-15",
        "signer": "Lê Minh Tuấn",
        "summary": "Kết luận của Chủ tịch UBND thành phố tại cuộc họp về tiến độ giải phóng mặt"
        " bằng các dự án trọng điểm",
    }
    first = result["tasks"][0]
    assert first["item"] == "2.1"
    assert (first["lead_unit"], first["lead_unit_text"]) == ("SXD", "Sở Xây dựng")
    assert first["coordinating_units"] == ["STC", "H-TX"]
    assert (first["deadline"], first["deadline_text"]) == ("2026-10-30", "trước ngày 30/10/2026")
    assert len(result["tasks"]) == 20


def test_the_xlsx_is_the_import_template_and_only_the_noted_rows_are_refused(
    dondoc, city, tmp_path: Path
) -> None:
    sheet = tmp_path / "tb01.xlsx"
    code, out, _ = dondoc("extract", str(NOTICE), "--format", "xlsx", "-o", str(sheet))
    assert code == 0 and "412/TB-UBND" in out
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    header = rows[0]
    noted = [n for n, row in enumerate(rows[1:], start=2) if row[header.index("Ghi chú")]]
    code, _, err = dondoc("import", "tasks", str(sheet), "--dry-run")
    assert code == 1
    refused = [int(line.split(":")[0].split()[-1]) for line in err.splitlines() if "Dòng" in line]
    # 2.5 and item 4's last task have vague deadlines, 2.10 is a broadcast with no lead unit,
    # and three recurring duties ("hằng tháng", "hằng quý") name no first deadline: each is
    # noted, and the import refuses it until a person gives the date.
    assert refused == [6, 12, 13, 18, 20, 21] and set(refused) <= set(noted)


def _scanned_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.docx", None, "không có tệp"),
        ("empty.docx", b"", "tệp rỗng"),
        ("scan.pdf", _scanned_pdf(), "không có lớp chữ"),
        ("photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, "không phải là tệp DOCX"),
        ("huge.pdf", "huge", "lớn hơn 20 MB"),
    ],
)
def test_a_file_that_cannot_be_read_gets_one_line_and_nothing_is_written(
    dondoc, city, tmp_path: Path, name, content, words
) -> None:
    path = tmp_path / name
    if content == "huge":
        with path.open("wb") as f:
            f.truncate(50 * 1024 * 1024)
    elif content is not None:
        path.write_bytes(content)
    output = tmp_path / "out.xlsx"
    before = sorted(tmp_path.iterdir())
    code, out, err = dondoc("extract", str(path), "--format", "xlsx", "-o", str(output))
    assert code != 0
    assert words in err and len(err.strip().splitlines()) == 1 and not out
    assert not output.exists()
    assert sorted(tmp_path.iterdir()) == before


def test_a_notice_that_assigns_nothing_is_said_so_and_nothing_is_written(
    dondoc, city, tmp_path: Path
) -> None:
    path = tmp_path / "tb.txt"
    path.write_text(
        "Số: 9/TB-UBND\nĐông Hải, ngày 02 tháng 12 năm 2026\nTHÔNG BÁO\nLịch làm việc tuần\n"
        "Thời gian qua, Sở Xây dựng đã hoàn thành tốt nhiệm vụ.\n",
        encoding="utf-8",
    )
    output = tmp_path / "tb.xlsx"
    code, _, err = dondoc("extract", str(path), "--format", "xlsx", "-o", str(output))
    assert code == 2 and "không tìm thấy nhiệm vụ nào" in err and not output.exists()


def test_a_pdf_and_a_text_notice_are_read_too(dondoc, city) -> None:
    for name, tasks in (("tb03.pdf", 20), ("tb02.txt", 18)):
        code, out, _ = dondoc("extract", str(DATA / "src" / name))
        assert code == 0 and len(json.loads(out)["tasks"]) == tasks
