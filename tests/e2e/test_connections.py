"""Hostile connections, over sockets: headers that never finish are cut off after the header
timeout, one client address holds only so many connections, health answers from another
address throughout, and a declared body too large is refused before it is sent."""

from __future__ import annotations

import json
import socket
import time

import botocore.auth
import requests
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import unique

STALLED = 300
BOUND = 60  # seconds the test waits at most; the server's deadline is 2


def connect(server, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                    source_address=(source, 0))


def health_from(server, source: str) -> int:
    with connect(server, source) as s:
        s.sendall(b"GET /_cloudlet/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = _read_all(s)
    return int(reply.split(b" ", 2)[1])


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def closed_by_server(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        s.setblocking(True)


def test_stalled_headers_are_closed_and_health_answers_throughout(fresh_cloudlet):
    server = fresh_cloudlet(env={"CLOUDLET_BODY_TIMEOUT": "3", "CLOUDLET_HEADER_TIMEOUT": "2"})
    stalled = []
    try:
        for i in range(STALLED):
            s = connect(server)
            if i % 3 == 0:
                s.sendall(b"GET /_cloudlet/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            elif i % 3 == 1:
                s.sendall(b"PUT /bucket/key HTT")
            stalled.append(s)  # every third sends nothing at all
        answers = []
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            answers.append(health_from(server, "127.0.0.2"))
            if all(closed_by_server(s) for s in stalled):
                break
            time.sleep(0.2)
        assert all(closed_by_server(s) for s in stalled)
        assert answers and set(answers) == {200}
        assert health_from(server, "127.0.0.1") == 200  # the address may come back
    finally:
        for s in stalled:
            s.close()


def test_one_client_address_holds_only_so_many_connections(fresh_cloudlet):
    server = fresh_cloudlet(env={"CLOUDLET_BODY_TIMEOUT": "3",
                                 "CLOUDLET_MAX_CONNECTIONS_PER_CLIENT": "20"})
    held = [connect(server) for _ in range(20)]
    try:
        refused = b""
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline and not refused:
            with connect(server) as extra:
                extra.sendall(b"GET /_cloudlet/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
                reply = _read_all(extra)
            if reply.startswith(b"HTTP/1.1 503"):
                refused = reply
        assert b"<Code>SlowDown</Code>" in refused
        assert health_from(server, "127.0.0.2") == 200
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + BOUND
    while health_from_or_none(server) != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert health_from(server, "127.0.0.1") == 200


def health_from_or_none(server) -> int | None:
    try:
        return health_from(server, "127.0.0.1")
    except (OSError, IndexError, ValueError):
        return None


def test_a_declared_6_gib_put_gets_entity_too_large_at_once(cloudlet):
    s3 = cloudlet.client("s3")
    bucket = unique("huge")
    s3.create_bucket(Bucket=bucket)
    size = 6 * 1024**3
    url = f"{cloudlet.endpoint}/{bucket}/huge"
    request = AWSRequest(method="PUT", url=url, headers={
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": str(size)})
    botocore.auth.S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    for headers in (dict(request.headers.items()), {"Content-Length": str(size)}):  # anonymous too
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "content-length")
        with connect(cloudlet) as s:
            s.sendall(f"PUT /{bucket}/huge HTTP/1.1\r\nHost: 127.0.0.1:{cloudlet.port}\r\n{head}"
                      f"Content-Length: {size}\r\n\r\n".encode() + b"x" * 4096)
            reply = _read_all(s)  # the server answers and closes: no waiting out the body
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
        assert b"<Code>EntityTooLarge</Code>" in reply
        assert f"<ProposedSize>{size}</ProposedSize>".encode() in reply
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_header_section_that_never_ends_is_refused(fresh_cloudlet):
    server = fresh_cloudlet()
    with connect(server) as s:
        s.sendall(b"GET /_cloudlet/health HTTP/1.1\r\nHost: localhost\r\n")
        try:
            for i in range(400):
                s.sendall(f"X-Filler-{i}: {'y' * 1000}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = _read_all(s)
    assert reply.startswith(b"HTTP/1.1 400")
    assert server.healthy()


def test_forwarded_headers_do_not_pass_for_the_clients_address(cloudlet):
    """Nothing proxies Cloudlet: X-Forwarded-For is no aws:SourceIp."""
    s3 = cloudlet.client("s3")
    bucket = unique("sourceip")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))
    url = f"{cloudlet.endpoint}/{bucket}/k"
    assert requests.get(url, timeout=10).status_code == 403
    spoofed = requests.get(url, headers={"X-Forwarded-For": "203.0.113.7",
                                         "X-Forwarded-Proto": "https"}, timeout=10)
    assert spoofed.status_code == 403
