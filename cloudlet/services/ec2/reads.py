"""What other services and layers may read of EC2, never its internals:

    reads = Ec2Reads(providers["ec2"])         # in a provider's attach()
    reads.subnets(account, region, ["subnet-..."])   -> [Subnet], AWS's shape
    reads.security_groups(account, region, ids)     -> [SecurityGroup]
    reads.vpc(account, region, "vpc-...")           -> Vpc | None
    reads.default_vpc(account, region)              -> Vpc | None (made when first needed)
    reads.add_names(callback)      callback(account, region, vpc_id, name) -> address(es) |
                                   None: names the VPCs' resolvers answer (RDS endpoints)

and the authorizer's view of a resource (its tags, its VPC) for the ec2: condition keys."""

from __future__ import annotations

from cloudlet.services.ec2.ids import KINDS
from cloudlet.services.ec2.store import Records, public
from cloudlet.services.ec2.tags import attach_tags


class Ec2Reads:
    """Read-only views of subnets, security groups and VPCs, with their tags."""

    def __init__(self, provider):
        self.provider = provider

    def _find(self, kind: str, account: str, region: str, ids: list[str]) -> list[dict]:
        view = self.provider.records.read(account, region)
        docs = [d for d in view.find(kind, ids=list(ids)) if d[KINDS[kind].id_member] in ids]
        return [public(d) for d in attach_tags(view, kind, docs)]

    def subnets(self, account: str, region: str, ids: list[str]) -> list[dict]:
        return self._find("subnet", account, region, ids)

    def security_groups(self, account: str, region: str, ids: list[str]) -> list[dict]:
        return self._find("security-group", account, region, ids)

    def vpc(self, account: str, region: str, vpc_id: str) -> dict | None:
        found = self._find("vpc", account, region, [vpc_id])
        return found[0] if found else None

    def default_vpc(self, account: str, region: str) -> dict | None:
        self.provider.ensure_place(account, region)
        _, vpc_id = self.provider.records.read(account, region).place()
        return self.vpc(account, region, vpc_id) if vpc_id else None

    def add_names(self, callback) -> None:
        """The one thing other services give EC2 rather than read from it: names for the
        VPCs' resolvers, asked before AWS's own (`mydb.x.us-east-1.rds.amazonaws.com` ->
        the instance's address in that VPC, or None to pass)."""
        self.provider.fabric.add_names(callback)

# condition keys that hold a resource's own id
ID_KEYS = {"vpc": "ec2:vpcid", "subnet": "ec2:subnetid", "security-group": "ec2:securitygroupid",
           "route-table": "ec2:routetableid", "network-acl": "ec2:networkaclid",
           "internet-gateway": "ec2:internetgatewayid", "natgateway": "ec2:natgatewayid",
           "network-interface": "ec2:networkinterfaceid", "vpc-endpoint": "ec2:vpceid"}


def resource_context(records: Records, account: str, region: str, arn: str) -> dict:
    """The condition keys a resource brings (lower-cased): ec2:ResourceTag/* and
    aws:ResourceTag/*, ec2:Vpc for what lives in a VPC, its id key, ec2:Tenancy."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "ec2" or "/" not in parts[5]:
        return {}
    type_name, _, id = parts[5].partition("/")
    kind = next((k for k in KINDS.values() if (k.arn_type or k.name) == type_name), None)
    if kind is None or not id or "*" in id:
        return {}
    view = records.read(account, region)
    doc = view.get(id, kind.name)
    if doc is None:
        return {}
    keys: dict[str, object] = {}
    for tag in view.tags_of([id]).get(id, []):
        keys[f"ec2:resourcetag/{tag['Key'].lower()}"] = tag["Value"]
        keys[f"aws:resourcetag/{tag['Key'].lower()}"] = tag["Value"]
    vpc_id = doc.get("VpcId")
    if vpc_id and kind.name != "vpc":
        keys["ec2:vpc"] = f"arn:aws:ec2:{region}:{account}:vpc/{vpc_id}"
    if kind.name in ID_KEYS:
        keys[ID_KEYS[kind.name]] = id
    if kind.name == "vpc":
        keys["ec2:tenancy"] = doc.get("InstanceTenancy", "default")
    return keys
