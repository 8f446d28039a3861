"""The report as a picture for a phone: per unit, stacked bars of the columns, worst first."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from matplotlib.figure import Figure

from locales import Translator
from models.reports import Report
from paperwork.report_files import period_title

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 135  # a phone screen, portrait
UNITS_SHOWN = 15
COLOURS = ("#2e7d32", "#f9a825", "#1565c0", "#c62828")  # on time, late, in time, overdue


def write_chart(target: Path | BinaryIO, report: Report, t: Translator) -> None:
    """Drawn on a bare Figure, not pyplot: safe in a worker thread, nothing kept global."""
    units = report.units[:UNITS_SHOWN]  # already worst first
    names = [u.name if len(u.name) <= 28 else u.name[:27] + "…" for u in units][::-1]
    series = [
        (t._("Done on time"), [u.columns.done_on_time for u in units][::-1]),
        (t._("Done late"), [u.columns.done_late for u in units][::-1]),
        (t._("In progress in time"), [u.columns.open_in_time for u in units][::-1]),
        (t._("Overdue"), [u.columns.overdue for u in units][::-1]),
    ]
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.subplots()
    left = [0] * len(units)
    for (label, values), colour in zip(series, COLOURS, strict=True):
        axes.barh(names, values, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, unit in enumerate(units[::-1]):
        axes.text(left[y], y, f" {unit.columns.overdue}", va="center", fontsize=8, color=COLOURS[3])
    axes.set_title(period_title(t, report), fontsize=11, wrap=True)
    axes.set_xlabel(t._("Tasks"))
    axes.legend(loc="lower right", fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=DPI, format="png")
