"""EC2's operations and the IAM checks they make, where the Service Authorization
Reference's default (`ec2:<Operation>` on the ARNs its templates build) is not enough.

- CreateTags and DeleteTags act on the resources named in `Resources`, whatever their kind.
- A Create* with TagSpecifications also needs `ec2:CreateTags` on the new resource, with
  `ec2:CreateAction` naming the operation (AWS's tag-on-create authorization).
- Every check carries `ec2:Region`; checks on an existing resource carry what the resource
  brings (`ec2:ResourceTag/*`, `aws:ResourceTag/*`, `ec2:Vpc`, its id key), which
  `resource_keys` asks the EC2 provider for.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudlet.iam.actions import Check, Scope
from cloudlet.services.ec2.ids import KINDS, kind_of

TAGGING = ("CreateTags", "DeleteTags")


def refine(operation: str, build: Callable[[dict, Scope], list[Check]]
           ) -> Callable[[dict, Scope], list[Check]]:
    def checks(params: dict, scope: Scope) -> list[Check]:
        context = {"ec2:Region": scope.region}
        if operation in TAGGING:
            found = [Check(f"ec2:{operation}", _arn(resource, scope), context)
                     for resource in params.get("Resources") or []]
            return found or [Check(f"ec2:{operation}", "*", context)]
        found = [Check(c.action, c.resource, {**context, **c.context})
                 for c in build(params, scope)]
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
