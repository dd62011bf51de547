"""A tiny DNS responder for a network's resolver (base + 2): it answers, it never forwards.

`Responder(sock, answer, serving=None)` serves queries arriving on a socket the caller made
(usually inside a router namespace, bound to port 53 of the resolver address): a UDP socket,
or a listening TCP one (each message with its two-byte length, several on one connection).
While `serving()` is false, queries get no answer at all. `answer(name, kind)`
returns the records for `name` (lower case, no trailing dot): IPv4 addresses for kind "A",
names for "PTR" (`5.1.0.10.in-addr.arpa`). A name with no A records is NXDOMAIN, and so is
everything else; an AAAA or other query for a name that has A records gets an empty answer.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

from dnslib import PTR, QTYPE, RCODE, RR, A, DNSError, DNSRecord

Answer = Callable[[str, str], list[str] | None]
TCP_IDLE = 10.0  # seconds a TCP connection may wait between queries
TCP_CONNECTIONS = 32


def respond(query: bytes, answer: Answer, ttl: int = 60) -> bytes | None:
    """The reply to one query packet (None for a packet that is not a query)."""
    try:
        request = DNSRecord.parse(query)
    except (DNSError, ValueError, IndexError):
        return None
    if request.header.qr or not request.questions:
        return None
    reply = request.reply()
    reply.header.ra = 0
    question = request.q
    name = str(question.qname).rstrip(".").lower()
    kind = QTYPE.get(question.qtype, str(question.qtype))
    if kind == "PTR":
        records = answer(name, "PTR") or []
        reply.add_answer(*[RR(question.qname, QTYPE.PTR, rdata=PTR(value), ttl=ttl)
                           for value in records])
    else:
        records = answer(name, "A") or []
        if kind == "A":
            reply.add_answer(*[RR(question.qname, QTYPE.A, rdata=A(value), ttl=ttl)
                               for value in records])
    if not records:
        reply.header.rcode = RCODE.NXDOMAIN
    return reply.pack()


class Responder:
    """Serves `answer` on a bound UDP socket, or a listening TCP socket, from threads of its
    own."""

    def __init__(self, sock: socket.socket, answer: Answer, ttl: int = 60,
                 serving: Callable[[], bool] | None = None) -> None:
        self.sock = sock
        self.answer = answer
        self.ttl = ttl
        self.serving = serving
        self._tcp = sock.type == socket.SOCK_STREAM
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept if self._tcp else self._serve,
                                        name="fabric-dns", daemon=True)

    def start(self) -> Responder:
        self._thread.start()
        return self

    def reply(self, query: bytes) -> bytes | None:
        if self.serving is not None and not self.serving():
            return None
        try:
            return respond(query, self.answer, self.ttl)
        except Exception:  # a bad callback answer must not stop the resolver
            return None

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            reply = self.reply(query)
            if reply is not None:
                with contextlib.suppress(OSError):
                    self.sock.sendto(reply, peer)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                if len(self._connections) >= TCP_CONNECTIONS:
                    conn.close()
                    continue
                self._connections.add(conn)
            threading.Thread(target=self._converse, args=(conn,), name="fabric-dns-tcp",
                             daemon=True).start()

    def _converse(self, conn: socket.socket) -> None:
        conn.settimeout(TCP_IDLE)
        try:
            while True:
                head = _read(conn, 2)
                query = _read(conn, struct.unpack("!H", head)[0]) if head else b""
                if not query:
                    return
                reply = self.reply(query)
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)


def _read(conn: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes, or b"" when the peer closed first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data
