"""Lambda's Runtime API (2018-06-01), served to one execution environment on a listening
socket made in its network namespace (127.0.0.1:9001, as on AWS), or without namespaces on
its own port of the host's 127.0.0.1 (AWS_LAMBDA_RUNTIME_API): GET /runtime/invocation/next hands out the
next invocation with AWS's headers; POST .../response, .../error and /runtime/init/error
report back, answered with AWS's status codes (202, 400, 403, 413, 500)."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

MAX_RESPONSE = 6 * 1024 * 1024 + 100  # 6291556 bytes, as AWS words it
_INVOCATION = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")


class RuntimeHost(Protocol):
    """What the Runtime API asks of its environment (environment.Environment)."""

    def next_invocation(self) -> tuple[dict[str, str], bytes] | None: ...
    def report(self, request_id: str, body: bytes, error_type: str | None) -> int: ...
    def init_error(self, body: bytes, error_type: str | None) -> int: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = -1  # headers and body leave in one segment (flushed by the base class)
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response_only(status)
        self.send_header("Content-Length", str(len(body)))
        if body and not (headers and "Content-Type" in headers):
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _status(self, status: int):
        bodies = {
            202: {"status": "OK"},
            400: {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
            403: {"errorMessage": "Invalid state transition", "errorType": "InvalidStateTransition"},
            413: {"errorMessage": f"Response payload size exceeded maximum allowed payload size "
                                  f"({MAX_RESPONSE} bytes).",
                  "errorType": "RequestEntityTooLarge"},
            500: {"errorMessage": "Container error", "errorType": "ContainerError"},
        }
        self._send(status, json.dumps(bodies.get(status, {})).encode())

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self._send(404, b'{"errorMessage":"Not Found","errorType":"NotFound"}')
        work = self.server.host.next_invocation()
        if work is None:  # the environment is stopping
            self._status(500)
            self.close_connection = True
            return
        headers, payload = work
        self._send(200, payload, headers)

    def do_POST(self):
        size = int(self.headers.get("Content-Length") or 0)
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if size > MAX_RESPONSE:
            self._drain(size)
            match = _INVOCATION.match(self.path)
            if match and match.group(2) == "response":
                self.server.host.report(match.group(1), json.dumps({
                    "errorMessage": f"Response payload size exceeded maximum allowed payload "
                                    f"size ({MAX_RESPONSE} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge"}).encode(),
                    "Function.ResponseSizeTooLarge")
            return self._status(413)
        body = self.rfile.read(size) if size else b""
        if self.path == "/2018-06-01/runtime/init/error":
            return self._status(self.server.host.init_error(body, error_type))
        match = _INVOCATION.match(self.path)
        if match is None:
            return self._send(404, b'{"errorMessage":"Not Found","errorType":"NotFound"}')
        request_id, kind = match.groups()
        if kind == "error" and not error_type:
            error_type = "Unhandled"
        status = self.server.host.report(request_id, body, error_type if kind == "error" else None)
        self._status(status)

    def _drain(self, size: int):
        while size > 0:
            chunk = self.rfile.read(min(size, 1 << 20))
            if not chunk:
                break
            size -= len(chunk)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    host: RuntimeHost
    uid: int | None = None

    def verify_request(self, request, client_address) -> bool:
        """Only the environment's own uid may speak to its Runtime API: another function
        on the same host must not take its events or answer for it."""
        return self.uid is None or peer_uid(client_address[1], self.server_address[1]) == self.uid

    def handle_error(self, request, client_address):
        pass  # a runtime killed mid-request (timeout, memory, retire) is expected


def peer_uid(client_port: int, server_port: int) -> int | None:
    """The uid owning the loopback TCP socket 127.0.0.1:client_port → :server_port."""
    local, remote = f":{client_port:04X}", f":{server_port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1].endswith(local) and fields[2].endswith(remote):
                    return int(fields[7])
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return None


class RuntimeAPI:
    """One Runtime API endpoint: on `sock` (listening in the environment's own namespace,
    where nobody else can connect), or on the host's 127.0.0.1 and an ephemeral port, where
    with `uid` only that user's connections are served."""

    def __init__(self, host: RuntimeHost, uid: int | None = None,
                 sock: socket.socket | None = None):
        if sock is None:
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.uid = uid
        else:
            self._server = _Server(sock.getsockname(), _Handler, bind_and_activate=False)
            self._server.socket.close()
            self._server.socket = sock
        self._server.host = host
        address, port = self._server.socket.getsockname()[:2]
        self.address = f"{address}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.5,),
                                        name=f"lambda-runtime-api-{self.address}", daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()
