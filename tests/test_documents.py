"""Document kinds: the label as the office writes it decides; without one, the number's symbol."""

from __future__ import annotations

import pytest

from models.documents import DocumentKind, document_kind, kind_from_label, kind_from_number

LABELS = [
    ("Thông báo kết luận", DocumentKind.CONCLUSION),
    ("THÔNG BÁO KẾT LUẬN", DocumentKind.CONCLUSION),
    ("thong bao ket luan", DocumentKind.CONCLUSION),
    ("  Thông báo   kết luận ", DocumentKind.CONCLUSION),
    ("Kết luận", DocumentKind.CONCLUSION),
    ("Thông báo", DocumentKind.NOTICE),
    ("Chỉ thị", DocumentKind.INSTRUCTION),
    ("Quyết định", DocumentKind.DECISION),
    ("QUYET DINH", DocumentKind.DECISION),
    ("Công văn", DocumentKind.LETTER),
    ("Kế hoạch", DocumentKind.PLAN),
    ("Nghị quyết", DocumentKind.RESOLUTION),
    ("Văn bản chỉ đạo", DocumentKind.DIRECTIVE),
    ("Tờ trình", DocumentKind.OTHER),
    ("conclusion", DocumentKind.CONCLUSION),
    ("Resolution", DocumentKind.RESOLUTION),
    ("letter", DocumentKind.LETTER),
    ("other", DocumentKind.OTHER),
]


@pytest.mark.parametrize(("label", "kind"), LABELS, ids=[label for label, _ in LABELS])
def test_a_label_maps_to_its_kind_whatever_its_case_marks_or_spacing(
    label: str, kind: DocumentKind
) -> None:
    assert kind_from_label(label) is kind


def test_the_label_wins_over_the_number() -> None:
    assert document_kind("Thông báo kết luận", "105/TB-UBND") is DocumentKind.CONCLUSION
    assert document_kind("Tờ trình", "12/KH-UBND") is DocumentKind.OTHER


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("12/NQ-HĐND", DocumentKind.RESOLUTION),
        ("105/TB-UBND", DocumentKind.NOTICE),
        ("847/QĐ-UBND", DocumentKind.DECISION),
        ("3/CT-UBND", DocumentKind.INSTRUCTION),
        ("20/KL-UBND", DocumentKind.CONCLUSION),
        ("1234/UBND-KT", DocumentKind.LETTER),
        ("1234", DocumentKind.OTHER),
    ],
)
def test_without_a_label_the_number_decides(number: str, kind: DocumentKind) -> None:
    assert document_kind("", number) is kind
    assert document_kind("  ", number) is kind
    assert kind_from_number(number) is kind
