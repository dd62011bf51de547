"""EC2's operations and the IAM checks they make, where the Service Authorization
Reference's default (`ec2:<Operation>` on the ARNs its templates build) is not enough.

- CreateTags and DeleteTags act on the resources named in `Resources`, whatever their kind.
- A Create* with TagSpecifications also needs `ec2:CreateTags` on the new resource, with
  `ec2:CreateAction` naming the operation (AWS's tag-on-create authorization).
- Resources the reference lists as optional are checked too when the request names them
  (CreateSecurityGroup's VPC, CreateRoute's NAT gateway, ...), as AWS does.
- Every check carries `ec2:Region`, and `ec2:Vpc` when the request names a VPC; checks on
  an existing resource carry what the resource brings (`ec2:ResourceTag/*`,
  `aws:ResourceTag/*`, `ec2:Vpc`, its id key), which `resource_keys` asks the EC2 provider
  for.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudlet.authz.declarations import Check, Scope, iam_actions
from cloudlet.services.ec2.ids import KINDS, kind_of

TAGGING = ("CreateTags", "DeleteTags")
# IAM resource type -> the request members that name one
MEMBERS = {
    "vpc": ("VpcId",), "subnet": ("SubnetId", "SubnetIds"),
    "security-group": ("GroupId", "SecurityGroupIds", "Groups"),
    "route-table": ("RouteTableId", "RouteTableIds"), "network-acl": ("NetworkAclId",),
    "internet-gateway": ("InternetGatewayId", "GatewayId"), "natgateway": ("NatGatewayId",),
    "egress-only-internet-gateway": ("EgressOnlyInternetGatewayId",),
    "elastic-ip": ("AllocationId",), "network-interface": ("NetworkInterfaceId",),
    "vpc-endpoint": ("VpcEndpointId",), "dhcp-options": ("DhcpOptionsId",),
}


def optional_arns(operation: str, params: dict, scope: Scope) -> list[str]:
    """ARNs of the optional resources this request names."""
    details = iam_actions("ec2").get(operation.lower()) or {}
    found = []
    for entry in details.get("resourceTypes") or []:
        if entry.get("required"):
            continue
        kind = next((k for k in KINDS.values() if (k.arn_type or k.name) == entry["name"]), None)
        for member in MEMBERS.get(entry["name"], ()):
            values = params.get(member)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and kind is not None and value.startswith(
                        kind.prefix + "-"):
                    found.append(kind.arn(scope.region, scope.account_id, value))
    return found


def refine(operation: str, build: Callable[[dict, Scope], list[Check]]
           ) -> Callable[[dict, Scope], list[Check]]:
    def checks(params: dict, scope: Scope) -> list[Check]:
        context = {"ec2:Region": scope.region}
        if isinstance(params.get("VpcId"), str):
            context["ec2:Vpc"] = f"arn:aws:ec2:{scope.region}:{scope.account_id}:vpc/" \
                                 f"{params['VpcId']}"
        if operation in TAGGING:
            found = [Check(f"ec2:{operation}", _arn(resource, scope), context)
                     for resource in params.get("Resources") or []]
            return found or [Check(f"ec2:{operation}", "*", context)]
        found = [Check(c.action, c.resource, {**context, **c.context})
                 for c in build(params, scope)]
        action = found[0].action if found else f"ec2:{operation}"
        named = {c.resource for c in found}
        found += [Check(action, arn, context) for arn in optional_arns(operation, params, scope)
                  if arn not in named]
        for spec in params.get("TagSpecifications") or []:
            kind = KINDS.get(spec.get("ResourceType") or "")
            if kind is not None:
                found.append(Check("ec2:CreateTags", kind.arn(scope.region, scope.account_id, "*"),
                                   {**context, "ec2:CreateAction": operation}))
        return found

    return checks


def _arn(resource_id: str, scope: Scope) -> str:
    kind = kind_of(resource_id)
    if kind is None:
        return "*"
    return kind.arn(scope.region, scope.account_id, resource_id)


def resource_keys(provider, ctx, checks: list[Check]) -> dict[str, dict]:
    """On a worker thread: {resource ARN: its condition keys} for the checks' resources."""
    from cloudlet.services.ec2.reads import resource_context

    records = getattr(provider, "records", None)
    if records is None:
        return {}
    return {check.resource: resource_context(records, ctx.account_id, ctx.region,
                                             check.resource) for check in checks}
