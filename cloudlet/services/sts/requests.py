"""The parts of a credentials request that every STS operation checks alike: duration,
session policies, session tags, and the request context a trust policy is judged in."""

from __future__ import annotations

import json
import math
import re
import zlib

from cloudlet import clock
from cloudlet.policy.document import validate_session_policy
from cloudlet.principals import Credential
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.sts import errors

MAX_POLICY_ARNS = 10
MAX_SESSION_TAGS = 50
PACKED_BUDGET = 1024  # compressed bytes that make 100% of PackedPolicySize


# Patterns of STS's input shapes (the model's; the codec checks lengths, not patterns).
PATTERNS = {
    "RoleSessionName": ("roleSessionName", r"[\w+=,.@-]*"),
    "SourceIdentity": ("sourceIdentity", r"[\w+=,.@-]*"),
    "ExternalId": ("externalId", r"[\w+=,.@:\/-]*"),
    "Name": ("name", r"[\w+=,.@-]*"),
}


def check_patterns(params: dict) -> None:
    for member, (wire, pattern) in PATTERNS.items():
        value = params.get(member)
        if value is not None and not re.fullmatch(pattern, value, re.ASCII):
            raise errors.validation(
                f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {pattern}")


def refuse_mfa(params: dict) -> None:
    """Cloudlet's IAM has no MFA devices, so no one-time code can be valid."""
    if params.get("SerialNumber") is not None or params.get("TokenCode") is not None:
        raise errors.access_denied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code.")


def duration(params: dict, *, default: int, maximum: int, message: str) -> int:
    seconds = params.get("DurationSeconds")
    if seconds is None:
        return min(default, maximum)
    if seconds > maximum:
        raise errors.validation(message)
    return seconds


def session_policies(iam: IamReads, account_id: str, params: dict) -> list[list[str]]:
    """[[id, document], ...] of the inline Policy and each of PolicyArns."""
    policies = []
    text = params.get("Policy")
    if text is not None:
        validate_session_policy(text)
        policies.append(["session-policy", text])
    arns = [p.get("arn") for p in params.get("PolicyArns") or []]
    if len(arns) > MAX_POLICY_ARNS:
        raise errors.validation(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}")
    for arn in arns:
        document = iam.policy_document(account_id, arn or "")
        if document is None:
            raise errors.validation(f"The policy {arn} does not exist or is not attachable.")
        policies.append([arn, document])
    return policies


def session_tags(params: dict, inherited: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags, transitive keys) of the request, checked; inherited transitive tags kept."""
    tags: dict[str, str] = {}
    lowered = {k.lower() for k in inherited}
    for tag in params.get("Tags") or []:
        key = tag["Key"]
        if key.lower() in {k.lower() for k in tags}:
            raise errors.validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        if key.lower() in lowered:
            raise errors.access_denied(
                f"The session tag {key} cannot override a transitive tag of the session.")
        tags[key] = tag["Value"]
    if len(tags) + len(inherited) > MAX_SESSION_TAGS:
        raise errors.validation(
            f"Session tags exceed the limit of {MAX_SESSION_TAGS} tags per session.")
    transitive = list(params.get("TransitiveTagKeys") or [])
    named = {k.lower() for k in tags}
    for key in transitive:
        if key.lower() not in named:
            raise errors.validation(
                f"The transitive tag key {key} is not one of the session tags.")
    return tags, transitive


def packed_size(policies: list[list[str]], tags: dict[str, str]) -> int | None:
    """PackedPolicySize: the percentage of STS's packed space the session policies and
    tags take; over 100 is PackedPolicyTooLarge."""
    if not policies and not tags:
        return None
    parts = [json.dumps(json.loads(text), separators=(",", ":")) if pid == "session-policy"
             else pid for pid, text in policies]
    parts += [f"{k}={v}" for k, v in sorted(tags.items())]
    percent = math.ceil(100 * len(zlib.compress("\n".join(parts).encode(), 9)) / PACKED_BUDGET)
    if percent > 100:
        raise errors.packed_policy_too_large(percent)
    return percent


def principal_type(caller: Credential) -> str:
    return {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser"}.get(caller.kind, "User")


def principal_arn(caller: Credential) -> str:
    """aws:PrincipalArn: a role session's is its role's ARN."""
    return caller.session.get("role_arn") or caller.session.get("parent_arn") or caller.arn


def global_context(ctx: RequestContext, caller: Credential | None,
                   principal_tags: dict[str, str]) -> dict[str, object]:
    now = clock.now()
    context: dict[str, object] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if ctx.secure_transport else "false",
        "aws:SourceIp": ctx.source_ip,
        "aws:RequestedRegion": ctx.region,
    }
    if caller is None:
        return context
    context.update({
        "aws:PrincipalArn": principal_arn(caller),
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": principal_type(caller),
        "aws:userid": caller.user_id or caller.account_id,
    })
    if caller.kind == "user":
        context["aws:username"] = caller.name or caller.arn.rsplit("/", 1)[-1]
    if caller.session_token is not None:
        context["aws:MultiFactorAuthPresent"] = "false"
        context["aws:TokenIssueTime"] = caller.session.get("issued", "")
    for key, value in principal_tags.items():
        context[f"aws:PrincipalTag/{key}"] = value
    if caller.session.get("source_identity"):
        context["aws:SourceIdentity"] = caller.session["source_identity"]
    return context
