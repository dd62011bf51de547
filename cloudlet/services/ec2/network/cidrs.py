"""CIDR blocks as EC2 checks them: parsing, sizes, overlaps, AWS's five reserved addresses."""

from __future__ import annotations

import ipaddress

from cloudlet.services.ec2 import errors

RESERVED = 5  # network, router (.1), DNS (.2), future use (.3), broadcast


def network(value, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """An IPv4 CIDR block with no host bits set, or AWS's InvalidParameterValue."""
    try:
        net = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError:
        raise errors.bad_value(value, parameter, "This is not a valid CIDR block.") from None
    if "/" not in str(value):
        raise errors.bad_value(value, parameter, "This is not a valid CIDR block.")
    return net


def network6(value, parameter: str = "ipv6CidrBlock") -> ipaddress.IPv6Network:
    try:
        return ipaddress.IPv6Network(str(value), strict=True)
    except ValueError:
        raise errors.bad_value(value, parameter, "This is not a valid CIDR block.") from None


def any_network(value):
    """An IPv4 or IPv6 network for a route or rule destination, or None."""
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def usable(net: ipaddress.IPv4Network) -> int:
    return net.num_addresses - RESERVED


def overlaps(net, others) -> bool:
    return any(net.version == other.version and net.overlaps(other) for other in others)


def inside(net, blocks) -> bool:
    return any(net.version == b.version and net.subnet_of(b) for b in blocks)


def vpc_blocks(vpc: dict) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(a["CidrBlock"]) for a in vpc.get("CidrBlockAssociationSet", [])
            if a["CidrBlockState"]["State"] in ("associated", "associating")]


def vpc_blocks6(vpc: dict) -> list[ipaddress.IPv6Network]:
    return [ipaddress.IPv6Network(a["Ipv6CidrBlock"])
            for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
            if a["Ipv6CidrBlockState"]["State"] in ("associated", "associating")]


def host_addresses(net: ipaddress.IPv4Network):
    """The addresses an interface may take: all but the first four and the last."""
    first = int(net.network_address) + 4
    last = int(net.broadcast_address) - 1
    for value in range(first, last + 1):
        yield str(ipaddress.IPv4Address(value))
