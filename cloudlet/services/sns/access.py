"""The topic policy, as the resource-based policy of cross-account requests.

IAM's authorizer has judged the caller's identity-based policies before an operation runs
(and lets root callers through). A caller from another account also needs the topic's
Policy to allow the action, as on AWS: the default policy allows only the owner's account
(its `AWS:SourceOwner` condition), and AddPermission grants other accounts.
"""

from __future__ import annotations

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.policy import document
from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate
from cloudlet.services.base import RequestContext
from cloudlet.services.sns.errors import AuthorizationError, invalid

ALLOW_ALL = Policy("identity-judged", '{"Version": "2012-10-17", "Statement": '
                   '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


def check_policy(text: str) -> None:
    """A topic policy must be a policy document IAM's grammar accepts."""
    try:
        document.parse(text)
    except ServiceError as e:
        raise invalid("Policy", f"Policy Error: {e.message}") from None


def require(ctx: RequestContext | None, topic: dict, policy_text: str, action: str) -> None:
    """Raise AuthorizationError unless a caller from another account is allowed `action`
    (e.g. "SNS:Publish") on the topic by its policy."""
    caller = ctx.caller if ctx is not None else None
    if caller is None or caller.account_id == topic["account"]:
        return
    principal = Principal(arn=caller.arn, account=caller.account_id,
                          type=PRINCIPAL_TYPES.get(caller.kind, "User"),
                          user_id=caller.user_id or "", username=caller.name or "",
                          is_root=caller.is_root, role_arn=caller.session.get("role_arn", ""))
    context = {
        "aws:securetransport": "true" if ctx.secure_transport else "false",
        "aws:sourceip": ctx.source_ip, "aws:principalarn": caller.arn,
        "aws:principalaccount": caller.account_id,
        "aws:currenttime": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    request = AuthzRequest(principal, action, topic["arn"], context,
                           resource_account=topic["account"])
    try:
        decision = evaluate(request, [ALLOW_ALL], Policy("topic-policy", policy_text, "resource"))
    except ServiceError:  # a policy the engine cannot read allows nothing
        decision = None
    if decision is None or not decision.allowed:
        raise AuthorizationError(
            f"User: {caller.arn} is not authorized to perform: {action} on resource: "
            f"{topic['arn']} because no resource-based policy allows the {action} action")
