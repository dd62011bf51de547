"""Metric math's evaluation: the operators and the function table.

    validate(tree)                                    # unknown functions, argument counts
    value = evaluate(tree, env)                       # a float, a Series or a list of Series

Binary operators between two series keep the timestamps both have; with a scalar they
apply to every point; on an array they apply to each member. Comparisons and logic give 1
or 0. Each function takes the environment and its argument trees (FILL reads REPEAT and
LINEAR as words, not as query ids).
"""

from __future__ import annotations

import bisect
import math
import statistics as pystats
from collections.abc import Callable

from cloudlet.services.cloudwatch.metric_math.values import Environment, MathError, Series


def validate(tree) -> None:
    """Reject unknown functions and wrong argument counts before anything runs."""
    kind = tree[0]
    if kind == "call":
        name, args, pos = tree[1], tree[2], tree[3]
        if name not in FUNCTIONS:
            raise MathError(f"Unrecognized function name '{name}' at position {pos + 1}")
        lo, hi = FUNCTIONS[name][1]
        if not (lo <= len(args) <= hi):
            raise MathError(f"Function {name} at position {pos + 1} takes "
                            + (f"{lo}" if lo == hi else f"{lo} to {hi}")
                            + " arguments")
        for arg in args:
            validate(arg)
    elif kind == "bin":
        validate(tree[2])
        validate(tree[3])
    elif kind in ("neg", "not"):
        validate(tree[1])
    elif kind == "array":
        for item in tree[1]:
            validate(item)


# -- evaluation -------------------------------------------------------------------------

def evaluate(tree, env: Environment):
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "str":
        return tree[1]
    if kind == "ref":
        return env.ref(tree[1])
    if kind == "array":
        out: list[Series] = []
        for item in tree[1]:
            value = evaluate(item, env)
            if isinstance(value, Series):
                out.append(value)
            elif isinstance(value, list):
                out.extend(value)
            else:
                raise MathError("An array may only hold time series")
        return out
    if kind == "neg":
        return _map(evaluate(tree[1], env), lambda v: -v)
    if kind == "not":
        return _map(evaluate(tree[1], env), lambda v: 0.0 if v else 1.0)
    if kind == "bin":
        return _binary(tree[1], evaluate(tree[2], env), evaluate(tree[3], env))
    if kind == "call":
        fn, _ = FUNCTIONS[tree[1]]
        return fn(env, tree[2])
    raise MathError("Invalid expression")


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a)),
    "^": lambda a, b: _power(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "&&": lambda a, b: float(bool(a) and bool(b)),
    "||": lambda a, b: float(bool(a) or bool(b)),
}


def _power(a: float, b: float) -> float:
    try:
        result = a**b
    except (OverflowError, ZeroDivisionError):
        return math.inf
    return result if isinstance(result, float | int) else math.nan


def _map(value, fn):
    if isinstance(value, int | float):
        return float(fn(value))
    if isinstance(value, Series):
        return Series(value.label, list(value.timestamps), [fn(v) for v in value.values],
                      value.period, value.id, value.props)
    if isinstance(value, list):
        return [_map(s, fn) for s in value]
    raise MathError("Expected a number or a time series")


def _binary(op: str, left, right):
    fn = _OPS[op]
    if isinstance(left, str) or isinstance(right, str):
        raise MathError(f"Operator {op} does not apply to strings")
    if isinstance(left, list):
        if isinstance(right, list):
            raise MathError(f"Operator {op} does not apply to two arrays of time series")
        return [_binary(op, s, right) for s in left]
    if isinstance(right, list):
        return [_binary(op, left, s) for s in right]
    if isinstance(left, Series) and isinstance(right, Series):
        theirs = right.points()
        points = {t: fn(v, theirs[t]) for t, v in zip(left.timestamps, left.values, strict=True)
                  if t in theirs}
        return left.with_points(points)
    if isinstance(left, Series):
        return _map(left, lambda v: fn(v, right))
    if isinstance(right, Series):
        return _map(right, lambda v: fn(left, v))
    return float(fn(left, right))


# -- functions --------------------------------------------------------------------------

def _args(env, nodes):
    return [evaluate(n, env) for n in nodes]


def _scalar_fn(fn):
    def apply(env, nodes):
        (value,) = _args(env, nodes)
        return _map(value, fn)
    return apply


def _safe_log(fn):
    def log(v):
        if v > 0:
            return fn(v)
        return -math.inf if v == 0 else math.nan
    return log


def _aggregate(reduce):
    """SUM, AVG, MIN, MAX, STDDEV: across an array per timestamp, or a series to a scalar."""
    def apply(env, nodes):
        values = _args(env, nodes)
        if len(values) == 1 and isinstance(values[0], Series):
            data = values[0].values
            return float(reduce(data)) if data else math.nan
        members: list[Series] = []
        scalars: list[float] = []
        for v in values:
            if isinstance(v, Series):
                members.append(v)
            elif isinstance(v, list):
                members.extend(v)
            elif isinstance(v, int | float):
                scalars.append(float(v))
            else:
                raise MathError("Expected time series")
        if not members:
            return float(reduce(scalars)) if scalars else math.nan
        by_time: dict[float, list[float]] = {}
        for s in members:
            for t, v in zip(s.timestamps, s.values, strict=True):
                by_time.setdefault(t, []).append(v)
        points = {t: float(reduce(vs + scalars)) for t, vs in by_time.items()}
        return Series("", sorted(points), [points[t] for t in sorted(points)],
                      members[0].period)
    return apply


def _stddev(values):
    return pystats.pstdev(values) if len(values) > 1 else 0.0


def _series_fn(fn):
    """A function of one series (applied to each member of an array)."""
    def apply(env, nodes):
        (value,) = _args(env, nodes)
        if isinstance(value, list):
            return [fn(s) for s in value]
        if not isinstance(value, Series):
            raise MathError("Expected a time series")
        return fn(value)
    return apply


def _rate(s: Series) -> Series:
    points = {}
    for i in range(1, len(s.timestamps)):
        dt_ = s.timestamps[i] - s.timestamps[i - 1]
        points[s.timestamps[i]] = (s.values[i] - s.values[i - 1]) / dt_
    return s.with_points(points)


def _diff(s: Series) -> Series:
    return s.with_points({s.timestamps[i]: s.values[i] - s.values[i - 1]
                          for i in range(1, len(s.timestamps))})


def _diff_time(s: Series) -> Series:
    return s.with_points({s.timestamps[i]: s.timestamps[i] - s.timestamps[i - 1]
                          for i in range(1, len(s.timestamps))})


def _running_sum(s: Series) -> Series:
    total, values = 0.0, []
    for v in s.values:
        total += v
        values.append(total)
    return Series(s.label, list(s.timestamps), values, s.period, s.id)


def _fill(env, nodes):
    target = evaluate(nodes[0], env)
    how = nodes[1]
    mode = how[1].upper() if how[0] == "ref" and how[1].upper() in ("REPEAT", "LINEAR") else None
    fill_value = None if mode else evaluate(how, env)
    if isinstance(fill_value, str | list):
        raise MathError("FILL takes a number, a time series, REPEAT or LINEAR")

    other = fill_value.points() if isinstance(fill_value, Series) else None

    def one(s: Series) -> Series:
        have = s.points()
        points = dict(have)
        known = s.timestamps  # ascending
        for t in env.grid(s.period):
            if t in have:
                continue
            if mode is not None:
                i = bisect.bisect_left(known, t)  # known[i-1] < t < known[i]
                before = known[i - 1] if i > 0 else None
                after = known[i] if i < len(known) else None
                if mode == "REPEAT" and (before is not None or after is not None):
                    points[t] = have[before if before is not None else after]
                elif mode == "LINEAR" and before is not None and after is not None:
                    v0, v1 = have[before], have[after]
                    points[t] = v0 + (v1 - v0) * (t - before) / (after - before)
            elif other is not None:
                if t in other:
                    points[t] = other[t]
            else:
                points[t] = float(fill_value)
        return s.with_points(points)

    if isinstance(target, list):
        return [one(s) for s in target]
    if not isinstance(target, Series):
        raise MathError("FILL takes a time series")
    return one(target)


def _if(env, nodes):
    values = _args(env, nodes)
    cond, yes = values[0], values[1]
    no = values[2] if len(values) > 2 else None
    if isinstance(cond, list) or any(isinstance(v, list | str) for v in (yes, no)):
        raise MathError("IF takes a condition and time series or numbers")
    if isinstance(cond, int | float):
        chosen = yes if cond else no
        return math.nan if chosen is None else chosen
    pick = {}
    yes_points = yes.points() if isinstance(yes, Series) else None
    no_points = no.points() if isinstance(no, Series) else None
    for t, c in zip(cond.timestamps, cond.values, strict=True):
        branch, points = (yes, yes_points) if c else (no, no_points)
        if branch is None:
            continue
        if points is None:
            pick[t] = float(branch)
        elif t in points:
            pick[t] = points[t]
    return cond.with_points(pick)


def _metrics(env, nodes):
    values = _args(env, nodes)
    if values and not isinstance(values[0], str):
        raise MathError("METRICS takes a string")
    return env.metrics(values[0] if values else None)


def _search(env, nodes):
    values = _args(env, nodes)
    if not isinstance(values[0], str) or not isinstance(values[1], str):
        raise MathError("SEARCH takes a search expression, a statistic and a period")
    period = int(values[2]) if len(values) > 2 else env.default_period
    return env.search(values[0], values[1], period)


def _time_series(env, nodes):
    (value,) = _args(env, nodes)
    if not isinstance(value, int | float):
        raise MathError("TIME_SERIES takes a number")
    grid = env.grid(env.default_period)
    return Series("", grid, [float(value)] * len(grid), env.default_period)


def _period(env, nodes):
    (value,) = _args(env, nodes)
    if isinstance(value, Series):
        return float(value.period)
    if isinstance(value, list) and value:
        return float(value[0].period)
    raise MathError("PERIOD takes a time series")


def _datapoint_count(env, nodes):
    (value,) = _args(env, nodes)
    if isinstance(value, Series):
        return float(len(value.values))
    raise MathError("DATAPOINT_COUNT takes a time series")


def _metric_count(env, nodes):
    (value,) = _args(env, nodes)
    if isinstance(value, list):
        return float(len(value))
    if isinstance(value, Series):
        return 1.0
    raise MathError("METRIC_COUNT takes an array of time series")


def _remove_empty(env, nodes):
    (value,) = _args(env, nodes)
    if isinstance(value, list):
        return [s for s in value if s.values]
    return value


def _epoch(s: Series) -> Series:
    return Series(s.label, list(s.timestamps), list(s.timestamps), s.period, s.id)


def _first_last(last: bool):
    def apply(env, nodes):
        (value,) = _args(env, nodes)
        if isinstance(value, Series):
            return value
        if not isinstance(value, list) or not value:
            raise MathError("FIRST and LAST take an array of time series")
        return value[-1] if last else value[0]
    return apply


# name -> (implementation, (min args, max args))
FUNCTIONS: dict[str, tuple[Callable, tuple[int, int]]] = {
    "ABS": (_scalar_fn(abs), (1, 1)),
    "CEIL": (_scalar_fn(lambda v: float(math.ceil(v)) if math.isfinite(v) else v), (1, 1)),
    "FLOOR": (_scalar_fn(lambda v: float(math.floor(v)) if math.isfinite(v) else v), (1, 1)),
    "LOG": (_scalar_fn(_safe_log(math.log)), (1, 1)),
    "LOG10": (_scalar_fn(_safe_log(math.log10)), (1, 1)),
    "SQRT": (_scalar_fn(lambda v: math.sqrt(v) if v >= 0 else math.nan), (1, 1)),
    "SUM": (_aggregate(math.fsum), (1, 100)),
    "AVG": (_aggregate(lambda vs: math.fsum(vs) / len(vs)), (1, 100)),
    "MIN": (_aggregate(min), (1, 100)),
    "MAX": (_aggregate(max), (1, 100)),
    "STDDEV": (_aggregate(_stddev), (1, 100)),
    "METRICS": (_metrics, (0, 1)),
    "FILL": (_fill, (2, 2)),
    "RATE": (_series_fn(_rate), (1, 1)),
    "DIFF": (_series_fn(_diff), (1, 1)),
    "DIFF_TIME": (_series_fn(_diff_time), (1, 1)),
    "RUNNING_SUM": (_series_fn(_running_sum), (1, 1)),
    "EPOCH": (_series_fn(_epoch), (1, 1)),
    "IF": (_if, (2, 3)),
    "SEARCH": (_search, (2, 3)),
    "TIME_SERIES": (_time_series, (1, 1)),
    "PERIOD": (_period, (1, 1)),
    "DATAPOINT_COUNT": (_datapoint_count, (1, 1)),
    "METRIC_COUNT": (_metric_count, (1, 1)),
    "REMOVE_EMPTY": (_remove_empty, (1, 1)),
    "FIRST": (_first_last(False), (1, 1)),
    "LAST": (_first_last(True), (1, 1)),
}
