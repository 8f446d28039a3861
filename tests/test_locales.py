"""Every user-facing string has its Vietnamese translation; dates and numbers read the Vietnamese way."""

from datetime import date

from babel.messages.pofile import read_po

from locales import CATALOG_DIR, catalog_path, translator
from locales.catalog import SOURCE_DIRS, extract


def test_every_string_in_the_code_is_translated_to_vietnamese() -> None:
    with catalog_path("vi").open("rb") as file:
        catalog = read_po(file, locale="vi")
    missing = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        strings = (
            entry.string
            if entry and isinstance(entry.string, tuple)
            else (entry.string if entry else "",)
        )
        if not entry or not all(strings) or entry.fuzzy:
            missing.append(message.id)
    assert not missing, "run `python -m locales.catalog` and translate:\n" + "\n".join(
        map(str, missing)
    )


def test_strings_are_read_from_every_package() -> None:
    """A package the extraction skips would lose its translations at the next catalog run."""
    packages = {p.parent.name for p in CATALOG_DIR.parent.glob("*/__init__.py")}
    assert packages - {"bench", "tests"} <= set(SOURCE_DIRS)


def test_translations_keep_every_placeholder() -> None:
    import re

    with catalog_path("vi").open("rb") as file:
        catalog = read_po(file, locale="vi")
    for message in catalog:
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        placeholders = set(re.findall(r"\{(\w+)\}", source)) - {"n"}
        assert placeholders <= set(re.findall(r"\{(\w+)\}", target)), source


def test_dates_read_the_vietnamese_way() -> None:
    vi = translator("vi")
    assert vi.date(date(2026, 11, 24), weekday=True) == "thứ Ba, 24/11/2026"
    assert vi.date(date(2026, 11, 29), weekday=True) == "Chủ nhật, 29/11/2026"
    assert vi.date(date(2026, 12, 9)) == "09/12/2026"
    assert translator("en").date(date(2026, 11, 24), weekday=True) == "Tuesday, 24/11/2026"


def test_numbers_use_vietnamese_grouping() -> None:
    assert translator("vi").number(1234567) == "1.234.567"
    assert translator("en").number(1234) == "1,234"


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert translator("fr").language == "vi"
    assert translator(None)._("overdue") == "quá hạn"
    assert translator("en")._("overdue") == "overdue"
