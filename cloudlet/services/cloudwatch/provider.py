"""CloudWatch: metrics and alarms, one provider composed of two operation families.

    metrics.py    PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics; the bus
                  topic every service publishes metrics on
    alarms.py     PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DescribeAlarmsForMetric,
                  DescribeAlarmHistory, DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions,
                  TagResource, UntagResource, ListTagsForResource

What the metrics family stands on:

    metric_store.py       storage with AWS's resolutions, rollups and retention
    statistics.py         the basic and extended statistics of a set of datapoints
    periods.py            valid periods, and where a read's periods begin
    queries.py            GetMetricData's queries (MetricStat, Expression, SEARCH, labels)
    metric_math/          the expression language: values.py, parser.py, evaluation.py

What the alarms family stands on (alarms.py lists them): alarms_validation.py,
alarms_evaluation.py, alarms_rule.py, alarms_engine.py, alarms_window.py,
alarms_suppression.py, alarms_messages.py, alarms_store.py. Errors: errors.py.
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.cloudwatch.alarms import AlarmOperations
from cloudlet.services.cloudwatch.metrics import MetricOperations


class CloudWatchProvider(AlarmOperations, MetricOperations, Provider):
    service = "cloudwatch"
