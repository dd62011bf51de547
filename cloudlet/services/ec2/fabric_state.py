"""What the port (fabric.py) compares: the VPC as the store wants it (`desired_state`, from
the records) and as the engine was last told it (`FabricState`, the specs by object id).

    desired_state(view, vpc_id) -> {"vpc", "subnets", ..., "flow_logs"}   plain records
    state_of(network) -> FabricState        what a freshly built network holds
    put_changed / remove_missing            tell the engine what differs
    vpcs(records) -> [(account, region, vpc id)]
"""

from __future__ import annotations

import ipaddress

from cloudlet.engines import network as engine
from cloudlet.services.ec2.network.prefix_lists import managed_lists
from cloudlet.services.ec2.store import Records, View


class FabricState:
    """What the engine was last told for one VPC: the specs, by object id."""

    def __init__(self, vpc_id: str, cidrs: tuple[str, ...]):
        self.id, self.cidrs = vpc_id, cidrs
        self.acls: dict[str, engine.Acl] = {}
        self.groups: dict[str, engine.SecurityGroup] = {}
        self.subnets: dict[str, engine.Subnet] = {}
        self.gateway: engine.InternetGateway | None = None
        self.endpoints: dict[str, engine.Endpoint] = {}
        self.nats: dict[str, engine.NatGateway] = {}
        self.interfaces: dict[str, engine.Interface] = {}



def put_changed(e, vpc_id: str, applied: dict, wanted, put, remove) -> None:
    """Put each spec that differs from the applied one; with `remove`, also remove the
    applied ones no longer wanted (afterwards)."""
    for spec in wanted:
        if applied.get(spec.id) != spec:
            put(vpc_id, spec)
            applied[spec.id] = spec
    if remove is not None:
        remove_missing(vpc_id, applied, wanted, remove)


def remove_missing(vpc_id: str, applied: dict, wanted, remove) -> None:
    keep = {spec.id for spec in wanted}
    for spec_id in [i for i in applied if i not in keep]:
        remove(vpc_id, spec_id)
        del applied[spec_id]


def state_of(network: engine.Network) -> FabricState:
    state = FabricState(network.id, network.cidrs)
    state.acls = {a.id: a for a in network.acls}
    state.groups = {g.id: g for g in network.security_groups}
    state.subnets = {s.id: s for s in network.subnets}
    state.gateway = network.internet_gateway
    state.endpoints = {x.id: x for x in network.endpoints}
    state.nats = {n.id: n for n in network.nat_gateways}
    state.interfaces = {i.id: i for i in network.interfaces}
    return state


def resolver(vpc: dict) -> str:
    """The Amazon-provided DNS server: the VPC's primary CIDR's base plus two."""
    return str(ipaddress.ip_network(vpc["CidrBlock"]).network_address + 2)


def prefix_lists(view: View) -> dict[str, tuple[str, ...]]:
    return {pl["PrefixListId"]: tuple(pl["Cidrs"]) for pl in managed_lists(view.region)}


def vpcs(records: Records) -> list[tuple[str, str, str]]:
    """(account, region, vpc id) of every VPC in the store."""
    return [(r["account"], r["region"], r["id"]) for r in records.db.query(
        "SELECT account, region, id FROM ec2_resources WHERE kind='vpc' ORDER BY seq")]


def desired_state(view: View, vpc_id: str) -> dict:
    """Everything in one VPC that decides what its packets do, as plain dicts of records:
    the VPC, its subnets, route tables (routes and associations), network ACLs (entries and
    associations), security groups with their rules, interfaces, internet, egress-only and
    NAT gateways, Elastic IPs on its interfaces, endpoints, flow logs, its DHCP options and
    the managed prefix lists its routes and rules name."""
    vpc = view.get(vpc_id, "vpc")
    if vpc is None:
        return {}
    groups = view.find("security-group", vpc_ids=[vpc_id])
    rules = view.find("security-group-rule",
                      parents=[g["GroupId"] for g in groups]) if groups else []
    interfaces = view.find("network-interface", vpc_ids=[vpc_id])
    eni_ids = {eni["NetworkInterfaceId"] for eni in interfaces}
    gateways = [g for g in view.find("internet-gateway") + view.find(
        "egress-only-internet-gateway")
        if any(a.get("VpcId") == vpc_id for a in g.get("Attachments") or [])]
    return {
        "vpc": vpc,
        "dhcp_options": view.get(vpc.get("DhcpOptionsId") or "", "dhcp-options"),
        "subnets": view.find("subnet", vpc_ids=[vpc_id]),
        "route_tables": view.find("route-table", vpc_ids=[vpc_id]),
        "network_acls": view.find("network-acl", vpc_ids=[vpc_id]),
        "security_groups": [{**g, "_rules": [r for r in rules if r["GroupId"] == g["GroupId"]]}
                            for g in groups],
        "interfaces": interfaces,
        "gateways": gateways,
        "nat_gateways": [n for n in view.find("natgateway", vpc_ids=[vpc_id])
                         if n["State"] in ("pending", "available")],
        "addresses": [a for a in view.find("elastic-ip")
                      if a.get("NetworkInterfaceId") in eni_ids],
        "endpoints": view.find("vpc-endpoint", vpc_ids=[vpc_id]),
        "flow_logs": [f for f in view.find("vpc-flow-log")
                      if f.get("_vpc") == vpc_id],
        "prefix_lists": managed_lists(view.region),
    }
