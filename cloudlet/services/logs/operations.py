"""Log groups, streams and events."""

from __future__ import annotations


class LogOperations:
    pass
