"""Result rows, targets and the printed table (plain text and Markdown)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

MET = "met"
MISSED = "MISSED"
WOULD_MEET = "would meet"  # an experiment (e.g. a proposed index), not the product as it is
WOULD_MISS = "would miss"
PENDING = "pending"
NOT_RUN = "not run"


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    variant: str
    metric: str
    value: float | None = None
    unit: str = ""
    ratio: float | None = None  # against the baseline named in ``baseline``
    baseline: str = ""
    target: str = ""
    verdict: str = ""  # MET, MISSED, PENDING, NOT_RUN or "" (informational)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(value: float | None, *, at_most: float | None = None, at_least: float | None = None) -> str:
    if value is None or math.isnan(value):
        return NOT_RUN
    if at_most is not None and value >= at_most:
        return MISSED
    if at_least is not None and value < at_least:
        return MISSED
    return MET


def as_experiment(verdict: str) -> str:
    """The verdict of a what-if row: it does not count as the product meeting or missing a target."""
    return {MET: WOULD_MEET, MISSED: WOULD_MISS}.get(verdict, verdict)


def pending(scenario: str, variant: str, reason: str, target: str = "") -> Row:
    return Row(scenario, variant, "-", verdict=PENDING, target=target, note=f"not yet: {reason}")


def failed(scenario: str, variant: str, error: BaseException) -> Row:
    message = f"{type(error).__name__}: {error}".splitlines()[0][:160]
    return Row(scenario, variant, "-", verdict=NOT_RUN, note=f"error: {message}")


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if float(value).is_integer() and abs(value) < 1000:
        return f"{value:.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(row: Row) -> list[str]:
    value = "-" if row.value is None else f"{_number(row.value)} {row.unit}".strip()
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    if row.baseline and row.ratio is not None:
        ratio += f" of {row.baseline}"
    return [row.scenario, row.variant, row.metric, value, ratio, row.target, row.verdict, row.note]


HEADERS = ["scenario", "variant", "metric", "value", "ratio", "target", "verdict", "note"]


def text_table(rows: Iterable[Row]) -> str:
    table = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    widths[-1] = min(widths[-1], 80)
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(rows: Iterable[Row]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(row)) + " |")
    return "\n".join(out)
