"""Security groups: Create/Describe/DeleteSecurityGroup, Authorize/RevokeSecurityGroupIngress
and Egress, DescribeSecurityGroupRules, ModifySecurityGroupRules and UpdateSecurityGroupRule-
Descriptions*, with AWS's duplicate-rule and limit errors.

A new group has no inbound rule and one all-outbound rule (Terraform revokes it right after
create); each VPC's `default` group admits all traffic from its own members. Every change
hands the fabric the group with all its rules, since rules apply to running traffic."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id, well_formed
from cloudlet.services.ec2.network.sg_rules import (
    MAX_RULES,
    identity,
    legacy_permissions,
    new_rule,
    peer_text,
    permissions,
    rule_from_request,
    rules_from_permissions,
)
from cloudlet.services.ec2.store import View, public


def _permission_fields(prefix: str, member: str) -> dict:
    return {
        f"{prefix}.cidr": f"{member}.IpRanges.CidrIp",
        f"{prefix}.from-port": f"{member}.FromPort",
        f"{prefix}.to-port": f"{member}.ToPort",
        f"{prefix}.group-id": f"{member}.UserIdGroupPairs.GroupId",
        f"{prefix}.group-name": f"{member}.UserIdGroupPairs.GroupName",
        f"{prefix}.ipv6-cidr": f"{member}.Ipv6Ranges.CidrIpv6",
        f"{prefix}.prefix-list-id": f"{member}.PrefixListIds.PrefixListId",
        f"{prefix}.protocol": f"{member}.IpProtocol",
        f"{prefix}.user-id": f"{member}.UserIdGroupPairs.UserId",
    }


declare("security-group", {
    "description": "Description", "group-id": "GroupId", "group-name": "GroupName",
    "owner-id": "OwnerId", "vpc-id": "VpcId",
    **_permission_fields("ip-permission", "IpPermissions"),
    **_permission_fields("egress.ip-permission", "IpPermissionsEgress"),
})
declare("security-group-rule", {"group-id": "GroupId",
                                "security-group-rule-id": "SecurityGroupRuleId"})

ALL_OUT = {"CidrIpv4": "0.0.0.0/0"}


def new_group(view: View, vpc: dict, name: str, description: str) -> tuple[dict, list[dict]]:
    id = new_id("sg")
    group = {"GroupId": id, "GroupName": name, "Description": description,
             "VpcId": vpc["VpcId"], "OwnerId": view.account,
             "SecurityGroupArn": f"arn:aws:ec2:{view.region}:{view.account}:security-group/{id}"}
    view.put("security-group", group)
    rules = [new_rule(view, group, True, "-1", -1, -1, dict(ALL_OUT))]
    if vpc.get("Ipv6CidrBlockAssociationSet"):
        rules.append(new_rule(view, group, True, "-1", -1, -1, {"CidrIpv6": "::/0"}))
    return group, rules


def default_group(view: View, vpc: dict) -> dict:
    """The VPC's `default` group: all inbound from its own members, all outbound."""
    group, rules = new_group(view, vpc, "default", "default VPC security group")
    rules.insert(0, new_rule(view, group, False, "-1", -1, -1, {
        "ReferencedGroupInfo": {"GroupId": group["GroupId"], "UserId": view.account}}))
    for rule in rules:
        view.put("security-group-rule", rule)
    store_rules(view, group, rules)
    return group


def store_rules(view: View, group: dict, rules: list[dict]) -> None:
    """The group's IpPermissions and IpPermissionsEgress, kept in its record from its rules
    whenever they change (so DescribeSecurityGroups reads no rule)."""
    rules = sorted(rules, key=lambda r: (r.get("_seq") or 0, r["SecurityGroupRuleId"]))
    group["IpPermissions"] = permissions([r for r in rules if not r["IsEgress"]])
    group["IpPermissionsEgress"] = permissions([r for r in rules if r["IsEgress"]])
    view.put("security-group", group)


class SecurityGroupOperations:
    # -- groups ------------------------------------------------------------------------
    def _default_vpc(self, view: View) -> dict:
        _, vpc_id = view.place()
        vpc = view.get(vpc_id, "vpc") if vpc_id else None
        if vpc is None:
            raise errors.NoDefaultVpcForGroup()
        return vpc

    def _group(self, view: View, params: dict, id_member: str = "GroupId",
               name_member: str | None = "GroupName") -> dict:
        if params.get(id_member) is not None:
            return self.require(view, "security-group", params[id_member])
        name = params.get(name_member) if name_member else None
        if name is None:
            raise errors.MissingParameter(name=id_member)
        vpc = self._default_vpc(view)
        found = [g for g in view.find("security-group", names=[name])
                 if g["VpcId"] == vpc["VpcId"]]
        if not found:
            raise errors.GroupNotFoundInDefaultVpc(name=name, vpc=vpc["VpcId"])
        return found[0]

    def create_security_group(self, ctx, params):
        name, description = params.get("GroupName"), params.get("Description")
        if name is None:
            raise errors.MissingParameter(name="GroupName")
        if description is None:
            raise errors.MissingParameter(name="GroupDescription")
        if name == "default":
            raise errors.GroupReserved()
        if name.startswith("sg-"):
            raise errors.InvalidParameterValue(
                message="Group names may not be in the format sg-*.")
        if not name or len(name) > 255 or len(description) > 255:
            raise errors.InvalidParameterValue(
                message="Group names and descriptions must be between 0 and 255 characters.")
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = (self.require(view, "vpc", params["VpcId"]) if params.get("VpcId")
                   else self._default_vpc(view))
            if any(g["VpcId"] == vpc["VpcId"] for g in view.find("security-group",
                                                                 names=[name])):
                raise errors.GroupDuplicate(name=name, vpc=vpc["VpcId"])
            group, rules = new_group(view, vpc, name, description)
            for rule in rules:
                view.put("security-group-rule", rule)
            store_rules(view, group, rules)
            shown = self.created(view, "security-group", group, params)
            self.fabric.security_group_changed(view, group, rules)
        return {"GroupId": group["GroupId"], "Tags": shown.get("Tags"),
                "SecurityGroupArn": group["SecurityGroupArn"]}

    def describe_security_groups(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        ids = list(params.get("GroupIds") or [])
        names = params.get("GroupNames") or []
        if names:
            vpc = self._default_vpc(view)
            for name in names:
                found = [g for g in view.find("security-group", names=[name])
                         if g["VpcId"] == vpc["VpcId"]]
                if not found:
                    raise errors.GroupNotFoundInDefaultVpc(name=name, vpc=vpc["VpcId"])
                ids.append(found[0]["GroupId"])
        return self.describe(ctx, params, "security-group", "SecurityGroups",
                             ids=ids or None, view=view)

    def delete_security_group(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            group = self._group(view, params)
            id = group["GroupId"]
            if group["GroupName"] == "default":
                raise errors.CannotDeleteDefaultGroup(id=id)
            in_use = any(id in [g["GroupId"] for g in eni.get("Groups") or []]
                         for eni in view.find("network-interface", vpc_ids=[group["VpcId"]]))
            referenced = any(
                (r.get("ReferencedGroupInfo") or {}).get("GroupId") == id and r["GroupId"] != id
                for r in view.find("security-group-rule"))
            if in_use or referenced:
                raise errors.DependencyViolation(
                    message=f"resource {id} has a dependent object")
            for rule in view.find("security-group-rule", parents=[id]):
                view.delete(rule["SecurityGroupRuleId"])
            view.delete(id)
            self.fabric.security_group_deleted(view, group)
        return {"Return": True, "GroupId": id}

    # -- rules ---------------------------------------------------------------------------
    def authorize_security_group_ingress(self, ctx, params):
        return self._authorize(ctx, params, egress=False)

    def authorize_security_group_egress(self, ctx, params):
        return self._authorize(ctx, params, egress=True)

    def _authorize(self, ctx, params, egress: bool):
        from cloudlet.services.ec2.tags import apply_tags, spec_tags

        tags = spec_tags(params, "security-group-rule")
        with self.records.write(ctx.account_id, ctx.region) as view:
            group = self._group(view, params, name_member=None if egress else "GroupName")
            asked = (params.get("IpPermissions") or []) + legacy_permissions(params)
            if not asked:
                raise errors.MissingParameter(name="ipPermissions")
            rules = rules_from_permissions(view, group, egress, asked)
            existing = view.find("security-group-rule", parents=[group["GroupId"]])
            seen = {identity(r) for r in existing}
            for rule in rules:
                if identity(rule) in seen:
                    raise errors.PermissionDuplicate(rule=peer_text(rule))
                seen.add(identity(rule))
            same_way = sum(1 for r in existing if r["IsEgress"] == egress)
            if same_way + len(rules) > MAX_RULES:
                raise errors.RulesLimitExceeded()
            for rule in rules:
                view.put("security-group-rule", rule)
                if tags:
                    apply_tags(view, "security-group-rule", rule["SecurityGroupRuleId"], tags)
            store_rules(view, group, existing + rules)
            self.fabric.security_group_changed(view, group, existing + rules)
        return {"Return": True,
                "SecurityGroupRules": [{**public(r), **({"Tags": tags} if tags else {})}
                                       for r in rules]}

    def revoke_security_group_ingress(self, ctx, params):
        return self._revoke(ctx, params, egress=False)

    def revoke_security_group_egress(self, ctx, params):
        return self._revoke(ctx, params, egress=True)

    def _revoke(self, ctx, params, egress: bool):
        with self.records.write(ctx.account_id, ctx.region) as view:
            group = self._group(view, params, name_member=None if egress else "GroupName")
            existing = view.find("security-group-rule", parents=[group["GroupId"]])
            by_id = {r["SecurityGroupRuleId"]: r for r in existing}
            revoked = []
            for rule_id in params.get("SecurityGroupRuleIds") or []:
                rule = by_id.get(rule_id)
                if rule is None or rule["IsEgress"] != egress:
                    raise errors.RuleNotFound(id=rule_id)
                revoked.append(rule)
            asked = (params.get("IpPermissions") or []) + legacy_permissions(params)
            by_identity = {identity(r): r for r in existing}
            for wanted in rules_from_permissions(view, group, egress, asked) if asked else []:
                rule = by_identity.get(identity(wanted))
                if rule is None:
                    raise errors.PermissionNotFound()
                revoked.append(rule)
            if not revoked:
                raise errors.MissingParameter(name="ipPermissions")
            gone = {r["SecurityGroupRuleId"] for r in revoked}
            for rule_id in gone:
                view.delete(rule_id)
            kept = [r for r in existing if r["SecurityGroupRuleId"] not in gone]
            store_rules(view, group, kept)
            self.fabric.security_group_changed(view, group, kept)
        return {"Return": True, "RevokedSecurityGroupRules": [
            {"SecurityGroupRuleId": r["SecurityGroupRuleId"], "GroupId": r["GroupId"],
             "IsEgress": r["IsEgress"], "IpProtocol": r["IpProtocol"],
             "FromPort": r["FromPort"], "ToPort": r["ToPort"],
             **{k: r[k] for k in ("CidrIpv4", "CidrIpv6", "PrefixListId", "Description")
                if k in r},
             **({"ReferencedGroupId": r["ReferencedGroupInfo"]["GroupId"]}
                if "ReferencedGroupInfo" in r else {})} for r in revoked]}

    def describe_security_group_rules(self, ctx, params):
        ids = params.get("SecurityGroupRuleIds")
        for id in ids or []:
            if not well_formed(id, "sgr"):
                raise errors.RuleMalformed(id=id)
        return self.describe(ctx, params, "security-group-rule", "SecurityGroupRules",
                             ids=ids)

    def modify_security_group_rules(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            group = self.require(view, "security-group", params.get("GroupId"))
            existing = view.find("security-group-rule", parents=[group["GroupId"]])
            by_id = {r["SecurityGroupRuleId"]: r for r in existing}
            for update in params.get("SecurityGroupRules") or []:
                rule_id = update.get("SecurityGroupRuleId")
                old = by_id.get(rule_id)
                if old is None:
                    raise errors.RuleNotFound(id=rule_id)
                new = rule_from_request(view, group, old["IsEgress"],
                                        update.get("SecurityGroupRule") or {})
                new.update(SecurityGroupRuleId=rule_id,
                           SecurityGroupRuleArn=old["SecurityGroupRuleArn"])
                if any(identity(r) == identity(new) for r in by_id.values()
                       if r["SecurityGroupRuleId"] != rule_id):
                    raise errors.PermissionDuplicate(rule=peer_text(new))
                by_id[rule_id] = new
                view.put("security-group-rule", new)
            store_rules(view, group, list(by_id.values()))
            self.fabric.security_group_changed(view, group, list(by_id.values()))
        return {"Return": True}

    def update_security_group_rule_descriptions_ingress(self, ctx, params):
        return self._update_descriptions(ctx, params, egress=False)

    def update_security_group_rule_descriptions_egress(self, ctx, params):
        return self._update_descriptions(ctx, params, egress=True)

    def _update_descriptions(self, ctx, params, egress: bool):
        with self.records.write(ctx.account_id, ctx.region) as view:
            group = self._group(view, params)
            existing = [r for r in view.find("security-group-rule", parents=[group["GroupId"]])
                        if r["IsEgress"] == egress]
            by_id = {r["SecurityGroupRuleId"]: r for r in existing}
            by_identity = {identity(r): r for r in existing}
            changed = []
            for item in params.get("SecurityGroupRuleDescriptions") or []:
                rule = by_id.get(item.get("SecurityGroupRuleId"))
                if rule is None:
                    raise errors.RuleNotFound(id=item.get("SecurityGroupRuleId"))
                changed.append((rule, item.get("Description")))
            for wanted in rules_from_permissions(view, group, egress,
                                                 params.get("IpPermissions") or []):
                rule = by_identity.get(identity(wanted))
                if rule is None:
                    raise errors.PermissionNotFound()
                changed.append((rule, wanted.get("Description")))
            for rule, description in changed:
                if description is None:
                    rule.pop("Description", None)
                else:
                    rule["Description"] = description
                view.put("security-group-rule", rule)
            store_rules(view, group, view.find("security-group-rule",
                                               parents=[group["GroupId"]]))
        return {"Return": True}

    # -- views across groups -------------------------------------------------------------
    def get_security_groups_for_vpc(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        vpc = self.require(view, "vpc", params.get("VpcId"))
        answer = self.describe(ctx, {**params, "Filters": [
            *(params.get("Filters") or []), {"Name": "vpc-id", "Values": [vpc["VpcId"]]}]},
            "security-group", "SecurityGroupForVpcs", view=view)
        answer["SecurityGroupForVpcs"] = [
            {"Description": g["Description"], "GroupName": g["GroupName"],
             "OwnerId": g["OwnerId"], "GroupId": g["GroupId"], "Tags": g.get("Tags", []),
             "PrimaryVpcId": g["VpcId"]} for g in answer["SecurityGroupForVpcs"]]
        return answer

    def describe_stale_security_groups(self, ctx, params):
        """Stale rules reference groups across peering connections, which Cloudlet has not."""
        view = self.records.read(ctx.account_id, ctx.region)
        self.require(view, "vpc", params.get("VpcId"))
        return {"StaleSecurityGroupSet": []}

    def describe_security_group_references(self, ctx, params):
        """References from peered VPCs (none without peering); the groups must exist."""
        view = self.records.read(ctx.account_id, ctx.region)
        for id in params.get("GroupId") or []:
            self.require(view, "security-group", id)
        return {"SecurityGroupReferenceSet": []}

