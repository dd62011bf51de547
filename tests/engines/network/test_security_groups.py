"""Security groups on real packets: allow and deny, references, live changes, source check."""

import socket
import struct

from fabric_support import connect
from pyroute2 import IPRoute

from cloudlet.engines.network import Interface, Rule, SecurityGroup, Subnet

NET = "vpc-sg"
ALL_OUT = (Rule(cidrs=("0.0.0.0/0",)),)


def web(*extra, ports=(80, 80)):
    return SecurityGroup("sg-web", ingress=(Rule("tcp", ports, cidrs=("10.0.0.0/16",)), *extra),
                         egress=ALL_OUT)


def network(fabric, server_groups=("sg-web",), client_groups=("sg-client",)):
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_subnet(NET, Subnet("sub-a", "10.0.1.0/24"))
    fabric.put_subnet(NET, Subnet("sub-b", "10.0.2.0/24"))
    fabric.put_security_group(NET, web())
    fabric.put_security_group(NET, SecurityGroup("sg-client", egress=ALL_OUT))
    fabric.put_interface(NET, Interface("eni-srv", "sub-a", "srv", ("10.0.1.10",),
                                        groups=server_groups))
    fabric.put_interface(NET, Interface("eni-cli", "sub-b", "cli", ("10.0.2.10",),
                                        groups=client_groups))
    return fabric.host_namespace_name("srv"), fabric.host_namespace_name("cli")


def test_allowed_port_opens_and_others_time_out(fabric, listen):
    srv, cli = network(fabric)
    for port in (80, 81):
        listen(srv, "10.0.1.10", port)
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"
    assert connect(fabric, cli, "10.0.1.10", 81) == "timeout"  # dropped silently, no reset
    assert connect(fabric, srv, "10.0.2.10", 80) == "timeout"  # nothing admits it at cli


def test_egress_rules_bind_the_sender(fabric, listen):
    srv, cli = network(fabric)
    listen(srv, "10.0.1.10", 80)
    fabric.put_security_group(NET, SecurityGroup("sg-client", egress=(
        Rule("tcp", (443, 443), cidrs=("0.0.0.0/0",)),)))
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
    fabric.put_security_group(NET, SecurityGroup("sg-client", egress=(
        Rule("tcp", (80, 80), cidrs=("10.0.1.0/24",)),)))
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"


def test_group_references_follow_membership(fabric, listen):
    srv, cli = network(fabric)
    fabric.put_security_group(NET, SecurityGroup(
        "sg-web", ingress=(Rule("tcp", (80, 80), groups=("sg-client",)),), egress=ALL_OUT))
    fabric.put_interface(NET, Interface("eni-other", "sub-b", "other", ("10.0.2.11",),
                                        groups=("sg-other",)))
    other = fabric.host_namespace_name("other")
    fabric.put_security_group(NET, SecurityGroup("sg-other", egress=ALL_OUT))
    listen(srv, "10.0.1.10", 80)
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"
    assert connect(fabric, other, "10.0.1.10", 80) == "timeout"
    # joining the referenced group admits it at once; leaving it shuts it out again
    fabric.put_interface(NET, Interface("eni-other", "sub-b", "other", ("10.0.2.11",),
                                        groups=("sg-other", "sg-client")))
    assert connect(fabric, other, "10.0.1.10", 80) == "open"
    fabric.put_interface(NET, Interface("eni-other", "sub-b", "other", ("10.0.2.11",),
                                        groups=("sg-other",)))
    assert connect(fabric, other, "10.0.1.10", 80) == "timeout"


def test_rule_change_applies_to_new_connections_and_spares_established_ones(fabric, listen):
    srv, cli = network(fabric)
    server = fabric.socket(srv)
    server.bind(("10.0.1.10", 80))
    server.listen()
    running = fabric.socket(cli)
    running.settimeout(2)
    running.connect(("10.0.1.10", 80))
    accepted, _ = server.accept()
    try:
        fabric.put_security_group(NET, SecurityGroup("sg-web", egress=ALL_OUT))  # revoke 80
        running.sendall(b"still")
        assert accepted.recv(16) == b"still"  # tracked: the flow goes on
        accepted.sendall(b"here")
        assert running.recv(16) == b"here"
        assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
        fabric.put_security_group(NET, web())  # re-authorize: the next connect passes
        assert connect(fabric, cli, "10.0.1.10", 80) == "open"
    finally:
        accepted.close()
        running.close()
        server.close()


def test_changing_groups_of_a_live_interface(fabric, listen):
    srv, cli = network(fabric, server_groups=())
    listen(srv, "10.0.1.10", 80)
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
    fabric.put_interface(NET, Interface("eni-srv", "sub-a", "srv", ("10.0.1.10",),
                                        groups=("sg-web",)))
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"


def echo_request(ident: int) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    total = sum(struct.unpack("!4H", header))
    total = (total & 0xFFFF) + (total >> 16)
    return struct.pack("!BBHHH", 8, 0, ~total & 0xFFFF, ident, 1)


def test_udp_and_icmp_rules(fabric):
    srv, cli = network(fabric)
    fabric.put_security_group(NET, web(Rule("udp", (53, 53), cidrs=("10.0.2.0/24",)),
                                       Rule("icmp", icmp=(8, -1), cidrs=("10.0.2.0/24",))))
    receiver = fabric.socket(srv, socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("10.0.1.10", 53))
    receiver.settimeout(1)
    blocked = fabric.socket(srv, socket.AF_INET, socket.SOCK_DGRAM)
    blocked.bind(("10.0.1.10", 54))
    blocked.settimeout(0.5)
    sender = fabric.socket(cli, socket.AF_INET, socket.SOCK_DGRAM)
    ping = fabric.socket(cli, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ping.settimeout(1)
    try:
        sender.sendto(b"q", ("10.0.1.10", 53))
        assert receiver.recvfrom(16)[0] == b"q"
        sender.sendto(b"q", ("10.0.1.10", 54))
        try:
            blocked.recvfrom(16)
            raise AssertionError("udp/54 passed")
        except TimeoutError:
            pass
        ping.sendto(echo_request(1), ("10.0.1.10", 0))
        assert ping.recvfrom(64)[0][20] == 0  # after the IP header: an echo reply
        fabric.put_security_group(NET, web())
        ping.sendto(echo_request(2), ("10.0.1.10", 0))  # a new identifier: a new flow
        try:
            ping.recvfrom(64)
            raise AssertionError("an echo request passed without an icmp rule")
        except TimeoutError:
            pass
    finally:
        for sock in (receiver, blocked, sender, ping):
            sock.close()


def test_source_check_drops_spoofed_packets_unless_disabled(fabric):
    srv, cli = network(fabric)
    fabric.put_security_group(NET, web(Rule("udp", (53, 53), cidrs=("10.0.0.0/16",))))
    with fabric.inside(cli), IPRoute() as ipr:
        ipr.addr("add", index=ipr.link_lookup(ifname="eth0")[0], address="10.0.2.99",
                 prefixlen=32)
    receiver = fabric.socket(srv, socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("10.0.1.10", 53))
    receiver.settimeout(0.5)
    sender = fabric.socket(cli, socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("10.0.2.99", 0))
    try:
        sender.sendto(b"spoof", ("10.0.1.10", 53))
        try:
            receiver.recvfrom(16)
            raise AssertionError("a spoofed source passed the source check")
        except TimeoutError:
            pass
        fabric.put_interface(NET, Interface("eni-cli", "sub-b", "cli", ("10.0.2.10",),
                                            groups=("sg-client",), source_dest_check=False))
        sender.sendto(b"spoof", ("10.0.1.10", 53))
        data, peer = receiver.recvfrom(16)
        assert (data, peer[0]) == (b"spoof", "10.0.2.99")
    finally:
        receiver.close()
        sender.close()
