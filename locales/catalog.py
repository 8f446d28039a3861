"""Extract the strings in the code and merge them into the vi and en catalogs.

Run `python -m locales.catalog` after changing a user-facing string, then translate the
new entries in locales/vi/LC_MESSAGES/dondoc.po. The test suite fails while any is missing.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from locales import CATALOG_DIR, LANGUAGES, catalog_path

SOURCE_DIRS = ("bot", "handlers", "messages", "models", "paperwork", "jobs", "locales")
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every message the code passes to `_` or `ngettext`."""
    template = Catalog(project="dondoc")
    root = CATALOG_DIR.parent
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def update(language: str, template: Catalog) -> Path:
    path = catalog_path(language)
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
    else:
        catalog = Catalog(locale=language, project="dondoc")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    catalog.project, catalog.version = "dondoc", "1"
    catalog.copyright_holder = "Đôn Đốc"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = catalog.language_team = "Đôn Đốc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(
            file,
            catalog,
            width=100,
            omit_header=False,
            sort_output=True,
            no_location=True,
            ignore_obsolete=True,
        )
    return path


def main() -> None:
    template = extract()
    for language in LANGUAGES:
        print(update(language, template))


if __name__ == "__main__":
    main()
