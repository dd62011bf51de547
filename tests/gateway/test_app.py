"""The gateway mounts the routes providers declare (gateway/app.py), driven as ASGI."""

from __future__ import annotations

import asyncio
import threading

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cloudlet.auth.credentials import CredentialStore
from cloudlet.errors import ServiceError
from cloudlet.gateway.app import Gateway
from cloudlet.gateway.pipeline import Pipeline
from cloudlet.services.base import Provider, Route, RouteAuth

HOST = "127.0.0.1:4566"


class Demo(Provider):
    """A provider with one route of each kind, recording what its handlers saw."""

    service = "demo"

    def __init__(self):
        self.seen: list[tuple] = []

    def routes(self) -> list[Route]:
        return [
            Route(prefix="/_cloudlet/demo/echo", reads_body=True, handler=self.echo),
            Route(prefix="/_cloudlet/demo/get", methods=frozenset({"GET", "HEAD"}),
                  handler=self.on_loop),
            Route(prefix="/_cloudlet/demo/asks", auth=RouteAuth.CALLER, signing_name="demo",
                  handler=self.asks),
            Route(prefix="/_cloudlet/demo/signed", auth=RouteAuth.SIGNED, signing_name="demo",
                  handler=self.signed),
        ]

    def echo(self, request):
        self.seen.append(("echo", threading.current_thread().name))
        return 200, {"Content-Type": "text/plain"}, request.body

    async def on_loop(self, request):
        self.seen.append(("on_loop", threading.current_thread().name))
        return 200, {}, b"loop"

    def asks(self, request, verify):
        try:
            return 200, {}, verify(request).account_id.encode()
        except ServiceError as error:
            return 401, {}, error.code.encode()

    def signed(self, request, verify):
        self.seen.append(("signed", verify(request).arn))
        return 200, {}, b"signed"


def gateway() -> tuple[Gateway, Demo]:
    demo = Demo()
    return Gateway(Pipeline({"demo": demo}, CredentialStore()), {}), demo


def call(app: Gateway, method: str, path: str, body: bytes = b"",
         headers: dict | None = None) -> tuple[int, dict, bytes]:
    headers = {"Host": HOST, **(headers or {})}
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "scheme": "http", "client": ("127.0.0.1", 1),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    inbox = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            b"".join(m.get("body", b"") for m in sent[1:]))


def signed_headers(method: str, path: str, body: bytes = b"") -> dict:
    aws = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body)
    SigV4Auth(Credentials("test", "test"), "demo", "us-east-1").add_auth(aws)
    return dict(aws.headers.items())


def test_a_route_gets_its_body_and_a_plain_handler_runs_off_the_loop():
    app, demo = gateway()
    assert call(app, "PUT", "/_cloudlet/demo/echo", b"hello")[::2] == (200, b"hello")
    assert demo.seen[0][0] == "echo" and demo.seen[0][1].startswith("provider")


def test_an_async_handler_runs_on_the_loop_and_other_methods_get_405():
    app, demo = gateway()
    assert call(app, "GET", "/_cloudlet/demo/get")[::2] == (200, b"loop")
    assert demo.seen == [("on_loop", threading.current_thread().name)]
    status, headers, body = call(app, "POST", "/_cloudlet/demo/get")
    assert (status, headers["Allow"], body) == (405, "GET, HEAD", b'{"message": "GET or HEAD"}')


def test_a_caller_route_verifies_only_when_its_handler_asks():
    app, _ = gateway()
    assert call(app, "GET", "/_cloudlet/demo/asks")[::2] == (401, b"MissingAuthenticationToken")
    headers = signed_headers("GET", "/_cloudlet/demo/asks")
    assert call(app, "GET", "/_cloudlet/demo/asks", headers=headers)[::2] == (
        200, b"000000000000")


def test_a_signed_route_refuses_an_unsigned_request_before_its_handler_runs():
    app, demo = gateway()
    status, _, _ = call(app, "GET", "/_cloudlet/demo/signed")
    assert status == 403 and demo.seen == []
    forged = signed_headers("GET", "/_cloudlet/demo/signed")
    forged["Authorization"] = forged["Authorization"][:-4] + "0000"
    assert call(app, "GET", "/_cloudlet/demo/signed", headers=forged)[0] == 403
    headers = signed_headers("GET", "/_cloudlet/demo/signed")
    assert call(app, "GET", "/_cloudlet/demo/signed", headers=headers)[::2] == (200, b"signed")
    assert demo.seen == [("signed", "arn:aws:iam::000000000000:root")]


def test_the_gateway_keeps_its_own_endpoints_and_404s_other_cloudlet_paths():
    app, _ = gateway()
    status, _, body = call(app, "GET", "/_cloudlet/health")
    assert status == 200 and b'"running"' in body
    assert call(app, "GET", "/_cloudlet/nothing")[::2] == (
        404, b'{"code": "NotFound", "message": "no such Cloudlet endpoint"}')
