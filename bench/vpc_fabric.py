"""VPC fabric benchmark: the engine itself (namespaces, veth pairs, nftables), as root.

Measures:
  - put_interface of a new interface (a host namespace, a veth pair, addresses, routes, a
    rule, its chains and set elements): median and p90 of BENCH_FABRIC_ENIS (30);
  - a security-group rule change applied on packets: the time from put_security_group
    (authorizing a port) until a new connect to that port succeeds, p50/p90 of
    BENCH_FABRIC_CHANGES (30); first in a network with 2 interfaces and 2 rules, then with
    200 interfaces and 100 rules;
  - connect latency (TCP handshake, p50 of BENCH_FABRIC_CONNECTS (2000)) through the fabric
    (two hosts in two subnets, across the router's filter) vs a bare veth pair between two
    namespaces;
  - the relay: connect + first byte from the host to a public address vs the same from
    inside the internet gateway's namespace.

No peer has a fabric that enforces anything (LocalStack and moto store rules), so there is no
side-by-side run. Prints figures; asserts nothing. Needs root, namespaces and nftables.
Run: .venv/bin/python bench/vpc_fabric.py
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import sys
import threading
import time

from pyroute2 import IPRoute

from cloudlet.engines.network import (
    Fabric,
    Interface,
    InternetGateway,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
    netns,
)

ENIS = int(os.environ.get("BENCH_FABRIC_ENIS", "30"))
CHANGES = int(os.environ.get("BENCH_FABRIC_CHANGES", "30"))
CONNECTS = int(os.environ.get("BENCH_FABRIC_CONNECTS", "2000"))
NET = "vpc-bench"
ALL_OUT = (Rule(cidrs=("0.0.0.0/0",)),)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def serve(sock: socket.socket, greeting: bytes = b"") -> None:
    def loop() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            if greeting:
                conn.sendall(greeting)
            conn.close()
    threading.Thread(target=loop, daemon=True).start()


def listener(fabric: Fabric, where: str, address: str, port: int, greeting=b"") -> socket.socket:
    sock = fabric.socket(where)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(512)
    serve(sock, greeting)
    return sock


def connect_time(where: str | None, address: str, port: int, source: str | None = None,
                 first_byte: bool = False) -> float:
    sock = netns.socket(where) if where else socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source:
        sock.bind((source, 0))
    sock.settimeout(5)
    started = time.perf_counter()
    sock.connect((address, port))
    if first_byte:
        sock.recv(16)
    took = time.perf_counter() - started
    sock.close()
    return took


def build(fabric: Fabric, interfaces: int, rules: int) -> None:
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_subnet(NET, Subnet("sub-a", "10.0.0.0/20",
                                  routes=(Route("0.0.0.0/0", "internet-gateway"),)))
    fabric.put_subnet(NET, Subnet("sub-b", "10.0.16.0/20"))
    filler = tuple(Rule("tcp", (10000 + i, 10000 + i), cidrs=(f"192.168.{i}.0/24",))
                   for i in range(rules - 1))
    fabric.put_security_group(NET, SecurityGroup("sg-srv", ingress=filler, egress=ALL_OUT))
    fabric.put_security_group(NET, SecurityGroup("sg-cli", egress=ALL_OUT))
    fabric.put_interface(NET, Interface("eni-srv", "sub-a", "srv", ("10.0.0.10",),
                                        groups=("sg-srv",)))
    fabric.put_interface(NET, Interface("eni-cli", "sub-b", "cli", ("10.0.16.10",),
                                        groups=("sg-cli",)))
    for i in range(interfaces - 2):
        fabric.put_interface(NET, Interface(f"eni-x{i}", "sub-b", f"x{i}",
                                            (f"10.0.{17 + i // 250}.{1 + i % 250 + 3}",),
                                            groups=("sg-cli", "sg-srv")))
    return filler


def rule_change(fabric: Fabric, filler: tuple) -> list[float]:
    srv, cli = fabric.host_namespace_name("srv"), fabric.host_namespace_name("cli")
    socks = [listener(fabric, srv, "10.0.0.10", 20000 + i) for i in range(CHANGES)]
    took = []
    for i in range(CHANGES):
        port = 20000 + i
        rule = Rule("tcp", (port, port), cidrs=("10.0.16.0/20",))
        started = time.perf_counter()
        fabric.put_security_group(NET, SecurityGroup("sg-srv", ingress=filler + (rule,),
                                                     egress=ALL_OUT))
        while True:
            sock = netns.socket(cli)
            sock.settimeout(0.05)
            try:
                sock.connect(("10.0.0.10", port))
                break
            except OSError:
                continue
            finally:
                sock.close()
        took.append(time.perf_counter() - started)
    for sock in socks:
        sock.close()
    return took


def bare_pair() -> float:
    names = ("bchbare-a", "bchbare-b")
    for name in names:
        if netns.exists(name):
            netns.remove(name)
        netns.create(name)
    try:
        with netns.inside(names[0]), IPRoute() as ipr:
            fd = os.open(netns.path(names[1]), os.O_RDONLY)
            ipr.link("add", ifname="bchv0", kind="veth", peer={"ifname": "bchv1", "net_ns_fd": fd})
            os.close(fd)
            index = ipr.link_lookup(ifname="bchv0")[0]
            ipr.addr("add", index=index, address="10.9.0.1", prefixlen=24)
            ipr.link("set", index=index, state="up")
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        with netns.inside(names[1]), IPRoute() as ipr:
            index = ipr.link_lookup(ifname="bchv1")[0]
            ipr.addr("add", index=index, address="10.9.0.2", prefixlen=24)
            ipr.link("set", index=index, state="up")
        sock = netns.socket(names[1])
        sock.bind(("10.9.0.2", 80))
        sock.listen(512)
        serve(sock)
        connect_time(names[0], "10.9.0.2", 80)
        result = statistics.median(connect_time(names[0], "10.9.0.2", 80)
                                   for _ in range(CONNECTS))
        sock.close()
        return result
    finally:
        for name in names:
            netns.remove(name)


def main() -> None:
    fabric = Fabric(prefix="bch", public_range="127.100.250.0/24")
    available, reason = fabric.status()
    if not available:
        print(f"VPC fabric unavailable: {reason}")
        return
    print(f"VPC fabric benchmark on {platform.node()} ({os.cpu_count()} CPUs), "
          f"Python {sys.version.split()[0]}")
    fabric.reconcile()
    try:
        filler = build(fabric, 2, 2)
        times = []
        for i in range(ENIS):
            started = time.perf_counter()
            fabric.put_interface(NET, Interface(f"eni-n{i}", "sub-b", f"n{i}",
                                                (f"10.0.20.{10 + i}",), groups=("sg-cli",)))
            times.append(time.perf_counter() - started)
        print(f"put_interface (new host namespace, veth, routes, chains), {ENIS} runs: median "
              f"{ms(statistics.median(times))}, p90 {ms(percentile(times, 0.9))} (target < 20 ms)")
        times = []
        for i in range(ENIS):
            started = time.perf_counter()
            fabric.remove_host(f"n{i}")
            times.append(time.perf_counter() - started)
        print(f"remove_host (its interface, then its namespace): median "
              f"{ms(statistics.median(times))}")

        took = rule_change(fabric, filler)
        print(f"SG rule change -> new connect succeeds, 2 interfaces, 2 rules: p50 "
              f"{ms(statistics.median(took))}, p90 {ms(percentile(took, 0.9))} (target < 20 ms)")

        srv, cli = fabric.host_namespace_name("srv"), fabric.host_namespace_name("cli")
        fabric.put_security_group(NET, SecurityGroup("sg-srv", ingress=filler + (
            Rule("tcp", (80, 80), cidrs=("0.0.0.0/0",)),), egress=ALL_OUT))
        sock = listener(fabric, srv, "10.0.0.10", 80, b"hi")
        connect_time(cli, "10.0.0.10", 80)
        through = statistics.median(connect_time(cli, "10.0.0.10", 80) for _ in range(CONNECTS))
        bare = bare_pair()
        print(f"TCP connect, p50 of {CONNECTS}: through the fabric {through * 1e6:.0f} us, bare "
              f"veth pair {bare * 1e6:.0f} us, added {(through - bare) * 1e6:.0f} us "
              f"(target < 200 us)")

        public = "127.100.250.10"
        fabric.put_internet_gateway(NET, InternetGateway("igw-bench"))
        fabric.put_interface(NET, Interface("eni-srv", "sub-a", "srv", ("10.0.0.10",),
                                            groups=("sg-srv",), public_address=public))
        gateway = fabric.gateway_namespace(NET)
        relay = [connect_time(None, public, 80, first_byte=True) for _ in range(CONNECTS // 4)]
        direct = [connect_time(gateway, "10.0.0.10", 80, source=fabric.client_address,
                               first_byte=True) for _ in range(CONNECTS // 4)]
        r, d = statistics.median(relay), statistics.median(direct)
        print(f"connect + first byte, p50 of {CONNECTS // 4}: host -> public address (relay) "
              f"{r * 1e6:.0f} us, from inside the gateway {d * 1e6:.0f} us, relay adds "
              f"{(r - d) * 1e6:.0f} us")
        sock.close()
        fabric.remove_network(NET)

        started = time.perf_counter()
        filler = build(fabric, 200, 100)
        print(f"built a network of 200 interfaces and a 100-rule group in "
              f"{time.perf_counter() - started:.1f} s")
        took = rule_change(fabric, filler)
        print(f"SG rule change -> new connect succeeds, 200 interfaces, 100 rules: p50 "
              f"{ms(statistics.median(took))}, p90 {ms(percentile(took, 0.9))} (target: as with 2)")
    finally:
        started = time.perf_counter()
        fabric.teardown()
        print(f"teardown: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
