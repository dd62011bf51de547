"""Connections that would hold the server: a header deadline, and a cap per client address.

uvicorn's HTTP protocol (httptools) closes a keep-alive connection that stays idle after a
response, but not one that never finishes its request's headers: a client that opens
connections and trickles its request line, or sends nothing, holds a file descriptor each
for ever (slowloris), until the process has none left. `GuardedProtocol` is that protocol
with three additions:

- a header deadline: from the moment a connection opens, or its last response ends, it
  has `header_timeout` seconds (CLOUDLET_HEADER_TIMEOUT, 20 by default: S3 drops a silent
  connection after about 20) to finish the next request's headers, or it is closed (by
  `HeaderWatchdog`, within a second of the deadline). A request whose headers are in is
  not limited by it: its body has the gateway's own timeout (CLOUDLET_BODY_TIMEOUT), its
  handler as long as it takes;
- a header size limit: a request whose headers pass `MAX_HEADER_BYTES` before they end is
  answered 400 and closed, instead of growing in memory until the deadline;
- a cap per client address: one address holds at most `max_per_client` connections at
  once (CLOUDLET_MAX_CONNECTIONS_PER_CLIENT, 512 by default, above the pools SDKs open);
  the next gets a 503 `SlowDown`, as S3 answers a client it wants slower, and is closed.
  Other addresses are unaffected: health checks from 127.0.0.2 go on while 127.0.0.1
  floods.

    protocol = GuardedProtocol.configured(header_timeout=20.0, max_per_client=512)
    uvicorn.Config(app, http=protocol, ...)
"""

from __future__ import annotations

import asyncio
from collections import Counter

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Above the gateway's own limit (16 KiB, answered as the service's modeled error): this one
# only keeps a connection from buffering without end.
MAX_HEADER_BYTES = 128 * 1024

_SLOW_DOWN_BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                   b"<Message>Please reduce your request rate.</Message></Error>")
SLOW_DOWN = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/xml\r\n"
             b"content-length: " + str(len(_SLOW_DOWN_BODY)).encode() + b"\r\n"
             b"connection: close\r\n\r\n" + _SLOW_DOWN_BODY)


class ClientConnections:
    """How many connections each client address holds open."""

    def __init__(self, limit: int):
        self.limit = limit
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.limit:
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class HeaderWatchdog:
    """One timer per server, not one per request: every `interval` seconds it drops the
    connections that have waited longer than the timeout for a request's headers. A
    connection only notes when it began to wait (`waiting_since`), which costs a request
    next to nothing."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.interval = min(1.0, timeout / 4)
        self.running = False

    def watch(self, loop: asyncio.AbstractEventLoop, connections: set) -> None:
        if not self.running:
            self.running = True
            loop.call_later(self.interval, self.tick, loop, connections)

    def tick(self, loop: asyncio.AbstractEventLoop, connections: set) -> None:
        if not connections:  # idle: the next connection starts it again
            self.running = False
            return
        oldest = loop.time() - self.timeout
        for connection in list(connections):
            since = getattr(connection, "waiting_since", None)
            if since is not None and since < oldest:
                connection.headers_late()
        loop.call_later(self.interval, self.tick, loop, connections)


class GuardedProtocol(HttpToolsProtocol):
    watchdog: HeaderWatchdog = HeaderWatchdog(20.0)
    clients: ClientConnections = ClientConnections(512)

    @classmethod
    def configured(cls, header_timeout: float, max_per_client: int) -> type[GuardedProtocol]:
        """A subclass with these settings, for one server (uvicorn makes the instances)."""
        return type(cls.__name__, (cls,), {"watchdog": HeaderWatchdog(header_timeout),
                                           "clients": ClientConnections(max_per_client)})

    @classmethod
    def counted_apart(cls) -> type[GuardedProtocol]:
        """The same settings with a count of clients of its own: for an in-cloud listener,
        whose clients' 127.0.0.1 (inside their namespace) is not the host's."""
        return type(cls.__name__, (cls,), {"clients": ClientConnections(cls.clients.limit)})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.address: str | None = None  # None: refused, or not yet connected
        # loop.time() when the connection began to wait for a request's headers; None
        # while a request is in (or the connection is refused).
        self.waiting_since: float | None = None
        self.header_bytes = 0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple | list) and peer else ""
        if not self.clients.admit(address):
            transport.write(SLOW_DOWN)
            transport.close()
            return
        self.address = address
        super().connection_made(transport)
        self.await_headers()
        self.watchdog.watch(self.loop, self.connections)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.address is None:  # refused: uvicorn never knew it
            return
        self.clients.release(self.address)
        self.address = None
        self.waiting_since = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.address is None:
            return
        waiting = self.waiting_since is not None
        if waiting:
            self.header_bytes += len(data)
        super().data_received(data)
        if waiting and self.waiting_since is not None and self.header_bytes > MAX_HEADER_BYTES:
            self.waiting_since = None
            if not self.transport.is_closing():
                self.send_400_response("Request header section too large.")

    def on_headers_complete(self) -> None:
        self.waiting_since = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.await_headers()

    # -- the header deadline ------------------------------------------------------------
    def await_headers(self) -> None:
        self.header_bytes = 0
        self.waiting_since = self.loop.time()

    def headers_late(self) -> None:
        """The deadline passed with the headers unfinished: the connection is dropped at
        once (abort: a TLS close would wait for the client's close_notify)."""
        self.waiting_since = None
        if not self.transport.is_closing():
            self.transport.abort()
