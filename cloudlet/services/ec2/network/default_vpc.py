"""The default VPC, in every account and region, made when first needed (and by
CreateDefaultVpc after it was deleted), matching AWS item by item:

- 172.31.0.0/16, DNS support and DNS hostnames on;
- one /20 default subnet per Availability Zone (172.31.0.0/20, 172.31.16.0/20, ...):
  4,091 usable addresses, MapPublicIpOnLaunch and DefaultForAz true;
- an attached internet gateway, and the main route table with `local` and 0.0.0.0/0 -> igw;
- the default security group (all inbound from itself, all outbound), the default network
  ACL (rule 100 allow and `*` deny, both ways), the region's default DHCP options.
"""

from __future__ import annotations

import ipaddress

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network.place import zones
from cloudlet.services.ec2.network.subnets import new_subnet
from cloudlet.services.ec2.network.vpcs import new_vpc
from cloudlet.services.ec2.store import View

DEFAULT_CIDR = "172.31.0.0/16"


def build_default_vpc(view: View, fabric) -> dict:
    vpc = new_vpc(view, DEFAULT_CIDR, default=True)
    vpc["_attributes"]["EnableDnsHostnames"] = True
    view.put("vpc", vpc)
    fabric.vpc_created(view, vpc)
    blocks = ipaddress.IPv4Network(DEFAULT_CIDR).subnets(new_prefix=20)
    for zone, block in zip(zones(view.region), blocks, strict=False):
        subnet = new_subnet(view, vpc, str(block), zone, default=True)
        fabric.subnet_changed(view, subnet)
    gateway = {"InternetGatewayId": new_id("igw"), "OwnerId": view.account,
               "Attachments": [{"State": "available", "VpcId": vpc["VpcId"]}]}
    view.put("internet-gateway", gateway)
    fabric.gateway_changed(view, "internet-gateway", gateway)
    for table in view.find("route-table", vpc_ids=[vpc["VpcId"]]):
        table["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0",
                                "GatewayId": gateway["InternetGatewayId"],
                                "Origin": "CreateRoute", "State": "active"})
        view.put("route-table", table)
        fabric.route_table_changed(view, table)
    for acl in view.find("network-acl", vpc_ids=[vpc["VpcId"]]):
        fabric.network_acl_changed(view, acl)
    for group in view.find("security-group", vpc_ids=[vpc["VpcId"]]):
        fabric.security_group_changed(view, group, view.find(
            "security-group-rule", parents=[group["GroupId"]]))
    view.set_place(vpc["VpcId"])
    return vpc


class DefaultVpcOperations:
    def create_place(self, view: View) -> None:
        build_default_vpc(view, self.fabric)

    def create_default_vpc(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            _, existing = view.place()
            if existing and view.get(existing, "vpc") is not None:
                raise errors.DefaultVpcAlreadyExists()
            vpc = build_default_vpc(view, self.fabric)
            shown = self.shown(view, "vpc", vpc)
        return {"Vpc": shown}
