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
