"""Statistics of a set of datapoints: the five basic ones and the extended ones.

An `Aggregate` is what CloudWatch keeps per stored point and per period: SampleCount, Sum,
Minimum, Maximum and, for the percentile family, the distribution of the values written
(value -> count). A distribution with more than MAX_DISTINCT values is folded into
logarithmic buckets 0.5 % wide, the way CloudWatch's own sketches trade exactness for
bounded storage. Statistic sets whose Minimum differs from their Maximum make a point
inexact: AWS then answers no percentiles for it.

    agg = Aggregate.of_values([1.0, 2.0], [1.0, 3.0])
    value(agg, "p99")      # 2.0
    value(agg, "tm(10%:90%)"), value(agg, "PR(:1.5)"), value(agg, "Average")

Extended statistics: pNN, tmNN, wmNN, tcNN, tsNN, their (a%:b%) forms, the absolute
forms TM/WM/TC/TS(a:b) and percentile rank PR(a:b).
"""

from __future__ import annotations

import functools
import math
import re
from array import array
from dataclasses import dataclass, field

BASIC = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
MAX_DISTINCT = 2000
_GAMMA = 1.01

_NUM = r"\d+(?:\.\d+)?"
_PERCENTILE = re.compile(rf"p({_NUM})")
_SHORT = re.compile(rf"(tm|wm|tc|ts)({_NUM})")
_RANGE = re.compile(rf"(tm|wm|tc|ts|TM|WM|TC|TS|PR)\((-?{_NUM}%?)?:(-?{_NUM}%?)?\)")


@dataclass
class Aggregate:
    count: float = 0.0
    sum: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    exact: bool = True
    dist: dict[float, float] = field(default_factory=dict)

    @classmethod
    def of_values(cls, values: list[float], counts: list[float]) -> Aggregate:
        agg = cls()
        for v, c in zip(values, counts, strict=True):
            agg.add(v, c)
        return agg

    def add(self, v: float, c: float = 1.0) -> None:
        self.count += c
        self.sum += v * c
        self.min = min(self.min, v)
        self.max = max(self.max, v)
        self.dist[v] = self.dist.get(v, 0.0) + c

    def add_set(self, count: float, total: float, lo: float, hi: float) -> None:
        """A statistic set: percentiles stay exact only when every value was the same."""
        if lo == hi and count > 0:
            self.count += count
            self.sum += total
            self.min = min(self.min, lo)
            self.max = max(self.max, hi)
            self.dist[lo] = self.dist.get(lo, 0.0) + count
            return
        self.count += count
        self.sum += total
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)
        self.exact = False

    def merge(self, other: Aggregate) -> None:
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.exact = self.exact and other.exact
        if self.exact:
            dist = self.dist
            for v, c in other.dist.items():
                dist[v] = dist.get(v, 0.0) + c
        else:
            self.dist = {}

    def bounded(self) -> Aggregate:
        if len(self.dist) > MAX_DISTINCT:
            self.dist = fold(self.dist)
        return self


def fold(dist: dict[float, float]) -> dict[float, float]:
    """Values into logarithmic buckets (relative error under 0.5 %), each at its centre."""
    out: dict[float, float] = {}
    log_gamma = math.log(_GAMMA)
    for v, c in dist.items():
        if v == 0:
            key = 0.0
        else:
            k = math.ceil(math.log(abs(v)) / log_gamma)
            key = math.copysign(2 * _GAMMA**k / (_GAMMA + 1), v)
        out[key] = out.get(key, 0.0) + c
    return out


def pack(dist: dict[float, float]) -> bytes:
    flat = array("d")
    for v, c in dist.items():
        flat.append(v)
        flat.append(c)
    return flat.tobytes()


def unpack(blob: bytes | None) -> dict[float, float]:
    if not blob:
        return {}
    flat = array("d")
    flat.frombytes(blob)
    return dict(zip(flat[::2], flat[1::2], strict=True))


# -- statistics -------------------------------------------------------------------------

def is_valid(stat: str) -> bool:
    return stat in BASIC or _extended(stat) is not None


def is_extended(stat: str) -> bool:
    return stat not in BASIC


def value(agg: Aggregate, stat: str) -> float | None:
    """The statistic of an aggregate, or None when there is none (no data, inexact)."""
    return compile_statistic(stat)(agg)


_BASIC = {
    "Sum": lambda agg: agg.sum,
    "SampleCount": lambda agg: agg.count,
    "Average": lambda agg: agg.sum / agg.count,
    "Minimum": lambda agg: agg.min,
    "Maximum": lambda agg: agg.max,
}


@functools.lru_cache(maxsize=256)
def compile_statistic(stat: str):
    """A function from an Aggregate to the statistic's value (None: no value)."""
    basic = _BASIC.get(stat)
    if basic is not None:
        return lambda agg: basic(agg) if agg.count > 0 else None
    spec = _extended(stat)
    if spec is None:
        return lambda agg: None
    kind, lo, hi, relative = spec
    fn = _EXTENDED[kind]

    def extended(agg: Aggregate) -> float | None:
        if agg.count <= 0 or not agg.exact or not agg.dist:
            return None
        return fn(sorted(agg.dist.items()), lo, hi, relative)

    return extended


@functools.lru_cache(maxsize=256)
def distribution_statistic(stat: str):
    """For an extended statistic: a function from (value, count) pairs sorted by value to
    its value; None for any other statistic."""
    spec = _extended(stat) if stat not in BASIC else None
    if spec is None:
        return None
    kind, lo, hi, relative = spec
    fn = _EXTENDED[kind]
    return lambda items: fn(items, lo, hi, relative) if items else None


def sorted_pairs(blob: bytes) -> list[tuple[float, float]]:
    """A packed distribution as (value, count) pairs sorted by value."""
    flat = array("d")
    flat.frombytes(blob)
    return sorted(zip(flat[::2], flat[1::2], strict=True))


def _extended(stat: str):
    """(kind, low, high, relative) for an extended statistic, None if it is not one."""
    m = _PERCENTILE.fullmatch(stat)
    if m:
        p = float(m.group(1))
        return ("p", None, p, True) if 0 <= p <= 100 else None
    m = _SHORT.fullmatch(stat)
    if m:
        p = float(m.group(2))
        return (m.group(1), 0.0, p, True) if 0 <= p <= 100 else None
    m = _RANGE.fullmatch(stat)
    if m is None:
        return None
    kind, lo, hi = m.group(1), m.group(2), m.group(3)
    if lo is None and hi is None:
        return None
    relative = kind.islower()
    if relative and any(b is not None and not b.endswith("%") for b in (lo, hi)):
        return None
    if not relative and any(b is not None and b.endswith("%") for b in (lo, hi)):
        return None
    low = float(lo.rstrip("%")) if lo is not None else None
    high = float(hi.rstrip("%")) if hi is not None else None
    if relative:
        low = low if low is not None else 0.0
        high = high if high is not None else 100.0
        if not (0 <= low <= high <= 100):
            return None
    elif low is not None and high is not None and low > high:
        return None
    return (kind.lower() if kind != "PR" else "PR", low, high, relative)


def _percentile(items, p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the samples at or below it."""
    total = sum(c for _, c in items)
    rank = max(p / 100.0 * total, 1e-12)
    running = 0.0
    for v, c in items:
        running += c
        if running >= rank - 1e-9:
            return v
    return items[-1][0]


def _window(items, lo, hi, relative):
    """(value, count) pairs inside the window: ranks (lo %, hi %] or values (lo, hi]."""
    if not relative:
        return [(v, c) for v, c in items
                if (lo is None or v > lo) and (hi is None or v <= hi)]
    total = sum(c for _, c in items)
    start, end = lo / 100.0 * total, hi / 100.0 * total
    out, running = [], 0.0
    for v, c in items:
        first, last = running, running + c
        running = last
        inside = min(last, end) - max(first, start)
        if inside > 1e-9:
            out.append((v, inside))
    return out


def _trimmed_mean(items, lo, hi, relative):
    window = _window(items, lo, hi, relative)
    n = sum(c for _, c in window)
    return sum(v * c for v, c in window) / n if n else None


def _trimmed_count(items, lo, hi, relative):
    return sum(c for _, c in _window(items, lo, hi, relative))


def _trimmed_sum(items, lo, hi, relative):
    return sum(v * c for v, c in _window(items, lo, hi, relative))


def _winsorized_mean(items, lo, hi, relative):
    if relative:
        low = _percentile(items, lo) if lo > 0 else items[0][0]
        high = _percentile(items, hi)
    else:
        low = lo if lo is not None else items[0][0]
        high = hi if hi is not None else items[-1][0]
    n = sum(c for _, c in items)
    return sum(min(max(v, low), high) * c for v, c in items) / n


def _percentile_rank(items, lo, hi, relative):
    n = sum(c for _, c in items)
    inside = sum(c for v, c in items if (lo is None or v > lo) and (hi is None or v <= hi))
    return 100.0 * inside / n


_EXTENDED = {
    "p": lambda items, lo, hi, rel: _percentile(items, hi),
    "tm": _trimmed_mean,
    "wm": _winsorized_mean,
    "tc": _trimmed_count,
    "ts": _trimmed_sum,
    "PR": _percentile_rank,
}
