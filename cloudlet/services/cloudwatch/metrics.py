"""CloudWatch metrics."""

from __future__ import annotations


class MetricOperations:
    pass
