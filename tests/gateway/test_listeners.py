"""In-cloud listeners (gateway/listeners.py): the app served on extra sockets, marked as
coming from inside the cloud, beside a real uvicorn server; started and stopped from any
thread, closed at shutdown."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import uvicorn

from cloudlet.engines.network import netns
from cloudlet.gateway.listeners import CloudListeners
from cloudlet.server import Server


async def echo_origin(scope, receive, send):
    """Answers with the scope's origin mark ("-" when there is none)."""
    if scope["type"] != "http":
        return
    body = scope.get("cloudlet.origin", "-").encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    config = uvicorn.Config(echo_origin, host="127.0.0.1", port=free_port(), lifespan="off",
                            log_level="warning")
    running = Server(config)
    running.listeners = CloudListeners()
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.started
    yield running
    running.should_exit = True
    thread.join(10)


def listening(where=None, port: int = 0) -> socket.socket:
    sock = netns.socket(where)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def recv(sock: socket.socket) -> bytes:
    data = sock.recv(4096)
    if not data:
        raise ConnectionResetError("closed by the server")
    return data


def get(sock: socket.socket, headers: str = "") -> bytes:
    """One GET on a connected socket (kept alive), the response's body."""
    sock.sendall(f"GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += recv(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    size = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")))
    while len(body) < size:
        body += recv(sock)
    return body


def connect(port: int, where=None, timeout: float = 5) -> socket.socket:
    sock = netns.socket(where)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def test_marked_beside_the_main_port_and_stopped(server):
    main = connect(server.config.port)
    assert get(main) == b"-"
    extra = listening()
    port = extra.getsockname()[1]
    stop = server.listeners.serve(extra)
    inside = connect(port)
    assert get(inside) == b"cloud"
    assert get(inside, "cloudlet.origin: host\r\n") == b"cloud"  # no header can change it
    assert get(main, "cloudlet.origin: cloud\r\n") == b"-"
    stop()
    stop()  # idempotent
    with pytest.raises(OSError):
        get(inside)  # its open connection is cut, not only the listening socket
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            connect(port, timeout=1).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the stopped listener still accepts")
    assert get(main) == b"-"


def test_a_client_that_connects_at_once_is_served(server):
    """serve() returns before the loop has the socket: early clients wait in the backlog."""
    for _ in range(20):
        extra = listening()
        stop = server.listeners.serve(extra)
        with connect(extra.getsockname()[1]) as client:
            assert get(client) == b"cloud"
        stop()


def test_shutdown_closes_them_and_refuses_more(server):
    extra = listening()
    port = extra.getsockname()[1]
    server.listeners.serve(extra)
    with connect(port) as client:
        assert get(client) == b"cloud"
    server.should_exit = True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            connect(port, timeout=1).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the listener outlived the server")
    late = listening()
    with pytest.raises(RuntimeError):
        server.listeners.serve(late)
    assert late.fileno() == -1  # taken over, and closed


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_a_socket_made_in_a_namespace_is_reached_only_there(server):
    fd = netns.anonymous()
    try:
        extra = listening(fd, 8080)
        stop = server.listeners.serve(extra)
        with connect(8080, where=fd) as client:
            assert get(client) == b"cloud"
        with pytest.raises(ConnectionRefusedError):  # the main port is the host's, not there
            connect(server.config.port, where=fd, timeout=1)
        stop()
    finally:
        os.close(fd)


def test_a_listener_with_a_tls_context_of_its_own(server, tmp_path):
    """serve(sock, ssl=context): TLS there (verified against Cloudlet's CA), plain HTTP on
    the main port and on a listener without one."""
    import ssl

    from cloudlet.ca import cloudlet_ca

    ca = cloudlet_ca(tmp_path)
    ca.issue(["*.amazonaws.com"], tmp_path / "cert.pem", tmp_path / "key.pem")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    secure, plain = listening(), listening()
    stops = [server.listeners.serve(secure, ssl=context), server.listeners.serve(plain, ssl=None)]
    client = ssl.create_default_context(cafile=str(ca.bundle_path))
    with client.wrap_socket(connect(secure.getsockname()[1]),
                            server_hostname="sts.amazonaws.com") as tls:
        assert get(tls) == b"cloud"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with connect(secure.getsockname()[1]) as raw, pytest.raises(OSError):
        get(raw)  # no plain HTTP on the TLS listener
    with connect(plain.getsockname()[1]) as raw:
        assert get(raw) == b"cloud"
    with pytest.raises(ssl.SSLCertVerificationError), client.wrap_socket(
            connect(secure.getsockname()[1]), server_hostname="example.com"):
        pass
    for stop in stops:
        stop()
