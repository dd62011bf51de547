"""Subnets: CreateSubnet (inside one of the VPC's CIDR blocks, /16 to /28, overlapping no
other: InvalidSubnet.Range, InvalidSubnet.Conflict; by AZ or AZ id), DescribeSubnets,
DeleteSubnet, ModifySubnetAttribute, CreateDefaultSubnet.

AvailableIpAddressCount is the block's size less AWS's five reserved addresses and the
addresses interfaces hold (`_allocated`, which `allocate` and `release` keep)."""

from __future__ import annotations

import ipaddress

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network import cidrs
from cloudlet.services.ec2.network.network_acls import associate_default, release_subnet
from cloudlet.services.ec2.network.place import zone_named, zones
from cloudlet.services.ec2.store import View

declare("subnet", {
    "availability-zone": "AvailabilityZone", "availabilityZone": "AvailabilityZone",
    "availability-zone-id": "AvailabilityZoneId", "availabilityZoneId": "AvailabilityZoneId",
    "available-ip-address-count": "AvailableIpAddressCount",
    "cidr-block": "CidrBlock", "cidr": "CidrBlock", "cidrBlock": "CidrBlock",
    "customer-owned-ipv4-pool": "CustomerOwnedIpv4Pool",
    "default-for-az": "DefaultForAz", "defaultForAz": "DefaultForAz",
    "enable-dns64": "EnableDns64", "enable-lni-at-device-index": "EnableLniAtDeviceIndex",
    "ipv6-cidr-block-association.ipv6-cidr-block": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state":
        "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "ipv6-native": "Ipv6Native",
    "map-customer-owned-ip-on-launch": "MapCustomerOwnedIpOnLaunch",
    "map-public-ip-on-launch": "MapPublicIpOnLaunch",
    "outpost-arn": "OutpostArn", "owner-id": "OwnerId",
    "private-dns-name-options-on-launch.hostname-type":
        "PrivateDnsNameOptionsOnLaunch.HostnameType",
    "private-dns-name-options-on-launch.enable-resource-name-dns-a-record":
        "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord",
    "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record":
        "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord",
    "state": "State", "subnet-arn": "SubnetArn", "subnet-id": "SubnetId", "vpc-id": "VpcId",
})

# ModifySubnetAttribute member -> (the subnet's member, whether it is a {Value: bool})
ATTRIBUTES = {
    "MapPublicIpOnLaunch": "MapPublicIpOnLaunch",
    "AssignIpv6AddressOnCreation": "AssignIpv6AddressOnCreation",
    "MapCustomerOwnedIpOnLaunch": "MapCustomerOwnedIpOnLaunch",
    "EnableDns64": "EnableDns64",
}
DNS_OPTIONS = {
    "PrivateDnsHostnameTypeOnLaunch": "HostnameType",
    "EnableResourceNameDnsARecordOnLaunch": "EnableResourceNameDnsARecord",
    "EnableResourceNameDnsAAAARecordOnLaunch": "EnableResourceNameDnsAAAARecord",
}


def new_subnet(view: View, vpc: dict, cidr: str, zone: tuple[str, str], *,
               default: bool = False) -> dict:
    id = new_id("subnet")
    net = ipaddress.IPv4Network(cidr)
    subnet = {
        "SubnetId": id, "SubnetArn": f"arn:aws:ec2:{view.region}:{view.account}:subnet/{id}",
        "VpcId": vpc["VpcId"], "OwnerId": view.account, "CidrBlock": cidr,
        "AvailabilityZone": zone[0], "AvailabilityZoneId": zone[1],
        "AvailableIpAddressCount": cidrs.usable(net), "State": "available",
        "DefaultForAz": default, "MapPublicIpOnLaunch": default,
        "MapCustomerOwnedIpOnLaunch": False, "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [], "EnableDns64": False, "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name",
                                          "EnableResourceNameDnsARecord": False,
                                          "EnableResourceNameDnsAAAARecord": False},
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "_allocated": [],
    }
    view.put("subnet", subnet)
    associate_default(view, subnet)
    return subnet


def allocate(view: View, subnet: dict, wanted: str | None = None) -> str:
    """A free private address of the subnet (the lowest, or `wanted`), now held."""
    taken = set(subnet["_allocated"])
    net = ipaddress.IPv4Network(subnet["CidrBlock"])
    if wanted is not None:
        try:
            address = ipaddress.IPv4Address(wanted)
        except ValueError:
            raise errors.bad_value(wanted, "privateIpAddress") from None
        if address not in net:
            raise errors.InvalidParameterValue(
                message="Address does not fall within the subnet's address range")
        if wanted in taken or wanted not in set(cidrs.host_addresses(net)):
            raise errors.AddressInUse(ip=wanted)
        chosen = wanted
    else:
        chosen = next((a for a in cidrs.host_addresses(net) if a not in taken), None)
        if chosen is None:
            raise errors.InsufficientAddresses(id=subnet["SubnetId"])
    subnet["_allocated"].append(chosen)
    subnet["AvailableIpAddressCount"] = cidrs.usable(net) - len(subnet["_allocated"])
    view.put("subnet", subnet)
    return chosen


def release(view: View, subnet_id: str, addresses: list[str]) -> None:
    subnet = view.get(subnet_id, "subnet")
    if subnet is None:
        return
    gone = set(addresses)
    subnet["_allocated"] = [a for a in subnet["_allocated"] if a not in gone]
    subnet["AvailableIpAddressCount"] = (cidrs.usable(ipaddress.IPv4Network(subnet["CidrBlock"]))
                                         - len(subnet["_allocated"]))
    view.put("subnet", subnet)


class SubnetOperations:
    def _zone(self, region: str, params: dict) -> tuple[str, str]:
        name, zone_id = params.get("AvailabilityZone"), params.get("AvailabilityZoneId")
        if name is None and zone_id is None:
            return zones(region)[0]
        found = zone_named(region, name, zone_id)
        if found is None:
            raise errors.ZoneNotFound(zone=name or zone_id,
                                      zones=", ".join(z[0] for z in zones(region)))
        return found

    def create_subnet(self, ctx, params):
        if params.get("CidrBlock") is None:
            if params.get("Ipv6Native"):
                raise errors.UnsupportedOperation(message="IPv6-only subnets are not supported.")
            raise errors.MissingParameter(name="CidrBlock")
        net = cidrs.network(params["CidrBlock"])
        zone = self._zone(ctx.region, params)
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            if not 16 <= net.prefixlen <= 28 or not cidrs.inside(net, cidrs.vpc_blocks(vpc)):
                raise errors.InvalidSubnetRange(cidr=params["CidrBlock"])
            others = [ipaddress.IPv4Network(s["CidrBlock"])
                      for s in view.find("subnet", vpc_ids=[vpc["VpcId"]])]
            if cidrs.overlaps(net, others):
                raise errors.InvalidSubnetConflict(cidr=params["CidrBlock"])
            subnet = new_subnet(view, vpc, str(net), zone)
            if params.get("Ipv6CidrBlock"):
                block = cidrs.network6(params["Ipv6CidrBlock"])
                if not cidrs.inside(block, cidrs.vpc_blocks6(vpc)):
                    raise errors.InvalidSubnetRange(cidr=params["Ipv6CidrBlock"])
                subnet["Ipv6CidrBlockAssociationSet"].append({
                    "AssociationId": new_id("subnet-cidr-assoc"), "Ipv6CidrBlock": str(block),
                    "Ipv6CidrBlockState": {"State": "associated"}})
            shown = self.created(view, "subnet", subnet, params)
            self.fabric.subnet_changed(view, subnet)
        return {"Subnet": shown}

    def describe_subnets(self, ctx, params):
        return self.describe(ctx, params, "subnet", "Subnets", ids_member="SubnetIds")

    def delete_subnet(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            subnet = self.require(view, "subnet", params.get("SubnetId"))
            id = subnet["SubnetId"]
            if any(eni.get("SubnetId") == id
                   for eni in view.find("network-interface", vpc_ids=[subnet["VpcId"]])) or any(
                    n.get("SubnetId") == id and n["State"] in ("pending", "available")
                    for n in view.find("natgateway", vpc_ids=[subnet["VpcId"]])):
                raise errors.DependencyViolation(
                    message=f"The subnet '{id}' has dependencies and cannot be deleted.")
            acl = release_subnet(view, subnet)
            for table in view.find("route-table", vpc_ids=[subnet["VpcId"]]):
                kept = [a for a in table["Associations"] if a.get("SubnetId") != id]
                if len(kept) != len(table["Associations"]):
                    table["Associations"] = kept
                    view.put("route-table", table)
                    self.fabric.route_table_changed(view, table)
            view.delete(id)
            if acl is not None:
                self.fabric.network_acl_changed(view, acl)
            self.fabric.subnet_deleted(view, subnet)
        return {}

    def modify_subnet_attribute(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            subnet = self.require(view, "subnet", params.get("SubnetId"))
            for member, field in ATTRIBUTES.items():
                if params.get(member) is not None:
                    subnet[field] = bool(params[member].get("Value"))
            for member, field in DNS_OPTIONS.items():
                value = params.get(member)
                if value is not None:
                    options = subnet["PrivateDnsNameOptionsOnLaunch"]
                    options[field] = value if isinstance(value, str) else bool(value.get("Value"))
            if params.get("EnableLniAtDeviceIndex") is not None:
                subnet["EnableLniAtDeviceIndex"] = params["EnableLniAtDeviceIndex"]
            if params.get("DisableLniAtDeviceIndex") is not None:
                subnet.pop("EnableLniAtDeviceIndex", None)
            view.put("subnet", subnet)
            self.fabric.subnet_changed(view, subnet)
        return {}

    def create_default_subnet(self, ctx, params):
        zone = self._zone(ctx.region, params)
        if params.get("AvailabilityZone") is None and params.get("AvailabilityZoneId") is None:
            raise errors.MissingParameter(name="AvailabilityZone")
        with self.records.write(ctx.account_id, ctx.region) as view:
            _, vpc_id = view.place()
            vpc = view.get(vpc_id, "vpc") if vpc_id else None
            if vpc is None:
                raise errors.NoDefaultVpc()
            existing = view.find("subnet", vpc_ids=[vpc["VpcId"]])
            if any(s["DefaultForAz"] and s["AvailabilityZone"] == zone[0] for s in existing):
                raise errors.DefaultSubnetAlreadyExists(az=zone[0])
            taken = [ipaddress.IPv4Network(s["CidrBlock"]) for s in existing]
            free = next((n for n in ipaddress.IPv4Network(vpc["CidrBlock"]).subnets(new_prefix=20)
                         if not cidrs.overlaps(n, taken)), None)
            if free is None:
                raise errors.InvalidSubnetConflict(cidr=vpc["CidrBlock"])
            subnet = new_subnet(view, vpc, str(free), zone, default=True)
            shown = self.created(view, "subnet", subnet, tags=[])
            self.fabric.subnet_changed(view, subnet)
        return {"Subnet": shown}

    def associate_subnet_cidr_block(self, ctx, params):
        if not params.get("Ipv6CidrBlock"):
            raise errors.MissingParameter(name="Ipv6CidrBlock")
        with self.records.write(ctx.account_id, ctx.region) as view:
            subnet = self.require(view, "subnet", params.get("SubnetId"))
            vpc = view.require(subnet["VpcId"], "vpc")
            block = cidrs.network6(params["Ipv6CidrBlock"])
            if block.prefixlen != 64 or not cidrs.inside(block, cidrs.vpc_blocks6(vpc)):
                raise errors.InvalidSubnetRange(cidr=params["Ipv6CidrBlock"])
            if subnet["Ipv6CidrBlockAssociationSet"]:
                raise errors.SubnetHasIpv6(id=subnet["SubnetId"])
            association = {"AssociationId": new_id("subnet-cidr-assoc"),
                           "Ipv6CidrBlock": str(block),
                           "Ipv6CidrBlockState": {"State": "associated"},
                           "Ipv6AddressAttribute": "public", "IpSource": "amazon"}
            subnet["Ipv6CidrBlockAssociationSet"].append(association)
            view.put("subnet", subnet)
            self.fabric.subnet_changed(view, subnet)
        return {"SubnetId": subnet["SubnetId"], "Ipv6CidrBlockAssociation": association}

    def disassociate_subnet_cidr_block(self, ctx, params):
        association_id = params.get("AssociationId")
        with self.records.write(ctx.account_id, ctx.region) as view:
            for subnet in view.find("subnet"):
                for association in subnet["Ipv6CidrBlockAssociationSet"]:
                    if association["AssociationId"] == association_id:
                        subnet["Ipv6CidrBlockAssociationSet"].remove(association)
                        view.put("subnet", subnet)
                        self.fabric.subnet_changed(view, subnet)
                        return {"SubnetId": subnet["SubnetId"], "Ipv6CidrBlockAssociation": {
                            **association, "Ipv6CidrBlockState": {"State": "disassociating"}}}
        raise errors.AssociationNotFound(id=association_id)

