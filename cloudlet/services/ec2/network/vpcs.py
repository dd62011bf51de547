"""VPCs: CreateVpc (/16 to /28), DescribeVpcs, DeleteVpc (DependencyViolation while anything
is in it), Modify/DescribeVpcAttribute, Associate/DisassociateVpcCidrBlock.

A new VPC comes with its main route table (the `local` route), its default network ACL
(rule 100 allow and `*` deny, both ways) and its default security group (all inbound from
itself, all outbound), as on AWS; `new_vpc` makes all four and the default VPC uses it too.
"""

from __future__ import annotations

import ipaddress
import secrets

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import KINDS, new_id
from cloudlet.services.ec2.network import cidrs
from cloudlet.services.ec2.network.dhcp import default_options
from cloudlet.services.ec2.network.network_acls import default_acl
from cloudlet.services.ec2.network.route_tables import main_table, refresh_local_routes
from cloudlet.services.ec2.network.security_groups import default_group
from cloudlet.services.ec2.store import View

declare("vpc", {
    "cidr": "CidrBlock",
    "cidr-block-association.cidr-block": "CidrBlockAssociationSet.CidrBlock",
    "cidr-block-association.association-id": "CidrBlockAssociationSet.AssociationId",
    "cidr-block-association.state": "CidrBlockAssociationSet.CidrBlockState.State",
    "dhcp-options-id": "DhcpOptionsId",
    "ipv6-cidr-block-association.ipv6-cidr-block":
        "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.ipv6-pool": "Ipv6CidrBlockAssociationSet.Ipv6Pool",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state":
        "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "is-default": "IsDefault", "isDefault": "IsDefault",  # AWS still takes the old name
    "owner-id": "OwnerId",
    "state": "State",
    "vpc-id": "VpcId",
})

ATTRIBUTES = {"enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames",
              "enableNetworkAddressUsageMetrics": "EnableNetworkAddressUsageMetrics"}
MAX_CIDRS = 5


def vpc_range(value, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    net = cidrs.network(value, parameter)
    if not 16 <= net.prefixlen <= 28:
        raise errors.InvalidVpcRange(cidr=value)
    return net


def cidr_association(cidr: str) -> dict:
    return {"AssociationId": new_id("vpc-cidr-assoc"), "CidrBlock": cidr,
            "CidrBlockState": {"State": "associated"}}


def ipv6_association(region: str) -> dict:
    block = f"2600:1f18:{secrets.randbelow(0x10000):x}:{secrets.randbelow(0x100):x}00::/56"
    return {"AssociationId": new_id("vpc-cidr-assoc"),
            "Ipv6CidrBlock": str(ipaddress.IPv6Network(block)),
            "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": region,
            "Ipv6Pool": "Amazon", "Ipv6AddressAttribute": "public", "IpSource": "amazon"}


def new_vpc(view: View, cidr: str, *, default: bool = False, tenancy: str = "default",
            ipv6: bool = False) -> dict:
    """The VPC and what every VPC comes with (not yet committed)."""
    vpc = {
        "VpcId": new_id("vpc"), "OwnerId": view.account, "InstanceTenancy": tenancy,
        "CidrBlock": cidr, "CidrBlockAssociationSet": [cidr_association(cidr)],
        "IsDefault": default, "State": "available",
        "DhcpOptionsId": default_options(view)["DhcpOptionsId"],
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "_attributes": {"EnableDnsSupport": True, "EnableDnsHostnames": default,
                        "EnableNetworkAddressUsageMetrics": False},
    }
    if ipv6:
        vpc["Ipv6CidrBlockAssociationSet"] = [ipv6_association(view.region)]
    view.put("vpc", vpc)
    main_table(view, vpc)
    default_acl(view, vpc)
    default_group(view, vpc)
    return vpc


# What blocks DeleteVpc, beyond what goes with the VPC (the main route table, the default
# network ACL and security group).
BLOCKING = ("subnet", "network-interface", "vpc-endpoint", "natgateway")


class VpcOperations:
    def create_vpc(self, ctx, params):
        if params.get("Ipv4IpamPoolId") or params.get("Ipv6IpamPoolId"):
            raise errors.UnsupportedOperation(message="IPAM pools are not supported.")
        if params.get("CidrBlock") is None:
            raise errors.MissingParameter(name="CidrBlock")
        net = vpc_range(params["CidrBlock"])
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = new_vpc(view, str(net), tenancy=params.get("InstanceTenancy") or "default",
                          ipv6=bool(params.get("AmazonProvidedIpv6CidrBlock")))
            shown = self.created(view, "vpc", vpc, params)
            self.fabric.vpc_created(view, vpc)
        return {"Vpc": shown}

    def describe_vpcs(self, ctx, params):
        return self.describe(ctx, params, "vpc", "Vpcs", ids_member="VpcIds")

    def delete_vpc(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            vpc_id = vpc["VpcId"]
            if self._vpc_in_use(view, vpc_id):
                raise errors.DependencyViolation(
                    message=f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
            for kind in ("route-table", "network-acl", "security-group"):
                for doc in view.find(kind, vpc_ids=[vpc_id]):
                    view.delete(doc[KINDS[kind].id_member])
                    if kind == "security-group":
                        for rule in view.find("security-group-rule", parents=[doc["GroupId"]]):
                            view.delete(rule["SecurityGroupRuleId"])
            for flow_log in view.find("vpc-flow-log"):
                if flow_log.get("_vpc") == vpc_id:
                    view.delete(flow_log["FlowLogId"])
            view.delete(vpc_id)
            if vpc.get("IsDefault"):
                view.set_place(None)
            self.fabric.vpc_deleted(view, vpc)
        return {}

    @staticmethod
    def _vpc_in_use(view: View, vpc_id: str) -> bool:
        kinds = view.kinds_in_vpc(vpc_id)
        if any(kinds.get(kind) for kind in BLOCKING[:3]):
            return True
        if any(n["State"] in ("pending", "available", "deleting")
               for n in view.find("natgateway", vpc_ids=[vpc_id])):
            return True
        if kinds.get("route-table", 0) > 1 or kinds.get("network-acl", 0) > 1 \
                or kinds.get("security-group", 0) > 1:
            return True
        for kind in ("internet-gateway", "egress-only-internet-gateway"):
            for gateway in view.find(kind):
                if any(a.get("VpcId") == vpc_id for a in gateway.get("Attachments") or []):
                    return True
        return False

    def modify_vpc_attribute(self, ctx, params):
        given = [name for name in ATTRIBUTES.values() if params.get(name) is not None]
        if len(given) != 1:
            raise errors.InvalidParameterCombination(
                message="Fields for multiple attribute types specified: "
                        + ", ".join(given) if given else "No attributes specified.")
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            name = given[0]
            value = bool(params[name].get("Value"))
            attributes = vpc["_attributes"]
            if name == "EnableDnsHostnames" and value and not attributes["EnableDnsSupport"]:
                raise errors.InvalidParameterValue(
                    message="Cannot enable DNS hostnames when DNS resolution is disabled.")
            attributes[name] = value
            view.put("vpc", vpc)
            self.fabric.vpc_changed(view, vpc)
        return {}

    def describe_vpc_attribute(self, ctx, params):
        attribute = params.get("Attribute")
        if attribute not in ATTRIBUTES:
            raise errors.bad_value(attribute, "attribute")
        view = self.records.read(ctx.account_id, ctx.region)
        vpc = self.require(view, "vpc", params.get("VpcId"))
        member = ATTRIBUTES[attribute]
        return {"VpcId": vpc["VpcId"], member: {"Value": vpc["_attributes"][member]}}

    def associate_vpc_cidr_block(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            answer = {"VpcId": vpc["VpcId"]}
            if params.get("CidrBlock"):
                net = vpc_range(params["CidrBlock"])
                if len(cidrs.vpc_blocks(vpc)) >= MAX_CIDRS:
                    raise errors.CidrLimitExceeded(vpc=vpc["VpcId"])
                if cidrs.overlaps(net, cidrs.vpc_blocks(vpc)):
                    raise errors.CidrConflict(
                        message=f"The CIDR '{net}' conflicts with another CIDR block of the "
                                f"VPC '{vpc['VpcId']}'.")
                association = cidr_association(str(net))
                vpc["CidrBlockAssociationSet"].append(association)
                answer["CidrBlockAssociation"] = association
            elif params.get("AmazonProvidedIpv6CidrBlock"):
                if vpc.get("Ipv6CidrBlockAssociationSet"):
                    raise errors.CidrLimitExceeded(vpc=vpc["VpcId"])
                association = ipv6_association(ctx.region)
                vpc["Ipv6CidrBlockAssociationSet"] = [association]
                answer["Ipv6CidrBlockAssociation"] = association
            else:
                raise errors.MissingParameter(name="CidrBlock")
            view.put("vpc", vpc)
            refresh_local_routes(view, vpc, self.fabric)
            self.fabric.vpc_changed(view, vpc)
        return answer

    def disassociate_vpc_cidr_block(self, ctx, params):
        association_id = params.get("AssociationId")
        with self.records.write(ctx.account_id, ctx.region) as view:
            for vpc in view.find("vpc"):
                for member in ("CidrBlockAssociationSet", "Ipv6CidrBlockAssociationSet"):
                    for association in vpc.get(member, []):
                        if association["AssociationId"] == association_id:
                            return self._disassociate(view, vpc, member, association)
        raise errors.InvalidCidrAssociationNotFound(id=association_id)

    def _disassociate(self, view: View, vpc: dict, member: str, association: dict) -> dict:
        if member == "CidrBlockAssociationSet":
            if association["CidrBlock"] == vpc["CidrBlock"]:
                raise errors.InvalidParameterValue(
                    message=f"The vpc CIDR block with association ID "
                            f"{association['AssociationId']} may not be disassociated. It is "
                            "the primary IPv4 CIDR block of the VPC")
            block = ipaddress.IPv4Network(association["CidrBlock"])
            if any(ipaddress.IPv4Network(s["CidrBlock"]).subnet_of(block)
                   for s in view.find("subnet", vpc_ids=[vpc["VpcId"]])):
                raise errors.DependencyViolation(
                    message=f"The vpc CIDR block {block} has dependencies and cannot be "
                            "disassociated.")
        vpc[member] = [a for a in vpc[member] if a is not association]
        if not vpc[member] and member == "Ipv6CidrBlockAssociationSet":
            del vpc[member]
        view.put("vpc", vpc)
        refresh_local_routes(view, vpc, self.fabric)
        self.fabric.vpc_changed(view, vpc)
        state = "CidrBlockState" if member == "CidrBlockAssociationSet" else "Ipv6CidrBlockState"
        shown = {**association, state: {"State": "disassociating"}}
        key = "CidrBlockAssociation" if member == "CidrBlockAssociationSet" \
            else "Ipv6CidrBlockAssociation"
        return {"VpcId": vpc["VpcId"], key: shown}
