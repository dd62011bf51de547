"""The topic policy, as the resource-based policy of cross-account requests.

IAM's authorizer has judged the caller's identity-based policies before an operation runs
(and lets root callers through). A caller from another account also needs the topic's
Policy to allow the action, as on AWS: the default policy allows only the owner's account
(its `AWS:SourceOwner` condition), and AddPermission grants other accounts. A service that
publishes for another account (an alarm's action, a function's destination, an RDS event
subscription) needs the topic policy to allow the service, or that account.

A topic of another account that does not exist is refused the same way, so that a stranger
cannot tell it from one whose policy does not admit them.
"""

from __future__ import annotations

from cloudlet.errors import ServiceError
from cloudlet.policy import document
from cloudlet.services import accounts
from cloudlet.services.base import RequestContext
from cloudlet.services.sns.errors import AuthorizationError, invalid


def check_policy(text: str) -> None:
    """A topic policy must be a policy document IAM's grammar accepts."""
    try:
        document.parse(text)
    except ServiceError as e:
        raise invalid("Policy", f"Policy Error: {e.message}") from None


def foreign(ctx: RequestContext | None, account: str) -> bool:
    """A signed request from another account than the resource's."""
    return ctx is not None and ctx.caller is not None and ctx.caller.account_id != account


def require(ctx: RequestContext | None, arn: str, account: str, policy_text: str | None,
            action: str) -> None:
    """Raise AuthorizationError unless a caller from another account is allowed `action`
    (e.g. "SNS:Publish") on the topic `arn` of `account` by its policy (None: no topic)."""
    if not foreign(ctx, account):
        return
    if not accounts.grants(ctx, policy_text, action, arn, account):
        raise AuthorizationError(accounts.not_authorized(ctx, action, arn))


def service_may_publish(topic: dict, policy_text: str, event: dict) -> bool:
    """Whether a service publishing for `event["account"]` may publish to the topic: to its
    own account's topics always (the default policy's AWS:SourceOwner), to another's as the
    policy allows the service's principal (`event["principal"]`), or, for a service acting
    with a role (`event["role_arn"]`: a function's destinations), that role."""
    source = event.get("account") or topic["account"]
    if source == topic["account"]:
        return True
    arn, owner = topic["arn"], topic["account"]
    if event.get("role_arn"):
        principal = accounts.role_principal(event["role_arn"], "destination")
        return principal is not None and accounts.principal_grants(
            principal, policy_text, "SNS:Publish", arn, owner,
            accounts.source_context(source, event.get("source_arn")))
    if not event.get("principal"):
        return False
    return accounts.service_grants(policy_text, event["principal"], "SNS:Publish", arn, owner,
                                   source, event.get("source_arn"))
