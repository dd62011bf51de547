"""A tiny DNS responder for a network's resolver (base + 2): it answers, it never forwards.

`Responder(sock, answer)` serves queries arriving on a UDP socket the caller made (usually
inside a router namespace, bound to port 53 of the resolver address). `answer(name, kind)`
returns the records for `name` (lower case, no trailing dot): IPv4 addresses for kind "A",
names for "PTR" (`5.1.0.10.in-addr.arpa`). A name with no A records is NXDOMAIN, and so is
everything else; an AAAA or other query for a name that has A records gets an empty answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from dnslib import PTR, QTYPE, RCODE, RR, A, DNSError, DNSRecord

Answer = Callable[[str, str], list[str] | None]


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
    """Serves `answer` on a bound UDP socket from a thread of its own."""

    def __init__(self, sock: socket.socket, answer: Answer, ttl: int = 60) -> None:
        self.sock = sock
        self.answer = answer
        self.ttl = ttl
        self._thread = threading.Thread(target=self._serve, name="fabric-dns", daemon=True)

    def start(self) -> Responder:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = respond(query, self.answer, self.ttl)
            except Exception:  # a bad callback answer must not stop the resolver
                reply = None
            if reply is not None:
                with contextlib.suppress(OSError):
                    self.sock.sendto(reply, peer)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(2)
