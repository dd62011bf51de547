"""Logs Insights operations."""

from __future__ import annotations


class InsightsOperations:
    pass
