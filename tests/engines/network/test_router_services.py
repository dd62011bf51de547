"""The resolver (base + 2) and the metadata service live on the router: reached as INPUT,
so security groups do not apply to them, as on AWS."""

import socket

from dnslib import DNSRecord
from fabric_support import connect, fetch

from cloudlet.engines.network import Interface, Subnet
from cloudlet.engines.network.dns import Responder

NET = "vpc-svc"


def network(fabric):
    fabric.put_network(NET, ["10.1.0.0/16"])
    fabric.put_subnet(NET, Subnet("sub-a", "10.1.4.0/24"))
    # no security group at all: every forwarded packet from it is dropped
    fabric.put_interface(NET, Interface("eni-a", "sub-a", "a", ("10.1.4.20",)))
    return fabric.host_namespace_name("a")


def test_resolver_answers_an_instance_without_groups(fabric):
    host = network(fabric)
    resolver = fabric.resolver_address(NET)
    assert resolver == "10.1.0.2"
    sock = fabric.socket(fabric.router_namespace(NET), socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((resolver, 53))
    names = {"ip-10-1-4-20.ec2.internal": ["10.1.4.20"]}
    responder = Responder(sock, lambda name, kind: names.get(name) if kind == "A" else None)
    responder.start()
    client = fabric.socket(host, socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    try:
        client.sendto(DNSRecord.question("ip-10-1-4-20.ec2.internal").pack(), (resolver, 53))
        reply = DNSRecord.parse(client.recv(4096))
        assert [str(rr.rdata) for rr in reply.rr] == ["10.1.4.20"]
    finally:
        client.close()
        responder.stop()


def test_metadata_address_and_nothing_else_on_the_router(fabric, listen):
    host = network(fabric)
    router = fabric.router_namespace(NET)
    imds = listen(router, fabric.metadata_address, 80, reply=b"ami-id")
    assert fetch(fabric, host, fabric.metadata_address, 80) == b"ami-id"
    assert imds.last_peer() == "10.1.4.20"  # it tells instances apart by source address
    listen(router, "0.0.0.0", 2222)
    assert connect(fabric, host, "10.1.4.1", 2222) == "timeout"  # the gateway is no server
