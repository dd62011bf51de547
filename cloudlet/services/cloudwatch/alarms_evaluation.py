"""How a metric alarm judges its datapoints: pure functions, no clock, no store.

    verdict = judge(values, datapoints_to_alarm=M, evaluation_periods=N,
                    breaches=comparison(op, threshold), treat_missing="missing")

`values` is the alarm's *evaluation range*, oldest first: one value (or None when the
period has no data) per period. The range is longer than N (`evaluation_range(N)`), as
AWS's is, and AWS's rules ("How alarm state is evaluated when data is missing", the
CloudWatch user guide) decide:

- with N or more real datapoints in the range, the N most recent real ones are evaluated
  and TreatMissingData does not matter;
- with none, the setting decides alone (missing: INSUFFICIENT_DATA, ignore: keep the
  state, breaching: ALARM, notBreaching: OK);
- with some, the missing ones are filled in as few times as possible: breaching and
  notBreaching fill the N - k places; missing and ignore judge the real datapoints: ALARM
  with M breaching, OK as soon as one real datapoint is within the threshold; when every
  real datapoint breaches but fewer than M, `ignore` keeps the state, and `missing` goes to
  ALARM once the metric has stopped (the newest period is empty: AWS keeps re-evaluating
  the last datapoints it has) and to INSUFFICIENT_DATA while data is still arriving.

Then: fewer than M breaching is OK, otherwise ALARM. `reason()` and `reason_data()` write
StateReason and StateReasonData the way CloudWatch does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")

STATIC_OPERATORS = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
BAND_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                  "GreaterThanUpperThreshold")


def evaluation_range(evaluation_periods: int) -> int:
    """How many periods AWS retrieves to evaluate N (5 for 3, as in AWS's tables)."""
    return evaluation_periods + 2


def comparison(comparison_operator: str, threshold: float) -> Callable[[float], bool]:
    compare = STATIC_OPERATORS[comparison_operator][0]
    return lambda value: compare(value, threshold)


@dataclass
class Verdict:
    state: str | None  # None: keep the current state (TreatMissingData ignore)
    evaluated: list[tuple[int, float | None, bool]] = field(default_factory=list)
    # (index in the range, value or None for a filled-in period, breaching)
    filled: int = 0  # missing datapoints filled in by TreatMissingData
    treat_missing: str = "missing"

    @property
    def breaching(self) -> int:
        return sum(1 for _, _, b in self.evaluated if b)


def judge(values: list[float | None], *, datapoints_to_alarm: int, evaluation_periods: int,
          breaches: Callable[[float], bool], treat_missing: str = "missing") -> Verdict:
    m, n = datapoints_to_alarm, evaluation_periods
    real = [(i, v, breaches(v)) for i, v in enumerate(values) if v is not None]
    if len(real) >= n:
        chosen = real[-n:]
        return Verdict(_decide(chosen, m), chosen, 0, treat_missing)
    fill = n - len(real)
    if treat_missing in ("breaching", "notBreaching"):
        bad = treat_missing == "breaching"
        last = len(values) - 1
        # Filled places are the newest empty periods, so a real datapoint is never displaced.
        empty = [i for i in range(last, -1, -1) if values[i] is None][:fill]
        chosen = sorted(real + [(i, None, bad) for i in empty])
        return Verdict(_decide(chosen, m), chosen, fill, treat_missing)
    if not real:
        state = INSUFFICIENT_DATA if treat_missing == "missing" else None
        return Verdict(state, [], fill, treat_missing)
    breaching = sum(1 for _, _, b in real if b)
    if breaching >= m:
        return Verdict(ALARM, real, 0, treat_missing)
    if breaching < len(real):
        return Verdict(OK, real, 0, treat_missing)
    if treat_missing == "ignore":
        return Verdict(None, real, 0, treat_missing)
    stopped = values[-1] is None
    return Verdict(ALARM if stopped else INSUFFICIENT_DATA, real, fill, treat_missing)


def _decide(chosen: list[tuple[int, float | None, bool]], m: int) -> str:
    return ALARM if sum(1 for _, _, b in chosen if b) >= m else OK


# -- StateReason and StateReasonData ----------------------------------------------------

def java_double(value: float) -> str:
    """A double as Java prints it (CloudWatch's reasons do): 500.0, 1.0E-4, 1.5E7."""
    if value == 0:
        return "0.0"
    if math.isinf(value) or math.isnan(value):
        return "Infinity" if value > 0 else ("NaN" if math.isnan(value) else "-Infinity")
    if 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if "e" not in text else f"{value:.1f}"
    mantissa, exponent = f"{value:.16e}".split("e")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def reason_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def iso_millis(epoch: float) -> str:
    """2019-08-01T19:48:54.591+0000, CloudWatch's timestamps inside reason data and
    notifications."""
    when = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


_FILLED_AS = {"breaching": "Breaching", "notBreaching": "NonBreaching"}


def reason(verdict: Verdict, *, state: str, timestamps: list[float], threshold: float,
           comparison_operator: str, datapoints_to_alarm: int,
           evaluation_periods: int) -> str:
    """StateReason for a state the verdict chose (`state` is verdict.state, or the kept
    state)."""
    m, n = datapoints_to_alarm, evaluation_periods
    phrase = STATIC_OPERATORS[comparison_operator][1]
    real = [(i, v, b) for i, v, b in verdict.evaluated if v is not None]
    if state == INSUFFICIENT_DATA:
        unknown = n - len(real)
        return (f"Insufficient Data: {_plural(unknown, 'datapoint')} "
                f"{'was' if unknown == 1 else 'were'} unknown.")
    if not real and verdict.filled:
        return (f"Threshold Crossed: no datapoints were received for "
                f"{_plural(verdict.filled, 'period')} and "
                f"{_plural(verdict.filled, 'missing datapoint')} "
                f"{'was' if verdict.filled == 1 else 'were'} treated as "
                f"[{_FILLED_AS.get(verdict.treat_missing, verdict.treat_missing)}].")
    to_alarm = state == ALARM
    shown = [(i, v) for i, v, b in reversed(real) if b == to_alarm]
    listed = ", ".join(f"{java_double(v)} ({reason_time(timestamps[i])})" for i, v in shown)
    verb = "was" if len(shown) == 1 else "were"
    relation = phrase if to_alarm else f"not {phrase}"
    if n == 1 and m == 1 and len(real) == 1 and not verdict.filled:
        return (f"Threshold Crossed: 1 datapoint [{listed}] {verb} {relation} the threshold "
                f"({java_double(threshold)}).")
    needed, transition = (m, "OK -> ALARM") if to_alarm else (n - m + 1, "ALARM -> OK")
    text = (f"Threshold Crossed: {len(shown)} out of the last {_plural(len(real), 'datapoint')}"
            if len(real) != 1 else f"Threshold Crossed: {len(shown)} out of the last 1 datapoint")
    text = (f"{text} [{listed}] {verb} {relation} the threshold ({java_double(threshold)}) "
            f"(minimum {_plural(needed, 'datapoint')} for {transition} transition).")
    if verdict.filled:
        text += (f" {_plural(verdict.filled, 'missing datapoint')} "
                 f"{'was' if verdict.filled == 1 else 'were'} treated as "
                 f"[{_FILLED_AS.get(verdict.treat_missing, verdict.treat_missing)}].")
    return text


def reason_data(verdict: Verdict, *, values: list[float | None], timestamps: list[float],
                query_date: float, period: int, threshold: float, statistic: str | None = None,
                unit: str | None = None, sample_counts: list[float | None] | None = None) -> str:
    """StateReasonData: CloudWatch's JSON document of what the evaluation saw."""
    data: dict = {"version": "1.0", "queryDate": iso_millis(query_date),
                  "startDate": iso_millis(timestamps[0]) if timestamps else iso_millis(query_date)}
    if statistic:
        data["statistic"] = statistic
    if unit:
        data["unit"] = unit
    data["period"] = period
    data["recentDatapoints"] = [v for v in values if v is not None]
    data["threshold"] = float(threshold)
    evaluated = []
    for i, v, _ in reversed(verdict.evaluated):
        point: dict = {"timestamp": iso_millis(timestamps[i])}
        if v is not None:
            if sample_counts is not None and sample_counts[i] is not None:
                point["sampleCount"] = float(sample_counts[i])
            point["value"] = v
        evaluated.append(point)
    data["evaluatedDatapoints"] = evaluated
    return json.dumps(data, separators=(",", ":"))
