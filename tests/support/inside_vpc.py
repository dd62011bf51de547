"""Code that runs inside a VPC, for the tests: a thread in a namespace the EC2 API built (an
instance's, a NAT gateway's), whose host names resolve through the VPC's resolver only, as
an instance's do (its resolv.conf names base + 2), never through the host's.

    ask(where, resolver, name, kind="A", tcp=False) -> DNSRecord | None   (None: no answer)
    inside = InsideVpc(where, resolver)
    inside.run(fn, *args)       fn(*args) on a fresh thread inside `where`: every socket it
                                makes (botocore's connections too) is made there

Every client that talks to AWS's endpoint addresses must run through `inside.run`: the same
connect from the host's namespace would follow the host's default route out of the machine.
A name under amazonaws.com asked for outside `run` is refused, not resolved.
"""

from __future__ import annotations

import os
import socket
import struct
import threading

from dnslib import QTYPE, RCODE, DNSRecord

from cloudlet.engines.network import Fabric

_local = threading.local()
_original = socket.getaddrinfo


def ask(where: str, resolver: str, name: str, kind: str = "A", tcp: bool = False,
        timeout: float = 1.0) -> DNSRecord | None:
    """One query to the VPC's resolver from a socket made in `where`."""
    query = DNSRecord.question(name, kind).pack()
    sock = Fabric.socket(where, socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        if tcp:
            sock.connect((resolver, 53))
            sock.sendall(struct.pack("!H", len(query)) + query)
            size = struct.unpack("!H", _exactly(sock, 2))[0]
            return DNSRecord.parse(_exactly(sock, size))
        sock.sendto(query, (resolver, 53))
        return DNSRecord.parse(sock.recv(4096))
    except (TimeoutError, ConnectionError):
        return None
    finally:
        sock.close()


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the resolver closed the connection")
        data += chunk
    return data


def _getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    inside = getattr(_local, "inside", None)
    name = host.decode() if isinstance(host, bytes) else host
    if inside is None:
        if isinstance(name, str) and name.rstrip(".").endswith("amazonaws.com"):
            raise socket.gaierror(socket.EAI_NONAME, f"{name} is resolved only inside a VPC")
        return _original(host, port, family, type, proto, flags)
    try:
        socket.inet_aton(name)
        addresses = [name]
    except (OSError, TypeError):
        reply = ask(inside.where, inside.resolver, name)
        if reply is None or reply.header.rcode != RCODE.NOERROR:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: no answer") from None
        addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: no address") from None
    return [(socket.AF_INET, type or socket.SOCK_STREAM, proto or 6, "", (a, int(port or 0)))
            for a in addresses]


socket.getaddrinfo = _getaddrinfo


class InsideVpc:
    def __init__(self, where: str, resolver: str) -> None:
        self.where, self.resolver = where, resolver

    def run(self, fn, *args, timeout: float = 60):
        result: dict = {}
        host = os.readlink("/proc/thread-self/ns/net")

        def main():
            try:
                with Fabric.inside(self.where):
                    assert os.readlink("/proc/thread-self/ns/net") != host
                    _local.inside = self
                    try:
                        result["value"] = fn(*args)
                    finally:
                        _local.inside = None
            except BaseException as exc:  # handed to the caller
                result["error"] = exc

        thread = threading.Thread(target=main, name="inside-vpc", daemon=True)
        thread.start()
        thread.join(timeout)
        assert not thread.is_alive(), "the call inside the VPC did not finish"
        if "error" in result:
            raise result["error"]
        return result.get("value")
