"""How well `dondoc extract` reads the labelled notices: `python -m bench.extract [--new]`.

The labelled set is tests/data/extract/notices/src (built by tests/data/extract/build.py); `--new`
reads the notices of new wording in notices/new, kept apart and checked last. A proposed task
matches a gold task when its content is part of the gold line (or holds it) and holds the
gold key when the line carries several tasks; matched tasks are then compared field by field.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from pathlib import Path

from models.calendar import WorkingCalendar
from paperwork.extract import UnitName, read_blocks, read_notice
from paperwork.extract.names import fold

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "extract" / "notices"
REPEAT = 5


def sample_units() -> list[UnitName]:
    with open(ROOT / "data" / "sample" / "units.csv", encoding="utf-8") as f:
        return [
            UnitName(
                r["code"],
                r["name"],
                r["kind"],
                tuple(a.strip() for a in r.get("aliases", "").split(";") if a.strip()),
            )
            for r in csv.DictReader(f)
        ]


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def match(gold: list[dict], proposed: list[dict]) -> list[tuple[dict, dict]]:
    free = list(proposed)
    pairs = []
    for g in gold:
        source = norm(g["source"])
        key = norm(g["key"]) if g["key"] else None
        fits = [
            p
            for p in free
            if (norm(p["content"]) in source or source in norm(p["content"]))
            and (key is None or key in norm(p["content"]))
        ]
        if not fits:
            continue
        best = next((p for p in fits if p["lead_unit"] == g["lead_unit"]), fits[0])
        free.remove(best)
        pairs.append((g, best))
    return pairs


def run(folder: Path, verbose: bool) -> dict[str, float]:
    units = sample_units()
    working = WorkingCalendar()
    totals = dict.fromkeys(
        ("gold", "proposed", "matched", "lead", "coord", "deadline", "recurrence"), 0
    )
    totals.update(non_tasks=0, non_task_hits=0, documents=0, fields=0, field_hits=0)
    timings: list[float] = []
    for gold_path in sorted(folder.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        path = folder / gold["file"]
        read_notice(read_blocks(path), units, working)  # the libraries load once, untimed
        started = time.perf_counter()
        for _ in range(REPEAT):
            notice = read_notice(read_blocks(path), units, working)
        timings.append((time.perf_counter() - started) / REPEAT)
        result = notice.as_json()
        proposed = result["tasks"]
        pairs = match(gold["tasks"], proposed)
        totals["documents"] += 1
        for name in ("kind", "number", "date", "signer"):
            totals["fields"] += 1
            totals["field_hits"] += result["document"][name] == gold["document"][name]
        totals["gold"] += len(gold["tasks"])
        totals["proposed"] += len(proposed)
        totals["matched"] += len(pairs)
        for g, p in pairs:
            totals["lead"] += g["lead_unit"] == p["lead_unit"]
            totals["coord"] += sorted(g["coordinating_units"]) == sorted(p["coordinating_units"])
            totals["deadline"] += g["deadline"] == p["deadline"]
            totals["recurrence"] += g["recurrence"] == p["recurrence"]
            if verbose and (
                g["lead_unit"] != p["lead_unit"]
                or sorted(g["coordinating_units"]) != sorted(p["coordinating_units"])
                or g["deadline"] != p["deadline"]
                or g["recurrence"] != p["recurrence"]
            ):
                print(f"  {gold['file']} {p['item']}: gold {g} got {p}")
        totals["non_tasks"] += len(gold["non_tasks"])
        for line in gold["non_tasks"]:
            totals["non_task_hits"] += any(norm(p["content"]) in norm(line) for p in proposed)
        if verbose:
            matched = [id(p) for _, p in pairs]
            for p in proposed:
                if id(p) not in matched:
                    print(f"  {gold['file']} extra: {p['item']} {p['content'][:90]}")
            got = [g for g, _ in pairs]
            for g in gold["tasks"]:
                if g not in got:
                    print(f"  {gold['file']} missed: {g['source'][:90]}")
    matched = totals["matched"] or 1
    timings.sort()
    return {
        "documents": totals["documents"],
        "gold tasks": totals["gold"],
        "proposed tasks": totals["proposed"],
        "precision": totals["matched"] / (totals["proposed"] or 1),
        "recall": totals["matched"] / (totals["gold"] or 1),
        "lead unit": totals["lead"] / matched,
        "coordinating set": totals["coord"] / matched,
        "deadline": totals["deadline"] / matched,
        "recurrence": totals["recurrence"] / matched,
        "non-task sentences taken for tasks": f"{totals['non_task_hits']}/{totals['non_tasks']}",
        "document fields": totals["field_hits"] / (totals["fields"] or 1),
        "ms per document (median)": 1000 * timings[len(timings) // 2],
        "ms per document (max)": 1000 * timings[-1],
    }


def main() -> None:
    new = "--new" in sys.argv
    folder = DATA / ("new" if new else "src")
    figures = run(folder, "-v" in sys.argv)
    print(f"dondoc extract on {'the new wording' if new else 'the labelled set'} ({folder}):")
    for name, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        if isinstance(value, float) and name.startswith("ms"):
            shown = f"{value:.1f}"
        print(f"  {name:36} {shown}")


if __name__ == "__main__":
    main()
