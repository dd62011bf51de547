"""IMDS's HTTP server on a loopback socket, driven by real clients: botocore's own IMDS fetchers
(credentials and region, IMDSv2 then v1), http.client with keep-alive, raw bytes."""

from __future__ import annotations

import http.client
import socket

import pytest
from botocore.utils import InstanceMetadataFetcher, InstanceMetadataRegionFetcher

from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Tokens
from cloudlet.services.ec2.compute.metadata_http import MetadataServers
from tests.services.test_ec2_metadata import facts


@pytest.fixture
def served():
    """An IMDS for one fixture instance on 127.0.0.1 (the peer every connection has)."""
    servers = MetadataServers()
    found = {"facts": facts()}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    handler = MetadataHandler(lambda peer: found["facts"] if peer == "127.0.0.1" else None,
                              Tokens())
    stop = servers.serve(sock, handler)
    yield port, found, stop
    stop()
    servers.close()


def test_botocore_finds_credentials_and_region(served):
    port, _, _ = served
    base = f"http://127.0.0.1:{port}/"
    credentials = InstanceMetadataFetcher(base_url=base, timeout=2).retrieve_iam_role_credentials()
    assert credentials["access_key"] == "ASIAEXAMPLE"
    assert credentials["role_name"] == "app-role"
    assert credentials["token"] == "token"
    assert InstanceMetadataRegionFetcher(base_url=base, timeout=2).retrieve_region() == "us-east-1"


def test_botocore_with_tokens_required(served):
    port, found, _ = served
    found["facts"].instance["MetadataOptions"]["HttpTokens"] = "required"
    base = f"http://127.0.0.1:{port}/"
    credentials = InstanceMetadataFetcher(base_url=base, timeout=2).retrieve_iam_role_credentials()
    assert credentials["access_key"] == "ASIAEXAMPLE"


def test_keep_alive_serves_several_requests_on_one_connection(served):
    port, _, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    conn.request("PUT", "/latest/api/token",
                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    reply = conn.getresponse()
    token = reply.read().decode()
    assert reply.status == 200 and reply.getheader("Server") == "EC2ws"
    local = conn.sock.getsockname()
    for path in ("/latest/meta-data/instance-id", "/latest/meta-data/placement/region"):
        conn.request("GET", path, headers={"X-aws-ec2-metadata-token": token})
        reply = conn.getresponse()
        assert reply.status == 200 and reply.read()
        assert int(reply.getheader("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")) <= 60
        assert conn.sock.getsockname() == local  # the same connection
    conn.request("HEAD", "/latest/meta-data/instance-id")
    reply = conn.getresponse()
    assert reply.status == 200 and reply.getheader("Content-Length") == "19"
    assert reply.read() == b""
    conn.close()


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_garbage_gets_400_and_the_server_keeps_serving(served):
    port, _, _ = served
    assert raw(port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
               ).startswith(b"HTTP/1.1 400 ")
    reply = raw(port, b"GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"i-0123456789abcdef0")


def test_a_large_body_gets_413(served):
    port, _, _ = served
    body = b"x" * (70 * 1024)
    reply = raw(port, b"PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
                      b"X-aws-ec2-metadata-token-ttl-seconds: 60\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert reply.startswith(b"HTTP/1.1 413 ")


def test_stop_closes_the_socket(served):
    port, _, stop = served
    stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
