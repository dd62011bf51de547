"""What metric math computes with: scalars, time series (`Series`, timestamps ascending) and
arrays of them; `MathError`, what a bad expression raises; and the `Environment` an
expression reads from outside itself."""

from __future__ import annotations

from dataclasses import dataclass, field


class MathError(Exception):
    pass


@dataclass
class Series:
    label: str
    timestamps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    period: int = 60
    id: str = ""
    props: dict = field(default_factory=dict)  # what ${PROP('...')} labels read

    def points(self) -> dict[float, float]:
        return dict(zip(self.timestamps, self.values, strict=True))

    def with_points(self, points: dict[float, float], label: str | None = None) -> Series:
        times = sorted(points)
        return Series(self.label if label is None else label, times,
                      [points[t] for t in times], self.period, self.id, self.props)


class Environment:
    """What an expression reads from outside itself; queries.py provides the real one."""

    def ref(self, name: str):
        raise MathError(f"Unknown identifier {name}")

    def metrics(self, contains: str | None) -> list[Series]:
        return []

    def search(self, expression: str, stat: str, period: int) -> list[Series]:
        raise MathError("SEARCH is not available here")

    def grid(self, period: int) -> list[float]:
        return []

    default_period = 60
