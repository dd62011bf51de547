"""The ASGI application: one port for every service.

Reads the request, hands it to the pipeline, writes the response. Cloudlet's own endpoints
live under `/_cloudlet/` (health). Bodies that stall are cut off with S3's
`RequestTimeout`, as AWS does, so a client that sends less than its Content-Length cannot
hold a connection forever.
"""

from __future__ import annotations

import asyncio
import json
import logging

from cloudlet import __version__, clock
from cloudlet.errors import ServiceError
from cloudlet.gateway.pipeline import Pipeline
from cloudlet.protocols.base import Headers, HttpRequest, HttpResponse
from cloudlet.services.sts import oidc

log = logging.getLogger("cloudlet.gateway")

MAX_BODY = 5 * 1024**3
MAX_HEADER_BYTES = 16 * 1024


class RequestTimeout(ServiceError):
    code = "RequestTimeout"
    status = 400
    message = ("Your socket connection to the server was not read from or written to within "
               "the timeout period. Idle connections will be closed.")


class RequestHeaderSectionTooLarge(ServiceError):
    code = "RequestHeaderSectionTooLarge"
    status = 400
    message = "Your request header section exceeds the maximum allowed size."


class EntityTooLarge(ServiceError):
    code = "EntityTooLarge"
    status = 400
    message = "Your proposed upload exceeds the maximum allowed size"


class Gateway:
    def __init__(self, pipeline: Pipeline, services: dict[str, str], on_start=None, on_stop=None,
                 body_timeout: float = 20.0):
        self.pipeline = pipeline
        self.body_timeout = body_timeout
        self.services = services  # name -> "available" | "not implemented"
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
        )
        if request.path.startswith("/_cloudlet/"):
            if request.method == "POST":
                request.body = await _read_body(receive, self.body_timeout)
            await _send(send, self.internal(request))
            return
        try:
            if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
                raise RequestHeaderSectionTooLarge()
            request.body = await _read_body(receive, self.body_timeout)
        except ServiceError as error:
            await _send(send, self.pipeline.render_error_for(request, error))
            return
        await _send(send, await self.pipeline.handle(request))

    def internal(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/_cloudlet/health" and request.method in ("GET", "HEAD"):
            body = {"status": "running", "version": __version__, "services": self.services}
            return _json(200, body)
        if request.path == "/_cloudlet/clock":
            return self.clock(request)
        sts = self.pipeline.providers.get("sts")
        if request.path.startswith(oidc.LOCAL_PATH + "/") and sts is not None:
            base = f"{'https' if request.secure else 'http'}://{request.host}"
            return _json(*oidc.internal_route(sts.issuer, request.method, request.path, base,
                                              request.body))
        return _json(404, {"message": "no such Cloudlet endpoint"})

    def clock(self, request: HttpRequest) -> HttpResponse:
        """GET: the service clock. POST {"advance": seconds}: move it forward, so tests can
        see sessions expire and lifecycle rules run without waiting."""
        if request.method == "POST":
            try:
                seconds = float(json.loads(request.body or b"{}").get("advance", 0))
                clock.advance(seconds)
            except (ValueError, TypeError, AttributeError):
                return _json(400, {"message": 'send {"advance": <seconds, not negative>}'})
        elif request.method != "GET":
            return _json(405, {"message": "GET or POST"})
        return _json(200, {"now": clock.now().isoformat(), "offset_seconds": clock.offset()})


def _json(status: int, body: dict) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def _read_body(receive, timeout: float) -> bytes:
    chunks, size = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), timeout)
        except TimeoutError:
            raise RequestTimeout() from None
        if message["type"] == "http.disconnect":
            raise RequestTimeout()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise EntityTooLarge()
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send, response: HttpResponse) -> None:
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()]
    body = response.body
    if isinstance(body, bytes):
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    for chunk in body:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
