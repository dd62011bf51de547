"""The ASGI application: one port for every service.

Reads the request, hands it to the pipeline, writes the response. A request that one of
the providers' `routes()` claims (a Lambda function URL, SNS's certificate, the OIDC
issuer) goes to that route's handler instead; the gateway's own endpoints live under
`/_cloudlet/` (health, clock, shutdown: control.py, which also says who may reach them),
and any other `/_cloudlet/` path is a 404. Bodies that stall are cut off with S3's
`RequestTimeout`, as AWS does, so a client that sends less than its Content-Length cannot
hold a connection forever; one that declares more than `MAX_BODY` gets `EntityTooLarge` at
once, and the connection is closed rather than read to its end.

A connection's ASGI scope may carry `"cloudlet.origin": "cloud"`: it came through a
listener Cloudlet made inside a network namespace (a function's, an instance's). The
request's `origin` is then "cloud", else "host".
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os

from cloudlet.auth import authenticate
from cloudlet.errors import ServiceError
from cloudlet.gateway import control
from cloudlet.gateway.control import Control
from cloudlet.gateway.pipeline import (
    MAX_BODY,
    BodyStream,
    EntityTooLarge,
    Pipeline,
    RequestTimeout,
)
from cloudlet.protocols.base import Headers, HttpRequest, HttpResponse
from cloudlet.services.base import Match, Provider, Route, RouteAuth

log = logging.getLogger("cloudlet.gateway")

MAX_HEADER_BYTES = 16 * 1024
# A PUT body larger than this stays on the socket until the pipeline knows the operation:
# an object upload then streams it to disk (see pipeline.BodyStream).
STREAM_THRESHOLD = 1024 * 1024
SEND_PIECE = 4 * 1024 * 1024
ORIGIN_KEY = "cloudlet.origin"
__all__ = ["EntityTooLarge", "Gateway", "RequestTimeout"]


class RequestHeaderSectionTooLarge(ServiceError):
    code = "RequestHeaderSectionTooLarge"
    status = 400
    message = "Your request header section exceeds the maximum allowed size."


class Gateway:
    def __init__(self, pipeline: Pipeline, services: dict[str, str], on_start=None, on_stop=None,
                 body_timeout: float = 20.0):
        self.pipeline = pipeline
        self.body_timeout = body_timeout
        self.services = services  # name -> "available" | "not implemented"
        self.control = Control(pipeline.credentials, services, lambda: {
            name: found for name, provider in pipeline.providers.items()
            if (found := provider.health()) is not None})
        # Each provider's own HTTP endpoints (function URLs, SNS's certificate, the OIDC
        # issuer), tried in order before the API.
        self.routes = [route for provider in pipeline.providers.values()
                       for route in provider.routes()]
        self.on_start = on_start
        self.on_stop = on_stop

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_start:
                    await asyncio.get_running_loop().run_in_executor(None, self.on_start)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_stop:
                    await asyncio.get_running_loop().run_in_executor(None, self.on_stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope, receive, send):
        request = HttpRequest(
            method=scope["method"],
            path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?")[0],
            query=scope["query_string"].decode("latin-1"),
            headers=Headers((_text(k), _text(v)) for k, v in scope["headers"]),
            secure=scope.get("scheme") == "https",
            client_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            origin="cloud" if scope.get(ORIGIN_KEY) == "cloud" else "host",
        )
        route, allowed = self.route_for(request)
        if control.hidden(request, route):
            await _send(send, control.error_response(control.NoSuchEndpoint()))
            return
        try:
            if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
                raise RequestHeaderSectionTooLarge()
            _check_declared_size(request, MAX_BODY)
        except ServiceError as error:
            await _send(send, self.render_error(request, route, error))
            return
        if route is not None:
            await _send(send, await self.serve(route, request, receive))
            return
        if allowed:
            await _send(send, _json(405, {"message": " or ".join(sorted(allowed))},
                                    {"Allow": ", ".join(sorted(allowed))}))
            return
        if request.path.startswith(control.PREFIX):
            await _send(send, await self.internal(request, receive))
            return
        try:
            if _streams(request):
                request.memo["body_stream"] = BodyStream(receive, self.body_timeout)
            elif _bodiless(request):
                request.body = b""  # nothing to receive (a GET, most often)
            else:
                request.body = await BodyStream(receive, self.body_timeout).read()
        except ServiceError as error:
            await _send(send, self.pipeline.render_error_for(request, error))
            return
        await _send(send, await self.pipeline.handle(request), receive)

    async def internal(self, request: HttpRequest, receive) -> HttpResponse:
        """One of the gateway's own endpoints (control.py), its small body read first."""
        if not _bodiless(request):
            try:
                _check_declared_size(request, control.MAX_CONTROL_BODY)
                request.body = await BodyStream(receive, self.body_timeout,
                                                control.MAX_CONTROL_BODY).read()
            except ServiceError as error:
                return control.error_response(error)
        return self.control.answer(request)

    def render_error(self, request: HttpRequest, route: Route | None,
                     error: ServiceError) -> HttpResponse:
        """An error found before the handler ran: JSON on a control endpoint (control.py),
        else in the words of the request's service."""
        control_path = request.path.startswith(control.PREFIX) and route is None
        if control_path or (route is not None and route.auth is RouteAuth.ROOT):
            return control.error_response(error)
        return self.pipeline.render_error_for(request, error)

    # -- the providers' routes ---------------------------------------------------------
    def route_for(self, request: HttpRequest) -> tuple[Route | None, set[str]]:
        """The first route whose request this is; else None, with the methods of the
        routes whose path or host it matched (a 405 when there are some)."""
        allowed: set[str] = set()
        for route in self.routes:
            verdict = route.match(request)
            if verdict is Match.FULL:
                return route, allowed
            if verdict is Match.PARTIAL:
                allowed |= route.methods
        return None, allowed

    async def serve(self, route: Route, request: HttpRequest, receive) -> HttpResponse:
        """Read the body if the route asks, check the signature if it must, then call
        the handler: on the loop if it is async, else on a worker thread."""
        limit = control.MAX_CONTROL_BODY if route.auth is RouteAuth.ROOT else MAX_BODY
        try:
            if route.reads_body:
                _check_declared_size(request, limit)
                request.body = await BodyStream(receive, self.body_timeout, limit).read()
            arguments = {}
            if route.auth is not RouteAuth.NONE:
                arguments["verify"] = self.verifier(route, request)
        except ServiceError as error:
            return self.render_error(request, route, error)
        try:
            if Provider.runs_on_loop(route.handler):
                answer = await route.handler(request, **arguments)
            else:
                answer = await asyncio.get_running_loop().run_in_executor(
                    self.pipeline.executor, functools.partial(route.handler, request,
                                                              **arguments))
        except Exception:
            log.exception("route %s failed on %s %s", route.prefix or route.host.pattern,
                          request.method, request.path)
            return _json(500, {"message": "internal error"})
        return HttpResponse(*answer)

    def verifier(self, route: Route, request: HttpRequest):
        """The `verify` a route's handler gets. For a SIGNED or ROOT route the gateway
        calls it first (raising the signature's error) and the handler's returns that
        credential; a ROOT route's is a control call's (control.py)."""
        def verify(signed: HttpRequest):
            return authenticate(signed, route.signing_name, self.pipeline.credentials).credential

        if route.auth is RouteAuth.ROOT:
            credential = self.control.authenticate(request)
            return lambda signed: credential
        if route.auth is RouteAuth.SIGNED:
            credential = verify(request)
            return lambda signed: credential
        return verify


def _json(status: int, body: dict, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json", **(headers or {})},
                        json.dumps(body).encode())


def _check_declared_size(request: HttpRequest, limit: int) -> None:
    """A body declared larger than `limit` (an aws-chunked one: its decoded length) is
    refused before a byte of it is read, and the connection closes after the answer (the
    client may still be sending)."""
    headers = request.headers
    try:
        declared = int(headers.get("x-amz-decoded-content-length")
                       or headers.get("content-length") or 0)
    except ValueError:
        return
    if declared > limit:
        raise EntityTooLarge(fields={"ProposedSize": str(declared), "MaxSizeAllowed": str(limit)},
                             headers={"Connection": "close"})


def _streams(request: HttpRequest) -> bool:
    if request.method != "PUT":
        return False
    if "chunked" in (request.headers.get("transfer-encoding") or "").lower():
        return True
    try:
        return int(request.headers.get("content-length") or 0) > STREAM_THRESHOLD
    except ValueError:
        return False


def _bodiless(request: HttpRequest) -> bool:
    headers = request.headers
    return (headers.get("content-length") in (None, "0")
            and headers.get("transfer-encoding") is None)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def _send(send, response: HttpResponse, receive=None) -> None:
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()]
    body = response.body
    if hasattr(body, "__aiter__"):  # an event stream, open until it ends or the client leaves
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await _send_stream(send, body, receive)
        return
    sized = any(name.lower() == "content-length" for name in response.headers)
    if isinstance(body, bytes):
        if not sized:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    file_range = getattr(body, "file_range", None)
    if file_range is not None:
        await _send_file(send, *file_range)
        return
    for chunk in body:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


_open_streams: set[asyncio.Event] = set()


def end_streams() -> None:
    """At shutdown: every open event stream ends now, instead of holding the server's
    graceful shutdown for its 30 s."""
    for ending in list(_open_streams):
        ending.set()


async def _send_stream(send, body, receive) -> None:
    """Pieces of an async iterator as they come; a client that disconnects ends it, and so
    does the server's shutdown (`end_streams`)."""
    async def disconnected() -> None:
        while receive is not None and (await receive())["type"] != "http.disconnect":
            pass
        if receive is None:
            await asyncio.Event().wait()

    ending = asyncio.Event()
    _open_streams.add(ending)
    gone = asyncio.ensure_future(disconnected())
    ended = asyncio.ensure_future(ending.wait())
    pieces = body.__aiter__()
    try:
        while True:
            piece = asyncio.ensure_future(pieces.__anext__())
            await asyncio.wait({piece, gone, ended}, return_when=asyncio.FIRST_COMPLETED)
            if not piece.done():
                piece.cancel()
                await asyncio.gather(piece, return_exceptions=True)
                break
            try:
                chunk = piece.result()
            except StopAsyncIteration:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        _open_streams.discard(ending)
        gone.cancel()
        ended.cancel()
        await pieces.aclose()


async def _send_file(send, fd: int, offset: int, length: int) -> None:
    """An open file's bytes, read off the loop in large pieces; the fd is closed after."""
    loop = asyncio.get_running_loop()
    try:
        while length > 0:
            piece = await loop.run_in_executor(None, os.pread, fd, min(SEND_PIECE, length), offset)
            if not piece:
                break
            offset += len(piece)
            length -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": length > 0})
    finally:
        os.close(fd)
    if length > 0:
        await send({"type": "http.response.body", "body": b""})
