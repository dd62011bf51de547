"""Metric math and statistics as pure engines: parsing, evaluation, extended statistics."""

from __future__ import annotations

import math

import pytest

from cloudlet.services.cloudwatch import metric_math, statistics
from cloudlet.services.cloudwatch.metric_math import Environment, MathError, Series
from cloudlet.services.cloudwatch.queries import SearchExpression


class Env(Environment):
    def __init__(self, **series):
        self.series = series
        self.default_period = 60

    def ref(self, name):
        if name not in self.series:
            raise MathError(f"Unknown identifier {name}")
        return self.series[name]

    def metrics(self, contains):
        return [s for k, s in self.series.items() if contains is None or contains in s.label]

    def grid(self, period):
        return [0.0, 60.0, 120.0, 180.0]


def s(label, points):
    times = sorted(points)
    return Series(label, times, [float(points[t]) for t in times], 60, label)


def run(expr, **series):
    tree = metric_math.parse(expr)
    metric_math.validate(tree)
    return metric_math.evaluate(tree, Env(**series))


M1 = s("m1", {0: 1, 60: 2, 120: 4})
M2 = s("m2", {0: 10, 120: 20, 180: 30})


def test_arithmetic_and_precedence():
    assert run("1 + 2 * 3 ^ 2") == 19.0
    assert run("(1 + 2) * 3") == 9.0
    assert run("2 ^ 3 ^ 2") == 512.0
    out = run("m1 * 2 + 1", m1=M1)
    assert (out.timestamps, out.values) == ([0, 60, 120], [3.0, 5.0, 9.0])


def test_series_with_series_keeps_common_timestamps():
    out = run("m1 + m2", m1=M1, m2=M2)
    assert (out.timestamps, out.values) == ([0, 120], [11.0, 24.0])


def test_aggregates_over_arrays_and_series():
    out = run("SUM([m1, m2])", m1=M1, m2=M2)
    assert (out.timestamps, out.values) == ([0, 60, 120, 180], [11.0, 2.0, 24.0, 30.0])
    out = run("AVG(METRICS())", m1=M1, m2=M2)
    assert out.values == [5.5, 2.0, 12.0, 30.0]
    assert run("MAX(m1)", m1=M1) == 4.0
    assert run("MIN(m2)", m2=M2) == 10.0
    assert run("SUM(m1)", m1=M1) == 7.0
    assert run("AVG(m1)", m1=M1) == pytest.approx(7 / 3)
    assert len(run('METRICS("m2")', m1=M1, m2=M2)) == 1


def test_fill():
    out = run("FILL(m1, 0)", m1=M1)
    assert out.values == [1.0, 2.0, 4.0, 0.0]
    out = run("FILL(m2, REPEAT)", m2=M2)
    assert out.values == [10.0, 10.0, 20.0, 30.0]
    out = run("FILL(m2, LINEAR)", m2=M2)
    assert out.values == [10.0, 15.0, 20.0, 30.0]
    out = run("FILL(METRICS(), 7)", m1=M1, m2=M2)
    assert [x.values for x in out] == [[1.0, 2.0, 4.0, 7.0], [10.0, 7.0, 20.0, 30.0]]


def test_rate_diff_and_running_sum():
    out = run("RATE(m1)", m1=M1)
    assert (out.timestamps, out.values) == ([60, 120], [1 / 60, 2 / 60])
    out = run("DIFF(m1)", m1=M1)
    assert out.values == [1.0, 2.0]
    assert run("DIFF_TIME(m2)", m2=M2).values == [120.0, 60.0]
    assert run("RUNNING_SUM(m1)", m1=M1).values == [1.0, 3.0, 7.0]


def test_if_and_comparisons():
    out = run("IF(m1 > 1, m1, 0)", m1=M1)
    assert out.values == [0.0, 2.0, 4.0]
    out = run("IF(m1 >= 2 AND m1 < 4, 1)", m1=M1)
    assert (out.timestamps, out.values) == ([60], [1.0])
    out = run("IF(m1 == 1 || m1 == 4, m2)", m1=M1, m2=M2)
    assert (out.timestamps, out.values) == ([0, 120], [10.0, 20.0])


def test_abs_log_time_series_period():
    assert run("ABS(0 - m1)", m1=M1).values == [1.0, 2.0, 4.0]
    assert run("LOG10(100)") == 2.0
    out = run("TIME_SERIES(5)")
    assert out.values == [5.0] * 4
    assert run("PERIOD(m1)", m1=M1) == 60.0
    assert run("DATAPOINT_COUNT(m1)", m1=M1) == 3.0


def test_division_by_zero_is_not_a_crash():
    out = run("m1 / 0", m1=M1)
    assert all(math.isinf(v) for v in out.values)


@pytest.mark.parametrize("expr,fragment", [
    ("m1 +", "Unexpected end"),
    ("FOO(m1)", "Unrecognized function name 'FOO'"),
    ("SUM(m1", "Expected ',' or ')'"),
    ("m1 $ 2", "Unexpected character '$' at position 4"),
    ("FILL(m1)", "takes 2 arguments"),
    ("", "empty"),
    ("1 2", "Unexpected '2.0' at position 3"),
])
def test_parse_errors(expr, fragment):
    with pytest.raises(MathError) as e:
        metric_math.validate(metric_math.parse(expr))
    assert fragment in str(e.value)


def test_references():
    tree = metric_math.parse("SUM(METRICS()) / m1 + FILL(e2, REPEAT)")
    assert metric_math.references(tree) == {"METRICS()", "m1", "e2"}


def test_search_expression():
    cpu = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
           "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]}
    disk = {"Namespace": "AWS/EC2", "MetricName": "DiskReadOps",
            "Dimensions": [{"Name": "InstanceId", "Value": "i-2"}]}
    assert SearchExpression('{AWS/EC2,InstanceId} MetricName="CPUUtilization"').matches(cpu)
    assert not SearchExpression('{AWS/EC2,InstanceId} MetricName="CPUUtilization"').matches(disk)
    assert not SearchExpression("{AWS/EC2} CPUUtilization").matches(cpu)  # wrong schema
    assert SearchExpression("cpu").matches(cpu)
    assert SearchExpression("InstanceId=i-2 NOT CPU").matches(disk)
    assert not SearchExpression("NOT i-1").matches(cpu)
    either = SearchExpression('MetricName="CPUUtilization" OR MetricName="DiskReadOps"')
    assert either.matches(cpu) and either.matches(disk)
    grouped = SearchExpression("AWS/EC2 AND (InstanceId=i-1 OR InstanceId=i-3) NOT Disk")
    assert grouped.matches(cpu) and not grouped.matches(disk)
    assert SearchExpression("InstanceId=(i-9 OR i-2)").matches(disk)
    for bad in ['"open', "(cpu", "cpu )", "= x", "InstanceId="]:
        with pytest.raises(MathError):
            SearchExpression(bad)


def test_percentiles_nearest_rank():
    agg = statistics.Aggregate.of_values([float(v) for v in range(1, 11)], [1.0] * 10)
    assert statistics.value(agg, "p50") == 5.0
    assert statistics.value(agg, "p90") == 9.0
    assert statistics.value(agg, "p91") == 10.0
    assert statistics.value(agg, "p0") == 1.0
    assert statistics.value(agg, "tm(10%:90%)") == pytest.approx(5.5)  # 2..9
    assert statistics.value(agg, "TC(2:5)") == 3.0
    assert statistics.value(agg, "PR(5:)") == 50.0


def test_counts_weigh_values():
    agg = statistics.Aggregate.of_values([1.0, 100.0], [99.0, 1.0])
    assert statistics.value(agg, "p99") == 1.0
    assert statistics.value(agg, "p99.5") == 100.0
    assert statistics.value(agg, "SampleCount") == 100.0


@pytest.mark.parametrize("stat", ["p101", "p", "tm(90%:10%)", "TM(5%:10%)", "tm(1:2)", "PR()",
                                  "pct99", "Median", "wm(:)"])
def test_invalid_extended_statistics(stat):
    assert not statistics.is_valid(stat)


def test_distribution_folds_beyond_its_bound():
    agg = statistics.Aggregate()
    for i in range(1, 5001):
        agg.add(float(i))
    agg.bounded()
    assert len(agg.dist) < statistics.MAX_DISTINCT
    assert statistics.value(agg, "p50") == pytest.approx(2500, rel=0.01)
    assert statistics.value(agg, "p99") == pytest.approx(4950, rel=0.01)
    assert statistics.value(agg, "Sum") == sum(range(1, 5001))
    packed = statistics.pack(agg.dist)
    assert statistics.unpack(packed) == agg.dist


def test_random_expressions_fail_only_with_math_errors():
    import random

    rng = random.Random(5)
    pieces = ["m1", "m2", "1", "0", "-", "+", "*", "/", "^", "(", ")", "[", "]", ",", "SUM(",
              "FILL(", "REPEAT", "IF(", "METRICS()", "RATE(", "CEIL(", "LOG(", ">", "AND",
              "'x'", "1e308", "TIME_SERIES(", "PERIOD(", "DIFF(", "ABS(", "!"]
    evaluated = 0
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        try:
            tree = metric_math.parse(text)
            metric_math.validate(tree)
            metric_math.evaluate(tree, Env(m1=M1, m2=M2))
            evaluated += 1
        except MathError:
            pass
    assert evaluated > 50


def test_fill_on_a_long_grid():
    class LongEnv(Env):
        def grid(self, period):
            return [float(t) for t in range(0, 60 * 50_000, 60)]

    sparse = s("m1", {t: t / 60 for t in range(0, 60 * 50_000, 600)})
    tree = metric_math.parse("FILL(m1, LINEAR) - FILL(m1, REPEAT)")
    out = metric_math.evaluate(tree, LongEnv(m1=sparse))
    assert len(out.values) == 50_000 - 9  # LINEAR leaves the tail after the last point
    assert out.values[:11] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0]
