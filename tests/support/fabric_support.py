"""Helpers for the VPC fabric's engine tests: fabrics with a prefix of their own, listeners
and connects through sockets created inside namespaces."""

from __future__ import annotations

import contextlib
import random
import socket
import string
import threading

import pytest

from cloudlet.engines.network import Fabric


def new_fabric(**kwargs) -> Fabric:
    """A fabric whose names and public range no other test (or developer) uses."""
    rng = random.SystemRandom()
    prefix = "t" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(4))
    kwargs.setdefault("public_range", f"127.{rng.randrange(101, 250)}.{rng.randrange(256)}.0/24")
    kwargs.setdefault("relay_timeout", 3.0)
    fabric = Fabric(prefix=prefix, **kwargs)
    available, reason = fabric.status()
    if not available:
        pytest.skip(f"VPC fabric unavailable: {reason}")
    return fabric


class Listener:
    """A TCP listener inside a namespace that answers each connection with `reply`."""

    def __init__(self, fabric: Fabric, where: str, address: str, port: int,
                 reply: bytes = b"hello") -> None:
        self.sock = fabric.socket(where)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(64)
        self.reply = reply
        self.peers: list[tuple[str, int]] = []
        self.accepted = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer)
            self.accepted.set()
            with contextlib.suppress(OSError):
                conn.sendall(self.reply)
            conn.close()

    def last_peer(self, timeout: float = 2.0) -> str:
        """The address the latest connection came from (waiting for the first one)."""
        assert self.accepted.wait(timeout), "no connection arrived"
        return self.peers[-1][0]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def connect(fabric: Fabric, where: str, address: str, port: int, timeout: float = 1.0) -> str:
    """'open', 'refused', 'timeout' or 'unreachable' for a TCP connect from `where`."""
    sock = fabric.socket(where)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError:
        return "unreachable"
    finally:
        sock.close()


def fetch(fabric: Fabric | None, where: str | None, address: str, port: int,
          timeout: float = 2.0) -> bytes | str:
    """What a listener says to a connect from `where` (None: the host), or the failure."""
    sock = fabric.socket(where) if where else socket.socket()
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        chunks = []
        while data := sock.recv(4096):
            chunks.append(data)
        return b"".join(chunks)
    except ConnectionResetError:
        return "reset"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    finally:
        sock.close()
