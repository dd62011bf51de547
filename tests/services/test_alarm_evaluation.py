"""The alarm evaluator's judgement against AWS's own tables.

The two tables are those of "How alarm state is evaluated when data is missing" in the
CloudWatch user guide (awsdocs/amazon-cloudwatch-user-guide, AlarmThatSendsEmail.md):
period 5 minutes, CloudWatch retrieves the 5 most recent datapoints, oldest on the left;
0 is a datapoint within the threshold, X a breaching one, - a missing one. The columns are
TreatMissingData missing, ignore, breaching, notBreaching; "keep" is "Retain current state".
"""

from __future__ import annotations

import json

import pytest

from cloudlet.services.cloudwatch.alarms_evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    comparison,
    evaluation_range,
    java_double,
    judge,
    reason,
    reason_data,
)

KEEP = "keep"
INSUFFICIENT = INSUFFICIENT_DATA

THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, KEEP, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT, KEEP, ALARM, OK),
    ("X - - - -", ALARM, KEEP, ALARM, OK),
]

TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT, KEEP, ALARM, OK),
]

SETTINGS = ("missing", "ignore", "breaching", "notBreaching")


def values_of(pattern: str) -> list[float | None]:
    """0 → 1.0 (within a threshold of 5), X → 9.0 (above it), - → missing."""
    return [{"0": 1.0, "X": 9.0, "-": None}[c] for c in pattern.split()]


def outcome(pattern: str, m: int, treat: str) -> str:
    verdict = judge(values_of(pattern), datapoints_to_alarm=m, evaluation_periods=3,
                    breaches=comparison("GreaterThanThreshold", 5.0), treat_missing=treat)
    return KEEP if verdict.state is None else verdict.state


@pytest.mark.parametrize("row", THREE_OF_THREE, ids=[r[0] for r in THREE_OF_THREE])
def test_three_out_of_three(row):
    pattern, *expected = row
    assert [outcome(pattern, 3, treat) for treat in SETTINGS] == expected


@pytest.mark.parametrize("row", TWO_OF_THREE, ids=[r[0] for r in TWO_OF_THREE])
def test_two_out_of_three(row):
    pattern, *expected = row
    assert [outcome(pattern, 2, treat) for treat in SETTINGS] == expected


def test_the_range_is_five_datapoints_for_three():
    assert evaluation_range(3) == 5


def test_the_next_evaluation_of_a_lone_good_datapoint_goes_to_alarm_when_breaching():
    # The guide's note on row 2: once the 0 leaves the 5 most recent, breaching wins.
    assert outcome("0 - - - -", 3, "breaching") == OK
    assert outcome("- - - - -", 3, "breaching") == ALARM


def test_most_recent_real_datapoints_are_the_ones_judged():
    verdict = judge(values_of("X X 0 0 0"), datapoints_to_alarm=3, evaluation_periods=3,
                    breaches=comparison("GreaterThanThreshold", 5.0))
    assert verdict.state == OK and [i for i, _, _ in verdict.evaluated] == [2, 3, 4]


@pytest.mark.parametrize("op,value,breaching", [
    ("GreaterThanOrEqualToThreshold", 5.0, True), ("GreaterThanThreshold", 5.0, False),
    ("LessThanThreshold", 4.9, True), ("LessThanOrEqualToThreshold", 5.0, True),
    ("LessThanThreshold", 5.0, False),
])
def test_comparison_operators(op, value, breaching):
    assert comparison(op, 5.0)(value) is breaching


def test_reason_for_alarm_lists_breaching_datapoints_newest_first():
    values = [None, None, 600.0, 700.0, 800.0, 900.0, 650.0]
    stamps = [1764194400.0 + 60 * i for i in range(7)]
    verdict = judge(values, datapoints_to_alarm=5, evaluation_periods=5,
                    breaches=comparison("GreaterThanThreshold", 500.0))
    assert verdict.state == ALARM
    text = reason(verdict, state=ALARM, timestamps=stamps, threshold=500.0,
                  comparison_operator="GreaterThanThreshold", datapoints_to_alarm=5,
                  evaluation_periods=5)
    assert text == (
        "Threshold Crossed: 5 out of the last 5 datapoints [650.0 (26/11/25 22:06:00), "
        "900.0 (26/11/25 22:05:00), 800.0 (26/11/25 22:04:00), 700.0 (26/11/25 22:03:00), "
        "600.0 (26/11/25 22:02:00)] were greater than the threshold (500.0) "
        "(minimum 5 datapoints for OK -> ALARM transition).")
    data = json.loads(reason_data(verdict, values=values, timestamps=stamps,
                                  query_date=stamps[-1] + 75, period=60, threshold=500.0,
                                  statistic="p99"))
    assert data["version"] == "1.0" and data["period"] == 60 and data["threshold"] == 500.0
    assert data["statistic"] == "p99"
    assert data["recentDatapoints"] == [600.0, 700.0, 800.0, 900.0, 650.0]
    assert data["evaluatedDatapoints"][0] == {"timestamp": "2025-11-26T22:06:00.000+0000",
                                              "value": 650.0}
    assert data["queryDate"] == "2025-11-26T22:07:15.000+0000"


def test_reason_for_ok_and_single_datapoint():
    stamps = [0.0, 60.0, 120.0]
    verdict = judge([None, None, 2.0], datapoints_to_alarm=1, evaluation_periods=1,
                    breaches=comparison("GreaterThanOrEqualToThreshold", 3.0))
    assert reason(verdict, state=OK, timestamps=stamps, threshold=3.0,
                  comparison_operator="GreaterThanOrEqualToThreshold", datapoints_to_alarm=1,
                  evaluation_periods=1) == (
        "Threshold Crossed: 1 datapoint [2.0 (01/01/70 00:02:00)] was not greater than or "
        "equal to the threshold (3.0).")


def test_reason_for_missing_data():
    verdict = judge([None] * 7, datapoints_to_alarm=5, evaluation_periods=5,
                    breaches=comparison("GreaterThanThreshold", 1.0))
    assert reason(verdict, state=INSUFFICIENT_DATA, timestamps=[0.0] * 7, threshold=1.0,
                  comparison_operator="GreaterThanThreshold", datapoints_to_alarm=5,
                  evaluation_periods=5) == "Insufficient Data: 5 datapoints were unknown."
    verdict = judge([None] * 3, datapoints_to_alarm=1, evaluation_periods=1,
                    breaches=comparison("GreaterThanThreshold", 1.0), treat_missing="breaching")
    assert reason(verdict, state=ALARM, timestamps=[0.0] * 3, threshold=1.0,
                  comparison_operator="GreaterThanThreshold", datapoints_to_alarm=1,
                  evaluation_periods=1) == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [Breaching].")


@pytest.mark.parametrize("value,text", [(500, "500.0"), (0.5, "0.5"), (1e-4, "1.0E-4"),
                                        (12345678.0, "1.2345678E7"), (0, "0.0")])
def test_java_double(value, text):
    assert java_double(value) == text
