"""The port from EC2's records to the VPC fabric (`cloudlet/engines/network/`).

Every operation that changes what packets may do calls one method here, after its
validation and inside its transaction, with the records as they will be committed:

    with self.records.write(account, region) as view:
        ... validate, view.put(...)
        self.fabric.subnet_changed(view, subnet)      # raises -> the transaction rolls back

so when the fabric refuses a change, nothing of it stays in the store either. `view`
carries the account, the region and the open transaction (the fabric may read more
records through it); records are plain dicts in AWS's shapes, with Cloudlet's own fields
under `_` names (`_parent`, `_seq`, ...). Tags never reach the fabric.

Today every method is a no-op: the API stands on its own until the engine is wired in.
At start, `desired_state(view, vpc_id)` gives the whole network of one VPC from the store,
which the adapter uses to rebuild the fabric; `vpcs(records)` lists them all.

    method                        called by
    vpc_created / vpc_deleted     CreateVpc, CreateDefaultVpc (and the default VPC made on
                                  first use) / DeleteVpc
    vpc_changed                   Associate/DisassociateVpcCidrBlock, ModifyVpcAttribute
                                  (DNS support and hostnames), AssociateDhcpOptions
    subnet_changed / _deleted     CreateSubnet, CreateDefaultSubnet, ModifySubnetAttribute /
                                  DeleteSubnet
    route_table_changed / _deleted  CreateRouteTable, Create/Replace/DeleteRoute,
                                  Associate/Disassociate/ReplaceRouteTableAssociation,
                                  a route gone blackhole, a gateway endpoint's routes /
                                  DeleteRouteTable
    network_acl_changed / _deleted  CreateNetworkAcl, Create/Replace/DeleteNetworkAclEntry,
                                  ReplaceNetworkAclAssociation (both ACLs) / DeleteNetworkAcl
    security_group_changed / _deleted  CreateSecurityGroup, Authorize/Revoke*, Modify-
                                  SecurityGroupRules (the group with all its rules) /
                                  DeleteSecurityGroup
    interface_changed / _deleted  Create/Attach/DetachNetworkInterface, ModifyNetwork-
                                  InterfaceAttribute, Assign/UnassignPrivateIpAddresses, the
                                  ENIs of NAT gateways and interface endpoints /
                                  DeleteNetworkInterface
    gateway_changed / _deleted    Create/Attach/DetachInternetGateway, egress-only internet
                                  gateways, CreateNatGateway (pending -> available) /
                                  Delete* of each
    address_changed / _released   AllocateAddress, AssociateAddress, DisassociateAddress /
                                  ReleaseAddress
    endpoint_changed / _deleted   CreateVpcEndpoint, ModifyVpcEndpoint / DeleteVpcEndpoints
    flow_logs_changed / _deleted  CreateFlowLogs / DeleteFlowLogs

Services the router namespaces carry, for the compute families:

    add_router_service(start)     start(account, region, vpc_id, make_socket) -> stop, called
                                  for every VPC whose router namespace exists (at start and as
                                  VPCs are made), stop() when it goes; make_socket(family,
                                  type) creates a socket inside that router (IMDS binds
                                  169.254.169.254:80 there, an address on its lo)
    interface_counters(eni_id)    (rx_bytes, tx_bytes, rx_packets, tx_packets) of the ENI,
                                  as the instance sees them (rx: received by it), or None
"""

from __future__ import annotations

from cloudlet.services.ec2.store import Records, View


class Fabric:
    """No-ops until the lead wires `engines/network` in behind each method."""

    available = False  # whether packets are enforced (shown by status and health)
    reason = "the VPC fabric is not wired to the EC2 API yet"

    def vpc_created(self, view: View, vpc: dict) -> None: ...

    def vpc_changed(self, view: View, vpc: dict) -> None: ...

    def vpc_deleted(self, view: View, vpc: dict) -> None: ...

    def subnet_changed(self, view: View, subnet: dict) -> None: ...

    def subnet_deleted(self, view: View, subnet: dict) -> None: ...

    def route_table_changed(self, view: View, table: dict) -> None: ...

    def route_table_deleted(self, view: View, table: dict) -> None: ...

    def network_acl_changed(self, view: View, acl: dict) -> None: ...

    def network_acl_deleted(self, view: View, acl: dict) -> None: ...

    def security_group_changed(self, view: View, group: dict, rules: list[dict]) -> None: ...

    def security_group_deleted(self, view: View, group: dict) -> None: ...

    def interface_changed(self, view: View, interface: dict) -> None: ...

    def interface_deleted(self, view: View, interface: dict) -> None: ...

    def gateway_changed(self, view: View, kind: str, gateway: dict) -> None:
        """`kind`: internet-gateway, egress-only-internet-gateway or natgateway."""

    def gateway_deleted(self, view: View, kind: str, gateway: dict) -> None: ...

    def address_changed(self, view: View, address: dict) -> None: ...

    def address_released(self, view: View, address: dict) -> None: ...

    def endpoint_changed(self, view: View, endpoint: dict) -> None: ...

    def endpoint_deleted(self, view: View, endpoint: dict) -> None: ...

    def flow_logs_changed(self, view: View, flow_log: dict) -> None: ...

    def flow_logs_deleted(self, view: View, flow_log: dict) -> None: ...

    def add_router_service(self, start) -> None:
        """No router namespaces without the engine: nothing to start."""

    def interface_counters(self, eni_id: str) -> tuple[int, int, int, int] | None:
        return None

    def start(self, records: Records) -> None:
        """At Cloudlet's start: rebuild every VPC from `desired_state`."""

    def stop(self) -> None:
        """At Cloudlet's stop: tear the fabric down."""


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
    from cloudlet.services.ec2.network.prefix_lists import managed_lists

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
