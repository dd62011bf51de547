"""CloudWatch: metrics and alarms, one provider composed of two operation families.

    metrics.py    PutMetricData, GetMetricStatistics, GetMetricData (metric math), ListMetrics;
                  storage with AWS's rollups; the bus topic every service publishes metrics on
    alarms.py     metric, math and composite alarms, their evaluator, history and actions
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.cloudwatch.alarms import AlarmOperations
from cloudlet.services.cloudwatch.metrics import MetricOperations


class CloudWatchProvider(AlarmOperations, MetricOperations, Provider):
    service = "cloudwatch"
