"""The headers the offices write (Vietnamese or English), mapped to our column names."""

from __future__ import annotations

from dataclasses import dataclass

from locales import Translator
from paperwork.tabular import Table, header_key


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


def aliases(*names: str) -> frozenset[str]:
    return frozenset(header_key(n) for n in names)


UNIT_COLUMNS = {
    "code": aliases("code", "Mã", "Mã đơn vị"),
    "name": aliases("name", "Tên", "Tên đơn vị"),
    "kind": aliases("kind", "Loại", "Loại đơn vị"),
    "parent_code": aliases("parent_code", "Mã đơn vị cấp trên", "Đơn vị cấp trên", "Cấp trên"),
    "aliases": aliases("aliases", "Tên khác", "Tên gọi khác", "Tên viết tắt"),
}
OFFICIAL_COLUMNS = {
    "code": aliases("code", "Mã", "Mã cán bộ"),
    "full_name": aliases("full_name", "Họ và tên", "Họ tên"),
    "position": aliases("position", "Chức vụ"),
    "unit_code": aliases("unit_code", "Mã đơn vị", "Đơn vị"),
    "roles": aliases("roles", "Vai trò"),
    "phone": aliases("phone", "Điện thoại", "Số điện thoại"),
    "email": aliases("email", "Thư điện tử"),
    "language": aliases("language", "Ngôn ngữ"),
    "active": aliases("active", "Đang công tác", "Hoạt động"),
    "matrix_id": aliases("matrix_id", "Tài khoản Matrix", "Matrix"),
}
TASK_COLUMNS = {
    "id": aliases("id", "Số nhiệm vụ", "Mã nhiệm vụ", "Số hiệu nhiệm vụ"),
    "document_number": aliases(
        "document_number",
        "Số ký hiệu",
        "Số, ký hiệu",
        "Số ký hiệu văn bản",
        "Số, ký hiệu văn bản",
        "Số văn bản",
        "Văn bản giao nhiệm vụ",
    ),
    "document_date": aliases(
        "document_date", "Ngày văn bản", "Ngày ban hành", "Ngày ban hành văn bản", "Ngày ký"
    ),
    "document_kind": aliases("document_kind", "Loại văn bản", "Hình thức văn bản"),
    "document_signer": aliases("document_signer", "Người ký", "Người ký văn bản"),
    "document_summary": aliases(
        "document_summary", "Trích yếu", "Trích yếu văn bản", "Trích yếu nội dung"
    ),
    "content": aliases(
        "content", "Nội dung nhiệm vụ", "Nội dung", "Nhiệm vụ", "Nội dung công việc", "Tên nhiệm vụ"
    ),
    "lead_unit_code": aliases(
        "lead_unit_code",
        "Đơn vị chủ trì",
        "Chủ trì",
        "Mã đơn vị chủ trì",
        "Cơ quan chủ trì",
        "Đơn vị chủ trì thực hiện",
        "Cơ quan, đơn vị chủ trì",
    ),
    "coordinating_unit_codes": aliases(
        "coordinating_unit_codes",
        "Đơn vị phối hợp",
        "Phối hợp",
        "Mã đơn vị phối hợp",
        "Cơ quan phối hợp",
        "Đơn vị phối hợp thực hiện",
        "Cơ quan, đơn vị phối hợp",
    ),
    "leader_code": aliases(
        "leader_code", "Lãnh đạo phụ trách", "Lãnh đạo chỉ đạo", "Lãnh đạo theo dõi"
    ),
    "specialist_code": aliases(
        "specialist_code",
        "Chuyên viên",
        "Chuyên viên thực hiện",
        "Chuyên viên phụ trách",
        "Chuyên viên theo dõi",
    ),
    "assigned_date": aliases(
        "assigned_date", "Ngày giao", "Ngày giao nhiệm vụ", "Ngày giao việc", "Ngày được giao"
    ),
    "deadline": aliases(
        "deadline",
        "Thời hạn",
        "Thời hạn thực hiện",
        "Thời hạn hoàn thành",
        "Thời hạn xử lý",
        "Hạn xử lý",
        "Hạn hoàn thành",
        "Hạn thực hiện",
        "Hạn",
    ),
    "original_deadline": aliases("original_deadline", "Thời hạn ban đầu", "Hạn ban đầu"),
    "status": aliases("status", "Trạng thái", "Tình trạng", "Trạng thái thực hiện"),
    "progress": aliases("progress", "Tiến độ", "Tiến độ (%)", "Tiến độ thực hiện"),
    "completed_date": aliases("completed_date", "Ngày hoàn thành", "Ngày hoàn thành thực hiện"),
    "result": aliases("result", "Kết quả", "Kết quả thực hiện"),
    "recurrence": aliases(
        "recurrence", "Định kỳ", "Lặp lại", "Nhiệm vụ định kỳ", "Chu kỳ", "Tần suất"
    ),
}
CALENDAR_COLUMNS = {
    "date": aliases("date", "Ngày"),
    "working": aliases("working", "Làm việc", "Ngày làm việc"),
    "note": aliases("note", "Ghi chú"),
}
# Columns people keep for reading (a row number, a remark) and the columns our own export
# writes for people to read: accepted and not imported.
INFORMATIONAL = aliases("STT", "TT", "Số TT", "Số thứ tự", "Ghi chú", "Note", "Notes")
EXPORT_ONLY = aliases(
    "lead_unit_name", "leader_name", "specialist_name", "derived_status", "deadline_in_force"
)


def _candidates(header: tuple[str, ...]) -> list[str]:
    """What a column may be called: its cell, or in a two-row header the cell below, then both
    together, then the merged cell above (`Thời hạn` over a column left empty below)."""
    if len(header) == 1:
        return [header[0]]
    top, below = header
    return [text for text in (below, f"{top} {below}", top) if text.strip()]


class MappedRows:
    """Rows of one file with their headers mapped to the contract's column names.

    Every column with something in it must be one we read or one we know to leave alone;
    any other would be dropped without a word, so the file is refused, naming the column.
    """

    def __init__(self, table: Table, columns: dict[str, frozenset[str]], t: Translator) -> None:
        self.errors: list[RowError] = []
        self.ignored: list[str] = []
        self.mapping: dict[int, str] = {}
        self.headers: dict[int, str] = {}
        for index, column in enumerate(table.columns):
            shown = " / ".join(dict.fromkeys(h for h in column.header if h))
            name, known = None, False
            for candidate in _candidates(column.header):
                key = header_key(candidate)
                name = next((n for n, keys in columns.items() if key in keys), None)
                if name is not None or key in INFORMATIONAL or key in EXPORT_ONLY:
                    known = True
                    break
            if name is None:
                if known and not any(header_key(c) in EXPORT_ONLY for c in column.header):
                    self.ignored.append(shown)
                elif not known and shown:
                    self.errors.append(
                        RowError(
                            1,
                            t._(
                                "column {letter} '{header}' is not a column we read: rename it"
                                " to one of {columns} (see the README), or delete the column",
                                letter=column.letter,
                                header=shown,
                                columns=", ".join(columns),
                            ),
                        )
                    )
                elif not known and column.has_data:
                    self.errors.append(
                        RowError(
                            1,
                            t._(
                                "column {letter} has data but no header: give it one of"
                                " {columns} (see the README), or delete the column",
                                letter=column.letter,
                                columns=", ".join(columns),
                            ),
                        )
                    )
                continue
            if name in self.mapping.values():
                first = next(i for i, n in self.mapping.items() if n == name)
                self.errors.append(
                    RowError(
                        1,
                        t._(
                            "columns {first} and {second} are both the column '{column}':"
                            " keep one of them",
                            first=table.columns[first].letter,
                            second=column.letter,
                            column=name,
                        ),
                    )
                )
                continue
            self.mapping[index] = name
            self.headers[index] = shown
        self.rows = [
            (number, {name: values[index].strip() for index, name in self.mapping.items()})
            for number, values in table.rows
        ]
        if not self.rows and not self.errors:
            self.errors.append(RowError(1, t._("the file has no data rows")))

    def header(self, name: str) -> str:
        """The column as the file names it, so a message points at what the user sees."""
        return next((self.headers[i] for i, n in self.mapping.items() if n == name), name)

    def require(self, t: Translator, *names: str) -> None:
        present = set(self.mapping.values())
        for name in names:
            if name not in present:
                self.errors.append(
                    RowError(1, t._("missing required column '{column}'", column=name))
                )
