"""One bench figure per line: `bench: NAME VALUE UNIT goal OP TARGET PASS|FAIL`."""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    op: str      # "<=" or ">="
    target: float

    @property
    def passed(self) -> bool:
        return self.value <= self.target if self.op == "<=" else self.value >= self.target

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"bench: {self.name} {_number(self.value)} {self.unit} goal {self.op} {_number(self.target)} {verdict}"


def _number(value: float) -> str:
    if value != value:  # NaN: nothing was measured
        return "nan"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


class Report:
    """Prints each figure as soon as it is measured (a long run shows progress) and keeps them."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []

    def add(self, name: str, value: float, unit: str, op: str, target: float) -> Figure:
        figure = Figure(name, value, unit, op, target)
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    @staticmethod
    def note(text: str) -> None:
        """Context that is not a figure (what was seeded, what is skipped), on stderr."""
        print(f"bench: # {text}", file=sys.stderr, flush=True)
