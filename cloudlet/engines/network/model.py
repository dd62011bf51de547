"""What the fabric is told to build: small frozen records, one per object.

Ids are the caller's (any string of letters, digits, `-`, `_`, `.`); the fabric never parses
them. Addresses are plain strings (`10.0.1.5`, `10.0.0.0/16`). Each record is complete: a
`put_*` call replaces the object with the record it is given.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

PROTOCOLS = {"all": None, "-1": None, "tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58,
             "58": 58, "6": 6, "17": 17, "1": 1}

# Route targets (Route.kind)
LOCAL = "local"
INTERNET_GATEWAY = "internet-gateway"
NAT_GATEWAY = "nat-gateway"
INTERFACE = "interface"
ENDPOINT = "endpoint"
BLACKHOLE = "blackhole"
ROUTE_KINDS = (LOCAL, INTERNET_GATEWAY, NAT_GATEWAY, INTERFACE, ENDPOINT, BLACKHOLE)


class InvalidSpec(ValueError):
    """A record the fabric cannot build (bad id, address, protocol or reference)."""


def check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise InvalidSpec(f"{what} {value!r} is not a valid id")
    return value


@functools.lru_cache(maxsize=8192)
def network_of(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise InvalidSpec(f"{cidr!r} is not a CIDR block") from exc


def protocol_number(protocol: str | int) -> int | None:
    """None for all protocols, else the IP protocol number."""
    key = str(protocol).lower()
    if key in PROTOCOLS:
        return PROTOCOLS[key]
    if key.isdigit() and 0 <= int(key) <= 255:
        return int(key)
    raise InvalidSpec(f"unknown protocol {protocol!r}")


@dataclass(frozen=True)
class Route:
    """`destination` (a CIDR) goes to `kind`; `target` names the NAT gateway, interface or
    endpoint. The network's own CIDRs are always local. An endpoint route without a
    destination stands for the endpoint's own CIDRs (its prefix list)."""

    destination: str
    kind: str
    target: str = ""


@dataclass(frozen=True)
class Subnet:
    id: str
    cidr: str
    routes: tuple[Route, ...] = ()
    acl: str | None = None  # None: no network ACL (everything crosses the boundary)


@dataclass(frozen=True)
class Rule:
    """A security-group rule: what it admits (ingress) or lets out (egress).

    `ports` is an inclusive (from, to) range for tcp/udp (None: all ports); `icmp` is
    (type, code) with -1 for any. `cidrs` may mix IPv4 and IPv6; `groups` are security
    groups whose members' addresses match."""

    protocol: str = "all"
    ports: tuple[int, int] | None = None
    icmp: tuple[int, int] | None = None
    cidrs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class AclEntry:
    """A network-ACL entry; entries are evaluated in ascending `number`, first match wins."""

    number: int
    egress: bool
    allow: bool
    cidr: str
    protocol: str = "all"
    ports: tuple[int, int] | None = None
    icmp: tuple[int, int] | None = None


@dataclass(frozen=True)
class Acl:
    id: str
    entries: tuple[AclEntry, ...] = ()


@dataclass(frozen=True)
class Interface:
    """An ENI: `eth<device_index>` in the namespace of `host`, the first address primary."""

    id: str
    subnet: str
    host: str
    addresses: tuple[str, ...]
    device_index: int = 0
    mac: str | None = None
    groups: tuple[str, ...] = ()
    source_dest_check: bool = True
    public_address: str | None = None  # 1:1 with the primary address at the internet gateway


@dataclass(frozen=True)
class InternetGateway:
    id: str
    services: tuple[str, ...] = ()  # addresses on the gateway's lo, where callers listen


@dataclass(frozen=True)
class NatGateway:
    """A NAT gateway: a host of its own (named by `id`) with one interface in `subnet`."""

    id: str
    subnet: str
    address: str
    public_address: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """A gateway endpoint: routes to `cidrs` (the prefix list) lead to its namespace, whose
    lo holds the `services` addresses."""

    id: str
    cidrs: tuple[str, ...]
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """Everything of one network, for `Fabric.reconcile()` after a restart."""

    id: str
    cidrs: tuple[str, ...]
    subnets: tuple[Subnet, ...] = ()
    acls: tuple[Acl, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    internet_gateway: InternetGateway | None = None
    nat_gateways: tuple[NatGateway, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True)
class Flow:
    """One flow-log record: what the packet filter decided for a flow on an interface."""

    interface: str
    src: str
    dst: str
    sport: int
    dport: int
    protocol: int
    packets: int
    bytes: int
    start: float
    end: float
    action: str  # ACCEPT | REJECT
    tcp_flags: int = 0  # FIN 1, SYN 2, RST 4, SYN-ACK 18, or-ed over the flow
