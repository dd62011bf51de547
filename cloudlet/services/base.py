"""What every provider shares.

A provider is one class per service with one method per operation, named in snake_case
after the botocore operation (`get_caller_identity`, `put_object`). A method takes the
request context and the parsed params and returns the result dict. `async def` methods run
on the event loop and must not block; plain methods run on a worker thread.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from cloudlet.store import Store


@dataclass
class Caller:
    """Who is calling: what authentication established."""

    account_id: str
    arn: str
    access_key_id: str | None = None
    kind: str = "root"  # root | user | assumed-role | anonymous
    user_id: str | None = None


@dataclass
class RequestContext:
    service: str
    operation: str
    region: str
    account_id: str
    request_id: str
    caller: Caller | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Provider:
    service = ""

    def __init__(self, store: Store):
        self.store = store
        self._handlers: dict[str, Callable | None] = {}

    def handler(self, operation: str) -> Callable | None:
        if operation not in self._handlers:
            self._handlers[operation] = getattr(self, xform_name(operation), None)
        return self._handlers[operation]

    @classmethod
    def has_operation(cls, operation: str) -> bool:
        return callable(getattr(cls, xform_name(operation), None))

    @staticmethod
    def runs_on_loop(handler: Callable) -> bool:
        return inspect.iscoroutinefunction(handler)

    def start(self) -> None:
        """Start the provider's engines (sweepers, servers); called once at server start."""

    def stop(self) -> None:
        """Stop the provider's engines and flush state; called once at shutdown."""
