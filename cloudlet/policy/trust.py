"""A role's trust policy, judged as the role's resource-based policy.

    trust_allows(trust_policy_text, "sts:AssumeRole", role_arn, principal_of(caller, tags), ctx)
    trust_allows(text, "sts:AssumeRole", role_arn, service("lambda.amazonaws.com"), {})

Only the trust side is decided here: an explicit Deny refuses, an Allow whose Principal
names the caller (itself, its role, its account, everyone, a service, or the web identity
provider) admits. The caller's own identity-based policies are the authorizer's to check,
before the provider runs. STS judges AssumeRole with it; Lambda (and later EC2's instance
profiles) judge whether a role trusts their service.
"""

from __future__ import annotations

from cloudlet.policy.conditions import block_holds
from cloudlet.policy.document import Statement, parse
from cloudlet.policy.evaluate import Principal, normalize_context, principal_match
from cloudlet.policy.matching import match_action
from cloudlet.principals import Credential

PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


def principal_of(caller: Credential, tags: dict[str, str]) -> Principal:
    return Principal(
        arn=caller.arn, account=caller.account_id,
        type=PRINCIPAL_TYPES.get(caller.kind, "User"), user_id=caller.user_id or "",
        username=(caller.name or "") if caller.kind == "user" else "", tags=dict(tags),
        is_root=caller.is_root, role_arn=caller.session.get("role_arn", "") or "",
    )


def service(name: str) -> Principal:
    return Principal(arn=name, account="", type="Service")


def federated(provider_arn: str, account_id: str) -> Principal:
    return Principal(arn=provider_arn, account=account_id, type="Federated")


def trust_allows(trust_policy: str, action: str, role_arn: str, principal: Principal,
                 context: dict) -> bool:
    """Whether the trust policy admits `principal` for `action` on the role `role_arn`."""
    document = parse(trust_policy)
    ctx = normalize_context(context, principal)
    allowed = False
    for statement in document.statements:
        if not _applies(statement, action, principal, ctx, document.interpolates):
            continue
        if statement.effect == "Deny":
            return False
        allowed = True
    return allowed


def _applies(st: Statement, action: str, principal: Principal, ctx: dict,
             interpolate: bool) -> bool:
    if st.actions is not None:
        if not any(match_action(pattern, action) for pattern in st.actions):
            return False
    elif st.not_actions is None or any(match_action(p, action) for p in st.not_actions):
        return False
    if st.principals is not None:
        if principal_match(st.principals, principal) is None:
            return False
    elif st.not_principals is not None:
        # NotPrincipal naming a role does not exclude its sessions (the engine's rule)
        if principal_match(st.not_principals, principal) not in (None, "role"):
            return False
    else:
        return False
    return not st.conditions or block_holds(st.conditions, ctx, interpolate)
