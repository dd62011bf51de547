"""Network ACLs: stateless rules at subnet boundaries. Each VPC's default ACL (rule 100
allow and `*` deny, both ways, associated with every subnet not given another), Create/
Describe/DeleteNetworkAcl, Create/Replace/DeleteNetworkAclEntry (rules 1-32766, first
match wins) and ReplaceNetworkAclAssociation. A new custom ACL denies everything."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id, well_formed
from cloudlet.services.ec2.network import cidrs
from cloudlet.services.ec2.store import View

declare("network-acl", {
    "association.association-id": "Associations.NetworkAclAssociationId",
    "association.network-acl-id": "Associations.NetworkAclId",
    "association.subnet-id": "Associations.SubnetId",
    "default": "IsDefault",
    "entry.cidr": "Entries.CidrBlock",
    "entry.egress": "Entries.Egress",
    "entry.icmp.code": "Entries.IcmpTypeCode.Code",
    "entry.icmp.type": "Entries.IcmpTypeCode.Type",
    "entry.ipv6-cidr": "Entries.Ipv6CidrBlock",
    "entry.port-range.from": "Entries.PortRange.From",
    "entry.port-range.to": "Entries.PortRange.To",
    "entry.protocol": "Entries.Protocol",
    "entry.rule-action": "Entries.RuleAction",
    "entry.rule-number": "Entries.RuleNumber",
    "network-acl-id": "NetworkAclId",
    "owner-id": "OwnerId",
    "vpc-id": "VpcId",
})

PROTOCOLS = {"all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
LAST = 32767  # the `*` rule


def _entry(number: int, egress: bool, action: str, cidr: str = "0.0.0.0/0") -> dict:
    member = "Ipv6CidrBlock" if ":" in cidr else "CidrBlock"
    return {member: cidr, "Egress": egress, "Protocol": "-1", "RuleAction": action,
            "RuleNumber": number}


def ordered(entries: list[dict]) -> list[dict]:
    return sorted(entries, key=lambda e: (not e["Egress"], e["RuleNumber"]))


def default_acl(view: View, vpc: dict) -> dict:
    entries = []
    for egress in (True, False):
        entries += [_entry(100, egress, "allow"), _entry(LAST, egress, "deny")]
        if vpc.get("Ipv6CidrBlockAssociationSet"):
            entries += [_entry(101, egress, "allow", "::/0"),
                        _entry(LAST + 1, egress, "deny", "::/0")]
    acl = {"NetworkAclId": new_id("acl"), "VpcId": vpc["VpcId"], "OwnerId": view.account,
           "IsDefault": True, "Entries": ordered(entries), "Associations": []}
    view.put("network-acl", acl)
    return acl


def associate_default(view: View, subnet: dict) -> dict:
    """A new subnet starts in its VPC's default network ACL."""
    acl = next(a for a in view.find("network-acl", vpc_ids=[subnet["VpcId"]]) if a["IsDefault"])
    acl["Associations"].append({"NetworkAclAssociationId": new_id("aclassoc"),
                                "NetworkAclId": acl["NetworkAclId"],
                                "SubnetId": subnet["SubnetId"]})
    view.put("network-acl", acl)
    return acl


def release_subnet(view: View, subnet: dict) -> dict | None:
    for acl in view.find("network-acl", vpc_ids=[subnet["VpcId"]]):
        kept = [a for a in acl["Associations"] if a["SubnetId"] != subnet["SubnetId"]]
        if len(kept) != len(acl["Associations"]):
            acl["Associations"] = kept
            view.put("network-acl", acl)
            return acl
    return None


def _protocol(value) -> str:
    text = str(value).lower()
    text = PROTOCOLS.get(text, text)
    if text != "-1" and not (text.isdigit() and 0 <= int(text) <= 255):
        raise errors.bad_value(value, "protocol")
    return text


class NetworkAclOperations:
    def create_network_acl(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            entries = [_entry(LAST, True, "deny"), _entry(LAST, False, "deny")]
            if vpc.get("Ipv6CidrBlockAssociationSet"):
                entries += [_entry(LAST + 1, True, "deny", "::/0"),
                            _entry(LAST + 1, False, "deny", "::/0")]
            acl = {"NetworkAclId": new_id("acl"), "VpcId": vpc["VpcId"],
                   "OwnerId": ctx.account_id, "IsDefault": False, "Entries": ordered(entries),
                   "Associations": []}
            shown = self.created(view, "network-acl", acl, params)
            self.fabric.network_acl_changed(view, acl)
        return {"NetworkAcl": shown}

    def describe_network_acls(self, ctx, params):
        return self.describe(ctx, params, "network-acl", "NetworkAcls",
                             ids_member="NetworkAclIds", maximum=100)

    def delete_network_acl(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            acl = self.require(view, "network-acl", params.get("NetworkAclId"))
            if acl["IsDefault"]:
                raise errors.InvalidParameterValue(
                    message=f"cannot delete default network ACL {acl['NetworkAclId']}")
            if acl["Associations"]:
                raise errors.DependencyViolation(
                    message=f"The networkAcl '{acl['NetworkAclId']}' has dependencies and "
                            "cannot be deleted.")
            view.delete(acl["NetworkAclId"])
            self.fabric.network_acl_deleted(view, acl)
        return {}

    # -- entries -------------------------------------------------------------------------
    def _entry_of(self, params: dict) -> dict:
        number = params.get("RuleNumber")
        if number is None or not 1 <= number <= 32766:
            raise errors.bad_value(number, "ruleNumber",
                                   "The rule number must be between 1 and 32766.")
        action = params.get("RuleAction")
        if action not in ("allow", "deny"):
            raise errors.bad_value(action, "ruleAction")
        entry = {"Egress": bool(params.get("Egress")), "Protocol": _protocol(
            params.get("Protocol", "-1")), "RuleAction": action, "RuleNumber": number}
        if params.get("CidrBlock"):
            net = cidrs.any_network(params["CidrBlock"])
            if net is None or net.version != 4:
                raise errors.bad_value(params["CidrBlock"], "cidrBlock")
            entry["CidrBlock"] = str(net)
        elif params.get("Ipv6CidrBlock"):
            entry["Ipv6CidrBlock"] = str(cidrs.network6(params["Ipv6CidrBlock"]))
        else:
            raise errors.MissingParameter(name="cidrBlock or ipv6CidrBlock")
        if entry["Protocol"] in ("6", "17"):
            ports = params.get("PortRange")
            if not ports or ports.get("From") is None or ports.get("To") is None:
                raise errors.InvalidParameter(
                    message="TCP and UDP protocols require a port range.")
            entry["PortRange"] = {"From": ports["From"], "To": ports["To"]}
        if entry["Protocol"] in ("1", "58"):
            icmp = params.get("IcmpTypeCode")
            if not icmp:
                raise errors.InvalidParameter(
                    message="ICMP protocol requires an ICMP type and code.")
            entry["IcmpTypeCode"] = {"Code": icmp.get("Code", -1), "Type": icmp.get("Type", -1)}
        return entry

    def _find_entry(self, acl: dict, number: int, egress: bool) -> int | None:
        return next((i for i, e in enumerate(acl["Entries"])
                     if e["RuleNumber"] == number and e["Egress"] == egress), None)

    def create_network_acl_entry(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            acl = self.require(view, "network-acl", params.get("NetworkAclId"))
            entry = self._entry_of(params)
            if self._find_entry(acl, entry["RuleNumber"], entry["Egress"]) is not None:
                raise errors.NetworkAclEntryExists(number=entry["RuleNumber"])
            acl["Entries"] = ordered(acl["Entries"] + [entry])
            view.put("network-acl", acl)
            self.fabric.network_acl_changed(view, acl)
        return {}

    def replace_network_acl_entry(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            acl = self.require(view, "network-acl", params.get("NetworkAclId"))
            entry = self._entry_of(params)
            index = self._find_entry(acl, entry["RuleNumber"], entry["Egress"])
            if index is None:
                raise errors.NetworkAclEntryNotFound(number=entry["RuleNumber"])
            acl["Entries"][index] = entry
            view.put("network-acl", acl)
            self.fabric.network_acl_changed(view, acl)
        return {}

    def delete_network_acl_entry(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            acl = self.require(view, "network-acl", params.get("NetworkAclId"))
            index = self._find_entry(acl, params.get("RuleNumber"), bool(params.get("Egress")))
            if index is None or acl["Entries"][index]["RuleNumber"] >= LAST:
                raise errors.NetworkAclEntryNotFound(number=params.get("RuleNumber"))
            del acl["Entries"][index]
            view.put("network-acl", acl)
            self.fabric.network_acl_changed(view, acl)
        return {}

    def replace_network_acl_association(self, ctx, params):
        association_id = params.get("AssociationId")
        if not well_formed(association_id, "aclassoc"):
            raise errors.AssociationMalformed(id=association_id)
        with self.records.write(ctx.account_id, ctx.region) as view:
            new = self.require(view, "network-acl", params.get("NetworkAclId"))
            for old in view.find("network-acl"):
                association = next((a for a in old["Associations"]
                                    if a["NetworkAclAssociationId"] == association_id), None)
                if association is not None:
                    break
            else:
                raise errors.AssociationNotFound(id=association_id)
            if old["VpcId"] != new["VpcId"]:
                raise errors.InvalidParameterValue(
                    message=f"Network ACL {new['NetworkAclId']} and subnet "
                            f"{association['SubnetId']} belong to different networks")
            old["Associations"].remove(association)
            view.put("network-acl", old)
            if new["NetworkAclId"] == old["NetworkAclId"]:
                new = old
            replacement = {"NetworkAclAssociationId": new_id("aclassoc"),
                           "NetworkAclId": new["NetworkAclId"],
                           "SubnetId": association["SubnetId"]}
            new["Associations"].append(replacement)
            view.put("network-acl", new)
            self.fabric.network_acl_changed(view, old)
            self.fabric.network_acl_changed(view, new)
        return {"NewAssociationId": replacement["NetworkAclAssociationId"]}
