"""Numbers for the server-drawn SVG charts (quota donuts, usage meters) and unit formatting."""

from __future__ import annotations

import math
from dataclasses import dataclass

RADIUS = 40.0
CIRCUMFERENCE = 2 * math.pi * RADIUS


@dataclass(frozen=True)
class Usage:
    """``used`` of ``limit`` (``limit`` < 0: unlimited), ready to draw."""

    label: str
    used: float
    limit: float
    unit: str = ""

    @property
    def unlimited(self) -> bool:
        return self.limit < 0

    @property
    def fraction(self) -> float:
        if self.unlimited or self.limit == 0:
            return 0.0 if self.unlimited or self.used == 0 else 1.0
        return max(0.0, min(1.0, self.used / self.limit))

    @property
    def percent(self) -> int:
        return round(self.fraction * 100)

    @property
    def level(self) -> str:
        """CSS class: ok below 75 %, warn below 90 %, full from there."""
        return "full" if self.fraction >= 0.9 else "warn" if self.fraction >= 0.75 else "ok"

    @property
    def dash(self) -> str:
        """``stroke-dasharray`` of the donut's filled arc."""
        filled = self.fraction * CIRCUMFERENCE
        return f"{filled:.2f} {CIRCUMFERENCE - filled:.2f}"

    @property
    def text(self) -> str:
        limit = "unlimited" if self.unlimited else _num(self.limit)
        return f"{_num(self.used)} of {limit}{(' ' + self.unit) if self.unit else ''}"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def donut(label: str, used: float, limit: float, unit: str = "") -> Usage:
    return Usage(label, used, limit, unit)


def meter(label: str, used: float, total: float, unit: str = "") -> Usage:
    """A usage bar (hypervisors): ``total`` 0 draws an empty bar."""
    return Usage(label, used, total if total > 0 else 0, unit)


def format_mib(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1024:,.1f} GiB" if value >= 1024 else f"{value:,.0f} MiB"


def format_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"
