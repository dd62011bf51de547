"""The wall between accounts: how a provider treats an ARN that names another account's
resource.

    ref = Arn.parse("arn:aws:logs:us-east-1:111122223333:log-group:app")   # Arn | None
    ref.foreign(ctx)                # another account's (or another Region's) resource
    grants(ctx, policy, "lambda:GetFunction", arn, owner)                  # bool
    service_grants(policy, "cloudwatch.amazonaws.com", "SNS:Publish", arn, owner, source)
    principal_grants(role_principal(role_arn, "fn"), policy, action, arn, owner, context)

AWS's rule, which every provider follows: a request reaches a resource of another account
only when that account's resource-based policy allows it (a Lambda function policy, an SNS
topic policy, an S3 bucket policy, a role's trust policy, a snapshot shared for restore).
Where a service has no such policy (CloudWatch alarms, log groups, RDS instances) another
account's ARN is refused with the error the service gives for a missing resource, so that
whether the resource exists does not leak either.

`grants` judges only the resource side: the caller's identity-based policies were judged by
the authorizer before the provider ran (root's allow everything in its own account), and
across accounts both sides must allow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate
from cloudlet.principals import Credential

IDENTITY_JUDGED = Policy("identity-judged", '{"Version": "2012-10-17", "Statement": '
                         '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the account: "log-group:app", "function:f:prod"

    @classmethod
    def parse(cls, text: str) -> Arn | None:
        parts = text.split(":", 5) if isinstance(text, str) else []
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            return None
        return cls(*parts[1:])

    def foreign(self, ctx) -> bool:
        """Another account's resource, or one in another Region (a regional service reaches
        only its own Region's resources; an empty Region is a global resource's)."""
        return self.account != ctx.account_id or (bool(self.region) and self.region != ctx.region)


def principal_of(caller: Credential) -> Principal:
    return Principal(arn=caller.arn, account=caller.account_id,
                     type=PRINCIPAL_TYPES.get(caller.kind, "User"),
                     user_id=caller.user_id or "",
                     username=(caller.name or "") if caller.kind == "user" else "",
                     is_root=caller.is_root, role_arn=caller.session.get("role_arn", "") or "")


def request_context(ctx) -> dict:
    """The global condition keys a resource policy may test of an API request."""
    return {"aws:securetransport": "true" if ctx.secure_transport else "false",
               "aws:sourceip": ctx.source_ip,
               "aws:currenttime": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:epochtime": str(int(clock.timestamp()))}


def grants(ctx, policy: str | dict | None, action: str, resource_arn: str, owner: str,
           context: dict | None = None) -> bool:
    """Whether `policy`, the resource-based policy of `resource_arn` in account `owner`,
    lets the request's caller do `action` (its identity side already judged)."""
    if ctx.caller is None:
        return False
    return principal_grants(principal_of(ctx.caller), policy, action, resource_arn, owner,
                            {**request_context(ctx), **(context or {})})


def principal_grants(principal: Principal, policy: str | dict | None, action: str,
                     resource_arn: str, owner: str, context: dict | None = None) -> bool:
    if policy is None:
        return False
    request = AuthzRequest(principal, action, resource_arn, context or {},
                           resource_account=owner)
    return _allowed(request, policy)


def role_principal(role_arn: str, session_name: str) -> Principal | None:
    """The principal a service acts as when it uses a role (a function's execution role
    sending to its destinations)."""
    ref = Arn.parse(role_arn)
    if ref is None or not ref.resource.startswith("role/"):
        return None
    name = ref.resource.rsplit("/", 1)[-1]
    return Principal(arn=f"arn:aws:sts::{ref.account}:assumed-role/{name}/{session_name}",
                     account=ref.account, type="AssumedRole", role_arn=role_arn)


def service_grants(policy: str | dict | None, service: str, action: str, resource_arn: str,
                   owner: str, source_account: str, source_arn: str | None = None) -> bool:
    """Whether `policy` lets an AWS service acting for `source_account` (an alarm's
    account, a bucket's owner) do `action`: the service principal, with aws:SourceAccount,
    aws:SourceArn and SNS's AWS:SourceOwner in the context."""
    return principal_grants(Principal(arn=service, account="", type="Service"), policy,
                            action, resource_arn, owner,
                            source_context(source_account, source_arn))


def source_context(source_account: str, source_arn: str | None = None) -> dict:
    context = {"aws:sourceaccount": source_account, "aws:sourceowner": source_account,
               "aws:currenttime": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    if source_arn:
        context["aws:sourcearn"] = source_arn
    return context


def _allowed(request: AuthzRequest, policy: str | dict) -> bool:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    try:
        return evaluate(request, [IDENTITY_JUDGED], Policy("resource-policy", text,
                                                           "resource")).allowed
    except ServiceError:  # a policy the engine cannot read allows nothing
        return False


def not_authorized(ctx, action: str, resource_arn: str) -> str:
    """AWS's words for a cross-account request no resource-based policy allows."""
    who = ctx.caller.arn if ctx.caller is not None else "anonymous"
    return (f"User: {who} is not authorized to perform: {action} on resource: {resource_arn} "
            f"because no resource-based policy allows the {action} action")
