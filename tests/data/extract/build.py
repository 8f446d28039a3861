"""Builds the labelled notices of `dondoc extract` from their annotated sources.

    python tests/data/extract/build.py

Each source (`src/*.txt` the labelled set, `new/*.txt` the new wording checked last) is the
notice as written, one paragraph a line, with the gold between the lines:

    #! format: docx|txt|pdf        #! kind / number / date / signer: the document's fields
    | TT | Nội dung | … |          a table row (the first row of a table is its header)
    @ LEAD | COORD,COORD | DEADLINE | RECURRENCE | KEY
                                   a task in the line above (LEAD `-`: the task force picks;
                                   DEADLINE `wd:2026-10-15+5`: five working days on the
                                   product's calendar; KEY: words of the task when the line
                                   holds several)
    @no                            the line above looks like a directive and is not a task

The notice is written as `notices/src/NAME.EXT` (or `notices/new/…`) and the gold beside it
as `NAME.json`. In a DOCX, lines
starting `a)` or `- ` become Word list paragraphs (the marker is Word's numbering, not text).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from models.calendar import WorkingCalendar  # noqa: E402

LETTER_ITEM = re.compile(r"^([a-zđ])\)\s+")
BULLET = re.compile(r"^[-+]\s+")


def parse(path: Path) -> dict:
    fields: dict[str, str] = {}
    lines: list[str] = []
    tasks: list[dict] = []
    non_tasks: list[str] = []
    calendar = WorkingCalendar()
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#!"):
            name, _, value = raw[2:].partition(":")
            fields[name.strip()] = value.strip()
        elif raw.startswith("@no"):
            non_tasks.append(lines[-1])
        elif raw.startswith("@ "):
            parts = [p.strip() for p in raw[2:].split("|")] + [""] * 5
            lead, coord, deadline, recurrence, key = parts[:5]
            if deadline.startswith("wd:"):
                start, count = deadline[3:].split("+")
                deadline = calendar.add_working_days(
                    date.fromisoformat(start), int(count)
                ).isoformat()
            source = lines[-1]
            if source.startswith("|"):
                source = [c.strip() for c in source.strip("|").split("|")][1]
            tasks.append(
                {
                    "lead_unit": None if lead == "-" else lead,
                    "coordinating_units": sorted(c for c in coord.split(",") if c),
                    "deadline": deadline or None,
                    "recurrence": recurrence or None,
                    "source": source,
                    "key": key or None,
                }
            )
        elif raw.strip():
            lines.append(raw.strip())
    return {
        "format": fields["format"],
        "document": {
            "kind": fields["kind"],
            "number": fields["number"],
            "date": fields["date"],
            "signer": fields["signer"],
        },
        "lines": lines,
        "tasks": tasks,
        "non_tasks": non_tasks,
    }


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def write_docx(lines: list[str], out: Path) -> None:
    from docx import Document

    doc = Document()
    table_rows: list[list[str]] = []

    def flush() -> None:
        if not table_rows:
            return
        table = doc.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        table.style = "Table Grid"
        for r, row in enumerate(table_rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        table_rows.clear()

    for line in lines:
        if line.startswith("|"):
            table_rows.append(_cells(line))
            continue
        flush()
        if LETTER_ITEM.match(line):
            doc.add_paragraph(LETTER_ITEM.sub("", line), style="List Number")
        elif BULLET.match(line):
            doc.add_paragraph(BULLET.sub("", line), style="List Bullet")
        else:
            doc.add_paragraph(line)
    flush()
    doc.core_properties.created = datetime(2026, 1, 1)
    doc.core_properties.modified = datetime(2026, 1, 1)
    doc.save(out)


def write_pdf(lines: list[str], out: Path) -> None:
    """A4, one text run per line as word processors write them (fpdf2, matplotlib's DejaVu)."""
    import matplotlib
    from fpdf import FPDF

    font = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1))
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(out))


def build(source: Path, out_dir: Path) -> None:
    notice = parse(source)
    name = source.stem
    ext = notice["format"]
    target = out_dir / f"{name}.{ext}"
    if ext == "txt":
        target.write_text("\n".join(notice["lines"]) + "\n", encoding="utf-8")
    elif ext == "docx":
        write_docx(notice["lines"], target)
    else:
        write_pdf(notice["lines"], target)
    gold = {k: notice[k] for k in ("document", "tasks", "non_tasks")}
    gold["file"] = target.name
    (out_dir / f"{name}.json").write_text(
        json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def main() -> None:
    for folder in ("src", "new"):
        out_dir = HERE / "notices" / folder
        out_dir.mkdir(parents=True, exist_ok=True)
        for source in sorted((HERE / folder).glob("*.txt")):
            build(source, out_dir)


if __name__ == "__main__":
    main()
