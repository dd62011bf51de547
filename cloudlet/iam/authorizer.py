"""The gateway's authorize step: every request whose principal is not root meets IAM.

    Authorizer(providers).authorize(exchange)      # returns, or raises the denial

Root is allowed everything in its account. An anonymous request (S3 only) is left to the
S3 provider, which judges bucket policies and ACLs. Anyone else: the operation's
declaration (`cloudlet.iam.actions`) gives the action(s) and resource ARN(s); the caller's
policies (a user's inline, attached and group policies; a role session's role policies and
session policies; the permissions boundary) come from the IAM provider; the policy engine
decides each check. The first check that is not allowed is the denial, in AWS's words and
in the protocol's error code; one structured log line says which statement decided.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from cloudlet.errors import ServiceError
from cloudlet.iam import context as keys
from cloudlet.iam.actions import Check, Declaration, Scope, declaration
from cloudlet.policy.document import parse
from cloudlet.policy.evaluate import (
    AuthzRequest,
    Decision,
    MatchedStatement,
    Policy,
    Principal,
    evaluate,
)
from cloudlet.principals import Credential
from cloudlet.services.sts import authorization_message

log = logging.getLogger("cloudlet.iam.authz")

JSON_PROTOCOLS = ("json", "rest-json", "smithy-rpc-v2-cbor")
SERVICE_CODES = {"sns": "AuthorizationError"}  # SNS's own spelling of a denial
_IAM_ENTITY = re.compile(r"arn:aws:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)\Z")


class AccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403


@dataclass
class Policies:
    identity: list[Policy]
    boundary: Policy | None
    session: list[Policy]
    tags: dict[str, str]


class Authorizer:
    def __init__(self, providers: dict):
        self.providers = providers
        self._parsed: dict[tuple[str, str, str], Policy] = {}

    async def authorize(self, ex) -> None:
        caller = ex.context.caller
        if caller is None or caller.is_root:
            return
        found = declaration(ex.service, ex.operation.name)
        if found is None:
            raise self.error(ex, undeclared_message(ex.service, ex.operation.name))
        if found.always_allowed:
            return
        await asyncio.to_thread(self.decide, ex, found)

    # -- deciding ---------------------------------------------------------------------
    def decide(self, ex, found: Declaration) -> None:
        ctx = ex.context
        caller: Credential = ctx.caller
        scope = Scope(ctx.region, ctx.account_id, caller.name if caller.kind == "user" else None)
        checks = found.checks(ex.params or {}, scope)
        policies = self.policies_of(caller)
        base = {
            **keys.principal_keys(caller),
            **keys.request_keys(ctx.region, ctx.secure_transport, ctx.source_ip,
                                ex.auth.method if ex.auth else None, ex.service),
            **keys.tag_keys(ex.params or {}),
        }
        principal = Principal(
            arn=caller.arn, account=caller.account_id,
            type=keys.PRINCIPAL_TYPES.get(caller.kind, caller.kind),
            user_id=caller.user_id or "", username=caller.name or "" if caller.kind == "user" else "",
            tags=policies.tags, role_arn=caller.session.get("role_arn", ""))
        for check in checks:
            check = self.complete(ctx, check)
            if check is None:
                continue
            resource, resource_tags = self.resource_keys(ctx, check)
            check = Check(check.action, resource, check.context)
            request = AuthzRequest(principal=principal, action=check.action, resource=resource,
                                   context={**base, **resource_tags,
                                            **{k.lower(): v for k, v in check.context.items()}})
            decision = evaluate(request, identity=policies.identity,
                                resource=self.trust_policy(ctx, check),
                                boundary=policies.boundary, session=policies.session)
            if decision.decision != "allowed":
                self.log_denial(ex, caller, check, decision)
                raise self.denial(ex, caller, check, decision, request.context)

    def policies_of(self, caller: Credential) -> Policies:
        iam = self.providers.get("iam")
        owner = keys.principal_arn(caller)
        found = iam.principal_policies(caller.account_id, owner) if iam is not None else {}
        tags = dict(found.get("tags") or {})
        session: list[Policy] = []
        if caller.kind == "assumed-role":
            tags.update(caller.session.get("tags") or {})
            session = [self.policy(pid, text, "session")
                       for pid, text in caller.session.get("session_policies") or []]
        boundary = found.get("boundary")
        return Policies(
            identity=[self.policy(pid, text) for pid, text in found.get("identity") or []],
            boundary=self.policy(*boundary, "boundary") if boundary else None,
            session=session,
            tags=tags,
        )

    def policy(self, policy_id: str, text: str, kind: str = "identity") -> Policy:
        key = (policy_id, text, kind)
        parsed = self._parsed.get(key)
        if parsed is None:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            parsed = self._parsed[key] = Policy(policy_id, parse(text), kind)
        return parsed

    def complete(self, ctx, check: Check) -> Check | None:
        """Fill in what only the IAM provider knows: the role an instance profile passes,
        and the path of an IAM user or role (their ARN includes it)."""
        if "cloudlet:InstanceProfile" in check.context:
            role = self.instance_profile_role(ctx, check.context["cloudlet:InstanceProfile"])
            if role is None:
                return None  # no such profile: the service answers its own error
            context = {k: v for k, v in check.context.items() if not k.startswith("cloudlet:")}
            return Check(check.action, role, context)
        return check

    def instance_profile_role(self, ctx, ref: str) -> str | None:
        iam = self.providers.get("iam")
        name = ref.rsplit("/", 1)[-1]
        try:
            profile = iam.get_instance_profile(ctx, {"InstanceProfileName": name})["InstanceProfile"]
        except Exception:
            return None
        roles = profile.get("Roles") or []
        return roles[0]["Arn"] if roles else None

    def resource_keys(self, ctx, check: Check) -> tuple[str, dict]:
        """An IAM user's or role's real ARN (with its path) and its aws:ResourceTag/*; other
        resources' tags are not read yet."""
        match = _IAM_ENTITY.match(check.resource)
        iam = self.providers.get("iam")
        if match is None or iam is None or match.group(1) != ctx.account_id:
            return check.resource, {}
        kind, name = match.group(2), match.group(3)
        record = iam.get_user(ctx.account_id, name) if kind == "user" \
            else iam.get_role(ctx.account_id, name)
        if not record:
            return check.resource, {}
        return record["arn"], keys.resource_tag_keys(record.get("tags") or {})

    def trust_policy(self, ctx, check: Check) -> Policy | None:
        """sts:AssumeRole's resource-based policy is the role's trust policy: one that names
        the caller itself is enough without an identity-based Allow."""
        if not check.action.startswith("sts:AssumeRole"):
            return None
        match = _IAM_ENTITY.match(check.resource)
        iam = self.providers.get("iam")
        if match is None or match.group(2) != "role" or iam is None \
                or match.group(1) != ctx.account_id:
            return None
        record = iam.get_role(ctx.account_id, match.group(3))
        if not record or not record.get("trust_policy"):
            return None
        return self.policy(f"{record['name']} trust policy", record["trust_policy"], "resource")

    # -- denying ----------------------------------------------------------------------
    def error(self, ex, message: str) -> ServiceError:
        protocol = getattr(ex.codec, "protocol", "")
        code = SERVICE_CODES.get(ex.service) or (
            "AccessDeniedException" if protocol in JSON_PROTOCOLS else "AccessDenied")
        return AccessDenied(message, code=code)

    def denial(self, ex, caller: Credential, check: Check, decision: Decision,
               context: dict) -> ServiceError:
        if ex.service == "ec2":
            encoded = authorization_message.encode(
                allowed=False,
                explicit_deny=decision.decision == "explicitDeny",
                matched_statements=[_statement_item(m) for m in decision.matched or []],
                context={
                    "principal": {"id": caller.user_id or caller.account_id, "arn": caller.arn},
                    "action": check.action,
                    "resource": check.resource,
                    "conditions": authorization_message.conditions(context),
                },
            )
            return ServiceError(
                "You are not authorized to perform this operation. "
                f"Encoded authorization failure message: {encoded}",
                code="UnauthorizedOperation", status=403)
        return self.error(ex, decision.message(caller.arn, check.action, check.resource))

    def log_denial(self, ex, caller: Credential, check: Check, decision: Decision) -> None:
        statements = ", ".join(_statement_text(m) for m in decision.matched or []) or "none"
        log.info("authz denied request_id=%s principal=%s action=%s resource=%s decision=%s "
                 "deciding=%s statements=[%s]", ex.request_id, caller.arn, check.action,
                 check.resource, decision.decision, decision.deciding_kind, statements)


def undeclared_message(service: str, operation: str) -> str:
    return (f"Cloudlet has no IAM declaration (action and resource) for the {service} "
            f"operation {operation}, so it is denied to every principal but root.")


def _statement_text(m: MatchedStatement) -> str:
    where = f"Sid {m.sid}" if m.sid else f"statement {m.index + 1}"
    return f"{m.effect} {where} of {m.kind} policy {m.policy_id} (line {m.start[0]})"


def _statement_item(m: MatchedStatement) -> dict:
    return {"statementId": m.sid or str(m.index), "effect": m.effect,
            "principals": {"items": []}, "principalGroups": {"items": []},
            "actions": {"items": []}, "resources": {"items": []},
            "conditions": {"items": []}, "policyId": m.policy_id, "policyType": m.kind}
