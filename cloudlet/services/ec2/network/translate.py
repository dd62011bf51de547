"""EC2's records, in AWS's shapes, as the VPC fabric's specs (`cloudlet/engines/network/`).

Pure functions: a VPC's `desired_state` (fabric.py) in, frozen engine records out. The
fabric enforces IPv4 only, so IPv6 rules and routes are left out here.

    network(state) -> Network                   everything of one VPC
    subnets(state) -> [Subnet]                  each with its route table's routes and ACL
    security_group(group, rules, lists) -> SecurityGroup
    acl(doc) -> Acl
    interface(doc) -> Interface | None          None: not on an instance (nothing to plumb)
    nat_gateway(doc) -> NatGateway | None       None: not pending or available
    endpoint(doc, lists) -> Endpoint | None     None: not a Gateway endpoint
"""

from __future__ import annotations

from cloudlet.engines.network import (
    Acl,
    AclEntry,
    Endpoint,
    Interface,
    InternetGateway,
    NatGateway,
    Network,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)
from cloudlet.services.ec2.network.prefix_lists import BY_ID, SERVICE_ADDRESSES

IP_PROTOCOLS = {"-1": "all", "all": "all", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp",
                "icmp": "icmp", "1": "icmp", "icmpv6": "icmpv6", "58": "icmpv6"}


def network(state: dict) -> Network:
    vpc = state["vpc"]
    lists = _prefix_lists(state)
    gateway = next((g for g in state["gateways"] if g.get("InternetGatewayId")),
                   None)
    return Network(
        id=vpc["VpcId"],
        cidrs=cidrs(vpc),
        subnets=tuple(subnets(state)),
        acls=tuple(acl(doc) for doc in state["network_acls"]),
        security_groups=tuple(security_group(g, g.get("_rules") or [], lists)
                              for g in state["security_groups"]),
        interfaces=tuple(i for i in map(interface, state["interfaces"]) if i is not None),
        internet_gateway=(InternetGateway(gateway["InternetGatewayId"], SERVICE_ADDRESSES)
                          if gateway is not None else None),
        nat_gateways=tuple(n for n in map(nat_gateway, state["nat_gateways"]) if n is not None),
        endpoints=tuple(e for e in (endpoint(doc, lists) for doc in state["endpoints"])
                        if e is not None),
    )


def cidrs(vpc: dict) -> tuple[str, ...]:
    blocks = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or []
              if (a.get("CidrBlockState") or {}).get("State", "associated") in
              ("associated", "associating")]
    return tuple(blocks or [vpc["CidrBlock"]])


# -- subnets and their routes ------------------------------------------------------------
def subnets(state: dict) -> list[Subnet]:
    tables = state["route_tables"]
    main = next((t for t in tables if any(a.get("Main") for a in t["Associations"])), None)
    by_subnet = {a["SubnetId"]: t for t in tables for a in t["Associations"]
                 if a.get("SubnetId")}
    acl_of = {a["SubnetId"]: doc["NetworkAclId"] for doc in state["network_acls"]
              for a in doc.get("Associations") or []}
    instance_enis = {(i.get("Attachment") or {}).get("InstanceId"): i["NetworkInterfaceId"]
                     for i in state["interfaces"]
                     if (i.get("Attachment") or {}).get("DeviceIndex") == 0}
    lists = _prefix_lists(state)
    found = []
    for subnet in state["subnets"]:
        table = by_subnet.get(subnet["SubnetId"], main)
        routes = tuple(r for doc in (table or {}).get("Routes") or []
                       for r in route(doc, lists, instance_enis))
        found.append(Subnet(subnet["SubnetId"], subnet["CidrBlock"], routes,
                            acl_of.get(subnet["SubnetId"])))
    return found


def route(doc: dict, lists: dict[str, tuple[str, ...]], instance_enis: dict) -> list[Route]:
    """The fabric's routes for one route of a table (a prefix-list route: one per CIDR)."""
    if doc.get("DestinationIpv6CidrBlock") or doc.get("GatewayId") == "local":
        return []
    gateway = doc.get("GatewayId") or ""
    if doc.get("DestinationPrefixListId") and gateway.startswith("vpce-"):
        return [Route("", "endpoint", gateway)]
    if doc.get("DestinationPrefixListId"):
        destinations = lists.get(doc["DestinationPrefixListId"], ())
    else:
        destinations = (doc["DestinationCidrBlock"],) if doc.get("DestinationCidrBlock") else ()
    if gateway.startswith("igw-"):
        kind, target = "internet-gateway", ""
    elif doc.get("NatGatewayId"):
        kind, target = "nat-gateway", doc["NatGatewayId"]
    elif doc.get("NetworkInterfaceId"):
        kind, target = "interface", doc["NetworkInterfaceId"]
    elif doc.get("InstanceId") and doc["InstanceId"] in instance_enis:
        kind, target = "interface", instance_enis[doc["InstanceId"]]
    else:  # peering, transit gateways, a vanished instance: nowhere to go, here
        kind, target = "blackhole", ""
    return [Route(destination, kind, target) for destination in destinations]


# -- security groups and ACLs --------------------------------------------------------------
def security_group(group: dict, rules: list[dict], lists: dict[str, tuple[str, ...]]
                   ) -> SecurityGroup:
    ingress, egress = [], []
    for doc in rules:
        rule = _rule(doc, lists)
        if rule is not None:
            (egress if doc.get("IsEgress") else ingress).append(rule)
    return SecurityGroup(group["GroupId"], tuple(ingress), tuple(egress))


def _rule(doc: dict, lists: dict[str, tuple[str, ...]]) -> Rule | None:
    protocol = IP_PROTOCOLS.get(str(doc.get("IpProtocol", "-1")).lower(),
                                str(doc.get("IpProtocol")))
    if doc.get("CidrIpv6") and not doc.get("CidrIpv4"):
        return None
    cidrs = (doc["CidrIpv4"],) if doc.get("CidrIpv4") else ()
    if doc.get("PrefixListId"):
        cidrs = lists.get(doc["PrefixListId"], ())
        if not cidrs:
            return None
    groups = ((doc.get("ReferencedGroupInfo") or {}).get("GroupId"),)
    groups = tuple(g for g in groups if g)
    if not cidrs and not groups:
        return None
    return Rule(protocol, *_ports(protocol, doc.get("FromPort"), doc.get("ToPort")),
                cidrs=cidrs, groups=groups)


def _ports(protocol: str, low, high) -> tuple:
    """(ports, icmp) of a rule or entry: tcp/udp port ranges, icmp (type, code)."""
    if protocol in ("tcp", "udp"):
        if low in (None, -1) or (low == 0 and high == 65535):
            return None, None
        return (int(low), int(high if high is not None else low)), None
    if protocol in ("icmp", "icmpv6") and low not in (None, -1):
        return None, (int(low), int(high if high is not None else -1))
    return None, None


def acl(doc: dict) -> Acl:
    entries = []
    for entry in doc.get("Entries") or []:
        if entry.get("Ipv6CidrBlock") or not entry.get("CidrBlock"):
            continue
        if entry["RuleNumber"] == 32767:  # the `*` rule: the fabric denies after the last
            continue
        protocol = IP_PROTOCOLS.get(str(entry.get("Protocol", "-1")), str(entry.get("Protocol")))
        if protocol in ("icmp", "icmpv6"):
            code = entry.get("IcmpTypeCode") or {}
            ports, icmp = _ports(protocol, code.get("Type"), code.get("Code"))
        else:
            span = entry.get("PortRange") or {}
            ports, icmp = _ports(protocol, span.get("From"), span.get("To"))
        entries.append(AclEntry(entry["RuleNumber"], bool(entry.get("Egress")),
                                entry.get("RuleAction") == "allow", entry["CidrBlock"],
                                protocol, ports, icmp))
    return Acl(doc["NetworkAclId"], tuple(entries))


# -- interfaces, gateways, endpoints -------------------------------------------------------
def interface(doc: dict) -> Interface | None:
    """An ENI attached to an instance: `eth<DeviceIndex>` in the instance's namespace. ENIs of
    NAT gateways are the NAT gateway's own (nat_gateway); unattached ones carry nothing."""
    attachment = doc.get("Attachment") or {}
    instance = attachment.get("InstanceId")
    if not instance or attachment.get("Status") in ("detaching", "detached"):
        return None
    addresses = [a["PrivateIpAddress"] for a in doc.get("PrivateIpAddresses") or []
                 if a.get("Primary")]
    addresses += [a["PrivateIpAddress"] for a in doc.get("PrivateIpAddresses") or []
                  if not a.get("Primary")]
    return Interface(doc["NetworkInterfaceId"], doc["SubnetId"], instance,
                     tuple(addresses or [doc["PrivateIpAddress"]]),
                     int(attachment.get("DeviceIndex") or 0), doc.get("MacAddress"),
                     tuple(g["GroupId"] for g in doc.get("Groups") or []),
                     bool(doc.get("SourceDestCheck", True)),
                     (doc.get("Association") or {}).get("PublicIp"))


def nat_gateway(doc: dict) -> NatGateway | None:
    if doc.get("State") not in ("pending", "available"):
        return None
    address = next(iter(doc.get("NatGatewayAddresses") or []), {})
    if not address.get("PrivateIp"):
        return None
    return NatGateway(doc["NatGatewayId"], doc["SubnetId"], address["PrivateIp"],
                      address.get("PublicIp"))


def endpoint(doc: dict, lists: dict[str, tuple[str, ...]]) -> Endpoint | None:
    if doc.get("VpcEndpointType") != "Gateway" or doc.get("State") in ("deleting", "deleted"):
        return None
    cidrs = tuple(c for pl in _endpoint_lists(doc, lists) for c in lists[pl])
    served = tuple(a for a in SERVICE_ADDRESSES if any(_within(a, c) for c in cidrs))
    return Endpoint(doc["VpcEndpointId"], cidrs, served)


def _endpoint_lists(doc: dict, lists: dict) -> list[str]:
    name = doc.get("ServiceName", "")
    return [pl for pl, m in BY_ID.items() if name.endswith("." + m.service) and pl in lists]


def _prefix_lists(state: dict) -> dict[str, tuple[str, ...]]:
    return {pl["PrefixListId"]: tuple(pl["Cidrs"]) for pl in state.get("prefix_lists") or []}


def _within(address: str, cidr: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
