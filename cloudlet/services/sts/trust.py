"""A role's trust policy, judged by the policy engine as the role's resource-based policy.

    trust_allows(trust_policy_text, "sts:AssumeRole", role_arn, principal_of(caller, tags), ctx)

Only the trust side is decided here: an explicit Deny refuses, an Allow whose Principal
names the caller (itself, its role, its account, everyone, or the web identity provider)
admits. The caller's own identity-based policies are the authorizer's to check, before
the provider runs.
"""

from __future__ import annotations

from cloudlet.policy.document import parse
from cloudlet.policy.evaluate import AuthzRequest, Principal, normalize_context, statement_applies
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


def federated(provider_arn: str, account_id: str) -> Principal:
    return Principal(arn=provider_arn, account=account_id, type="Federated")


def trust_allows(trust_policy: str, action: str, role_arn: str, principal: Principal,
                 context: dict) -> bool:
    document = parse(trust_policy)
    request = AuthzRequest(principal=principal, action=action, resource=role_arn,
                           context=context, resource_account=role_arn.split(":")[4])
    ctx = normalize_context(context, principal)
    allowed = False
    for statement in document.statements:
        if statement_applies(statement, request, ctx, document.interpolates,
                             check_principal=True) is None:
            continue
        if statement.effect == "Deny":
            return False
        allowed = True
    return allowed
