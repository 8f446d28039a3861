"""Generate the sample city in data/sample/ (fixed seed, so the CSV files never drift).

Run: python data/generate_sample.py  — it rewrites units, officials, tasks and calendar CSVs.
The city, its people and its documents are fictional; the shapes are those of a real one.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from models.calendar import WorkingCalendar

SEED = 847
REFERENCE_DAY = date(2026, 11, 20)  # a Friday: nothing in the sample is done after it
OUT = Path(__file__).parent / "sample"

DEPARTMENTS = [
    ("SXD", "Sở Xây dựng"),
    ("STP", "Sở Tư pháp"),
    ("STC", "Sở Tài chính"),
    ("SNV", "Sở Nội vụ"),
    ("SYT", "Sở Y tế"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SCT", "Sở Công Thương"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("SVHTT", "Sở Văn hóa và Thể thao"),
    ("SDL", "Sở Du lịch"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo"),
    ("SNGV", "Sở Ngoại vụ"),
    ("SQHKT", "Sở Quy hoạch - Kiến trúc"),
    ("SGTVT", "Sở Giao thông vận tải"),
    ("TTTP", "Thanh tra thành phố"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp"),
    ("CATP", "Công an thành phố"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("BQLDA", "Ban Quản lý dự án đầu tư xây dựng thành phố"),
]
DISTRICTS = [
    ("Q-TT", "Quận Trung Tâm"),
    ("Q-CB", "Quận Cảng Biển"),
    ("Q-HS", "Quận Hồ Sen"),
    ("Q-PH", "Quận Phú Hải"),
    ("Q-AD", "Quận An Đông"),
    ("Q-TTH", "Quận Tân Thành"),
    ("H-TX", "Huyện Thủy Xuân"),
    ("H-AL", "Huyện An Lạc"),
    ("H-KS", "Huyện Kim Sơn"),
    ("H-VP", "Huyện Vĩnh Phú"),
    ("H-TH", "Huyện Tiên Hòa"),
    ("H-BL", "Huyện đảo Bạch Long"),
]
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trịnh",
    "Mai",
    "Tạ",
]
MIDDLE_M = ["Văn", "Minh", "Đức", "Quang", "Hữu", "Thanh", "Tuấn", "Mạnh", "Công", "Xuân"]
MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương", "Kim", "Bích", "Mai"]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Tuấn",
    "Hải",
    "Long",
    "Nam",
    "Sơn",
    "Thắng",
    "Cường",
    "Quân",
    "Phong",
    "Trung",
    "Hiếu",
    "Khánh",
    "Bình",
    "Toàn",
    "Việt",
    "Hoàng",
    "Đạt",
    "Lâm",
]
GIVEN_F = [
    "Lan",
    "Hà",
    "Oanh",
    "Hương",
    "Linh",
    "Trang",
    "Thảo",
    "Nga",
    "Hạnh",
    "Yến",
    "Huyền",
    "Dung",
    "Ngân",
    "Vân",
    "Thủy",
    "Loan",
    "Quyên",
    "Giang",
    "Chi",
    "Mai",
]

TOPICS = [
    "cải cách hành chính năm 2027",
    "chuyển đổi số trong cơ quan nhà nước",
    "giải ngân vốn đầu tư công",
    "phòng cháy, chữa cháy tại nhà chung cư cũ",
    "xử lý rác thải sinh hoạt",
    "an toàn thực phẩm dịp Tết Nguyên đán",
    "thu ngân sách nhà nước",
    "sắp xếp đơn vị hành chính cấp xã",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "thu hút đầu tư vào khu công nghiệp",
    "bảo đảm trật tự an toàn giao thông",
    "phòng, chống dịch bệnh mùa đông xuân",
    "nâng cao chỉ số PCI",
    "ứng dụng dịch vụ công trực tuyến toàn trình",
    "chống ngập úng mùa mưa bão",
    "quản lý vỉa hè, lòng đường",
]
PROJECTS = [
    "dự án cải tạo chung cư cũ khu Bắc Thành",
    "dự án đường vành đai 2",
    "dự án mở rộng bệnh viện đa khoa thành phố",
    "dự án trường THPT Hồ Sen",
    "dự án kè sông Cấm",
    "dự án xử lý nước thải Tây Bắc",
    "dự án công viên Trung Tâm",
    "dự án cầu An Đông",
    "dự án nhà ở xã hội Phú Hải",
]
TEMPLATES = [
    "Rà soát, báo cáo UBND thành phố tình hình {topic}",
    "Tham mưu UBND thành phố ban hành kế hoạch {topic}",
    "Kiểm tra, xử lý dứt điểm các tồn tại về {topic} trên địa bàn",
    "Đẩy nhanh tiến độ giải phóng mặt bằng {project}",
    "Hoàn thiện hồ sơ trình phê duyệt điều chỉnh {project}",
    "Tổng hợp, đề xuất giải pháp tháo gỡ khó khăn về {topic}",
    "Chủ trì xây dựng đề án {topic}, báo cáo UBND thành phố",
    "Kiểm tra, xử lý vi phạm trật tự xây dựng tại {project}",
    "Báo cáo kết quả thực hiện {topic} 6 tháng",
    "Xây dựng phương án tổ chức thực hiện {topic}",
]
DOCUMENT_KINDS = [
    ("TB-UBND", "Thông báo kết luận của Chủ tịch UBND thành phố tại cuộc họp {what}"),
    ("KH-UBND", "Kế hoạch triển khai {what}"),
    ("QĐ-UBND", "Quyết định ban hành chương trình công tác về {what}"),
    ("CT-UBND", "Chỉ thị về tăng cường {what}"),
    ("UBND-TH", "Công văn về việc thực hiện {what}"),
]


def person(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (OUT / name).open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    calendar = WorkingCalendar({date(2025, 4, 26): True, date(2026, 8, 22): True})
    OUT.mkdir(parents=True, exist_ok=True)

    write(
        "calendar.csv",
        ["date", "working", "note"],
        [
            ["2025-04-26", 1, "Làm bù cho ngày nghỉ 02/5/2025"],
            ["2026-08-22", 1, "Làm bù cho ngày nghỉ 31/8/2026"],
        ],
    )

    units = [
        ["UBND", "Ủy ban nhân dân thành phố", "office", ""],
        ["VP", "Văn phòng UBND thành phố", "office", "UBND"],
    ]
    units += [[code, name, "department", ""] for code, name in DEPARTMENTS]
    units += [[code, name, "district", ""] for code, name in DISTRICTS]
    write("units.csv", ["code", "name", "kind", "parent_code"], units)

    officials: list[list[object]] = []
    staff: dict[str, dict[str, list[str]]] = {}
    names: dict[str, str] = {}

    def add(unit: str, position: str, roles: str) -> str:
        code = f"CB{len(officials) + 1:04d}"
        name = person(rng)
        names[code] = name
        slug = code.lower()
        officials.append(
            [
                code,
                name,
                position,
                unit,
                roles,
                f"09{rng.randrange(10**7, 10**8)}",
                f"{slug}@donghai.gov.vn",
            ]
        )
        bucket = staff.setdefault(unit, {"leader": [], "specialist": []})
        bucket["leader" if "leader" in roles else "specialist"].append(code)
        return code

    city = [add("UBND", "Chủ tịch UBND thành phố", "city_leader")]
    city += [add("UBND", "Phó Chủ tịch UBND thành phố", "city_leader") for _ in range(3)]
    add("VP", "Chánh Văn phòng, Tổ trưởng Tổ công tác", "task_force;leader")
    for _ in range(3):
        add("VP", "Phó Chánh Văn phòng, Tổ phó Tổ công tác", "task_force")
    for _ in range(10):
        add("VP", "Chuyên viên, thành viên Tổ công tác", "task_force;specialist")
    add("VP", "Quản trị hệ thống", "admin")
    for code, _ in DEPARTMENTS:
        add(code, "Giám đốc" if code.startswith("S") else "Trưởng ban", "leader")
        for _ in range(rng.randint(1, 2)):
            add(code, "Phó Giám đốc" if code.startswith("S") else "Phó Trưởng ban", "leader")
        for _ in range(rng.randint(6, 9)):
            add(code, "Chuyên viên", "specialist")
    for code, _ in DISTRICTS:
        add(code, "Chủ tịch UBND", "leader")
        add(code, "Phó Chủ tịch UBND", "leader")
        for _ in range(rng.randint(4, 6)):
            add(code, "Chuyên viên", "specialist")
    write(
        "officials.csv",
        ["code", "full_name", "position", "unit_code", "roles", "phone", "email"],
        officials,
    )

    start = date(2024, 12, 2)
    span = (REFERENCE_DAY - start).days
    documents = []
    for i in range(40):
        symbol, summary = DOCUMENT_KINDS[i % len(DOCUMENT_KINDS)]
        issued = calendar.next_working_day(start + timedelta(days=int(span * i / 40)))
        number = (
            f"{rng.randint(10, 999) if symbol != 'UBND-TH' else rng.randint(1000, 6000)}/{symbol}"
        )
        what = (
            rng.choice(["giao ban tháng", "chuyên đề", "kiểm tra tiến độ"])
            if symbol == "TB-UBND"
            else rng.choice(TOPICS)
        )
        documents.append((number, issued, summary.format(what=what), names[rng.choice(city)]))

    unit_codes = [c for c, _ in DEPARTMENTS] + [c for c, _ in DISTRICTS]
    tasks: list[list[object]] = []
    for task_id in range(1001, 2501):
        number, issued, summary, signer = rng.choice(documents)
        lead = rng.choice(unit_codes)
        others = rng.sample([c for c in unit_codes if c != lead], rng.choice([0, 0, 1, 1, 2, 3]))
        content = rng.choice(TEMPLATES).format(
            topic=rng.choice(TOPICS), project=rng.choice(PROJECTS)
        )
        assigned = min(REFERENCE_DAY, issued + timedelta(days=rng.randint(0, 5)))
        leader = rng.choice(staff[lead]["leader"])
        specialist = rng.choice(staff[lead]["specialist"])
        if rng.random() < 0.01:
            specialist = ""  # a data error the task force must see
        ongoing = rng.random() < 0.05
        original = None if ongoing else calendar.add_working_days(assigned, rng.randint(10, 90))
        deadline = original
        if original and rng.random() < 0.09:
            deadline = calendar.add_working_days(original, rng.randint(5, 30))
        age = (REFERENCE_DAY - assigned).days
        status, progress, completed, result = "not_started", 0, "", ""
        p_done = 0.985 if age > 400 else 0.94 if age > 180 else 0.6 if age > 60 else 0.15
        if rng.random() < p_done:
            due = deadline or assigned + timedelta(days=60)
            late = rng.random() < 0.22
            done_day = (
                due + timedelta(days=rng.randint(1, 40))
                if late
                else due - timedelta(days=rng.randint(0, max(0, (due - assigned).days)))
            )
            if done_day <= REFERENCE_DAY:
                status, progress, completed = "done", 100, done_day.isoformat()
                result = "Đã hoàn thành, đã báo cáo UBND thành phố"
        if status != "done" and rng.random() < 0.6:
            status, progress = "in_progress", rng.choice([10, 20, 30, 50, 60, 70, 80, 90])
        tasks.append(
            [
                task_id,
                number,
                issued.strftime("%d/%m/%Y"),
                "",
                signer,
                summary,
                content,
                lead,
                ";".join(others),
                leader,
                specialist,
                assigned.strftime("%d/%m/%Y"),
                deadline.strftime("%d/%m/%Y") if deadline else "",
                original.strftime("%d/%m/%Y") if original and original != deadline else "",
                status,
                progress,
                completed,
                result,
            ]
        )
    write(
        "tasks.csv",
        [
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
            "original_deadline",
            "status",
            "progress",
            "completed_date",
            "result",
        ],
        tasks,
    )


if __name__ == "__main__":
    main()
