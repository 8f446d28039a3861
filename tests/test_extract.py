"""Reading notices: unit names however written, every deadline form, files we refuse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.extract import DATA, run, sample_units
from models.calendar import WorkingCalendar
from paperwork.extract import ExtractError, UnitIndex, read_blocks, read_bytes, read_notice
from paperwork.extract.deadlines import find_deadline, find_recurrence
from paperwork.extract.reading import describe

ISSUED = date(2026, 10, 15)  # a Thursday
WORKING = WorkingCalendar()


@pytest.fixture(scope="module")
def index() -> UnitIndex:
    return UnitIndex(sample_units())


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("UBND huyện Thuỷ Xuân", "H-TX"),
        ("Ủy ban nhân dân Huyện Thủy Xuân", "H-TX"),
        ("huyện Tiên Hoà", "H-TH"),
        ("Uỷ ban nhân dân quận Cảng Biển", "Q-CB"),
        ("Văn phòng UBND TP.", "VP"),
        ("Công an TP", "CATP"),
        ("Sở Khoa học & Công nghệ", "SKHCN"),
        ("Sở KH&CN", "SKHCN"),
        ("Sở GD&ĐT", "SGDDT"),
        ("Sở Văn hoá và Thể thao", "SVHTT"),
        ("Sở Quy hoạch – Kiến trúc", "SQHKT"),
        ("sở tài chính", "STC"),
        ("SXD", "SXD"),
    ],
)
def test_unit_names_are_found_however_written(index, written, code) -> None:
    assert index.resolve(written) == code


def test_a_name_that_is_not_a_unit_resolves_to_nothing(index) -> None:
    assert index.resolve("Ủy ban Mặt trận Tổ quốc Việt Nam thành phố") is None
    assert index.resolve("Khu công nghiệp Cảng Biển II") is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("báo cáo UBND thành phố trước ngày 30/12/2026.", date(2026, 12, 30)),
        ("trình trước ngày 15 tháng 01 năm 2027", date(2027, 1, 15)),
        ("xong trước ngày 20/11.", date(2026, 11, 20)),
        ("gửi trước ngày 10/01", date(2027, 1, 10)),
        ("gửi trước ngày 10 tháng 11", date(2026, 11, 10)),
        ("hoàn thành trong tháng 12/2026", date(2026, 12, 31)),
        ("hoàn thành trong tháng 02 năm 2027", date(2027, 2, 28)),
        ("hoàn thành trong Quý I/2027", date(2027, 3, 31)),
        ("trong quý IV năm 2026", date(2026, 12, 31)),
        ("hoàn thành trong năm 2027", date(2027, 12, 31)),
        ("trong thời hạn 10 ngày kể từ ngày ký Thông báo này", date(2026, 10, 25)),
        ("xong trong 05 ngày làm việc", date(2026, 10, 22)),
        ("triển khai từ ngày 05/01/2027, hoàn thành trước ngày 15/02/2027", date(2027, 2, 15)),
        (
            "theo Công văn số 12/UBND-KT ngày 05/10/2026, báo cáo trước 30-11-2026",
            date(2026, 11, 30),
        ),
        ("báo cáo trước ngày 25 hằng tháng", date(2026, 10, 25)),
        ("báo cáo hằng tuần vào ngày thứ Hai", date(2026, 10, 19)),
    ],
)
def test_every_deadline_form_gives_its_day(text, day) -> None:
    assert find_deadline(text, ISSUED, WORKING).day == day


def test_working_days_skip_the_new_year_holiday() -> None:
    found = find_deadline("xong trong 03 ngày làm việc", date(2026, 12, 30), WORKING)
    assert found.day == date(2027, 1, 5)  # 31/12, (1/1 a holiday, a weekend), 4/1, 5/1


@pytest.mark.parametrize("text", ["khẩn trương triển khai", "sớm báo cáo", "kịp thời xử lý"])
def test_vague_words_give_no_day_and_say_so(text) -> None:
    found = find_deadline(text, ISSUED, WORKING)
    assert found.day is None and found.vague and found.text


@pytest.mark.parametrize(
    "text",
    [
        "trong 07 ngày làm việc kể từ ngày nhận được đề nghị",
        "trong 05 ngày làm việc sau khi kết thúc đợt kiểm tra",
        "thường xuyên",
    ],
)
def test_periods_counted_from_an_event_or_ongoing_work_have_no_day(text) -> None:
    found = find_deadline(text, ISSUED, WORKING)
    assert found.day is None and not found.vague


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("báo cáo hằng tuần", "weekly"),
        ("báo cáo hàng tuần", "weekly"),
        ("định kỳ hằng tháng", "monthly"),
        ("hàng tháng", "monthly"),
        ("hằng quý", "quarterly"),
        ("trước ngày 15/12 hằng năm", "yearly"),
        ("trước ngày 15/12/2026", None),
    ],
)
def test_recurrence_words_give_the_bare_word(text, word) -> None:
    assert find_recurrence(text) == word


def test_the_labelled_set_meets_the_goals() -> None:
    figures = run(DATA / "src", verbose=False)
    assert figures["documents"] >= 10 and figures["gold tasks"] >= 200
    assert figures["precision"] >= 0.90 and figures["recall"] >= 0.85
    assert figures["lead unit"] >= 0.90 and figures["deadline"] >= 0.90


def test_a_table_notice_reads_its_rows(index) -> None:
    notice = read_notice(read_blocks(DATA / "src" / "kh01.docx"), sample_units(), WORKING)
    row = next(t for t in notice.tasks if t.content.startswith("Lắp đặt hệ thống camera"))
    assert (row.lead_unit, row.coordinating_units) == ("CATP", ["SGTVT", "STC"])
    assert row.deadline.day == date(2027, 6, 30)


def _blank_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.docx", b"", "empty"),
        ("scan.pdf", None, "scanned"),
        ("photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "bad_docx"),
        ("broken.pdf", b"%PDF-1.4 not really", "bad_pdf"),
        ("notes.txt", "Thông báo".encode("utf-16"), "not_utf8"),
        ("sheet.xlsx", b"PK\x03\x04", "suffix"),
    ],
)
def test_files_we_cannot_read_are_refused_with_a_reason(tmp_path, t, name, content, reason):
    path = tmp_path / name
    path.write_bytes(_blank_pdf() if content is None else content)
    with pytest.raises(ExtractError) as caught:
        read_blocks(path)
    assert caught.value.reason == reason
    line = describe(caught.value, t, name)
    assert name in line and "\n" not in line


def test_a_missing_or_huge_file_is_refused_before_it_is_read(tmp_path) -> None:
    with pytest.raises(ExtractError, match="missing"):
        read_blocks(tmp_path / "none.docx")
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(ExtractError, match="too_big"):
        read_blocks(huge)
    with pytest.raises(ExtractError, match="too_big"):
        read_bytes(b"x" * (21 * 1024 * 1024), ".txt")


def test_paths_are_not_needed_to_read(tmp_path: Path) -> None:
    blocks = read_bytes("Số: 1/TB-UBND\nSở Xây dựng khẩn trương rà soát.".encode(), ".txt")
    assert blocks[0].text == "Số: 1/TB-UBND"


def test_a_following_sentence_or_paragraph_that_only_dates_the_task_gives_its_deadline() -> None:
    text = (
        "Số: 12/UBND-VX\nĐông Hải, ngày 20 tháng 4 năm 2026\n"
        "UBND tỉnh yêu cầu các sở, ban, ngành rà soát, báo cáo kết quả phòng, chống dịch.\n"
        "Báo cáo gửi về Sở Y tế chậm nhất 10h00 ngày 27/4/2026.\n"
        "Giao Sở Tư pháp chủ trì thẩm định dự thảo quy chế. Yêu cầu hoàn thành trước ngày"
        " 05/5/2026.\n"
    )
    notice = read_notice(read_bytes(text.encode(), ".txt"), sample_units(), WORKING)
    assert [(t.lead_unit, t.deadline.day, t.deadline.text) for t in notice.tasks] == [
        (None, date(2026, 4, 27), "chậm nhất 10h00 ngày 27/4/2026"),
        ("STP", date(2026, 5, 5), "trước ngày 05/5/2026"),
    ]


def test_a_docx_whose_header_and_signature_are_tables_reads_its_fields(tmp_path) -> None:
    from docx import Document as Docx

    document = Docx()
    header = document.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ ĐÔNG HẢI"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    header.cell(1, 0).text = "Số: 77/TB-UBND"
    header.cell(1, 1).text = "Đông Hải, ngày 02 tháng 12 năm 2026"
    for line in (
        "THÔNG BÁO",
        "Kết luận về công tác phòng cháy",
        "1. Sở Xây dựng rà soát các công trình cao tầng, báo cáo trước ngày 20/12/2026.",
    ):
        document.add_paragraph(line)
    sign = document.add_table(rows=1, cols=2)
    sign.cell(0, 0).text = "Nơi nhận:\n- Như trên;\n- Lưu: VT."
    sign.cell(0, 1).text = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Hoàng Long"
    path = tmp_path / "tb77.docx"
    document.save(path)
    notice = read_notice(read_blocks(path), sample_units(), WORKING)
    assert (notice.number, notice.date, notice.kind, notice.signer) == (
        "77/TB-UBND",
        date(2026, 12, 2),
        "Thông báo",
        "Nguyễn Hoàng Long",
    )
    assert [(t.lead_unit, t.deadline.day) for t in notice.tasks] == [("SXD", date(2026, 12, 20))]
