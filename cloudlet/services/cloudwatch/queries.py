"""GetMetricData's queries: metric statistics and metric-math expressions over them.

    results = evaluate(store, account, region, queries, start, end)

`queries` has the shape of MetricDataQueries; the results have the shape of
MetricDataResults (Id, Label, Timestamps as epoch seconds, Values, StatusCode), newest
first unless scan_by is "TimestampAscending". Checks come first, in AWS's words, so a bad
request fails before any data is read: ids unique and well-formed, exactly one of
MetricStat and Expression, valid statistics and periods, expressions that parse, call
known functions and reference existing ids without cycles.
"""

from __future__ import annotations

import math
import re

from cloudlet import clock
from cloudlet.services.cloudwatch import metric_math
from cloudlet.services.cloudwatch import statistics as stats
from cloudlet.services.cloudwatch.errors import ValidationError
from cloudlet.services.cloudwatch.metric_math import Environment, MathError, Series
from cloudlet.services.cloudwatch.periods import period_start, valid_period

MAX_QUERIES = 500
MAX_SEARCH_RESULTS = 500
_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")


def check(queries: list[dict], path: str = "MetricDataQueries") -> dict[str, object]:
    """Check the queries; the parsed tree of each expression, by id."""
    if not queries:
        raise ValidationError(f"The parameter {path} is required.")
    if len(queries) > MAX_QUERIES:
        raise ValidationError(f"The collection {path} must not have a size greater than "
                              f"{MAX_QUERIES}.")
    ids = [q.get("Id") for q in queries]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"The values for parameter id in {path} are not unique.")
    trees: dict[str, object] = {}
    for i, q in enumerate(queries, 1):
        where = f"{path}.member.{i}"
        qid = q.get("Id") or ""
        if not _ID.fullmatch(qid):
            raise ValidationError(f"Invalid metric data query id {qid!r} in {where}.Id: an id "
                                  "must start with a lowercase letter and contain only "
                                  "letters, numbers and underscores.")
        stat, expression = q.get("MetricStat"), q.get("Expression")
        if (stat is None) == (expression is None):
            raise ValidationError(f"The parameters {where}.MetricStat and {where}.Expression "
                                  "are mutually exclusive, and one of them must be specified.")
        if stat is not None:
            if not stats.is_valid(stat.get("Stat", "")):
                raise ValidationError(f"The value for parameter {where}.MetricStat.Stat is "
                                      "not a valid statistic.")
            if not valid_period(stat.get("Period")):
                raise ValidationError(f"The value for parameter {where}.MetricStat.Period "
                                      "must be 1, 5, 10, 20, 30, or a multiple of 60.")
            metric = stat.get("Metric") or {}
            if not metric.get("Namespace") or not metric.get("MetricName"):
                raise ValidationError(f"The parameter {where}.MetricStat.Metric must have a "
                                      "Namespace and a MetricName.")
        else:
            if q.get("Period") is not None and not valid_period(q["Period"]):
                raise ValidationError(f"The value for parameter {where}.Period must be 1, 5, "
                                      "10, 20, 30, or a multiple of 60.")
            try:
                tree = metric_math.parse(expression)
                metric_math.validate(tree)
            except MathError as e:
                raise ValidationError(f"Error in expression '{qid}': {e}") from None
            trees[qid] = tree
    known = set(ids)
    for qid, tree in trees.items():
        for ref in metric_math.references(tree) - {"METRICS()"}:
            if ref not in known:
                raise ValidationError(f"Error in expression '{qid}': Unrecognized identifier "
                                      f"'{ref}'.")
    _check_cycles(trees)
    return trees


def _check_cycles(trees: dict[str, object]) -> None:
    deps = {qid: metric_math.references(t) - {"METRICS()"} for qid, t in trees.items()}
    state: dict[str, int] = {}

    def visit(qid: str) -> None:
        if state.get(qid) == 2 or qid not in deps:
            return
        if state.get(qid) == 1:
            raise ValidationError(f"Error in expression '{qid}': Circular dependency between "
                                  "expressions.")
        state[qid] = 1
        for ref in deps[qid]:
            visit(ref)
        state[qid] = 2

    for qid in deps:
        visit(qid)


class _RequestEnvironment(Environment):
    def __init__(self, store, account, region, queries, trees, start, end):
        self.store, self.account, self.region = store, account, region
        self.by_id = {q["Id"]: q for q in queries}
        self.order = [q["Id"] for q in queries]
        self.trees = trees
        self.start, self.end = start, end
        self.values: dict[str, object] = {}
        self.active: set[str] = set()
        periods = [q["MetricStat"]["Period"] for q in queries if q.get("MetricStat")]
        self.default_period = min(periods) if periods else 60
        self._grids: dict[int, list[float]] = {}

    def value(self, qid: str):
        if qid not in self.values:
            q = self.by_id[qid]
            if q.get("MetricStat"):
                self.values[qid] = self._metric(q)
            else:
                if qid in self.active:
                    raise MathError("Circular dependency between expressions.")
                self.active.add(qid)
                saved = self.default_period
                if q.get("Period"):
                    self.default_period = q["Period"]
                try:
                    self.values[qid] = metric_math.evaluate(self.trees[qid], self)
                except MathError as e:
                    raise ValidationError(f"Error in expression '{qid}': {e}") from None
                except (ArithmeticError, ValueError, TypeError):
                    raise ValidationError(f"Error in expression '{qid}': The expression cannot "
                                          "be evaluated.") from None
                finally:
                    self.default_period = saved
                    self.active.discard(qid)
        return self.values[qid]

    def _metric(self, q: dict) -> Series:
        stat = q["MetricStat"]
        metric = stat["Metric"]
        series = self._series(metric, stat["Stat"], stat["Period"], stat.get("Unit"),
                              q.get("AccountId"))
        series.label = q.get("Label") or metric["MetricName"]
        if "${" in series.label:
            series.label = dynamic_label(series.label, series, metric["MetricName"])
        series.id = q["Id"]
        return series

    def _series(self, metric: dict, stat: str, period: int, unit: str | None = None,
                account: str | None = None) -> Series:
        """A metric's datapoints; none for another account's metric (`account`: the query's
        AccountId), which only a monitoring account could read, and Cloudlet has none."""
        account = account or self.account
        times, values = [], []
        if account == self.account:
            metric_id = metric.get("_id")
            if metric_id is None:
                metric_id = self.store.metric_id(self.account, self.region, metric["Namespace"],
                                                 metric["MetricName"],
                                                 metric.get("Dimensions") or [])
            times, values = self.store.series(metric_id, self.start, self.end, period, stat,
                                              unit)
        props = {"MetricName": metric["MetricName"], "Namespace": metric["Namespace"],
                 "Period": str(period), "Stat": stat, "Region": self.region,
                 "AccountId": account}
        for d in metric.get("Dimensions") or []:
            props[f"Dim.{d['Name']}"] = d["Value"]
        return Series(metric["MetricName"], times, values, period, props=props)

    # -- Environment --------------------------------------------------------------------

    def ref(self, name: str):
        if name not in self.by_id:
            raise MathError(f"Unrecognized identifier '{name}'.")
        return self.value(name)

    def metrics(self, contains: str | None) -> list[Series]:
        out = []
        for qid in self.order:
            if self.by_id[qid].get("MetricStat"):
                series = self.value(qid)
                if contains is None or contains in series.label or contains in qid:
                    out.append(series)
        return out

    def grid(self, period: int) -> list[float]:
        if period not in self._grids:
            origin = period_start(self.start, period)
            count = max(0, int((self.end - origin + period - 1) // period))
            self._grids[period] = [origin + k * period for k in range(min(count, 100_800))]
        return self._grids[period]

    def search(self, expression: str, stat: str, period: int) -> list[Series]:
        if not stats.is_valid(stat):
            raise MathError(f"'{stat}' is not a valid statistic for SEARCH.")
        if not valid_period(period):
            raise MathError("The SEARCH period must be 1, 5, 10, 20, 30, or a multiple of 60.")
        matcher = SearchExpression(expression)
        since = clock.timestamp() - 14 * 86400
        out = []
        for metric in self.store.metrics(self.account, self.region, since=since):
            if not matcher.matches(metric):
                continue
            metric["_id"] = metric.pop("Id")
            series = self._series(metric, stat, period)
            names = [d["Value"] for d in metric["Dimensions"]]
            series.label = " ".join([*names, metric["MetricName"]])
            out.append(series)
            if len(out) >= MAX_SEARCH_RESULTS:
                break
        return out


class SearchExpression:
    """The search expression of SEARCH(): an optional schema `{Namespace,Dim,...}` (the
    metrics with exactly those dimensions), then terms joined by AND (also implied by a
    space), OR and NOT, with parentheses: `Key=Value` or `Key="Value"` (Key is MetricName,
    Namespace or a dimension name; quoted values match exactly, bare ones as a
    case-insensitive substring), `Key=(a OR b)`, and free terms matching any name or value."""

    _SCHEMA = re.compile(r"^\s*\{([^}]*)\}")
    _TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[()=]|[^\s()="]+)')

    def __init__(self, text: str):
        self.namespace: str | None = None
        self.schema: set[str] | None = None
        rest = text
        m = self._SCHEMA.match(text)
        if m:
            parts = [p.strip().strip('"') for p in m.group(1).split(",")]
            if not parts or not parts[0]:
                raise MathError("The SEARCH schema must start with a namespace.")
            self.namespace, self.schema = parts[0], {p for p in parts[1:] if p}
            rest = text[m.end():]
        self.tokens = self._tokenize(rest)
        self.i = 0
        self.test = self._or() if self.tokens else (lambda metric: True)
        if self.i != len(self.tokens):
            raise MathError(f"Unexpected '{self.tokens[self.i]}' in the SEARCH expression.")

    def _tokenize(self, text: str) -> list[str]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = self._TOKEN.match(text, pos)
            if m is None:
                raise MathError("Unbalanced quotes in the SEARCH expression.")
            tokens.append(m.group(1))
            pos = m.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise MathError("The SEARCH expression ends too early.")
        self.i += 1
        return token

    def _or(self):
        parts = [self._and()]
        while (self._peek() or "").upper() == "OR":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda m: any(p(m) for p in parts))

    def _and(self):
        parts = [self._not()]
        while self._peek() is not None and self._peek().upper() != "OR" and self._peek() != ")":
            if self._peek().upper() == "AND":
                self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda m: all(p(m) for p in parts))

    def _not(self):
        token = self._take()
        if token.upper() == "NOT":
            inner = self._not()
            return lambda m: not inner(m)
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise MathError("Unbalanced parentheses in the SEARCH expression.")
            return inner
        if token in (")", "="):
            raise MathError(f"Unexpected '{token}' in the SEARCH expression.")
        if self._peek() == "=":
            self._take()
            key = token.strip('"')
            if self._peek() == "(":
                self._take()
                values = [self._take()]
                while (self._peek() or "").upper() == "OR":
                    self._take()
                    values.append(self._take())
                if self._take() != ")":
                    raise MathError("Unbalanced parentheses in the SEARCH expression.")
            else:
                values = [self._take()]
            tests = [_term(key, v) for v in values]
            return lambda m: any(t(m) for t in tests)
        return _term(None, token)

    def matches(self, metric: dict) -> bool:
        if self.namespace is not None:
            names = {d["Name"] for d in metric["Dimensions"]}
            if metric["Namespace"] != self.namespace or names != self.schema:
                return False
        return self.test(metric)


def _term(key: str | None, raw: str):
    """One search term: a metric matches when the key's value (or any name or value, for a
    free term) equals a quoted value or contains a bare one, ignoring case."""
    exact = len(raw) >= 2 and raw[0] == raw[-1] == '"'
    value = raw[1:-1] if exact else raw
    lowered = value.lower()

    def test(metric: dict) -> bool:
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        if key is None:
            candidates = [metric["Namespace"], metric["MetricName"], *dims, *dims.values()]
        elif key == "MetricName":
            candidates = [metric["MetricName"]]
        elif key == "Namespace":
            candidates = [metric["Namespace"]]
        else:
            candidates = [dims[key]] if key in dims else []
        if exact:
            return value in candidates
        return any(lowered in c.lower() for c in candidates)

    return test


def evaluate(store, account: str, region: str, queries: list[dict], start: float, end: float,
             scan_by: str = "TimestampDescending") -> list[dict]:
    if start >= end:
        raise ValidationError("The parameter StartTime must be less than the parameter "
                              "EndTime.")
    trees = check(queries)
    env = _RequestEnvironment(store, account, region, queries, trees, start, end)
    results = []
    for q in queries:
        if q.get("ReturnData", True) is False:
            continue
        value = env.value(q["Id"])
        label = q.get("Label")
        if isinstance(value, list):
            for series in value:
                if label and "${" in label:
                    name = dynamic_label(label, series, series.label)
                else:
                    name = f"{label} {series.label}".strip() if label else series.label
                results.append(_result(q["Id"], name, series, scan_by))
        elif isinstance(value, Series):
            # a metric's own label is already rendered; an expression's is rendered here
            name = value.label if q.get("MetricStat") else label or value.label or q["Id"]
            if q.get("Expression") is not None and "${" in name:
                name = dynamic_label(name, value, value.label or q["Id"])
            results.append(_result(q["Id"], name, value, scan_by))
        elif isinstance(value, int | float):
            period = q.get("Period") or env.default_period
            grid = env.grid(period)
            line = Series(label or q["Id"], grid, [float(value)] * len(grid), period)
            results.append(_result(q["Id"], line.label, line, scan_by))
        else:
            raise ValidationError(f"Error in expression '{q['Id']}': The expression must "
                                  "return a time series or a number.")
    return results


_DYNAMIC = re.compile(r"\$\{(?:PROP\('([^']*)'\)|([A-Z_]+))\}")


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def dynamic_label(template: str, series: Series, default: str) -> str:
    """A label's ${...} values: the series' statistics over the range (${AVG}, ${MAX},
    ${LAST}, ...), ${LABEL} (the default label) and ${PROP('MetricName')},
    ${PROP('Dim.<name>')} and the other metric properties. Unknown ones stay as written."""
    values = series.values

    def live(name: str) -> str | None:
        if name == "LABEL":
            return default
        if name == "DATAPOINT_COUNT":
            return str(len(values))
        if not values:
            return None
        table = {"AVG": lambda: math.fsum(values) / len(values), "SUM": lambda: math.fsum(values),
                 "MIN": lambda: min(values), "MAX": lambda: max(values),
                 "FIRST": lambda: values[0], "LAST": lambda: values[-1],
                 "FIRST_LAST_RANGE": lambda: values[-1] - values[0],
                 "MIN_MAX_RANGE": lambda: max(values) - min(values)}
        return _number(table[name]()) if name in table else None

    def replace(m: re.Match) -> str:
        found = series.props.get(m.group(1)) if m.group(1) is not None else live(m.group(2))
        return m.group(0) if found is None else found

    return _DYNAMIC.sub(replace, template)


def _result(qid: str, label: str, series: Series, scan_by: str) -> dict:
    times, values = list(series.timestamps), list(series.values)
    if not all(map(math.isfinite, values)):  # x/0 and the like: no datapoint
        keep = [i for i, v in enumerate(values) if math.isfinite(v)]
        times, values = [times[i] for i in keep], [values[i] for i in keep]
    if scan_by != "TimestampAscending":
        times.reverse()
        values.reverse()
    return {"Id": qid, "Label": label, "Timestamps": times, "Values": values,
            "StatusCode": "Complete"}
