"""Source documents: the decisions, conclusions and directives that create tasks."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column


class DocumentKind(StrEnum):
    CONCLUSION = "conclusion"  # kết luận
    DIRECTIVE = "directive"  # chỉ đạo
    DECISION = "decision"  # quyết định
    NOTICE = "notice"  # thông báo
    PLAN = "plan"  # kế hoạch
    LETTER = "letter"  # công văn
    INSTRUCTION = "instruction"  # chỉ thị
    OTHER = "other"


# The symbol after the number names the kind: 847/QĐ-UBND is a decision, 105/TB-UBND a notice.
_KIND_BY_SYMBOL = {
    "QĐ": DocumentKind.DECISION,
    "QD": DocumentKind.DECISION,
    "TB": DocumentKind.NOTICE,
    "KH": DocumentKind.PLAN,
    "CT": DocumentKind.INSTRUCTION,
    "KL": DocumentKind.CONCLUSION,
    "CV": DocumentKind.LETTER,
}


def kind_from_number(number: str) -> DocumentKind:
    """Guess the kind from the symbol; a bare number with a unit suffix is an official letter."""
    _, _, symbol = number.partition("/")
    prefix = symbol.split("-", 1)[0].strip().upper()
    if prefix in _KIND_BY_SYMBOL:
        return _KIND_BY_SYMBOL[prefix]
    return DocumentKind.LETTER if symbol else DocumentKind.OTHER


class Document(Base):
    __tablename__ = "documents"
    # Numbers restart every year: 12/KH-UBND of 2025 and of 2026 are two documents.
    __table_args__ = (UniqueConstraint("number", "issued_on", name="uq_documents_number_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    signer: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Document {self.number} {self.issued_on}>"
