"""What every provider shares.

A provider is one class per service with one method per operation, named in snake_case
after the botocore operation (`get_caller_identity`, `put_object`). A method takes the
request context and the parsed params and returns the result dict. `async def` methods run
on the event loop and must not block; plain methods run on a worker thread.

A provider may also serve HTTP beside its API (a function URL, a certificate, a mailbox):
`routes()` declares each such endpoint as a `Route`, and the gateway mounts them.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from cloudlet.config import CONTROL_SIGNING_NAME
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


class Match(enum.Enum):
    """A route's verdict on a request, as Starlette's: its own (FULL), its path or host but
    not its method (PARTIAL: 405 unless another route takes it), or not its own (NONE)."""

    NONE = 0
    PARTIAL = 1
    FULL = 2


class RouteAuth(enum.Enum):
    """Who checks a route's signature."""

    NONE = "none"      # public: the handler gets the request alone
    CALLER = "caller"  # the handler may ask: it gets `verify`, to call when it must know
    #                    the signer (a function URL whose AuthType is AWS_IAM)
    SIGNED = "signed"  # the gateway refuses a request not signed for `signing_name` before
    #                    the handler runs (and hands it `verify` too, which then returns
    #                    the checked credential)
    ROOT = "root"      # a control endpoint: as SIGNED, for the signing name `cloudlet`, by
    #                    the root of an account, never from a browser; from inside the
    #                    cloud it is a 404 (gateway/control.py)


@dataclass(frozen=True)
class Route:
    """An HTTP endpoint a provider serves beside its API.

    A request is the route's when its path starts with `prefix` and, if `host` is set, its
    Host header (lower-cased, with the port) matches `host` whole; `methods` limits it
    further (empty: every method). The gateway reads the body first when `reads_body`,
    else the handler sees an empty one. `handler(request)` returns (status, headers, body);
    with `auth` CALLER or SIGNED it is called as `handler(request, verify=verify)`, where
    `verify(request)` authenticates the request as signed for `signing_name` and returns
    its `Credential` or raises a ServiceError. With `auth` ROOT, `verify` returns the
    account root's credential the gateway checked. `async def` handlers run on the event loop,
    plain ones on a worker thread, as operations do.
    """

    handler: Callable
    prefix: str = ""
    host: re.Pattern[str] | None = None
    methods: frozenset[str] = frozenset()
    reads_body: bool = False
    auth: RouteAuth = RouteAuth.NONE
    signing_name: str = ""

    def __post_init__(self):
        if not self.prefix and self.host is None:
            raise ValueError("a Route needs a path prefix or a host pattern")
        if self.auth is RouteAuth.ROOT:
            object.__setattr__(self, "signing_name", CONTROL_SIGNING_NAME)
        if self.auth is not RouteAuth.NONE and not self.signing_name:
            raise ValueError("a Route that checks signatures needs the signing name")

    def match(self, request) -> Match:
        if not request.path.startswith(self.prefix):
            return Match.NONE
        if self.host is not None and not self.host.fullmatch((request.host or "").lower()):
            return Match.NONE
        if self.methods and request.method not in self.methods:
            return Match.PARTIAL
        return Match.FULL


class Provider:
    service = ""
    # Trees under the data directory that code in a sandbox reads through a bind mount, as
    # another uid: their contents keep their read bits when the directory is made private
    # (store/private.py); the tree's top directory is private like everything else.
    shared_paths: tuple[str, ...] = ()

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

    def routes(self) -> list[Route]:
        """The HTTP endpoints this provider serves beside its API (none by default)."""
        return []

    def attach(self, providers: dict[str, Provider]) -> None:
        """Called once all providers exist, for the few that read another service: each
        takes what it needs as that service's `reads.py` object (STS and Lambda read IAM
        through `IamReads(providers.get("iam"))`), never the provider's internals. Events
        go through the bus instead."""

    def attach_in_cloud(self, serve: Callable) -> None:
        """Called once with the gateway's in-cloud listener, for providers whose engines put
        code inside namespaces: `serve(sock) -> stop()` serves Cloudlet's API on a listening
        socket made inside one, every request marked as coming from inside the cloud
        (gateway/listeners.py). Lambda hands it to its engine."""

    def start(self) -> None:
        """Start the provider's engines (sweepers, servers); called once at server start."""

    def health(self) -> dict | None:
        """What `/_cloudlet/health` and `cloudlet status` say of the provider's engines
        beyond "available" (EC2: whether packets are enforced, and why not)."""
        return None

    def stop(self) -> None:
        """Stop the provider's engines and flush state; called once at shutdown."""
