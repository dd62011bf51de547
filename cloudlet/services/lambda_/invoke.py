"""Invoking Lambda functions, and what triggers them."""

from __future__ import annotations


class InvokeOperations:
    pass
