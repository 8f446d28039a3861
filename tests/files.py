"""Write small CSV and XLSX files for import tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ","
) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


UNIT_HEADER = ["code", "name", "kind", "parent_code"]
UNITS = [
    ["VP", "Văn phòng UBND thành phố", "office", ""],
    ["SXD", "Sở Xây dựng", "department", ""],
    ["SXD-QLXD", "Phòng Quản lý xây dựng", "other", "SXD"],
    ["STP", "Sở Tư pháp", "Sở", ""],
    ["Q1", "Quận Trung Tâm", "Quận", ""],
]
OFFICIAL_HEADER = ["code", "full_name", "position", "unit_code", "roles", "phone", "email"]
OFFICIALS = [
    ["TCT", "Trần Văn Tổ", "Tổ trưởng", "VP", "task_force;leader", "0901000001", "to@vp.gov.vn"],
    ["SXD-LD", "Đặng Thanh Oanh", "Giám đốc", "SXD", "leader", "", ""],
    ["SXD-CV", "Bùi Minh Hà", "Chuyên viên", "SXD-QLXD", "Chuyên viên", "", ""],
    ["STP-CV", "Phạm Quang Huy", "Chuyên viên", "STP", "", "", ""],
    ["Q1-LD", "Hoàng Văn Nam", "Chủ tịch", "Q1", "Lãnh đạo", "", ""],
]
TASK_HEADER = [
    "id",
    "document_number",
    "document_date",
    "document_kind",
    "document_signer",
    "document_summary",
    "content",
    "lead_unit_code",
    "coordinating_unit_codes",
    "leader_code",
    "specialist_code",
    "assigned_date",
    "deadline",
    "status",
    "completed_date",
]
TASK_HEADER_VI = [
    "Số nhiệm vụ",
    "Số ký hiệu",
    "Ngày văn bản",
    "Loại văn bản",
    "Người ký",
    "Trích yếu",
    "Nội dung nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Lãnh đạo phụ trách",
    "Chuyên viên",
    "Ngày giao",
    "Thời hạn",
    "Trạng thái",
    "Ngày hoàn thành",
]
TASKS = [
    [
        "4101",
        "105/TB-UBND",
        "03/10/2026",
        "",
        "Nguyễn Văn Chủ",
        "Kết luận giao ban",
        "Rà soát hồ sơ GPMB",
        "SXD",
        "STP;Q1",
        "SXD-LD",
        "SXD-CV",
        "05/10/2026",
        "28/12/2026",
        "chưa thực hiện",
        "",
    ],
    [
        "4102",
        "105/TB-UBND",
        "2026-10-03",
        "",
        "",
        "",
        "Tham mưu kế hoạch CCHC 2027",
        "Sở Xây dựng",
        "",
        "SXD-LD",
        "SXD-CV",
        "2026-10-05",
        "27/11/2026",
        "in_progress",
        "",
    ],
    [
        "4103",
        "12/KH-UBND",
        "01/09/2026",
        "Kế hoạch",
        "",
        "Kế hoạch chuyển đổi số",
        "Báo cáo chuyển đổi số",
        "STP",
        "",
        "",
        "STP-CV",
        "02/09/2026",
        "30/09/2026",
        "Hoàn thành",
        "25/09/2026",
    ],
    [
        "",
        "",
        "",
        "",
        "",
        "",
        "Quản lý vỉa hè, lòng đường (thường xuyên)",
        "Q1",
        "",
        "Q1-LD",
        "",
        "01/10/2026",
        "",
        "đang thực hiện",
        "",
    ],
]
