"""The resolver's responder: A and PTR from a callback, NXDOMAIN otherwise, no forwarding."""

import socket

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from cloudlet.engines.network.dns import Responder, respond

NAMES = {("ip-10-0-1-5.ec2.internal", "A"): ["10.0.1.5"],
         ("s3.amazonaws.com", "A"): ["198.18.1.10", "198.18.1.11"],
         ("5.1.0.10.in-addr.arpa", "PTR"): ["ip-10-0-1-5.ec2.internal"]}


def answer(name, kind):
    return NAMES.get((name, kind))


def ask(name, kind="A"):
    return DNSRecord.parse(respond(DNSRecord.question(name, kind).pack(), answer))


def test_a_records_from_the_callback():
    reply = ask("S3.amazonaws.com.")
    assert reply.header.rcode == RCODE.NOERROR
    assert sorted(str(rr.rdata) for rr in reply.rr) == ["198.18.1.10", "198.18.1.11"]


def test_ptr_records():
    reply = ask("5.1.0.10.in-addr.arpa", "PTR")
    assert [str(rr.rdata) for rr in reply.rr] == ["ip-10-0-1-5.ec2.internal."]


def test_unknown_names_are_nxdomain_and_nothing_is_forwarded():
    reply = ask("example.com")
    assert reply.header.rcode == RCODE.NXDOMAIN and not reply.rr


def test_other_types_of_a_known_name_get_an_empty_answer():
    reply = ask("ip-10-0-1-5.ec2.internal", "AAAA")
    assert reply.header.rcode == RCODE.NOERROR and not reply.rr


@pytest.mark.parametrize("packet", [b"", b"\x00" * 5, b"garbage" * 10])
def test_malformed_packets_get_no_answer(packet):
    assert respond(packet, answer) is None


def test_served_on_a_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    responder = Responder(sock, answer).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    try:
        client.sendto(b"junk", sock.getsockname())  # ignored; the next query still answers
        client.sendto(DNSRecord.question("ip-10-0-1-5.ec2.internal").pack(), sock.getsockname())
        reply = DNSRecord.parse(client.recv(4096))
        assert reply.q.qtype == QTYPE.A and str(reply.rr[0].rdata) == "10.0.1.5"
    finally:
        client.close()
        responder.stop()


def test_no_answer_at_all_while_not_serving():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    on = [False]
    responder = Responder(sock, answer, serving=lambda: on[0]).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(0.5)
    try:
        client.sendto(DNSRecord.question("ip-10-0-1-5.ec2.internal").pack(), sock.getsockname())
        with pytest.raises(TimeoutError):
            client.recv(4096)
        on[0] = True  # follows the predicate at once
        client.sendto(DNSRecord.question("ip-10-0-1-5.ec2.internal").pack(), sock.getsockname())
        assert str(DNSRecord.parse(client.recv(4096)).rr[0].rdata) == "10.0.1.5"
    finally:
        client.close()
        responder.stop()


def test_served_over_tcp_several_queries_on_one_connection():
    import struct

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    responder = Responder(sock, answer).start()
    try:
        with socket.create_connection(sock.getsockname(), timeout=2) as client:
            for name, kind in (("s3.amazonaws.com", "A"), ("5.1.0.10.in-addr.arpa", "PTR"),
                               ("example.com", "A")):
                query = DNSRecord.question(name, kind).pack()
                client.sendall(struct.pack("!H", len(query)) + query)
                size = struct.unpack("!H", client.recv(2))[0]
                data = b""
                while len(data) < size:
                    data += client.recv(size - len(data))
                reply = DNSRecord.parse(data)
                assert reply.q.qname == DNSRecord.question(name).q.qname
                if name == "example.com":
                    assert reply.header.rcode == RCODE.NXDOMAIN
                else:
                    assert reply.rr
            client.sendall(b"\x00")  # half a length, then gone: the server copes
    finally:
        responder.stop()
