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
    "matrix_id": aliases("matrix_id", "Tài khoản Matrix", "Matrix"),
}
TASK_COLUMNS = {
    "id": aliases("id", "Số nhiệm vụ", "Mã nhiệm vụ"),
    "document_number": aliases("document_number", "Số ký hiệu", "Số ký hiệu văn bản", "Số văn bản"),
    "document_date": aliases("document_date", "Ngày văn bản", "Ngày ban hành"),
    "document_kind": aliases("document_kind", "Loại văn bản"),
    "document_signer": aliases("document_signer", "Người ký"),
    "document_summary": aliases("document_summary", "Trích yếu"),
    "content": aliases("content", "Nội dung nhiệm vụ", "Nội dung", "Nhiệm vụ"),
    "lead_unit_code": aliases("lead_unit_code", "Đơn vị chủ trì", "Chủ trì"),
    "coordinating_unit_codes": aliases("coordinating_unit_codes", "Đơn vị phối hợp", "Phối hợp"),
    "leader_code": aliases("leader_code", "Lãnh đạo phụ trách"),
    "specialist_code": aliases("specialist_code", "Chuyên viên", "Chuyên viên thực hiện"),
    "assigned_date": aliases("assigned_date", "Ngày giao"),
    "deadline": aliases("deadline", "Thời hạn", "Hạn xử lý", "Hạn hoàn thành"),
    "original_deadline": aliases("original_deadline", "Thời hạn ban đầu", "Hạn ban đầu"),
    "status": aliases("status", "Trạng thái", "Tình trạng"),
    "progress": aliases("progress", "Tiến độ"),
    "completed_date": aliases("completed_date", "Ngày hoàn thành"),
    "result": aliases("result", "Kết quả"),
}
CALENDAR_COLUMNS = {
    "date": aliases("date", "Ngày"),
    "working": aliases("working", "Làm việc", "Ngày làm việc"),
    "note": aliases("note", "Ghi chú"),
}
# Columns our own export writes for people to read; importing them back is a no-op.
EXPORT_ONLY = aliases(
    "lead_unit_name", "leader_name", "specialist_name", "derived_status", "deadline_in_force"
)


class MappedRows:
    """Rows of one file with their headers mapped to the contract's column names."""

    def __init__(self, table: Table, columns: dict[str, frozenset[str]], t: Translator) -> None:
        self.errors: list[RowError] = []
        self.ignored: list[str] = []
        self.mapping: dict[str, str] = {}
        for header in table.headers:
            key = header_key(header)
            name = next((n for n, names in columns.items() if key in names), None)
            if name is None:
                if key and key not in EXPORT_ONLY:
                    self.ignored.append(header)
                continue
            if name in self.mapping.values():
                first = next(h for h, n in self.mapping.items() if n == name)
                self.errors.append(
                    RowError(
                        1,
                        t._(
                            "columns '{first}' and '{second}' are the same column '{column}'",
                            first=first,
                            second=header,
                            column=name,
                        ),
                    )
                )
                continue
            self.mapping[header] = name
        self.rows = [
            (
                number,
                {name: values.get(header, "").strip() for header, name in self.mapping.items()},
            )
            for number, values in table.rows
        ]
        if not self.rows and not self.errors:
            self.errors.append(RowError(1, t._("the file has no data rows")))

    def header(self, name: str) -> str:
        """The column as the file names it, so a message points at what the user sees."""
        return next((h for h, n in self.mapping.items() if n == name), name)

    def require(self, t: Translator, *names: str) -> None:
        present = set(self.mapping.values())
        for name in names:
            if name not in present:
                self.errors.append(
                    RowError(1, t._("missing required column '{column}'", column=name))
                )
