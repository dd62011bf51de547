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

from cloudlet.events import Bus
from cloudlet.principals import Credential
from cloudlet.store import Store


@dataclass
class RequestContext:
    service: str
    operation: str
    region: str
    account_id: str
    request_id: str
    caller: Credential | None = None  # None: an anonymous request (S3 only)
    secure_transport: bool = False
    source_ip: str = "127.0.0.1"
    extra: dict[str, Any] = field(default_factory=dict)


class Provider:
    service = ""

    def __init__(self, store: Store, bus: Bus | None = None):
        self.store = store
        self.bus = bus or Bus()
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

    def attach(self, providers: dict[str, Provider]) -> None:
        """Called once all providers exist, for the few that read another service: each
        takes what it needs as that service's `reads.py` object (STS and Lambda read IAM
        through `IamReads(providers.get("iam"))`), never the provider's internals. Events
        go through the bus instead."""

    def start(self) -> None:
        """Start the provider's engines (sweepers, servers); called once at server start."""

    def stop(self) -> None:
        """Stop the provider's engines and flush state; called once at shutdown."""
