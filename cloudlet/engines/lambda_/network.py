"""An execution environment's network: a namespace of its own whose only way out is Cloudlet.

The namespace has nothing but `lo` (engines/network/netns.anonymous()). Cloudlet creates the
listening sockets inside it (a thread enters, binds 127.0.0.1, listens, and comes back), and
serves them from its own process:

    127.0.0.1:9001   the Runtime API (AWS_LAMBDA_RUNTIME_API, the port AWS uses)
    127.0.0.1:4566   Cloudlet's API (AWS_ENDPOINT_URL), when the engine has `serve_api`

There is no route and nothing else listens, so the host's loopback (other servers, Cloudlet's
own host port) is out of reach. The namespace has no name: the descriptor, the two sockets
and the environment's processes hold it, and the kernel frees it with the last of them, so a
crashed Cloudlet leaves none behind. Functions with VpcConfig are not wired here.

`serve_api(sock)` is the gateway's in-cloud listener (gateway/listeners.py): it serves
Cloudlet's ASGI app on the socket, marked as coming from inside the cloud, and returns the
callable that stops it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from cloudlet.engines.network import netns

RUNTIME_API_PORT = 9001
CLOUD_API_PORT = 4566
LOOPBACK = "127.0.0.1"

ServeApi = Callable[[socket.socket], Callable[[], None]]


def available() -> bool:
    """Whether environments can get network namespaces here (root, setns allowed)."""
    return netns.available()[0]


def endpoint_inside(endpoint_url: str) -> str:
    """Cloudlet's endpoint as a function reaches it from its namespace: the same scheme, the
    same loopback name when the caller used one (`localhost` keeps TLS names matching), and
    the in-namespace port."""
    parts = urlsplit(endpoint_url or f"http://{LOOPBACK}")
    host = parts.hostname if parts.hostname in ("localhost", LOOPBACK) else LOOPBACK
    return f"{parts.scheme or 'http'}://{host}:{CLOUD_API_PORT}"


class EnvNetwork:
    """One environment's namespace and the listening sockets Cloudlet made in it."""

    def __init__(self, serve_api: ServeApi | None = None):
        self.fd = netns.anonymous()
        self._stop_api: Callable[[], None] | None = None
        self.runtime_socket: socket.socket | None = None
        try:
            self.runtime_socket = self._listen(RUNTIME_API_PORT)
            if serve_api is not None:
                api = self._listen(CLOUD_API_PORT)
                try:
                    self._stop_api = serve_api(api)
                except BaseException:
                    api.close()
                    raise
        except BaseException:
            if self.runtime_socket is not None:
                self.runtime_socket.close()
            self.close()
            raise

    def _listen(self, port: int) -> socket.socket:
        sock = netns.socket(self.fd)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, port))
            sock.listen(128)
        except BaseException:
            sock.close()
            raise
        return sock

    def close(self) -> None:
        """Stop serving Cloudlet's API there and let the namespace go (the Runtime API's
        socket is closed by its server)."""
        stop, self._stop_api = self._stop_api, None
        if stop is not None:
            stop()
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
