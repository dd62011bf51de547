"""The gateway's own endpoints under /_cloudlet/, and who may reach them.

    GET  /_cloudlet/health      {"status", "version", "services", "engines"}    anyone, from anywhere
    GET  /_cloudlet/clock       {"now", "offset_seconds"}            an account's root
    POST /_cloudlet/clock       {"advance": seconds}: the same after  an account's root
    POST /_cloudlet/shutdown    stop as Ctrl-C does                   an account's root

The control endpoints (these, and the providers' routes marked `RouteAuth.ROOT`: SNS's
mailbox, the OIDC issuer's tokens) take a SigV4 request signed by the root of an account
for the signing name `cloudlet` (auth/control.py). None of them sends CORS headers. From
inside the cloud (`HttpRequest.origin == "cloud"`) each is a 404, as is every /_cloudlet/
path no public route claims: code deployed to the cloud cannot tell they exist. Public
routes (health, SNS's signing certificate, the OIDC discovery document and keys, function
URLs, GetFunction's presigned code downloads) answer there as their AWS counterparts do.

Answers and errors are JSON: `{"code": ..., "message": ...}` for an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

from cloudlet import __version__, clock
from cloudlet.auth.control import authenticate_control
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest, HttpResponse
from cloudlet.services.base import Route, RouteAuth

PREFIX = "/_cloudlet/"
HEALTH = "/_cloudlet/health"
CLOCK = "/_cloudlet/clock"
SHUTDOWN = "/_cloudlet/shutdown"
# A control call's body is a small JSON document.
MAX_CONTROL_BODY = 64 * 1024


class ClockValueInvalid(ServiceError):
    code = "ValidationError"
    status = 400


class NoSuchEndpoint(ServiceError):
    code = "NotFound"
    status = 404
    message = "no such Cloudlet endpoint"


class MethodNotAllowed(ServiceError):
    code = "MethodNotAllowed"
    status = 405

    def __init__(self, allowed: str):
        super().__init__(allowed, headers={"Allow": allowed.replace(" or ", ", ")})


def hidden(request: HttpRequest, route: Route | None) -> bool:
    """Whether the request must not learn that the endpoint exists: a /_cloudlet/ path
    from inside the cloud that is neither health nor a public route."""
    if request.origin != "cloud" or not request.path.startswith(PREFIX):
        return False
    if route is not None:
        return route.auth is RouteAuth.ROOT
    return request.path != HEALTH


class Control:
    def __init__(self, credentials: CredentialStore, services: dict[str, str],
                 engines=dict):
        self.credentials = credentials
        self.services = services
        self.engines = engines  # () -> {service: what its engines say}

    def authenticate(self, request: HttpRequest) -> Credential:
        return authenticate_control(request, self.credentials)

    def answer(self, request: HttpRequest) -> HttpResponse:
        """The gateway's own endpoint for `request` (its body read already)."""
        try:
            if request.path == HEALTH:
                if request.method not in ("GET", "HEAD"):
                    raise MethodNotAllowed("GET or HEAD")
                return json_response(200, {"status": "running", "version": __version__,
                                           "services": self.services,
                                           "engines": self.engines()})
            if request.path == CLOCK:
                return self.clock(request)
            if request.path == SHUTDOWN:
                return self.shutdown(request)
            raise NoSuchEndpoint()
        except ServiceError as error:
            return error_response(error)

    def clock(self, request: HttpRequest) -> HttpResponse:
        """GET: the service clock. POST {"advance": seconds}: move it forward, so tests can
        see sessions expire and lifecycle rules run without waiting; a value that is not a
        finite number of seconds within clock.MAX_ADVANCE is a 400, and changes nothing."""
        if request.method not in ("GET", "POST"):
            raise MethodNotAllowed("GET or POST")
        self.authenticate(request)
        if request.method == "POST":
            clock.advance(advance_of(request.body))
        return json_response(200, {"now": clock.now().isoformat(),
                                   "offset_seconds": clock.offset()})

    def shutdown(self, request: HttpRequest) -> HttpResponse:
        """POST: stop as Ctrl-C does (`cloudlet down`): requests in flight finish, engines
        (database servers, Lambda environments) stop, state is flushed."""
        if request.method != "POST":
            raise MethodNotAllowed("POST")
        self.authenticate(request)
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        return json_response(202, {"status": "stopping"})


def advance_of(body: bytes) -> float:
    """The seconds of a clock POST's `{"advance": seconds}`, checked (clock.check_advance):
    JSON's NaN and Infinity, strings, booleans and other members are refused."""
    usage = 'send {"advance": <seconds: a finite number, not negative, at most 10 years>}'
    try:
        document = json.loads(body or b"{}", parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ClockValueInvalid(usage) from None
    if not isinstance(document, dict) or set(document) != {"advance"}:
        raise ClockValueInvalid(usage)
    try:
        return clock.check_advance(document["advance"])
    except ValueError as e:
        raise ClockValueInvalid(f"{e}; {usage}") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number of seconds")


def json_response(status: int, body: dict, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json", **(headers or {})},
                        json.dumps(body).encode())


def error_response(error: ServiceError) -> HttpResponse:
    return json_response(error.status, {"code": error.code, "message": error.message},
                         error.headers)
