"""Flow logs: the packet filter's verdicts (ACCEPT and REJECT) for a watched interface."""

import threading

from fabric_support import connect

from cloudlet.engines.network import Interface, Rule, SecurityGroup, Subnet

NET = "vpc-flow"


def test_accepted_and_rejected_flows_reach_the_callback(fabric, listen):
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_subnet(NET, Subnet("sub-a", "10.0.1.0/24"))
    fabric.put_security_group(NET, SecurityGroup(
        "sg-web", ingress=(Rule("tcp", (80, 80), cidrs=("10.0.0.0/16",)),),
        egress=(Rule(cidrs=("0.0.0.0/0",)),)))
    fabric.put_interface(NET, Interface("eni-srv", "sub-a", "srv", ("10.0.1.10",),
                                        groups=("sg-web",)))
    fabric.put_interface(NET, Interface("eni-cli", "sub-a", "cli", ("10.0.1.11",),
                                        groups=("sg-web",)))
    flows, arrived = [], threading.Event()

    def record(flow):
        flows.append(flow)
        arrived.set()

    fabric.watch_flows(NET, "eni-srv", record, interval=0.3)
    srv, cli = fabric.host_namespace_name("srv"), fabric.host_namespace_name("cli")
    listen(srv, "10.0.1.10", 80)
    listen(srv, "10.0.1.10", 81)
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"
    assert connect(fabric, cli, "10.0.1.10", 81, timeout=0.5) == "timeout"
    fabric.unwatch_flows(NET, "eni-srv")  # hands over what it has
    seen = {(f.src, f.dst, f.dport, f.action) for f in flows}
    assert ("10.0.1.11", "10.0.1.10", 80, "ACCEPT") in seen
    assert ("10.0.1.11", "10.0.1.10", 81, "REJECT") in seen
    assert all(f.interface == "eni-srv" and f.protocol == 6 for f in flows)
    accepted = [f for f in flows if f.dport == 80 and f.action == "ACCEPT"]
    assert sum(f.packets for f in accepted) >= 2 and sum(f.bytes for f in accepted) >= 80
    rejected = [f for f in flows if f.dport == 81]
    assert sum(f.packets for f in rejected) >= 1  # the SYN, dropped by the group
    assert {f.tcp_flags for f in rejected} == {2}  # SYN, as AWS's tcp-flags count it
    assert any(f.tcp_flags & 2 for f in accepted)
    replies = [f for f in flows if f.sport == 80 and f.action == "ACCEPT"]
    assert any(f.tcp_flags & 18 == 18 for f in replies)  # the SYN-ACK
