"""The TCP front on an instance's endpoint port.

Clients connect to the endpoint; the front connects to whichever server is the primary now
(`retarget`) and copies bytes both ways until either side closes. TLS passes through
untouched: it terminates in the database server. A failover re-points the front, so the
endpoint stays the same; a front with no target (a stopped instance) does not listen, so
connections are refused.

One accept thread per front and two copy threads per connection: blocking sockets with
TCP_NODELAY keep a round trip to a few tens of microseconds over connecting directly.
"""

from __future__ import annotations

import logging
import socket
import threading

log = logging.getLogger("cloudlet.rds.front")

BUFFER = 256 * 1024


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Front:
    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.target: int | None = None
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._accepting = False
        self._lock = threading.Lock()

    def bind(self) -> None:
        """Take the endpoint port (OSError when it is taken); accepts once `open`."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.host, self.port))
                listener.listen(128)
            except OSError:
                listener.close()
                raise
            self._listener = listener

    def open(self, target: int) -> None:
        """Point at the server on 127.0.0.1:target and accept connections."""
        self.bind()
        self.target = target
        with self._lock:
            if not self._accepting:
                self._accepting = True
                threading.Thread(target=self._accept, args=(self._listener,),
                                 name=f"rds-front-{self.port}", daemon=True).start()

    def retarget(self, target: int) -> None:
        """New connections go to target; open ones stay with the server they reached."""
        self.target = target

    def close(self) -> None:
        """Stop listening and cut every connection (the instance stopped or went away)."""
        with self._lock:
            listener, self._listener = self._listener, None
            self._accepting = False
            connections, self._connections = self._connections, set()
        self.target = None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for conn in connections:
            _close(conn)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            target = self.target
            if target is None or self._listener is not listener:
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client, target), daemon=True,
                             name=f"rds-front-{self.port}-conn").start()

    def _serve(self, client: socket.socket, target: int) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._connections.update((client, upstream))
        back = threading.Thread(target=_copy, args=(upstream, client), daemon=True,
                                name=f"rds-front-{self.port}-back")
        back.start()
        _copy(client, upstream)
        back.join()
        with self._lock:
            self._connections.discard(client)
            self._connections.discard(upstream)
        _close(client)
        _close(upstream)


def _copy(source: socket.socket, sink: socket.socket) -> None:
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    try:
        while True:
            n = source.recv_into(buffer)
            if not n:
                break
            sink.sendall(view[:n])
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        source.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
