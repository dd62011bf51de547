"""The gateway's authorize step: every request whose principal is not root meets IAM.

    Authorizer(providers).authorize(exchange)      # returns, or raises the denial

Root is allowed everything in its account. An anonymous request (S3 only) is left to the
S3 provider, which judges bucket policies and ACLs. Anyone else: the operation's
declaration (`cloudlet.authz.actions`) gives the action(s) and resource ARN(s); the caller's
policies (a user's inline, attached and group policies; a role session's role policies and
session policies; the permissions boundary) come from the IAM provider; the policy engine
decides each check. The first check that is not allowed is the denial, in AWS's words and
in the protocol's error code; one structured log line says which statement decided.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass

from cloudlet.authz import context as keys
from cloudlet.authz.actions import declaration, passed_roles
from cloudlet.authz.declarations import Check, Scope
from cloudlet.authz.ec2_actions import resource_keys
from cloudlet.authz.reads import CachedReads
from cloudlet.errors import ServiceError
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

log = logging.getLogger("cloudlet.authz")

JSON_PROTOCOLS = ("json", "rest-json", "smithy-rpc-v2-cbor")
READ_ONLY = ("Get", "List", "Simulate")
ALLOW_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
NOTHING = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "none:none", "Resource": "*"}]}'
S3_POLICY_CHANGES = {"PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket", "CreateBucket"}
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
    object_tags: bool = False  # some policy reads s3:ExistingObjectTag/*


KEY_USE_INTERVAL = 300.0


class Authorizer:
    def __init__(self, providers: dict):
        self.providers = providers
        self.reads = CachedReads(providers)
        self._parsed: dict[tuple[str, str, str], Policy] = {}
        self._key_use: dict[str, float] = {}

    async def authorize(self, ex) -> None:
        if (ex.service == "iam" and not ex.operation.name.startswith(READ_ONLY)) or (
                ex.service == "s3" and ex.operation.name in S3_POLICY_CHANGES):
            self.reads.invalidate()
        caller = ex.context.caller
        if caller is None:
            return
        self.refuse_cross_account_pass_role(ex, caller)
        if caller.is_root:
            return
        if caller.kind == "user":
            self.note_key_use(caller.access_key_id, ex.service, ex.context.region)
        found = declaration(ex.service, ex.operation.name)
        if found is None:
            raise self.error(ex, undeclared_message(ex.service, ex.operation.name))
        if found.always_allowed:
            return
        ctx = ex.context
        scope = Scope(ctx.region, ctx.account_id, caller.name if caller.kind == "user" else None)
        checks = found.checks(ex.params or {}, scope)
        needed = self.needed(ctx, caller, checks)
        values = self.reads.cached(needed)
        if values is None:
            values = await asyncio.to_thread(self.reads.load, ctx, needed)
        object_tags = {}
        if ex.service == "s3" and self.reads_object_tags(caller, values, checks):
            object_tags = await asyncio.to_thread(self.object_tags, checks, ex.params or {})
        if ex.service == "ec2":  # the resources' tags and VPC (cloudlet.authz.ec2_actions)
            object_tags = await asyncio.to_thread(resource_keys, self.providers.get("ec2"),
                                                  ctx, checks)
        self.decide(ex, checks, values, object_tags)

    def refuse_cross_account_pass_role(self, ex, caller: Credential) -> None:
        """A role is passed to a service (a function's execution role, a schedule's target
        role) only by its own account, root included: AWS refuses another account's role
        before any policy is read."""
        ctx = ex.context
        scope = Scope(ctx.region, ctx.account_id, None)
        for arn in passed_roles(ex.service, ex.operation.name, ex.params or {}, scope):
            if arn.split(":")[4:5] != [caller.account_id]:
                raise self.error(ex, "Cross-account pass role is not allowed.")

    def note_key_use(self, access_key_id: str, service: str, region: str) -> None:
        """GetAccessKeyLastUsed: an IAM user's key signed a request. Written at most once
        per key every KEY_USE_INTERVAL seconds, off the event loop (AWS itself records
        last use within hours, not per request)."""
        iam = self.providers.get("iam")
        now = time.monotonic()
        if iam is None or now - self._key_use.get(access_key_id, -KEY_USE_INTERVAL) < KEY_USE_INTERVAL:
            return
        self._key_use[access_key_id] = now
        asyncio.get_running_loop().run_in_executor(
            None, iam.record_key_use, access_key_id, service, region)

    def reads_object_tags(self, caller: Credential, values: dict, checks: list[Check]) -> bool:
        """Whether a policy that applies reads s3:ExistingObjectTag/* (only then are the
        object's tags read, since they change with every write)."""
        policies, _ = self.principal_of(caller, values)
        if policies.object_tags:
            return True
        for check in checks:
            bucket = _bucket(check)
            found = values.get(("bucket", "", bucket)) if bucket else None
            if found and "existingobjecttag" in found[0].lower():
                return True
        return False

    def object_tags(self, checks: list[Check], params: dict) -> dict[str, dict]:
        """On a worker thread: s3:ExistingObjectTag/* of each object the checks name."""
        s3 = self.providers.get("s3")
        found: dict[str, dict] = {}
        for check in checks:
            bucket = _bucket(check)
            key = check.resource.split("/", 1)[1] if "/" in check.resource else None
            if s3 is None or bucket is None or key is None or check.resource in found:
                continue
            version = params.get("VersionId") if "Version" in check.action else None
            found[check.resource] = {f"s3:existingobjecttag/{k.lower()}": v
                                     for k, v in s3.reads.object_tags(bucket, key, version).items()}
        return found

    def needed(self, ctx, caller: Credential, checks: list[Check]) -> set[tuple]:
        """The IAM reads this request's decision depends on."""
        needed = {("principal", caller.account_id, policy_owner(caller))}
        for check in checks:
            profile = check.context.get("cloudlet:InstanceProfile")
            if profile:
                needed.add(("profile", ctx.account_id, profile.rsplit("/", 1)[-1]))
                continue
            entity = _entity(ctx, check)
            if entity is not None:
                needed.add(entity)
            bucket = _bucket(check)
            if bucket is not None:
                needed.add(("bucket", "", bucket))
        return needed

    # -- deciding ---------------------------------------------------------------------
    def decide(self, ex, checks: list[Check], values: dict,
               object_tags: dict | None = None) -> None:
        ctx = ex.context
        caller: Credential = ctx.caller
        policies, principal = self.principal_of(caller, values)
        base = {
            **keys.principal_keys(caller),
            **keys.request_keys(ctx.region, ctx.secure_transport, ctx.source_ip,
                                ex.auth.method if ex.auth else None, ex.service),
            **keys.tag_keys(ex.params or {}),
        }
        for check in checks:
            check, resource_tags, resource_policy = self.complete(ctx, check, values)
            if check is None:
                continue
            owner = None
            if resource_policy is None and (bucket := _bucket(check)) is not None:
                found = values.get(("bucket", "", bucket))
                if found:
                    resource_policy = self.policy(f"{bucket} bucket policy", found[0], "resource")
                    owner = found[1]
            request = AuthzRequest(principal=principal, action=check.action,
                                   resource=check.resource,
                                   context={**base, **resource_tags,
                                            **(object_tags or {}).get(check.resource, {}),
                                            **{k.lower(): v for k, v in check.context.items()}},
                                   resource_account=owner)
            decision = evaluate(request, identity=policies.identity, resource=resource_policy,
                                boundary=policies.boundary, session=policies.session)
            if decision.decision != "allowed":
                self.log_denial(ex, caller, check, decision)
                raise self.denial(ex, caller, check, decision, request.context)

    def principal_of(self, caller: Credential, values: dict) -> tuple[Policies, Principal]:
        """The caller's policies and engine Principal, kept with the cached IAM reads (so
        an IAM change drops them too)."""
        key = ("caller", caller.access_key_id, caller.session_token)
        found = self.reads.cache.get(key)
        if found is None:
            policies = self.policies_of(caller, values)
            found = policies, Principal(
                arn=caller.arn, account=caller.account_id,
                type=keys.PRINCIPAL_TYPES.get(caller.kind, caller.kind),
                user_id=caller.user_id or "",
                username=caller.name or "" if caller.kind == "user" else "",
                tags=policies.tags, role_arn=caller.session.get("role_arn", ""))
            if time.monotonic() >= self.reads.quiet_until:
                self.reads.cache[key] = found
        return found

    def policies_of(self, caller: Credential, values: dict) -> Policies:
        found = values.get(("principal", caller.account_id, policy_owner(caller))) or {}
        tags = dict(found.get("tags") or {})
        session: list[Policy] = []
        if caller.kind in ("assumed-role", "federated-user"):
            tags.update(caller.session.get("tags") or {})
            session = [self.policy(pid, text, "session")
                       for pid, text in caller.session.get("session_policies") or []]
        if caller.kind == "federated-user":
            if caller.session.get("parent_kind") == "root":
                found = {**found, "identity": [("root", ALLOW_ALL)]}
            if not session:  # GetFederationToken without a policy grants nothing
                session = [self.policy("none", NOTHING, "session")]
        boundary = found.get("boundary")
        texts = [text for _, text in found.get("identity") or []]
        texts += [boundary[1]] if boundary else []
        texts += [text for _, text in caller.session.get("session_policies") or []]
        return Policies(
            identity=[self.policy(pid, text) for pid, text in found.get("identity") or []],
            boundary=self.policy(*boundary, "boundary") if boundary else None,
            session=session,
            tags=tags,
            object_tags=any("existingobjecttag" in text.lower() for text in texts),
        )

    def complete(self, ctx, check: Check, values: dict):
        """What only IAM knows: the role an instance profile passes; an IAM user's or role's
        real ARN (with its path) and its aws:ResourceTag/*; sts:AssumeRole's resource-based
        policy, the role's trust policy (one naming the caller is enough on its own).
        Other resources' tags are not read yet."""
        profile = check.context.get("cloudlet:InstanceProfile")
        if profile:
            role = values.get(("profile", ctx.account_id, profile.rsplit("/", 1)[-1]))
            if role is None:
                return None, {}, None  # no such profile: the service answers its own error
            context = {k: v for k, v in check.context.items() if not k.startswith("cloudlet:")}
            return Check(check.action, role, context), {}, None
        entity = _entity(ctx, check)
        record = values.get(entity) if entity else None
        if not record:
            return check, {}, None
        trust = None
        if entity[0] == "role" and check.action.startswith("sts:AssumeRole") \
                and record.get("trust_policy"):
            trust = self.policy(f"{record['name']} trust policy", record["trust_policy"],
                                "resource")
        return (Check(check.action, record["arn"], check.context),
                keys.resource_tag_keys(record.get("tags") or {}), trust)

    def policy(self, policy_id: str, text: str, kind: str = "identity") -> Policy:
        key = (policy_id, text, kind)
        parsed = self._parsed.get(key)
        if parsed is None:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            parsed = self._parsed[key] = Policy(policy_id, parse(text), kind)
        return parsed

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
        """One JSON line per denial, saying which statement decided (none: nothing allowed)."""
        log.info("authz denied %s", json.dumps({
            "request_id": ex.request_id, "principal": caller.arn, "action": check.action,
            "resource": check.resource, "decision": decision.decision,
            "deciding": decision.deciding_kind,
            "statements": [_statement_text(m) for m in decision.matched or []],
        }))


def policy_owner(caller: Credential) -> str:
    """Whose identity-based policies apply: a role session's role, a federated user's
    IAM user (or root), anyone else's own."""
    if caller.kind == "federated-user" and caller.session.get("parent_arn"):
        return caller.session["parent_arn"]
    return keys.principal_arn(caller)


def _entity(ctx, check: Check) -> tuple | None:
    match = _IAM_ENTITY.match(check.resource)
    if match is None or match.group(1) != ctx.account_id:
        return None
    return match.group(2), match.group(1), match.group(3)


def _bucket(check: Check) -> str | None:
    if not check.resource.startswith("arn:aws:s3:::"):
        return None
    return check.resource[len("arn:aws:s3:::"):].split("/", 1)[0] or None


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
