"""Source documents: the decisions, conclusions and directives that create tasks."""

from __future__ import annotations

import unicodedata
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
    RESOLUTION = "resolution"  # nghị quyết
    OTHER = "other"


# What each kind is called on paper; the export writes these when a document has no label.
KIND_NAMES = {
    DocumentKind.CONCLUSION: "Kết luận",
    DocumentKind.DIRECTIVE: "Văn bản chỉ đạo",
    DocumentKind.DECISION: "Quyết định",
    DocumentKind.NOTICE: "Thông báo",
    DocumentKind.PLAN: "Kế hoạch",
    DocumentKind.LETTER: "Công văn",
    DocumentKind.INSTRUCTION: "Chỉ thị",
    DocumentKind.RESOLUTION: "Nghị quyết",
    DocumentKind.OTHER: "Khác",
}


def _folded(label: str) -> str:
    """`THÔNG BÁO  KẾT LUẬN` → `thong bao ket luan`: offices type labels every which way."""
    text = unicodedata.normalize("NFD", label.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


_KIND_BY_LABEL = {
    **{_folded(kind.value): kind for kind in DocumentKind},
    **{_folded(name): kind for kind, name in KIND_NAMES.items()},
    # A conclusion is issued as a notice of the conclusion: the full name means conclusion.
    _folded("Thông báo kết luận"): DocumentKind.CONCLUSION,
    # Files written before "Văn bản chỉ đạo" was the name.
    _folded("Chỉ đạo"): DocumentKind.DIRECTIVE,
}


# The symbol after the number names the kind: 847/QĐ-UBND is a decision, 105/TB-UBND a notice.
_KIND_BY_SYMBOL = {
    "QĐ": DocumentKind.DECISION,
    "QD": DocumentKind.DECISION,
    "TB": DocumentKind.NOTICE,
    "KH": DocumentKind.PLAN,
    "CT": DocumentKind.INSTRUCTION,
    "KL": DocumentKind.CONCLUSION,
    "CV": DocumentKind.LETTER,
    "NQ": DocumentKind.RESOLUTION,
}


def kind_from_number(number: str) -> DocumentKind:
    """Guess the kind from the symbol; a bare number with a unit suffix is an official letter."""
    _, _, symbol = number.partition("/")
    prefix = symbol.split("-", 1)[0].strip().upper()
    if prefix in _KIND_BY_SYMBOL:
        return _KIND_BY_SYMBOL[prefix]
    return DocumentKind.LETTER if symbol else DocumentKind.OTHER


def kind_from_label(label: str) -> DocumentKind:
    """The kind a label names, ignoring case, marks and spacing; a label we do not know is other."""
    return _KIND_BY_LABEL.get(_folded(label), DocumentKind.OTHER)


def document_kind(label: str, number: str) -> DocumentKind:
    """The label as written decides; without one, the symbol in the number does."""
    return kind_from_label(label) if label.strip() else kind_from_number(number)


class Document(Base):
    __tablename__ = "documents"
    # Numbers restart every year: 12/KH-UBND of 2025 and of 2026 are two documents.
    __table_args__ = (UniqueConstraint("number", "issued_on", name="uq_documents_number_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    # The kind as the document calls itself ("Thông báo kết luận"); `kind` is what it maps to.
    kind_label: Mapped[str] = mapped_column(String(255), default="")
    signer: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")

    def set_kind(self, label: str) -> None:
        """Keep the label as written and the kind it maps to (or the number's, without one)."""
        # The column holds 255 characters; a longer label is still never a reason to refuse.
        self.kind_label = label.strip()[:255]
        self.kind = document_kind(self.kind_label, self.number)

    @property
    def kind_name(self) -> str:
        """The label as written, or the name of its kind on paper when it has none."""
        return self.kind_label or KIND_NAMES[self.kind]

    def __repr__(self) -> str:
        return f"<Document {self.number} {self.issued_on}>"
