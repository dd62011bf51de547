"""EC2's resource kinds and the shapes of their ids.

    KINDS["vpc"].new_id() -> "vpc-0a1b2c3d4e5f60718"
    kind_of("sg-0123...") -> KINDS["security-group"]
    well_formed("vpc-0a1b2c3d", "vpc") -> True

A kind is named as AWS's `ResourceType` names it (TagSpecifications, DescribeTags); its id is
the prefix and 17 hex digits (AWS still accepts the old 8). `id_member` is the member of the
resource's shape that holds the id, `tags_member` the one that holds its tags."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    prefix: str
    id_member: str
    noun: str  # how AWS's messages name it: "The vpc ID '...' does not exist"
    tags_member: str = "Tags"
    arn_type: str = ""  # the IAM resource type, when it is not `name`

    def new_id(self) -> str:
        return f"{self.prefix}-{secrets.token_hex(9)[:17]}"

    def arn(self, region: str, account: str, id: str) -> str:
        return f"arn:aws:ec2:{region}:{account}:{self.arn_type or self.name}/{id}"


KINDS = {kind.name: kind for kind in (
    Kind("vpc", "vpc", "VpcId", "vpc"),
    Kind("subnet", "subnet", "SubnetId", "subnet"),
    Kind("security-group", "sg", "GroupId", "security group"),
    Kind("security-group-rule", "sgr", "SecurityGroupRuleId", "security group rule"),
    Kind("route-table", "rtb", "RouteTableId", "route table"),
    Kind("network-acl", "acl", "NetworkAclId", "network ACL"),
    Kind("internet-gateway", "igw", "InternetGatewayId", "internet gateway"),
    Kind("egress-only-internet-gateway", "eigw", "EgressOnlyInternetGatewayId",
         "egress-only internet gateway"),
    Kind("natgateway", "nat", "NatGatewayId", "NAT gateway"),
    Kind("elastic-ip", "eipalloc", "AllocationId", "allocation", arn_type="elastic-ip"),
    Kind("network-interface", "eni", "NetworkInterfaceId", "network interface",
         tags_member="TagSet"),
    Kind("vpc-endpoint", "vpce", "VpcEndpointId", "VPC endpoint"),
    Kind("dhcp-options", "dopt", "DhcpOptionsId", "DHCP options"),
    Kind("vpc-flow-log", "fl", "FlowLogId", "flow log"),
)}
BY_PREFIX = {kind.prefix: kind for kind in KINDS.values()}

# Ids of things that are not resources of their own (associations, attachments).
ASSOCIATION_PREFIXES = ("rtbassoc", "aclassoc", "eipassoc", "vpc-cidr-assoc",
                        "subnet-cidr-assoc", "eni-attach")

_SHAPE = re.compile(r"([a-z]+(?:-[a-z]+)*)-([0-9a-f]{8}|[0-9a-f]{17})")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def well_formed(value, prefix: str) -> bool:
    match = _SHAPE.fullmatch(value) if isinstance(value, str) else None
    return match is not None and match.group(1) == prefix


def kind_of(resource_id: str) -> Kind | None:
    match = _SHAPE.fullmatch(resource_id or "")
    return BY_PREFIX.get(match.group(1)) if match else None


def mac_address() -> str:
    """A locally administered unicast MAC, as AWS's (02:...)."""
    return "02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(5))
