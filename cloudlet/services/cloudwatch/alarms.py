"""CloudWatch alarms."""

from __future__ import annotations


class AlarmOperations:
    pass
