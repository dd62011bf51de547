"""Lambda functions, versions, aliases, layers and their settings."""

from __future__ import annotations


class FunctionOperations:
    pass
